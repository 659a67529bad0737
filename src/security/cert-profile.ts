// What raftseq's certificates name, for how long, and where `raftseq certs`
// writes them. Kept apart from certs.ts so that the CLI can check --host and
// show paths without loading the issuing library.
import { isIP } from 'node:net';
import { join } from 'node:path';

export const CA_DAYS = 3650;
export const LEAF_DAYS = 365;
/** Why `host` cannot be a DNS or IP SAN of a member certificate, or null. */
export function hostProblem(host: string): string | null {
  if (host === '') return 'empty host name';
  if (isIP(host) !== 0) return null;
  const label = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;
  const labels = host.replace(/\.$/, '').split('.');
  if (host.length > 253 || !labels.every((l, i) => label.test(l) || (i === 0 && l === '*'))) {
    return `${JSON.stringify(host)} is neither an IP address nor a DNS name`;
  }
  return null;
}

/** A comma-separated host list, each checked; throws an Error naming the first bad one. */
export function parseHosts(list: string): string[] {
  const hosts = list.split(',').map((h) => h.trim());
  for (const h of hosts) {
    const problem = hostProblem(h);
    if (problem !== null) throw new Error(`--host: ${problem}`);
  }
  return [...new Set(hosts)];
}

/** Where `raftseq certs` keeps each certificate and key under --dir. */
export const certFiles = {
  ca: (dir: string) => ({ cert: join(dir, 'ca.pem'), key: join(dir, 'ca-key.pem') }),
  // Prefixed by kind, so that no member id or admin name can land on ca.pem
  // or on each other's files.
  member: (dir: string, id: string) => ({
    cert: join(dir, `member-${id}.pem`),
    key: join(dir, `member-${id}-key.pem`),
  }),
  admin: (dir: string, name: string) => ({
    cert: join(dir, `admin-${name}.pem`),
    key: join(dir, `admin-${name}-key.pem`),
  }),
};
