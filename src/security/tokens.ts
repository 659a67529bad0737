// Admin bearer tokens: `serve --admin-token-file FILE` lists the tokens that
// may call admin mutations (`authorization: Bearer <token>`, over TLS only);
// clients send one from `--token-file`.
//
// - The file: one token per line; blank lines and lines starting with # are
//   ignored. A token is 16-4096 visible ASCII characters without spaces, so a
//   stray word or a half-pasted line is refused rather than accepted as a
//   weak token.
// - Comparison in constant time: the presented token and every listed one are
//   compared as SHA-256 digests (fixed length, so neither the length of a
//   listed token nor the position of a mismatch shows in the timing), and all
//   entries are compared every time.
// - The file is polled (a stat every intervalMs, which also sees a file
//   replaced by rename) and re-read when it changes. A file that no longer
//   parses keeps the previous tokens (the error is reported); a removed file
//   revokes them all.
// - No token ever appears in an error or a log line: errors name line numbers.
import type * as grpc from '@grpc/grpc-js';
import { createHash, timingSafeEqual } from 'node:crypto';
import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { fileProblem } from './file-problem.js';
import type { TokenVerdict } from './policy.js';

export const MIN_TOKEN_LENGTH = 16;
export const MAX_TOKEN_LENGTH = 4096;
export const AUTHORIZATION_KEY = 'authorization';
/** How often the token file is checked for changes by default. */
export const TOKEN_POLL_MS = 2_000;

const TOKEN = /^[\x21-\x7e]+$/;

/** The tokens of a token file's text; throws an Error naming the first bad line. */
export function parseTokenFile(text: string): string[] {
  const tokens: string[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const where = `line ${i + 1}`;
    if (!TOKEN.test(line)) {
      throw new Error(
        `${where}: a token is visible ASCII without spaces (comments start a line with #)`,
      );
    }
    if (line.length < MIN_TOKEN_LENGTH || line.length > MAX_TOKEN_LENGTH) {
      throw new Error(
        `${where}: a token must be ${MIN_TOKEN_LENGTH}-${MAX_TOKEN_LENGTH} characters long (e.g. openssl rand -hex 32)`,
      );
    }
    tokens.push(line);
  });
  return tokens;
}

const digest = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();

/** What checks a presented token: a TokenSet or an AdminTokenFile. */
export interface TokenChecker {
  has(token: string): boolean;
}

/** A set of tokens that answers "is this one of them?" in constant time. */
export class TokenSet implements TokenChecker {
  private readonly digests: Buffer[];

  constructor(tokens: readonly string[]) {
    this.digests = tokens.map(digest);
  }

  get size(): number {
    return this.digests.length;
  }

  has(presented: string): boolean {
    const d = digest(presented);
    let found = false;
    // No early exit: every entry is compared whatever matched.
    for (const listed of this.digests) found = timingSafeEqual(listed, d) || found;
    return found;
  }
}

export type BearerToken =
  { kind: 'absent' } | { kind: 'bearer'; token: string } | { kind: 'malformed'; reason: string };

/** The bearer token of a call's `authorization` metadata (RFC 6750 syntax, scheme case-insensitive). */
export function bearerToken(metadata: grpc.Metadata): BearerToken {
  const values = metadata.get(AUTHORIZATION_KEY);
  if (values.length === 0) return { kind: 'absent' };
  if (values.length > 1) return { kind: 'malformed', reason: 'more than one authorization value' };
  const value = values[0];
  if (typeof value !== 'string') return { kind: 'malformed', reason: 'binary authorization value' };
  const m = /^bearer +([\x21-\x7e]+) *$/i.exec(value);
  if (m === null) return { kind: 'malformed', reason: 'authorization is not "Bearer <token>"' };
  return { kind: 'bearer', token: m[1] ?? '' };
}

/** The token file cannot be used; `missing` when it does not exist. */
export class TokenFileError extends Error {
  override name = 'TokenFileError';
  constructor(
    message: string,
    readonly missing: boolean,
  ) {
    super(message);
  }
}

export type TokenFileEvent =
  { kind: 'reloaded'; tokens: number } | { kind: 'error'; message: string };

export interface AdminTokenFileOptions {
  /** How often to stat the file (default TOKEN_POLL_MS). */
  intervalMs?: number;
  /** Reloads and errors after the first read, for the log. Never carries a token. */
  onEvent?: (event: TokenFileEvent) => void;
}

/** `serve --admin-token-file`: the listed tokens, kept current while the server runs. */
/** What identifies one version of the file: a replaced file has another inode, an edited one another mtime or size. */
type Version = { ino: number; size: number; mtimeMs: number } | null;

const sameVersion = (a: Version, b: Version): boolean =>
  a === b ||
  (a !== null && b !== null && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs);

export class AdminTokenFile implements TokenChecker {
  private tokens: TokenSet;
  /** The version of the file last read (null: it was missing). */
  private version: Version = null;
  private polling = false;
  private readonly timer: ReturnType<typeof setInterval>;

  /** Reads the file now (throws a one-line Error if it is missing or invalid), then polls it. */
  constructor(
    readonly path: string,
    private readonly options: AdminTokenFileOptions = {},
  ) {
    this.tokens = new TokenSet(this.read());
    // Polled against the version that was read (not against the previous
    // poll, as fs.watchFile does), so that a change made between the read
    // and the first poll is not taken as the starting point and missed.
    this.timer = setInterval(() => void this.poll(), options.intervalMs ?? TOKEN_POLL_MS);
    this.timer.unref();
  }

  private async poll(): Promise<void> {
    if (this.polling) return; // a slow stat: no pile-up
    this.polling = true;
    try {
      const st = await stat(this.path).catch(() => null); // missing: handled as no file below
      if (!sameVersion(st && { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs }, this.version)) {
        this.reload();
      }
    } finally {
      this.polling = false;
    }
  }

  /** The tokens of the file, noting the version read (fstat of the same descriptor). */
  private read(): string[] {
    let text: string;
    try {
      const fd = openSync(this.path, 'r');
      try {
        const st = fstatSync(fd);
        this.version = { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs };
        text = readFileSync(fd, 'utf8');
      } finally {
        closeSync(fd);
      }
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') this.version = null;
      throw new TokenFileError(
        `--admin-token-file ${this.path}: ${fileProblem(e)}`,
        code === 'ENOENT',
      );
    }
    try {
      return parseTokenFile(text);
    } catch (e) {
      throw new TokenFileError(`--admin-token-file ${this.path}: ${(e as Error).message}`, false);
    }
  }

  /** How many tokens are accepted now. */
  get size(): number {
    return this.tokens.size;
  }

  /**
   * Re-reads the file now (polling calls this on a change). A missing file
   * revokes every token; one that does not parse keeps the previous ones.
   * Either is reported once, not at every poll.
   */
  reload(): void {
    try {
      this.tokens = new TokenSet(this.read());
      this.options.onEvent?.({ kind: 'reloaded', tokens: this.tokens.size });
    } catch (e) {
      if (!(e instanceof TokenFileError)) throw e;
      if (e.missing) this.tokens = new TokenSet([]);
      const consequence = e.missing
        ? 'no token is accepted'
        : `keeping the previous ${this.tokens.size} token(s)`;
      this.options.onEvent?.({ kind: 'error', message: `${e.message}; ${consequence}` });
    }
  }

  /** Whether `token` is listed, in constant time. */
  has(token: string): boolean {
    return this.tokens.has(token);
  }

  close(): void {
    clearInterval(this.timer);
  }
}

/** What the call's bearer token is worth to this server (policy.ts's TokenVerdict). */
export function tokenVerdict(metadata: grpc.Metadata, tokens: TokenChecker | null): TokenVerdict {
  const bearer = bearerToken(metadata);
  if (bearer.kind === 'absent') return 'absent';
  if (tokens === null) return 'not-accepted';
  if (bearer.kind === 'malformed') return 'invalid';
  return tokens.has(bearer.token) ? 'valid' : 'invalid';
}

// ------------------------------------------------------------------ client

/** The one token of a client's --token-file (same syntax as the server's file). */
export function readClientToken(path: string): string {
  let tokens: string[];
  try {
    tokens = parseTokenFile(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`--token-file ${path}: ${(e as Error).message}`);
  }
  if (tokens.length !== 1) {
    throw new Error(
      `--token-file ${path}: holds ${tokens.length} tokens; a client sends exactly one`,
    );
  }
  return tokens[0] ?? '';
}

export { bearerCallCredentials } from '../client/credentials.js';
