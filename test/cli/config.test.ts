// serve's settings: flags > RAFTSEQ_* environment > config file (JSON/YAML) >
// defaults; --print-config; every invalid setting refused with its reason (exit 2).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  SETTINGS,
  envName,
  resolveSettings,
  toNodeOptions,
} from '../../src/node/config.js';
import { DEFAULTS } from '../../src/node/options.js';
import { lines, runCli } from '../support/cli-run.js';

const dir = mkdtempSync(join(tmpdir(), 'raftseq-config-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const mustNotStart = {
  startNode: () => Promise.reject(new Error('must not start')),
  logDestination: { write: () => {} },
};

async function printConfig(
  argv: string[],
  env: Record<string, string> = {},
): Promise<Record<string, unknown>> {
  const r = await runCli(['serve', ...argv, '--print-config'], { ...mustNotStart, env });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

describe('precedence: flag > env > file > default', () => {
  const yaml = file(
    'n1.yaml',
    `# a node's settings
id: n1
listen: 127.0.0.1:7001
data: ${join(dir, 'data-n1')}
initial-cluster:
  n1: 127.0.0.1:7001
  n2: 127.0.0.1:7002
  n3: 127.0.0.1:7003
election-timeout: 3000
heartbeat-interval: 200
lease-drift: 0.2
log-level: warn
`,
  );

  it('the file alone, defaults for the rest', async () => {
    const c = await printConfig(['--config', yaml]);
    expect(c).toEqual({
      id: 'n1',
      listen: '127.0.0.1:7001',
      advertise: '127.0.0.1:7001',
      data: join(dir, 'data-n1'),
      'initial-cluster': { n1: '127.0.0.1:7001', n2: '127.0.0.1:7002', n3: '127.0.0.1:7003' },
      'election-timeout': 3000,
      'heartbeat-interval': 200,
      'max-count': DEFAULTS.maxCount,
      'lease-drift': 0.2,
      'snapshot-entries': DEFAULTS.snapshotEntries,
      'log-level': 'warn',
      'metrics-listen': null,
      cert: null,
      key: null,
      ca: null,
      'admin-token-file': null,
      'client-cert-auth': false,
      'max-sequences': DEFAULTS.maxSequences,
      'backup-dir': null,
      'backup-interval': null,
      'backup-keep': null,
    });
  });

  it('env beats the file, a flag beats both', async () => {
    const env = {
      RAFTSEQ_ELECTION_TIMEOUT: '4000',
      RAFTSEQ_LOG_LEVEL: 'debug',
      RAFTSEQ_METRICS_LISTEN: '127.0.0.1:9464',
    };
    const c = await printConfig(['--config', yaml, '--log-level', 'error'], env);
    expect(c['election-timeout']).toBe(4000); // env over file
    expect(c['heartbeat-interval']).toBe(200); // file over default
    expect(c['log-level']).toBe('error'); // flag over env over file
    expect(c['metrics-listen']).toBe('127.0.0.1:9464'); // env over default
  });

  it('the config file may come from RAFTSEQ_CONFIG; env alone describes a node', async () => {
    expect((await printConfig([], { RAFTSEQ_CONFIG: yaml })).id).toBe('n1');
    const c = await printConfig([], {
      RAFTSEQ_ID: 'n7',
      RAFTSEQ_LISTEN: '0.0.0.0:7007',
      RAFTSEQ_ADVERTISE: 'n7.example:7007',
      RAFTSEQ_DATA: '/var/lib/raftseq',
      RAFTSEQ_INITIAL_CLUSTER: 'n7=n7.example:7007',
    });
    expect(c).toMatchObject({
      id: 'n7',
      listen: '0.0.0.0:7007',
      advertise: 'n7.example:7007',
      data: '/var/lib/raftseq',
      'initial-cluster': { n7: 'n7.example:7007' },
    });
  });

  it('JSON files too, and --print-config output is itself a valid config file', async () => {
    const json = file(
      'n2.json',
      JSON.stringify({ id: 'n2', listen: '127.0.0.1:7002', data: '/d/n2', 'max-count': 500 }),
    );
    const c = await printConfig(['--config', json]);
    expect(c['max-count']).toBe(500);
    const again = file('again.json', JSON.stringify(c));
    expect(await printConfig(['--config', again])).toEqual(c);
  });

  it('resolveSettings reports where each value came from', () => {
    const r = resolveSettings({
      flags: { id: 'n1' },
      env: { RAFTSEQ_LISTEN: 'h:1', RAFTSEQ_ID: 'ignored' },
      file: { path: 'f.yaml', values: { data: '/d', 'max-count': 9, id: 'also-ignored' } },
    });
    expect(r.sources).toMatchObject({
      id: 'flag',
      listen: 'env',
      data: 'file',
      'max-count': 'file',
      'election-timeout': 'default',
    });
    expect(toNodeOptions(r)).toMatchObject({ id: 'n1', listen: 'h:1', maxCount: 9 });
  });

  it('every setting has a flag, an env variable and a config key', async () => {
    const help = (await runCli(['serve', '--help'])).stdout;
    for (const s of SETTINGS) {
      expect(help).toContain(`--${s.key} `);
      expect(help).toContain(envName(s.key));
    }
    expect(help).toContain('Precedence: flag > environment > config file > default');
    expect(help).toContain('--print-config');
  });
});

describe('invalid settings are refused with the reason (exit 2)', () => {
  const base = ['--id', 'n1', '--listen', '127.0.0.1:7001', '--data', join(dir, 'd')];
  it.each([
    [['--election-timeout', '400'], {}, /--election-timeout \(400 ms\) must be at least 5 x/],
    [[], { RAFTSEQ_HEARTBEAT_INTERVAL: '300' }, /must be at least 5 x --heartbeat-interval \(300/],
    [['--lease-drift', '0.5'], {}, /lease drift 0.5 is too large: it must be below 0.5/],
    [[], { RAFTSEQ_LEASE_DRIFT: '0.9' }, /RAFTSEQ_LEASE_DRIFT: lease drift 0.9 is too large/],
    [[], { RAFTSEQ_LEASE_DRIFT: 'lots' }, /RAFTSEQ_LEASE_DRIFT: lease drift must be a fraction/],
    [['--advertise', 'nohost'], {}, /"nohost" has no port/],
    [[], { RAFTSEQ_ADVERTISE: 'h:99999' }, /RAFTSEQ_ADVERTISE: .*port/],
    [['--metrics-listen', 'localhost'], {}, /"localhost" has no port/],
    [['--metrics-listen', '127.0.0.1:7001'], {}, /--metrics-listen .* must differ from --listen/],
    [[], { RAFTSEQ_INITIAL_CLUSTER: 'n1=h:1,n2=bad' }, /RAFTSEQ_INITIAL_CLUSTER: n2: .*port/],
    [['--initial-cluster', 'n2=h:2'], {}, /--initial-cluster must include this node/],
    [[], { RAFTSEQ_LOG_LEVEL: 'loud' }, /RAFTSEQ_LOG_LEVEL: log level "loud" is not one of/],
  ])('%j %j', async (argv, env, pattern) => {
    const r = await runCli(['serve', ...base, ...argv], { ...mustNotStart, env });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(pattern);
    expect(r.stderr).toMatch(/\(see 'raftseq serve --help'\)\n$/);
  });

  it.each([
    [
      'unknown.yaml',
      'id: n1\nelection_timeout: 3000\n',
      /unknown setting "election_timeout" \(did you mean "election-timeout"\?\)/,
    ],
    [
      'typo.json',
      '{"id":"n1","lisen":"h:1"}',
      /unknown setting "lisen"; known settings: id, listen/,
    ],
    [
      'bad.yaml',
      'id: n1\nelection-timeout: soon\n',
      /config file .*bad.yaml: election-timeout: milliseconds must be an integer/,
    ],
    [
      'drift.yaml',
      'lease-drift: 0.75\n',
      /bad.yaml|drift.yaml: lease-drift: lease drift 0.75 is too large/,
    ],
    ['list.yaml', '- id\n- n1\n', /must hold one object of settings/],
    ['broken.json', '{"id": ', /broken.json is not valid/],
    ['nested.yaml', 'listen: {host: h}\n', /listen must be a string or number/],
    [
      'cluster.yaml',
      'initial-cluster:\n  n1: nowhere\n',
      /initial-cluster: n1: "nowhere" has no port/,
    ],
  ])('config file %s', async (name, text, pattern) => {
    const r = await runCli(['serve', ...base, '--config', file(name, text)], mustNotStart);
    expect(r.code).toBe(2);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(pattern);
  });

  it('a missing config file, and missing required settings', async () => {
    const r = await runCli(['serve', ...base, '--config', join(dir, 'nope.yaml')], mustNotStart);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot read config file .*nope.yaml: no such file/);
    const m = await runCli(['serve', '--listen', 'h:1', '--data', 'd'], mustNotStart);
    expect(m.code).toBe(2);
    expect(m.stderr).toMatch(
      /required option '--id <id>' not specified \(nor RAFTSEQ_ID, nor "id"/,
    );
  });

  it('--print-config refuses invalid settings the same way', async () => {
    const r = await runCli(
      ['serve', ...base, '--lease-drift', '0.6', '--print-config'],
      mustNotStart,
    );
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
  });

  it('toNodeOptions throws ConfigError', () => {
    expect(() => toNodeOptions(resolveSettings({ flags: {}, env: {}, file: null }))).toThrow(
      ConfigError,
    );
  });
});
