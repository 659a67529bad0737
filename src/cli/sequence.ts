// `raftseq sequence ...`: list, show, advance.
import type { Command } from 'commander';
import { clientCommand, withClient, type ClientOpts } from './client-command.js';
import { sequenceJson, sequenceText, sequencesText } from './format.js';
import type { CliIo } from './io.js';
import { parseSequenceName, parseSequenceValue } from './parse.js';

export function addSequenceCommands(program: Command, io: CliIo): void {
  const sequence = program
    .command('sequence')
    .description('inspect and advance sequences')
    .addHelpText(
      'after',
      `
Examples:
  raftseq sequence list --endpoints 127.0.0.1:7001
  raftseq sequence show orders --endpoints 127.0.0.1:7001
  raftseq sequence advance orders --to 1000000 --endpoints 127.0.0.1:7001`,
    );

  clientCommand(sequence, 'list', io)
    .description('list every sequence with its next value and counters')
    .option('--json', 'print {"sequences":[{"name","next","reserved","served","skipped","block"}]}')
    .addHelpText(
      'after',
      `
Values are printed exactly; in JSON they are strings (they may exceed 2^53).

Examples:
  raftseq sequence list --endpoints 127.0.0.1:7001
  raftseq sequence list --json --endpoints 127.0.0.1:7001 | jq -r '.sequences[].name'`,
    )
    .action(async (opts: ClientOpts) => {
      await withClient(io, opts, async (client) => {
        const list = await client.listAllSequences();
        if (opts.json) {
          io.stdout(JSON.stringify({ sequences: list.map(sequenceJson) }) + '\n');
        } else {
          io.stdout(list.length === 0 ? 'no sequences yet\n' : sequencesText(list));
        }
      });
    });

  clientCommand(sequence, 'show', io)
    .description('show one sequence: next value, reserved, served, skipped, block size')
    .argument('<name>', 'sequence name', parseSequenceName)
    .option(
      '--json',
      'print {"name","next","reserved","served","skipped","block"} (values as strings)',
    )
    .addHelpText(
      'after',
      `
Examples:
  raftseq sequence show orders --endpoints 127.0.0.1:7001
  raftseq sequence show orders --json --endpoints 127.0.0.1:7001 | jq -r .next`,
    )
    .action(async (name: string, opts: ClientOpts) => {
      await withClient(io, opts, async (client) => {
        const s = await client.getSequence(name);
        io.stdout(opts.json ? JSON.stringify(sequenceJson(s)) + '\n' : sequenceText(s));
      });
    });

  clientCommand(sequence, 'advance', io)
    .description('move a sequence forward (never backward) so that its next value is >= --to')
    .argument('<name>', 'sequence name', parseSequenceName)
    .requiredOption(
      '--to <value>',
      'the lowest next value, 1 .. 9223372036854775807',
      parseSequenceValue,
    )
    .option('--json', 'print the sequence afterwards as JSON (values as strings)')
    .addHelpText(
      'after',
      `
A sequence never moves backward: the server refuses a value below its
current next value (FAILED_PRECONDITION). Useful after importing data that
already used numbers, e.g. from another system.

Examples:
  raftseq sequence advance orders --to 1000000 --endpoints 127.0.0.1:7001`,
    )
    .action(async (name: string, opts: ClientOpts & { to: bigint }) => {
      await withClient(io, opts, async (client) => {
        const s = await client.advanceSequence(name, opts.to);
        io.stdout(opts.json ? JSON.stringify(sequenceJson(s)) + '\n' : sequenceText(s));
      });
    });
}
