// The settings of `raftseq serve`, from three sources that describe the same
// things: flags, environment variables and a config file (JSON or YAML).
//
//   precedence:  --flag  >  RAFTSEQ_<NAME>  >  config file  >  default
//
// One table (SETTINGS) names each setting once: its flag is `--<key>`, its
// environment variable `RAFTSEQ_<KEY in upper snake case>`, its config-file
// key `<key>` itself. Every value, whatever its source, goes through the same
// parser, and the merged result through the same cross-checks, so a bad value
// is refused with the same reason wherever it came from.

import { readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import {
  MAX_WIRE_COUNT,
  hostPortProblem,
  listenAddressProblem,
  memberIdProblem,
  parseInteger,
  parseDuration,
  parseMilliseconds,
  type Parsed,
} from '../common/validate.js';
import { TlsUsageError, serverTlsFiles } from '../security/tls.js';
import { DEFAULTS, type NodeOptions } from './options.js';

/** A setting that cannot be used; the CLI reports it as a usage error (exit 2). */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The election timeout must be at least this many heartbeat intervals. */
export const MIN_ELECTION_HEARTBEAT_RATIO = 5;
/**
 * The lease drift bound must stay below this fraction of the election
 * timeout: beyond it the lease is shorter than half an election timeout and
 * the leader is often without one (unable to serve) between heartbeats.
 */
export const MAX_LEASE_DRIFT = 0.5;

/** Environment variable naming the config file (like --config). */
export const CONFIG_ENV = 'RAFTSEQ_CONFIG';

// ------------------------------------------------------------------ values

function check(problem: string | null): void {
  if (problem !== null) throw new ConfigError(problem);
}

function valueOf<T>(r: Parsed<T>): T {
  if (!r.ok) throw new ConfigError(r.problem);
  return r.value;
}

function integer(what: string, min: number, max: number): (v: string) => number {
  return (value) => valueOf(parseInteger(value, what, min, max));
}

const milliseconds = (value: string): number => valueOf(parseMilliseconds(value));

function path(what: string): (value: string) => string {
  return (value) => {
    if (value.trim() === '') throw new ConfigError(`${what} must name a file`);
    return value;
  };
}

function leaseDrift(value: string): number {
  const n = Number(value.trim());
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) {
    throw new ConfigError('lease drift must be a fraction of the election timeout, e.g. 0.1');
  }
  if (n >= MAX_LEASE_DRIFT) {
    throw new ConfigError(
      `lease drift ${n} is too large: it must be below ${MAX_LEASE_DRIFT} ` +
        '(the lease would last less than half an election timeout, and the leader could not serve between heartbeats)',
    );
  }
  return n;
}

/**
 * `n1=host:port,n2=host:port,...` → id → address, in order. Rejects duplicate
 * ids and duplicate addresses.
 */
export function parseInitialClusterList(value: string): Map<string, string> {
  const out = new Map<string, string>();
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (items.length === 0) throw new ConfigError('expected id=host:port,...');
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq < 0) throw new ConfigError(`${JSON.stringify(item)} is not id=host:port`);
    const id = item.slice(0, eq).trim();
    const address = item.slice(eq + 1).trim();
    check(memberIdProblem(id));
    const addrProblem = hostPortProblem(address);
    if (addrProblem !== null) throw new ConfigError(`${id}: ${addrProblem}`);
    if (out.has(id)) throw new ConfigError(`member id ${id} appears twice`);
    for (const [other, a] of out) {
      if (a === address) {
        throw new ConfigError(`${id} and ${other} have the same address ${address}`);
      }
    }
    out.set(id, address);
  }
  return out;
}

// ------------------------------------------------------------------ the table

interface SettingTypes {
  id: string;
  listen: string;
  advertise: string;
  data: string;
  'initial-cluster': Map<string, string>;
  'election-timeout': number;
  'heartbeat-interval': number;
  'max-count': number;
  'lease-drift': number;
  'snapshot-entries': number;
  'log-level': LogLevel;
  'metrics-listen': string;
  cert: string;
  key: string;
  ca: string;
  'admin-token-file': string;
  'client-cert-auth': boolean;
  'max-sequences': number;
  'backup-dir': string;
  'backup-interval': number;
  'backup-keep': number;
}

export type SettingKey = keyof SettingTypes;

export interface SettingSpec<K extends SettingKey = SettingKey> {
  key: K;
  /** Placeholder in --help, e.g. `<ms>`; '' for a switch (a flag without a value). */
  arg: string;
  help: string;
  /** Default value, if the setting has one that does not depend on others. */
  default?: SettingTypes[K];
  /** Parses a value written as text (flag, env, or a file's scalar). Throws ConfigError. */
  parse(value: string): SettingTypes[K];
  choices?: readonly string[];
}

function spec<K extends SettingKey>(s: SettingSpec<K>): SettingSpec<K> {
  return s;
}

/** Every setting of `serve`, in the order --help and --print-config show them. */
export const SETTINGS = [
  spec({
    key: 'id',
    arg: '<id>',
    help: "this member's id, e.g. n1 (its identity; never the address) [required]",
    parse: (v) => {
      check(memberIdProblem(v));
      return v;
    },
  }),
  spec({
    key: 'listen',
    arg: '<host:port>',
    help: 'address the gRPC server binds (port 0: any free port; then give --advertise) [required]',
    parse: (v) => {
      check(listenAddressProblem(v));
      return v;
    },
  }),
  spec({
    key: 'advertise',
    arg: '<host:port>',
    help: 'address clients are redirected to (default: --listen)',
    parse: (v) => {
      check(hostPortProblem(v));
      return v;
    },
  }),
  spec({
    key: 'data',
    arg: '<dir>',
    help: 'data directory (created if missing; one node per directory) [required]',
    parse: (v) => {
      if (v.trim() === '') throw new ConfigError('data must name a directory');
      return v;
    },
  }),
  spec({
    key: 'initial-cluster',
    arg: '<list>',
    help:
      'id=host:port,... of every founding member, this one included: the address this ' +
      'node dials to reach each. Used only to bootstrap an empty data directory; omit it ' +
      'to restart, or to start a node that will be added with `cluster join`',
    parse: parseInitialClusterList,
  }),
  spec({
    key: 'election-timeout',
    arg: '<ms>',
    help: `election timeout; at least ${MIN_ELECTION_HEARTBEAT_RATIO} x the heartbeat interval`,
    default: DEFAULTS.electionTimeoutMs,
    parse: milliseconds,
  }),
  spec({
    key: 'heartbeat-interval',
    arg: '<ms>',
    help: 'leader heartbeat interval',
    default: DEFAULTS.heartbeatIntervalMs,
    parse: milliseconds,
  }),
  spec({
    key: 'max-count',
    arg: '<n>',
    help: 'largest count one Next may ask for',
    default: DEFAULTS.maxCount,
    parse: integer('max count', 1, MAX_WIRE_COUNT),
  }),
  spec({
    key: 'lease-drift',
    arg: '<fraction>',
    help: `clock-drift bound of the leader lease, as a fraction of the election timeout (below ${MAX_LEASE_DRIFT})`,
    default: DEFAULTS.leaseDriftFraction,
    parse: leaseDrift,
  }),
  spec({
    key: 'snapshot-entries',
    arg: '<n>',
    help: 'snapshot and compact the log after this many entries',
    default: DEFAULTS.snapshotEntries,
    parse: integer('snapshot entries', 1, 1_000_000_000),
  }),
  spec({
    key: 'log-level',
    arg: '<level>',
    help: 'log level of the JSON log on stdout',
    default: DEFAULTS.logLevel,
    choices: LOG_LEVELS,
    parse: (v) => {
      if (!(LOG_LEVELS as readonly string[]).includes(v)) {
        throw new ConfigError(
          `log level ${JSON.stringify(v)} is not one of ${LOG_LEVELS.join(', ')}`,
        );
      }
      return v as LogLevel;
    },
  }),
  spec({
    key: 'metrics-listen',
    arg: '<host:port>',
    help: 'serve Prometheus metrics at http://<host:port>/metrics (default: off)',
    parse: (v) => {
      check(listenAddressProblem(v));
      return v;
    },
  }),
  spec({
    key: 'cert',
    arg: '<file>',
    help: "this member's certificate (PEM; SAN URI raftseq://member/<id>): turns TLS on, with --key and --ca",
    parse: path('cert'),
  }),
  spec({
    key: 'key',
    arg: '<file>',
    help: 'the private key of --cert (PEM)',
    parse: path('key'),
  }),
  spec({
    key: 'ca',
    arg: '<file>',
    help: 'the CA (PEM bundle) that signs members, admins and clients; replaced files take effect within 10 s',
    parse: path('ca'),
  }),
  spec({
    key: 'admin-token-file',
    arg: '<file>',
    help: 'bearer tokens (one per line) accepted for admin calls over TLS; re-read when it changes',
    parse: path('admin-token-file'),
  }),
  spec({
    key: 'client-cert-auth',
    arg: '',
    help: 'every client call (Next, status, ...) needs a certificate signed by --ca',
    default: false,
    parse: (v) => {
      const t = v.trim().toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(t)) return true;
      if (['false', '0', 'no', 'off', ''].includes(t)) return false;
      throw new ConfigError(`client-cert-auth must be true or false, got ${JSON.stringify(v)}`);
    },
  }),
  spec({
    key: 'max-sequences',
    arg: '<n>',
    help: 'creating a sequence beyond this many fails with RESOURCE_EXHAUSTED',
    default: DEFAULTS.maxSequences,
    parse: integer('max sequences', 1, Number.MAX_SAFE_INTEGER),
  }),
  spec({
    key: 'backup-dir',
    arg: '<dir>',
    help: 'while leader, save a snapshot (as `raftseq snapshot save` does) into this directory every --backup-interval (default: off)',
    parse: path('backup-dir'),
  }),
  spec({
    key: 'backup-interval',
    arg: '<duration>',
    help: 'time between automatic backups, e.g. 15m or 1h; a bare number is milliseconds, as in every other time setting',
    default: DEFAULTS.backupIntervalMs,
    parse: (v) =>
      valueOf(parseDuration(/^\s*[0-9]+\s*$/.test(v) ? `${v.trim()}ms` : v, 1000, 7 * 86_400_000)),
  }),
  spec({
    key: 'backup-keep',
    arg: '<n>',
    help: 'automatic backups to keep in --backup-dir (older ones are deleted)',
    default: DEFAULTS.backupKeep,
    parse: integer('backup keep', 1, 100_000),
  }),
] as const satisfies readonly SettingSpec[];

const BY_KEY = new Map<string, SettingSpec>(SETTINGS.map((s) => [s.key, s as SettingSpec]));

/** RAFTSEQ_ELECTION_TIMEOUT for election-timeout. */
export function envName(key: SettingKey): string {
  return 'RAFTSEQ_' + key.toUpperCase().replace(/-/g, '_');
}

/** electionTimeout for election-timeout: commander's name of the flag's value. */
export function camelName(key: SettingKey): string {
  return key.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
}

// ------------------------------------------------------------------ sources

export type Source = 'flag' | 'env' | 'file' | 'default';

export type SettingValues = { [K in SettingKey]?: SettingTypes[K] };

export interface ResolvedSettings {
  values: SettingValues;
  /** Where each set value came from. */
  sources: { [K in SettingKey]?: Source };
  /** The config file read, if any. */
  configFile: string | null;
}

/** The raw contents of a config file: key → value as written. */
export type FileValues = Record<string, unknown>;

/** Reads a config file: `.json` as JSON, anything else as YAML (a superset of JSON). */
export function readConfigFile(path: string): FileValues {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError(
      `cannot read config file ${path}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`,
    );
  }
  let doc: unknown;
  try {
    doc = extname(path).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new ConfigError(`config file ${path} is not valid: ${(e as Error).message}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ConfigError(`config file ${path} must hold one object of settings (key: value)`);
  }
  return doc as FileValues;
}

/** The closest known key to an unknown one (for "did you mean"), or null. */
function nearestKey(unknown: string): string | null {
  const norm = (s: string): string => s.toLowerCase().replace(/[-_]/g, '');
  for (const s of SETTINGS) if (norm(s.key) === norm(unknown)) return s.key;
  for (const s of SETTINGS) if (norm(s.key).startsWith(norm(unknown))) return s.key;
  return null;
}

/** A config file's value as the text the parsers take; null/undefined: not set. */
function fileText(key: SettingKey, value: unknown, where: string): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') {
    return String(value);
  }
  if (key === 'initial-cluster' && typeof value === 'object' && !Array.isArray(value)) {
    return Object.entries(value as Record<string, unknown>)
      .map(([id, address]) => `${id}=${typeof address === 'string' ? address : String(address)}`)
      .join(',');
  }
  if (key === 'initial-cluster' && Array.isArray(value)) {
    return value.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(',');
  }
  throw new ConfigError(
    `${where}: ${key} must be ${key === 'initial-cluster' ? 'a map of id: host:port' : 'a string or number'}`,
  );
}

/**
 * Merges the sources, each value through its parser. `flags` holds values
 * commander already parsed (only those given on the command line); `env` the
 * process environment; `file` a config file's contents. Throws ConfigError
 * naming the source of a bad value.
 */
export function resolveSettings(input: {
  flags: SettingValues;
  env: Record<string, string | undefined>;
  file: { path: string; values: FileValues } | null;
}): ResolvedSettings {
  const out: ResolvedSettings = { values: {}, sources: {}, configFile: input.file?.path ?? null };
  const set = (key: SettingKey, value: unknown, source: Source): void => {
    (out.values as Record<string, unknown>)[key] = value;
    out.sources[key] = source;
  };
  const parse = (s: SettingSpec, text: string, where: string): unknown => {
    try {
      return s.parse(text);
    } catch (e) {
      throw new ConfigError(`${where}: ${(e as Error).message}`);
    }
  };

  if (input.file !== null) {
    for (const key of Object.keys(input.file.values)) {
      if (!BY_KEY.has(key)) {
        const near = nearestKey(key);
        throw new ConfigError(
          `config file ${input.file.path}: unknown setting ${JSON.stringify(key)}` +
            (near !== null ? ` (did you mean ${JSON.stringify(near)}?)` : '') +
            `; known settings: ${SETTINGS.map((s) => s.key).join(', ')}`,
        );
      }
    }
  }

  // Every value present is parsed, even one a higher source overrides: a
  // config file or environment with a bad value is refused, not half-used.
  for (const s of SETTINGS as readonly SettingSpec[]) {
    const flag = input.flags[s.key];
    const envText = input.env[envName(s.key)];
    const env =
      envText !== undefined && envText !== '' ? parse(s, envText, envName(s.key)) : undefined;
    let fromFile: unknown = undefined;
    if (input.file !== null) {
      const text = fileText(s.key, input.file.values[s.key], `config file ${input.file.path}`);
      if (text !== null) fromFile = parse(s, text, `config file ${input.file.path}: ${s.key}`);
    }
    if (flag !== undefined) set(s.key, flag, 'flag');
    else if (env !== undefined) set(s.key, env, 'env');
    else if (fromFile !== undefined) set(s.key, fromFile, 'file');
    else if (s.default !== undefined) set(s.key, s.default, 'default');
  }
  return out;
}

/** How to name a setting in an error: --id (or RAFTSEQ_ID, or id in the config file). */
export function settingNames(key: SettingKey): string {
  return `--${key} (or ${envName(key)}, or "${key}" in the config file)`;
}

/**
 * The node's options from resolved settings, after the cross-checks: the
 * required settings are there, the election timeout is several heartbeats,
 * the founding members include this one. Throws ConfigError.
 */
export function toNodeOptions(
  r: ResolvedSettings,
  extra: { enableFaultInjection?: boolean } = {},
): NodeOptions {
  const v = r.values;
  for (const key of ['id', 'listen', 'data'] as const) {
    if (v[key] === undefined) {
      throw new ConfigError(
        `required option '--${key} ${BY_KEY.get(key)?.arg ?? ''}' not specified (nor ${envName(key)}, nor "${key}" in a --config file)`,
      );
    }
  }
  const id = v.id as string;
  const listen = v.listen as string;
  const electionTimeout = v['election-timeout'] ?? DEFAULTS.electionTimeoutMs;
  const heartbeat = v['heartbeat-interval'] ?? DEFAULTS.heartbeatIntervalMs;
  if (electionTimeout < MIN_ELECTION_HEARTBEAT_RATIO * heartbeat) {
    throw new ConfigError(
      `--election-timeout (${electionTimeout} ms) must be at least ` +
        `${MIN_ELECTION_HEARTBEAT_RATIO} x --heartbeat-interval (${heartbeat} ms)`,
    );
  }
  const initial = v['initial-cluster'] ?? null;
  if (initial !== null && !initial.has(id)) {
    throw new ConfigError(
      `--initial-cluster must include this node (--id ${id}); it lists ${[...initial.keys()].join(', ')}`,
    );
  }
  const metricsListen = v['metrics-listen'] ?? null;
  if (metricsListen !== null && metricsListen === listen && !/:0+$/.test(listen)) {
    throw new ConfigError(`--metrics-listen (${metricsListen}) must differ from --listen`);
  }
  const backupDir = v['backup-dir'];
  if (backupDir === undefined && (r.sources['backup-interval'] ?? 'default') !== 'default') {
    throw new ConfigError('--backup-interval needs --backup-dir (where to write the backups)');
  }
  let tls;
  try {
    tls = serverTlsFiles({
      cert: v.cert,
      key: v.key,
      ca: v.ca,
      adminTokenFile: v['admin-token-file'],
      clientCertAuth: v['client-cert-auth'],
    });
  } catch (e) {
    if (e instanceof TlsUsageError) throw new ConfigError(e.message);
    throw e;
  }
  return {
    id,
    listen,
    advertise: v.advertise ?? listen,
    dataDir: resolve(v.data as string),
    initialCluster: initial,
    electionTimeoutMs: electionTimeout,
    heartbeatIntervalMs: heartbeat,
    maxCount: v['max-count'] ?? DEFAULTS.maxCount,
    leaseDriftFraction: v['lease-drift'] ?? DEFAULTS.leaseDriftFraction,
    snapshotEntries: v['snapshot-entries'] ?? DEFAULTS.snapshotEntries,
    logLevel: v['log-level'] ?? DEFAULTS.logLevel,
    metricsListen,
    tls:
      tls === null ? null : { cert: resolve(tls.cert), key: resolve(tls.key), ca: resolve(tls.ca) },
    adminTokenFile: v['admin-token-file'] === undefined ? null : resolve(v['admin-token-file']),
    clientCertAuth: v['client-cert-auth'] ?? false,
    maxSequences: v['max-sequences'] ?? DEFAULTS.maxSequences,
    backup:
      backupDir === undefined
        ? null
        : {
            dir: resolve(backupDir),
            intervalMs: v['backup-interval'] ?? DEFAULTS.backupIntervalMs,
            keep: v['backup-keep'] ?? DEFAULTS.backupKeep,
          },
    enableFaultInjection: extra.enableFaultInjection === true,
  };
}

/**
 * The effective settings in config-file form (what `serve --print-config`
 * prints): every key, null where unset; the output is itself a valid config file.
 */
export function effectiveConfig(o: NodeOptions): Record<SettingKey, unknown> {
  return {
    id: o.id,
    listen: o.listen,
    advertise: o.advertise,
    data: o.dataDir,
    'initial-cluster': o.initialCluster === null ? null : Object.fromEntries(o.initialCluster),
    'election-timeout': o.electionTimeoutMs,
    'heartbeat-interval': o.heartbeatIntervalMs,
    'max-count': o.maxCount,
    'lease-drift': o.leaseDriftFraction,
    'snapshot-entries': o.snapshotEntries,
    'log-level': o.logLevel,
    'metrics-listen': o.metricsListen ?? null,
    cert: o.tls?.cert ?? null,
    key: o.tls?.key ?? null,
    ca: o.tls?.ca ?? null,
    'admin-token-file': o.adminTokenFile ?? null,
    'client-cert-auth': o.clientCertAuth ?? false,
    'max-sequences': o.maxSequences ?? DEFAULTS.maxSequences,
    'backup-dir': o.backup?.dir ?? null,
    // Null without a directory, so that the output stays a valid config file.
    'backup-interval': o.backup?.intervalMs ?? null,
    'backup-keep': o.backup?.keep ?? null,
  };
}
