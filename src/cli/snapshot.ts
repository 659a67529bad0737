// `raftseq snapshot save | status | restore`: backups of a cluster's
// sequences and the recovery of a new cluster from one (src/backup).
import type { Command } from 'commander';
import { writeFileAtomic, readSnapshotFile } from '../backup/file.js';
import { decodeSnapshotFile, type SnapshotHeader } from '../backup/format.js';
import { SNAPSHOT_DEADLINE_MS } from '../client/admin.js';
import { clientCommand, withClient, type ClientOpts } from './client-command.js';
import { humanBytes } from './format.js';
import type { CliIo } from './io.js';
import { terminalBar } from './progress.js';
import { addRestoreCommand } from './restore.js';

export function addSnapshotCommands(program: Command, io: CliIo): void {
  const snapshot = program
    .command('snapshot')
    .description(
      'back up the sequences of a cluster, inspect a backup, restore a new cluster from one',
    )
    .addHelpText(
      'after',
      `
Examples:
  raftseq snapshot save backup.snap --endpoints 127.0.0.1:7001
  raftseq snapshot status backup.snap
  raftseq snapshot restore backup.snap --data ./data/n1 --id n1 \\
      --initial-cluster n1=127.0.0.1:7001,n2=127.0.0.1:7002,n3=127.0.0.1:7003 --advance-for 2h`,
    );

  clientCommand(snapshot, 'save', io, SNAPSHOT_DEADLINE_MS)
    .description(
      'stream a consistent snapshot from the leader into FILE (atomically, SHA-256 inside)',
    )
    .argument('<file>', 'where to write the snapshot')
    .addHelpText(
      'after',
      `
The leader copies every sequence's highest reserved value and its rate at an
index committed after this command started. The file is written to a
temporary name, fsynced and renamed, so FILE is either the old file or the
whole new one. Needs admin credentials when the cluster runs TLS.

Examples:
  raftseq snapshot save backup.snap --endpoints 127.0.0.1:7001
  raftseq snapshot save /backups/$(date +%F-%H%M).snap --ca ca.pem --cert ops.pem --key ops-key.pem`,
    )
    .action(async (file: string, opts: ClientOpts) => {
      await withClient(io, opts, async (client) => {
        const progress = progressBar(io);
        let saved;
        try {
          saved = await client.saveSnapshot({ onProgress: progress.update });
        } finally {
          progress.stop();
        }
        // Verify before writing: a file on disk is one restore can trust.
        decodeSnapshotFile(saved.data);
        await writeFileAtomic(file, saved.data);
        io.stdout(
          `saved ${file}: index ${saved.index}, term ${saved.term}, ` +
            `${saved.sequences} sequence(s), ${humanBytes(saved.data.length)}\n`,
        );
      });
    });

  snapshot
    .command('status')
    .description('verify a snapshot file and print what it holds')
    .argument('<file>', 'the snapshot file')
    .option('--json', 'print one JSON object')
    .addHelpText(
      'after',
      `
A corrupt or truncated file gets a one-line error and exit code 1.

Examples:
  raftseq snapshot status backup.snap
  raftseq snapshot status backup.snap --json | jq .index`,
    )
    .action(async (file: string, opts: { json?: boolean }) => {
      const { contents, bytes, sha256 } = await readSnapshotFile(file);
      const view = statusView(contents.header, bytes, sha256, contents.sequences);
      io.stdout(opts.json === true ? JSON.stringify(view) + '\n' : statusText(file, view));
    });

  addRestoreCommand(snapshot, io);
}

interface StatusView extends SnapshotHeader {
  bytes: number;
  sha256: string;
  checksum: 'ok';
  /** Sum of the recorded rates, values per second: what --advance-for multiplies. */
  totalRate: number;
}

function statusView(
  header: SnapshotHeader,
  bytes: number,
  sha256: string,
  sequences: readonly { rate: number }[],
): StatusView {
  let totalRate = 0;
  for (const s of sequences) totalRate += s.rate;
  return {
    clusterId: header.clusterId,
    index: header.index,
    term: header.term,
    savedAt: header.savedAt,
    sequences: header.sequences,
    member: header.member,
    version: header.version,
    format: header.format,
    bytes,
    sha256,
    checksum: 'ok',
    totalRate: Math.round(totalRate * 1000) / 1000,
  };
}

function statusText(file: string, v: StatusView): string {
  return [
    `file        ${file} (${humanBytes(v.bytes)}, format ${v.format})`,
    `checksum    ok (SHA-256 ${v.sha256})`,
    `cluster id  ${v.clusterId === '' ? '(none)' : v.clusterId}`,
    `index       ${v.index}`,
    `term        ${v.term}`,
    `saved at    ${v.savedAt} by ${v.member} (raftseq ${v.version})`,
    `sequences   ${v.sequences}`,
    `rate        ${v.totalRate} values/s over all sequences`,
    '',
  ].join('\n');
}

interface Progress {
  update: (received: number, total: number) => void;
  stop(): void;
}

/** A bar on a terminal (stderr); nothing otherwise: the summary line says it all. */
function progressBar(io: CliIo): Progress {
  const bar = terminalBar(
    io,
    'snapshot [{bar}] {percentage}% | {value}/{total} bytes | {duration_formatted}',
  );
  return bar ?? { update: () => {}, stop: () => {} };
}
