// `raftseq next`: take the next value(s) of a sequence.
import type { Command } from 'commander';
import { Option } from 'commander';
import { clientCommand, withClient, type ClientOpts } from './client-command.js';
import { formatRange } from './format.js';
import type { CliIo } from './io.js';
import { parseCount, parseSequenceName } from './parse.js';

export function addNextCommand(program: Command, io: CliIo): void {
  clientCommand(program, 'next', io)
    .description('take the next value(s) of a sequence (the sequence starts at 1 on first use)')
    .argument(
      '<sequence>',
      'sequence name: 1-200 bytes of A-Z a-z 0-9 . _ : / -',
      parseSequenceName,
    )
    .addOption(
      new Option('-n, --count <n>', 'how many consecutive values to take').argParser(parseCount),
    )
    .option(
      '--json',
      'print {"first":"<value>","count":<n>} (first as a string: it may exceed 2^53)',
    )
    .addHelpText(
      'after',
      `
Output:
  count 1: the value, e.g. 42
  count N: the range first..last, inclusive, e.g. 42..51
  --json:  {"first":"42","count":10}   (the values first .. first+count-1)

Examples:
  raftseq next orders --endpoints 127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003
  raftseq next orders --count 100 --endpoints 127.0.0.1:7001
  RAFTSEQ_ENDPOINTS=127.0.0.1:7001 raftseq next invoices/2024 --json`,
    )
    .action(async (sequence: string, opts: ClientOpts & { count?: number }) => {
      await withClient(io, opts, async (client) => {
        const r = await client.next(sequence, opts.count ?? 1);
        io.stdout(
          opts.json
            ? JSON.stringify({ first: r.first.toString(), count: r.count }) + '\n'
            : formatRange(r.first, r.count) + '\n',
        );
      });
    });
}
