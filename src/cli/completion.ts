// `raftseq completion bash|zsh|fish`: a shell completion script generated
// from the commander program itself, so it can never miss a command or an
// option that --help shows.
//
// Why not a library: the maintained one that fits commander 14
// (@bomb.sh/tab) makes the shell call `raftseq complete -- <words>` on every
// TAB (a Node start, ~0.25 s here), writes with console.log past CliIo, and
// its bash script needs the bash-completion package. The tree is small and
// static, so a static script answers at once and needs nothing installed.
//
// Each script does the same three things: find the command path typed so
// far ("cluster status"), where a word counts only if it names a subcommand
// of the path before it (options, values and arguments are passed over; a
// value spelled like a subcommand could mislead it, but no raftseq command
// that has subcommands takes an option value); offer the values of the option
// just typed (choices, files, directories, or nothing for free text); else
// offer the options (after "-") or the subcommands of that path.
import { Argument, type Command } from 'commander';
import type { CliIo } from './io.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

/** What a value-taking option completes to. */
type ValueKind = { choices: readonly string[] } | 'file' | 'dir' | 'text';

interface OptionSpec {
  /** e.g. ['-n', '--count'] */
  names: string[];
  description: string;
  /** null: a flag without a value. */
  value: ValueKind | null;
  /** The value's placeholder in --help, e.g. `host:port`. */
  placeholder: string;
}

interface CommandSpec {
  /** Space-separated command path, '' for the program itself. */
  path: string;
  /** Subcommands, or the choices of the first argument of a leaf command. */
  words: { name: string; description: string }[];
  options: OptionSpec[];
}

/** Every command of `program`, depth first, as completion sees it (hidden ones left out). */
export function completionSpecs(program: Command): CommandSpec[] {
  const out: CommandSpec[] = [];
  const walk = (cmd: Command, path: string): void => {
    const help = cmd.createHelp();
    const subs = help.visibleCommands(cmd);
    const firstArg: Argument | undefined = cmd.registeredArguments[0];
    out.push({
      path,
      words:
        subs.length > 0
          ? subs.map((s) => ({
              name: s.name(),
              description: firstLine(s.summary() || s.description()),
            }))
          : (firstArg?.argChoices ?? []).map((c) => ({ name: c, description: '' })),
      options: help.visibleOptions(cmd).map((o) => ({
        names: [o.short, o.long].filter((n): n is string => n !== undefined),
        description: firstLine(o.description),
        value: !o.required && !o.optional ? null : valueKind(o.flags, o.argChoices),
        placeholder: /[<[]([^>\]]+)[>\]]/.exec(o.flags)?.[1] ?? 'value',
      })),
    });
    for (const s of subs) walk(s, path === '' ? s.name() : `${path} ${s.name()}`);
  };
  walk(program, '');
  return out;
}

function valueKind(flags: string, choices: readonly string[] | undefined): ValueKind {
  if (choices !== undefined) return { choices };
  // The placeholder says what the value is: --data <dir>, --config <file>.
  if (/<dir>/.test(flags)) return 'dir';
  if (/<file>/.test(flags)) return 'file';
  return 'text';
}

function firstLine(text: string): string {
  return (text.split('\n')[0] ?? '').trim();
}

/** The completion script for `shell`, for the program named `program.name()`. */
export function completionScript(program: Command, shell: Shell): string {
  const specs = completionSpecs(program);
  const name = program.name();
  if (shell === 'bash') return bashScript(name, specs);
  if (shell === 'zsh') return zshScript(name, specs);
  return fishScript(name, specs);
}

// ------------------------------------------------------------------- shells

/** Single-quoted for bash and zsh. */
function sq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Single-quoted for fish. */
function fq(s: string): string {
  return `'${s.replace(/[\\']/g, '\\$&')}'`;
}

const key = (path: string, word: string): string => `${path}:${word}`;

/** Case patterns `path:word` that extend the path: each subcommand after its parent. */
function subcommandPatterns(specs: CommandSpec[]): string[] {
  return specs.filter((s) => s.path !== '').map((s) => key(parentOf(s.path), lastWord(s.path)));
}

/** Case patterns `path:option` of every option that takes a value. */
function valuedPatterns(specs: CommandSpec[]): string[] {
  return specs.flatMap((s) =>
    s.options.filter((o) => o.value !== null).flatMap((o) => o.names.map((n) => key(s.path, n))),
  );
}

function parentOf(path: string): string {
  const i = path.lastIndexOf(' ');
  return i < 0 ? '' : path.slice(0, i);
}

function lastWord(path: string): string {
  return path.slice(path.lastIndexOf(' ') + 1);
}

function bashScript(name: string, specs: CommandSpec[]): string {
  const fn = `_${name.replace(/[^A-Za-z0-9_]/g, '_')}`;
  const values: string[] = [];
  const lists: string[] = [];
  for (const s of specs) {
    for (const o of s.options) {
      // Free-text values (the catch-all below): nothing to offer.
      if (o.value === null || o.value === 'text') continue;
      const pats = o.names.map((n) => sq(key(s.path, n))).join('|');
      const v = o.value;
      const reply =
        v === 'dir'
          ? 'compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -d -- "$cur"); return'
          : v === 'file'
            ? 'compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -f -- "$cur"); return'
            : `mapfile -t COMPREPLY < <(compgen -W ${sq(v.choices.join(' '))} -- "$cur"); return`;
      values.push(`    (${pats}) ${reply} ;;`);
    }
    const opts = s.options.flatMap((o) => o.names).join(' ');
    const words = s.words.map((w) => w.name).join(' ');
    lists.push(`    (${sq(s.path)}) words=${sq(words)}; opts=${sq(opts)} ;;`);
  }
  return `# bash completion for ${name}, generated by \`${name} completion bash\`.
# Load it in this shell:  source <(${name} completion bash)
# or for every shell:     ${name} completion bash > /etc/bash_completion.d/${name}
${fn}() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]}
  local path='' word words='' opts='' i
  # The command path typed so far.
  for (( i = 1; i < COMP_CWORD; i++ )); do
    word=\${COMP_WORDS[i]}
    case "$path:$word" in
${patternLines(subcommandPatterns(specs), '      ', 'path="${path:+$path }$word"')}
    esac
  done
  COMPREPLY=()
  case "$path:$prev" in
${values.join('\n')}
${patternLines(valuedPatterns(specs), '    ', 'return')}
  esac
  case "$path" in
${lists.join('\n')}
  esac
  if [[ $cur == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
  else
    mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
  fi
}
complete -F ${fn} ${name}
`;
}

/** One `(pattern|pattern) action ;;` line of a bash or zsh case (none if no patterns). */
function patternLines(patterns: string[], indent: string, action: string): string {
  if (patterns.length === 0) return '';
  return `${indent}(${patterns.map(sq).join('|')}) ${action} ;;`;
}

function zshScript(name: string, specs: CommandSpec[]): string {
  const fn = `_${name.replace(/[^A-Za-z0-9_]/g, '_')}`;
  const described = (n: string, d: string): string =>
    sq(d === '' ? n.replace(/:/g, '\\:') : `${n.replace(/:/g, '\\:')}:${d}`);
  const values: string[] = [];
  const lists: string[] = [];
  for (const s of specs) {
    for (const o of s.options) {
      if (o.value === null) continue;
      const pats = o.names.map((n) => sq(key(s.path, n))).join('|');
      const v = o.value;
      const reply =
        v === 'text'
          ? `_message ${sq(o.placeholder)}`
          : v === 'dir'
            ? '_directories'
            : v === 'file'
              ? '_files'
              : `compadd -- ${v.choices.map(sq).join(' ')}`;
      values.push(`    (${pats}) ${reply}; return ;;`);
    }
    const opts = s.options.flatMap((o) => o.names.map((n) => described(n, o.description)));
    const words = s.words.map((w) => described(w.name, w.description));
    lists.push(`    (${sq(s.path)}) words_=(${words.join(' ')}); opts_=(${opts.join(' ')}) ;;`);
  }
  return `#compdef ${name}
# zsh completion for ${name}, generated by \`${name} completion zsh\`.
# Load it in this shell (after compinit):  source <(${name} completion zsh)
# or for every shell: save it as _${name} in a directory on $fpath.
${fn}() {
  local path_='' word i
  local -a words_ opts_
  # The command path typed so far.
  for (( i = 2; i < CURRENT; i++ )); do
    word=\${words[i]}
    case "$path_:$word" in
${patternLines(subcommandPatterns(specs), '      ', 'path_="${path_:+$path_ }$word"')}
    esac
  done
  case "$path_:\${words[CURRENT-1]}" in
${values.join('\n')}
  esac
  case "$path_" in
${lists.join('\n')}
  esac
  if [[ \${words[CURRENT]} == -* ]]; then
    _describe -t options option opts_
  else
    _describe -t commands command words_
  fi
}
if [[ \${zsh_eval_context[-1]} == loadautofunc ]]; then
  ${fn} "$@"
else
  compdef ${fn} ${name}
fi
`;
}

function fishScript(name: string, specs: CommandSpec[]): string {
  const fn = `__${name.replace(/[^A-Za-z0-9_]/g, '_')}`;
  const lines: string[] = [];
  for (const s of specs) {
    const at = `-n ${fq(`${fn}_at ${fq(s.path)}`)}`;
    for (const w of s.words) {
      lines.push(`complete -c ${name} ${at} -a ${fq(w.name)} -d ${fq(w.description)}`);
    }
    for (const o of s.options) {
      const names = o.names
        .map((n) => (n.startsWith('--') ? `-l ${n.slice(2)}` : `-s ${n.slice(1)}`))
        .join(' ');
      const v = o.value;
      const value =
        v === null
          ? ''
          : v === 'text'
            ? ' -x'
            : v === 'dir'
              ? ` -x -a ${fq('(__fish_complete_directories)')}`
              : v === 'file'
                ? ' -r -F'
                : ` -x -a ${fq(v.choices.join(' '))}`;
      lines.push(`complete -c ${name} ${at} ${names}${value} -d ${fq(o.description)}`);
    }
  }
  return `# fish completion for ${name}, generated by \`${name} completion fish\`.
# Load it in this shell:  ${name} completion fish | source
# or for every shell:     ${name} completion fish > ~/.config/fish/completions/${name}.fish

# The command path typed so far.
function ${fn}_path
    set -l path ''
    set -l tokens (commandline -opc)
    set -e tokens[1]
    for word in $tokens
        switch "$path:$word"
            case ${subcommandPatterns(specs).map(fq).join(' ')}
                set path (string trim -- "$path $word")
        end
    end
    echo $path
end

function ${fn}_at
    set -l path (${fn}_path)
    test "$path" = "$argv[1]"
end

complete -c ${name} -f
${lines.join('\n')}
`;
}

/** Adds `completion <shell>` to `program`; it prints the script for the whole tree. */
export function addCompletionCommand(program: Command, io: CliIo): void {
  program
    .command('completion')
    .description('print a shell completion script (bash, zsh or fish)')
    .addArgument(new Argument('<shell>', 'the shell').choices(SHELLS))
    .addHelpText(
      'after',
      `
Examples:
  source <(raftseq completion bash)                 # bash, this shell
  raftseq completion bash > /etc/bash_completion.d/raftseq
  source <(raftseq completion zsh)                  # zsh, after compinit
  raftseq completion fish > ~/.config/fish/completions/raftseq.fish`,
    )
    .action((shell: Shell) => {
      io.stdout(completionScript(program, shell));
    });
}
