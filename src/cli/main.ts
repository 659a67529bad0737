// Entry point of the `raftseq` executable (bin/raftseq imports the compiled
// dist/src/cli/main.js). Runs the CLI on process.argv and exits with its code.
import * as grpc from '@grpc/grpc-js';
import { silenceIpServernameWarning } from '../security/tls.js';
import { run } from './program.js';
import { oneLine } from './util.js';

function fatal(kind: string, err: unknown): void {
  const message = err instanceof Error ? err.message : String(err);
  if (process.env.RAFTSEQ_DEBUG && err instanceof Error && err.stack) {
    process.stderr.write(`raftseq: ${kind}: ${err.stack}\n`);
  } else {
    process.stderr.write(
      `raftseq: ${kind}: ${oneLine(message)} (set RAFTSEQ_DEBUG=1 for the stack trace)\n`,
    );
  }
  process.exit(1);
}

// grpc-js prints its own error lines (e.g. "E No address added out of total 1
// resolved") next to ours; errors reach the user through raftseq's one-line
// messages and the node's log instead. GRPC_VERBOSITY=... brings them back.
if (process.env.GRPC_VERBOSITY === undefined) grpc.setLogVerbosity(grpc.logVerbosity.NONE);
// Nodes and clients dial by IP over TLS; Node's DEP0123 about it is noise here.
silenceIpServernameWarning();

process.on('uncaughtException', (err) => fatal('internal error', err));
process.on('unhandledRejection', (err) => fatal('internal error (unhandled rejection)', err));

const code = await run(process.argv.slice(2), {
  stdout: (s) => void process.stdout.write(s),
  stderr: (s) => void process.stderr.write(s),
  env: process.env,
  ...(process.stderr.isTTY ? { progressStream: process.stderr } : {}),
  stdoutIsTerminal: process.stdout.isTTY === true,
});

// Let stdout/stderr drain, then exit even if a library left a handle open.
process.exitCode = code;
const flushed = (stream: NodeJS.WriteStream): Promise<void> =>
  new Promise((resolve) => {
    if (stream.writableLength === 0) resolve();
    else stream.write('', () => resolve());
  });
await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
process.exit(code);
