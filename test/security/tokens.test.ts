// Admin tokens: the file format, constant-time checks, reloading, the header.
import * as grpc from '@grpc/grpc-js';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AdminTokenFile,
  TokenSet,
  bearerCallCredentials,
  bearerToken,
  parseTokenFile,
  readClientToken,
  tokenVerdict,
  type TokenFileEvent,
} from '../../src/security/tokens.js';
import { cleanupDirs, eventually, replaceFile, tempDir } from './kit.js';

const T1 = 'a1b2c3d4e5f6a7b8c9d0';
const T2 = 'Zm9vYmFyYmF6cXV4LXRva2Vu';
const T3 = 'third-token-0123456789';

const files: AdminTokenFile[] = [];
afterEach(() => {
  for (const f of files.splice(0)) f.close();
  cleanupDirs();
});

function tokenFile(text: string): string {
  const path = join(tempDir(), 'tokens');
  writeFileSync(path, text, { mode: 0o600 });
  return path;
}

describe('parseTokenFile', () => {
  it('takes one token a line, skipping blank lines and # comments', () => {
    expect(parseTokenFile(`# ops team\n${T1}\n\n   ${T2}  \r\n  # old: revoked\n`)).toEqual([
      T1,
      T2,
    ]);
    expect(parseTokenFile('')).toEqual([]);
  });

  it.each([
    ['short', /line 1: a token must be 16-4096 characters/],
    [`${T1}\ntwo words here ok`, /line 2: a token is visible ASCII without spaces/],
    [`${T1} # trailing comment`, /line 1: .*comments start a line with #/],
    ['tökentökentökentöken', /line 1: a token is visible ASCII/],
  ])('refuses %j, naming the line but never the token', (text, error) => {
    expect(() => parseTokenFile(text)).toThrow(error);
    try {
      parseTokenFile(text);
    } catch (e) {
      expect((e as Error).message).not.toContain(T1);
      expect((e as Error).message).not.toContain('short');
    }
  });
});

describe('TokenSet', () => {
  it('knows its tokens and nothing else: not a prefix, not an extension, not another case', () => {
    const set = new TokenSet([T1, T2]);
    expect(set.has(T1)).toBe(true);
    expect(set.has(T2)).toBe(true);
    expect(set.has(T1.slice(0, -1))).toBe(false);
    expect(set.has(T1 + 'x')).toBe(false);
    expect(set.has(T2.toLowerCase())).toBe(false);
    expect(set.has('')).toBe(false);
    expect(new TokenSet([]).has(T1)).toBe(false);
  });
});

describe('bearerToken', () => {
  const md = (...values: string[]): grpc.Metadata => {
    const m = new grpc.Metadata();
    for (const v of values) m.add('authorization', v);
    return m;
  };
  it('parses "Bearer <token>", the scheme in any case', () => {
    expect(bearerToken(md(`Bearer ${T1}`))).toEqual({ kind: 'bearer', token: T1 });
    expect(bearerToken(md(`bearer ${T1}`))).toEqual({ kind: 'bearer', token: T1 });
    expect(bearerToken(new grpc.Metadata())).toEqual({ kind: 'absent' });
  });
  it.each([
    [[`Basic ${T1}`]],
    [['Bearer']],
    [[`Bearer ${T1} extra`]],
    [[`Bearer ${T1}`, `Bearer ${T2}`]],
  ])('%j is malformed', (values) => {
    expect(bearerToken(md(...values)).kind).toBe('malformed');
  });
});

describe('tokenVerdict', () => {
  const md = (v?: string): grpc.Metadata => {
    const m = new grpc.Metadata();
    if (v !== undefined) m.set('authorization', v);
    return m;
  };
  const set = new TokenSet([T1]);
  it.each([
    [undefined, set, 'absent'],
    [`Bearer ${T1}`, set, 'valid'],
    [`Bearer ${T2}`, set, 'invalid'],
    [`Basic ${T1}`, set, 'invalid'],
    [`Bearer ${T1}`, null, 'not-accepted'],
    [undefined, null, 'absent'],
  ] as const)('%s with %s tokens: %s', (value, tokens, verdict) => {
    expect(tokenVerdict(md(value), tokens)).toBe(verdict);
  });
});

describe('AdminTokenFile', () => {
  it('reads the file at once and throws one line naming the flag when it cannot', () => {
    expect(() => new AdminTokenFile('/nonexistent/tokens')).toThrow(
      '--admin-token-file /nonexistent/tokens: no such file',
    );
    const bad = tokenFile(`${T1}\nshort\n`);
    expect(() => new AdminTokenFile(bad)).toThrow(
      `--admin-token-file ${bad}: line 2: a token must be`,
    );
  });

  it('re-reads the file when it changes (polling), and a removed file revokes every token', async () => {
    const path = tokenFile(`${T1}\n`);
    const events: TokenFileEvent[] = [];
    const tokens = new AdminTokenFile(path, { intervalMs: 50, onEvent: (e) => events.push(e) });
    files.push(tokens);
    expect(tokens.has(T1)).toBe(true);
    expect(tokens.has(T2)).toBe(false);

    replaceFile(path, `# rotated\n${T2}\n${T3}\n`);
    await eventually('the new tokens', async () => (tokens.has(T2) ? true : undefined));
    expect(tokens.has(T1)).toBe(false);
    expect(tokens.has(T3)).toBe(true);
    expect(tokens.size).toBe(2);

    rmSync(path);
    await eventually('revocation', async () => (tokens.size === 0 ? true : undefined));
    expect(tokens.has(T2)).toBe(false);
    expect(events.at(-1)).toEqual({
      kind: 'error',
      message: `--admin-token-file ${path}: no such file; no token is accepted`,
    });
  });

  it('reports a bad file once, not at every poll', async () => {
    const path = tokenFile(`${T1}\n`);
    const events: TokenFileEvent[] = [];
    const tokens = new AdminTokenFile(path, { intervalMs: 20, onEvent: (e) => events.push(e) });
    files.push(tokens);
    replaceFile(path, 'short\n');
    await eventually('the error', async () => (events.length > 0 ? true : undefined));
    await new Promise((r) => setTimeout(r, 200)); // ten more polls
    expect(events).toHaveLength(1);
    expect(tokens.has(T1)).toBe(true);
  });

  it('keeps the previous tokens when the new file does not parse, and says so without the tokens', () => {
    const path = tokenFile(`${T1}\n`);
    const events: TokenFileEvent[] = [];
    const tokens = new AdminTokenFile(path, { intervalMs: 60_000, onEvent: (e) => events.push(e) });
    files.push(tokens);
    replaceFile(path, `${T2}\nnot a token\n`);
    tokens.reload();
    expect(tokens.has(T1)).toBe(true);
    expect(tokens.has(T2)).toBe(false);
    expect(events).toHaveLength(1);
    expect(events[0]?.kind).toBe('error');
    const message = events[0]?.kind === 'error' ? events[0].message : '';
    expect(message).toMatch(/line 2: .*; keeping the previous 1 token\(s\)$/);
    expect(message).not.toContain(T1);
    expect(message).not.toContain(T2);

    replaceFile(path, `${T2}\n`);
    tokens.reload();
    expect(tokens.has(T2)).toBe(true);
    expect(events.at(-1)).toEqual({ kind: 'reloaded', tokens: 1 });
  });
});

describe('client side', () => {
  it('reads exactly one token from --token-file', () => {
    expect(readClientToken(tokenFile(`# for ops\n${T1}\n`))).toBe(T1);
    const two = tokenFile(`${T1}\n${T2}\n`);
    expect(() => readClientToken(two)).toThrow(
      `--token-file ${two}: holds 2 tokens; a client sends exactly one`,
    );
    expect(() => readClientToken('/nonexistent/token')).toThrow(
      /^--token-file \/nonexistent\/token: /,
    );
  });

  it('sends the token only over a secure channel', () => {
    const call = bearerCallCredentials(T1);
    expect(() =>
      grpc.credentials.combineChannelCredentials(grpc.credentials.createInsecure(), call),
    ).toThrow();
    expect(() =>
      grpc.credentials.combineChannelCredentials(grpc.credentials.createSsl(), call),
    ).not.toThrow();
  });
});
