// Request validation shared by the server (the authority) and the CLI.

const NAME_PATTERN = /^[A-Za-z0-9._:/-]+$/;
export const MAX_NAME_BYTES = 200;

/** Returns a message naming the problem, or null if the name is valid. */
export function sequenceNameProblem(name: string): string | null {
  if (name.length === 0) return 'sequence name is empty';
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > MAX_NAME_BYTES) {
    return `sequence name is ${bytes} bytes; the limit is ${MAX_NAME_BYTES}`;
  }
  if (!NAME_PATTERN.test(name)) {
    const bad = [...name].find((ch) => !NAME_PATTERN.test(ch)) ?? '';
    return `sequence name ${JSON.stringify(name)} contains ${JSON.stringify(bad)}; allowed are A-Z a-z 0-9 . _ : / -`;
  }
  return null;
}

/** count 0 means 1. Returns the effective count or a message naming the problem. */
export function countProblem(count: number, maxCount: number): string | null {
  if (!Number.isInteger(count) || count < 0)
    return `count must be a non-negative integer, got ${count}`;
  if (count > maxCount) return `count ${count} exceeds the maximum of ${maxCount} (--max-count)`;
  return null;
}
