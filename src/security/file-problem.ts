// One wording for a file that cannot be read, shared by every security
// option that names a file (--cert, --key, --ca, --admin-token-file, --dir).

/** What went wrong, without the path Node repeats: "no such file", "permission denied". */
export function fileProblem(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'ENOENT') return 'no such file';
  const m = /^[A-Z]+: ([^,]+)/.exec(err.message ?? '');
  return m?.[1] ?? String(err.message ?? e);
}
