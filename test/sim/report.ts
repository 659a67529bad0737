// Formatting a violation for humans: seed, invariant, detail and trace.

export interface ViolationReport {
  invariant: string;
  detail: string;
  trace: string[];
}

export function formatViolation(seed: number, v: ViolationReport): string {
  return [
    `VIOLATION seed ${seed}: ${v.invariant}`,
    `  ${v.detail.split('\n').join('\n  ')}`,
    `  trace (last ${v.trace.length} events):`,
    ...v.trace.map((l) => `    ${l}`),
  ].join('\n');
}
