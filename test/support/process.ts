// Child processes for tests and the benchmark: spawn with the output appended
// to a log file, wait for a line the child prints (its "I am listening"
// signal), and the signals the fault tests send: kill -9, SIGSTOP/SIGCONT,
// and a graceful SIGTERM with a bounded wait (SIGKILL after it).
//
// Every wait here ends: on the awaited event, on the child's exit (with its
// last lines of output in the error), or at a timeout.

import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';

export interface Exit {
  /** The exit code, or null when a signal ended the process. */
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ChildOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Appends stdout and stderr to this file (created if missing). */
  logFile?: string;
}

/** The process exited before printing what was awaited. */
export class ExitedEarlyError extends Error {
  constructor(
    readonly exit: Exit,
    /** Its last lines of output (stdout and stderr). */
    readonly output: string,
    name: string,
    what: string,
  ) {
    super(`${name} exited (${describeExit(exit)}) before ${what}; last output:\n${output}`);
    this.name = 'ExitedEarlyError';
  }
}

/** Lines of output kept for error messages. */
const TAIL_LINES = 40;

export class ChildProc {
  /** Resolves once the process has exited and its output is read to the end. */
  readonly exited: Promise<Exit>;
  private exitState: Exit | null = null;
  private pausedFlag = false;
  private readonly tailLines: string[] = [];
  private readonly lineWatchers = new Set<(line: string) => void>();

  private constructor(
    /** For messages: "n2", "child.ts write". */
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    this.exited = new Promise<Exit>((resolve) => {
      child.once('close', (code, signal) => {
        this.exitState = { code, signal };
        resolve(this.exitState);
      });
      // Failed to start (e.g. no such command: no pid), and no 'close'
      // follows on every Node version, so settle here too. Other errors (a
      // signal that could not be sent) leave a running process running.
      child.on('error', (err) => {
        this.remember(`${this.name}: ${err.message}`);
        if (child.pid !== undefined) return;
        this.exitState ??= { code: null, signal: null };
        resolve(this.exitState);
      });
    });
  }

  /** Starts `command args` with stdout and stderr piped (and logged). */
  static spawn(
    name: string,
    command: string,
    args: readonly string[],
    opts: ChildOptions = {},
  ): ChildProc {
    const child = spawn(command, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const proc = new ChildProc(name, child);
    const log = opts.logFile === undefined ? null : createWriteStream(opts.logFile, { flags: 'a' });
    for (const stream of [child.stdout, child.stderr]) {
      if (stream === null) continue;
      if (log !== null) stream.pipe(log, { end: false });
      proc.splitLines(stream);
    }
    if (log !== null) void proc.exited.then(() => log.end());
    return proc;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Still running (not exited; a paused process is running). */
  get running(): boolean {
    return this.exitState === null;
  }

  /** Stopped with SIGSTOP and not yet continued. */
  get paused(): boolean {
    return this.pausedFlag;
  }

  /** The exit, once it happened. */
  get exit(): Exit | null {
    return this.exitState;
  }

  /** The last lines of output (stdout and stderr, interleaved as read). */
  tail(): string {
    return this.tailLines.join('\n');
  }

  /**
   * The first line for which `pick` returns a value, among the last lines
   * already printed (those tail() holds) and then the lines to come. Rejects
   * with ExitedEarlyError if the process exits first, or after `timeoutMs`.
   */
  waitForLine<T>(
    pick: (line: string) => T | undefined,
    what: string,
    timeoutMs: number,
  ): Promise<T> {
    for (const line of this.tailLines) {
      const v = pick(line);
      if (v !== undefined) return Promise.resolve(v);
    }
    return new Promise<T>((resolve, reject) => {
      const done = (): void => {
        this.lineWatchers.delete(watch);
        clearTimeout(timer);
      };
      const watch = (line: string): void => {
        const v = pick(line);
        if (v === undefined) return;
        done();
        resolve(v);
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new Error(
            `${this.name}: no ${what} within ${timeoutMs} ms; last output:\n${this.tail()}`,
          ),
        );
      }, timeoutMs);
      this.lineWatchers.add(watch);
      void this.exited.then((exit) => {
        if (!this.lineWatchers.has(watch)) return;
        done();
        reject(new ExitedEarlyError(exit, this.tail(), this.name, what));
      });
    });
  }

  /** kill -9; resolves once the process is gone. */
  kill(): Promise<Exit> {
    if (this.running) this.child.kill('SIGKILL');
    return this.exited;
  }

  /** SIGSTOP: the process freezes (its sockets stay open; peers see silence). */
  pause(): void {
    if (!this.running) return;
    this.child.kill('SIGSTOP');
    this.pausedFlag = true;
  }

  /** SIGCONT after pause(). */
  resume(): void {
    if (!this.running) return;
    this.child.kill('SIGCONT');
    this.pausedFlag = false;
  }

  /**
   * Graceful stop: SIGTERM (and SIGCONT if paused, since a stopped process
   * would hold the signal), then SIGKILL if still running after `graceMs`.
   * `forced` says whether the SIGKILL was needed.
   */
  async terminate(graceMs: number): Promise<Exit & { forced: boolean }> {
    if (!this.running) return { ...(await this.exited), forced: false };
    this.child.kill('SIGTERM');
    if (this.pausedFlag) this.resume();
    let forced = false;
    const timer = setTimeout(() => {
      forced = true;
      this.child.kill('SIGKILL');
    }, graceMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return { ...exit, forced };
  }

  private splitLines(stream: NodeJS.ReadableStream): void {
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) this.onLine(line);
    });
    stream.on('end', () => {
      if (partial !== '') this.onLine(partial);
      partial = '';
    });
  }

  private onLine(line: string): void {
    this.remember(line);
    for (const watch of [...this.lineWatchers]) watch(line);
  }

  private remember(line: string): void {
    this.tailLines.push(line);
    if (this.tailLines.length > TAIL_LINES) this.tailLines.shift();
  }
}

export function describeExit(exit: Exit): string {
  if (exit.signal !== null) return `signal ${exit.signal}`;
  return exit.code === null ? 'did not start' : `code ${exit.code}`;
}
