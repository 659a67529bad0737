// Automatic backups: `serve --backup-dir DIR --backup-interval D --backup-keep K`.
//
// Every interval, a node that leads saves the same snapshot file `raftseq
// snapshot save` would (NodeHost.snapshotFile) into DIR, atomically, under a
// name that sorts by time, and deletes the oldest of its own files beyond K.
// Followers do nothing (every member may be configured alike; whoever leads
// takes the backup). One backup at a time: a tick that finds the previous one
// still running is skipped.
//
// A failure (full disk, unwritable directory, a capture that timed out) is
// logged and counted in raftseq_backup_failures_total; the alert
// RaftseqBackupFailing (deploy/prometheus) fires on it, and
// RaftseqBackupStale when the leader's last success is too old.

import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Counter, Gauge, type Registry } from 'prom-client';
import { writeFileAtomic } from '../backup/file.js';
import type { SnapshotFile } from '../api/node-api.js';
import type { Logger } from '../node/logger.js';
import type { Clock } from '../node/runtime.js';
import { NotLeaderError } from '../state/allocator.js';

export interface BackupSource {
  isLeader(): boolean;
  snapshotFile(): Promise<SnapshotFile>;
}

export interface BackupOptions {
  dir: string;
  intervalMs: number;
  keep: number;
}

/** Files this node wrote: raftseq-20261201T081500.123Z-i1234.snap (UTC, sorts by time). */
const OWN_FILE = /^raftseq-\d{8}T\d{6}\.\d{3}Z-i\d+\.snap$/;

export function backupFileName(wallMs: number, index: number): string {
  const t = new Date(wallMs).toISOString().replace(/[-:]/g, '');
  return `raftseq-${t}-i${index}.snap`;
}

export class AutomaticBackups {
  private cancel: (() => void) | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  private readonly failures: Counter;
  private readonly saved: Counter;
  private readonly lastSuccess: Gauge;
  private readonly lastBytes: Gauge;

  constructor(
    private readonly opts: BackupOptions,
    private readonly source: BackupSource,
    private readonly clock: Clock,
    private readonly log: Logger,
    registry: Registry,
  ) {
    const registers = [registry];
    this.failures = new Counter({
      name: 'raftseq_backup_failures_total',
      help: 'Automatic backups (--backup-dir) this node failed to take or write while leader',
      registers,
    });
    this.saved = new Counter({
      name: 'raftseq_backups_total',
      help: 'Automatic backups (--backup-dir) this node wrote',
      registers,
    });
    this.lastSuccess = new Gauge({
      name: 'raftseq_backup_last_success_timestamp_seconds',
      help: 'When this node last wrote an automatic backup (Unix seconds; 0: never)',
      registers,
    });
    this.lastBytes = new Gauge({
      name: 'raftseq_backup_last_size_bytes',
      help: 'Size of the last automatic backup this node wrote',
      registers,
    });
    new Gauge({
      name: 'raftseq_backup_interval_seconds',
      help: 'The configured --backup-interval',
      registers,
    }).set(opts.intervalMs / 1000);
  }

  start(): void {
    const schedule = (): void => {
      this.cancel = this.clock.setTimer(this.opts.intervalMs, () => {
        if (this.stopped) return;
        if (this.running === null && this.source.isLeader()) {
          this.running = this.backupOnce().finally(() => (this.running = null));
        }
        schedule();
      });
    };
    schedule();
  }

  /** Stops the timer and waits for a backup in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.cancel?.();
    await this.running;
  }

  /** Takes one backup now (if leader); never throws: failures are logged and counted. */
  async backupOnce(): Promise<void> {
    const started = this.clock.now();
    let file: SnapshotFile;
    try {
      file = await this.source.snapshotFile();
    } catch (err) {
      // Lost leadership (or no lease for a moment): the next leader backs up.
      if (err instanceof NotLeaderError) return;
      this.failed(err, 'capture');
      return;
    }
    const name = backupFileName(this.clock.wallNow(), file.index);
    try {
      await mkdir(this.opts.dir, { recursive: true });
      await writeFileAtomic(join(this.opts.dir, name), file.data);
    } catch (err) {
      this.failed(err, 'write');
      return;
    }
    this.saved.inc();
    this.lastSuccess.set(this.clock.wallNow() / 1000);
    this.lastBytes.set(file.data.length);
    this.log.info(
      {
        file: join(this.opts.dir, name),
        index: file.index,
        sequences: file.sequences,
        bytes: file.data.length,
        ms: Math.round(this.clock.now() - started),
      },
      'automatic backup saved',
    );
    await this.prune().catch((err: unknown) => this.failed(err, 'prune'));
  }

  /** Deletes this node's oldest backups beyond --backup-keep; other files are left alone. */
  private async prune(): Promise<void> {
    const own = (await readdir(this.opts.dir)).filter((f) => OWN_FILE.test(f)).sort();
    for (const f of own.slice(0, Math.max(0, own.length - this.opts.keep))) {
      await rm(join(this.opts.dir, f), { force: true });
    }
  }

  private failed(err: unknown, step: string): void {
    this.failures.inc();
    this.log.error(
      { err: err instanceof Error ? err.message : String(err), step, dir: this.opts.dir },
      'automatic backup failed',
    );
  }
}
