// `raftseq certs init|member|admin`: certificates for TLS between nodes,
// admins and clients, for people who have none (src/security/certs.ts does
// the work). The issuing library is loaded only when one of these runs.
import { InvalidArgumentError, Option } from 'commander';
import type { Command } from 'commander';
import { CA_DAYS, LEAF_DAYS, certFiles, parseHosts } from '../security/cert-profile.js';
import { adminNameProblem, adminUri, memberUri } from '../security/identity.js';
import type { CliIo } from './io.js';
import { integerParser, parseMemberId } from './parse.js';

interface CertsOpts {
  dir: string;
  days?: number;
  force?: boolean;
}

function parseHostList(value: string): string[] {
  try {
    return parseHosts(value);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message.replace(/^--host: /, ''));
  }
}

function parseAdminName(value: string): string {
  const problem = adminNameProblem(value);
  if (problem !== null) throw new InvalidArgumentError(problem);
  return value;
}

const parseDays = integerParser('days', 1, 100 * 365);

const day = (d: Date): string => d.toISOString().slice(0, 10);

/** The files as an indented table: path, then what it is for. */
function fileTable(rows: [string, string][]): string {
  const width = Math.max(...rows.map(([p]) => p.length));
  return rows.map(([p, what]) => `  ${p.padEnd(width)}  ${what}\n`).join('');
}

/** A subcommand of `certs` with --dir, --days and --force. */
function certsCommand(parent: Command, name: string, defaultDays: number): Command {
  return parent
    .command(name)
    .requiredOption(
      '-d, --dir <dir>',
      'directory of the CA and the certificates (created if missing)',
    )
    .addOption(
      new Option('--days <n>', `validity in days (default ${defaultDays})`).argParser(parseDays),
    )
    .option('--force', 'replace existing files (atomically: running nodes reload them)');
}

export function addCertsCommand(program: Command, io: CliIo): void {
  const certs = program
    .command('certs')
    .description('issue TLS certificates for nodes, admins and clients (no openssl needed)')
    .addHelpText(
      'after',
      `
What to run, in order:
  1. raftseq certs init --dir ./tls
       a CA: ca.pem (give it to every node and client as --ca)
       and ca-key.pem (keep it secret; only certs member|admin need it)
  2. raftseq certs member --dir ./tls --id n1 --host 127.0.0.1,node1.example
       one per node: member-n1.pem and member-n1-key.pem, for serve --cert/--key
  3. raftseq certs admin --dir ./tls --name ops
       one per operator: admin-ops.pem and admin-ops-key.pem, for --cert/--key
       of the cluster and sequence commands
  4. raftseq serve --id n1 ... --cert ./tls/member-n1.pem \\
       --key ./tls/member-n1-key.pem --ca ./tls/ca.pem

Keys are ECDSA P-256, written with mode 0600. Existing files are never
overwritten without --force. To rotate, issue again with --force (the files
are replaced atomically): nodes use the new ones for new connections within
10 s, without a restart.

Examples:
  raftseq certs init --dir ./tls
  raftseq certs member --dir ./tls --id n1 --host 127.0.0.1,localhost
  raftseq certs admin --dir ./tls --name ops`,
    );

  const load = () => import('../security/certs.js');

  certsCommand(certs, 'init', CA_DAYS)
    .description('create a CA: DIR/ca.pem and DIR/ca-key.pem')
    .addHelpText(
      'after',
      `
Files:
  DIR/ca.pem      the CA certificate: --ca of every node and client
  DIR/ca-key.pem  the CA key (mode 0600): keep it secret, off the nodes if you can

To replace a CA without downtime: create the new one in another directory,
make every --ca file hold both (cat old/ca.pem new/ca.pem > ca.pem), issue
every certificate again from the new CA, then drop the old CA from the --ca
files. Nodes pick up each change within 10 s.

Examples:
  raftseq certs init --dir ./tls
  raftseq certs member --dir ./tls --id n1 --host 127.0.0.1   # next`,
    )
    .action(async (opts: CertsOpts) => {
      const { initCaInDir } = await load();
      const r = await initCaInDir(opts.dir, {
        force: opts.force === true,
        days: opts.days ?? CA_DAYS,
      });
      io.stdout(
        `Created a CA, valid until ${day(r.notAfter)}:\n` +
          fileTable([
            [r.cert, 'CA certificate: give it to every node and client as --ca'],
            [r.key, 'CA key (mode 0600): keep it secret; only `certs member|admin` need it'],
          ]) +
          `\nNext, one certificate per node, e.g.:\n` +
          `  raftseq certs member --dir ${opts.dir} --id n1 --host 127.0.0.1,node1.example\n`,
      );
    });

  certsCommand(certs, 'member', LEAF_DAYS)
    .description("issue a node's certificate (server and client: members dial each other)")
    .requiredOption('--id <id>', 'the member id, as in serve --id', parseMemberId)
    .requiredOption(
      '--host <list>',
      'comma-separated host names and IP addresses that clients dial to reach this node',
      parseHostList,
    )
    .addHelpText(
      'after',
      `
The certificate names the member (SAN URI raftseq://member/<id>), which is what
the other members check: a node can only send Raft messages as itself. --host
lists the names and addresses clients use to reach the node (they are checked
by every TLS client), e.g. its DNS name and IP.

Files:
  DIR/member-<id>.pem      the certificate: serve --cert
  DIR/member-<id>-key.pem  its key (mode 0600): serve --key

Examples:
  raftseq certs member --dir ./tls --id n1 --host 127.0.0.1,localhost
  raftseq certs member --dir ./tls --id n2 --host 10.0.0.2,node2.example --days 90
  raftseq certs member --dir ./tls --id n2 --host 10.0.0.2,node2.example --force   # rotate`,
    )
    .action(async (opts: CertsOpts & { id: string; host: string[] }) => {
      const { issueInDir } = await load();
      const hosts = opts.host;
      const r = await issueInDir(
        opts.dir,
        { kind: 'member', id: opts.id, hosts },
        { force: opts.force === true, days: opts.days ?? LEAF_DAYS },
      );
      const ca = certFiles.ca(opts.dir).cert;
      io.stdout(
        `Issued the certificate of member ${opts.id}, valid until ${day(r.notAfter)}:\n` +
          fileTable([
            [r.cert, `certificate (${[memberUri(opts.id), ...hosts].join(', ')}): serve --cert`],
            [r.key, 'its key (mode 0600): serve --key'],
          ]) +
          `\nNext, start the node with TLS:\n` +
          `  raftseq serve --id ${opts.id} ... --cert ${r.cert} --key ${r.key} --ca ${ca}\n`,
      );
    });

  certsCommand(certs, 'admin', LEAF_DAYS)
    .description("issue an operator's client certificate, for admin commands")
    .requiredOption('--name <name>', 'who holds it, e.g. ops or alice', parseAdminName)
    .addHelpText(
      'after',
      `
The certificate names the admin (SAN URI raftseq://admin/<name>); over TLS,
cluster join/leave/transfer-leader and sequence advance need it (or a token
listed in serve --admin-token-file).

Files:
  DIR/admin-<name>.pem      the certificate: --cert of the client commands
  DIR/admin-<name>-key.pem  its key (mode 0600): --key

Examples:
  raftseq certs admin --dir ./tls --name ops
  raftseq cluster status --endpoints 127.0.0.1:7001 --ca ./tls/ca.pem \\
      --cert ./tls/admin-ops.pem --key ./tls/admin-ops-key.pem`,
    )
    .action(async (opts: CertsOpts & { name: string }) => {
      const { issueInDir } = await load();
      const r = await issueInDir(
        opts.dir,
        { kind: 'admin', name: opts.name },
        { force: opts.force === true, days: opts.days ?? LEAF_DAYS },
      );
      io.stdout(
        `Issued the certificate of admin ${opts.name}, valid until ${day(r.notAfter)}:\n` +
          fileTable([
            [r.cert, `certificate (${adminUri(opts.name)}): --cert of the client commands`],
            [r.key, 'its key (mode 0600): --key'],
          ]) +
          `\nNext, e.g.:\n` +
          `  raftseq cluster status --endpoints <host:port> --ca ${certFiles.ca(opts.dir).cert} --cert ${r.cert} --key ${r.key}\n`,
      );
    });
}
