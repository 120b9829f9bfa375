import { allCommands, COMPLETE_COMMAND, type CommandSpec, type CompletionSpec, type OptionSpec, type Values } from './spec.js';

/** A word in single quotes for zsh. */
function zq(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** Text inside an _arguments `[explanation]`. */
function bracketed(text: string): string {
  return text.replaceAll('\\', '\\\\').replaceAll('[', '\\[').replaceAll(']', '\\]');
}

/** A message or word in an _arguments spec, where `:` separates the fields. */
function field(text: string): string {
  return text.replaceAll('\\', '\\\\').replaceAll(':', '\\:');
}

/** A word in an _arguments `(a b c)` list. */
function listWord(text: string): string {
  return field(text).replace(/([\s()'"])/g, '\\$1');
}

/** A zsh function name for `parts`, e.g. _whyport_values_playbook_graph_format. */
function functionName(...parts: string[]): string {
  return ['_whyport', ...parts.join(' ').split(/[^A-Za-z0-9]+/).filter(Boolean)].join('_');
}

/** `_arguments` splits HOST:PORT here: after the colon of `host:` or `[v6]:`. */
const HOST_PORT = `compset -P '(\\[*\\]|[^:]#):'`;

/**
 * The zsh completion script: a `#compdef whyport` file for a folder of $fpath (or to source after
 * compinit). `_arguments` reads the options of each command; the subcommands the first words name
 * are followed by hand (words shifted, as zsh's own completions of git-like commands do).
 */
export function zshScript(spec: CompletionSpec): string {
  const commands = allCommands(spec.root);
  const functions: string[] = [];

  /** The _arguments action offering `v`: a function defined for it, or nothing (free text). */
  const action = (v: Values, ...name: string[]): string => {
    const label = v.label ?? 'value';
    const body: string[] = [];
    if (v.hostPort) body.push(`  ${HOST_PORT} && { _whyport_ask ports port; return }`);
    const alternatives: string[] = [];
    if (v.words?.length) alternatives.push(zq(`words:${field(label)}:(${v.words.map(listWord).join(' ')})`));
    if (v.files) alternatives.push(zq(`files:file:_files`));
    // Fixed words and asked names together (explain: states and service names): each adds its matches.
    if (alternatives.length) body.push(`  _alternative ${alternatives.join(' ')}`);
    if (v.ask) body.push(`  _whyport_ask ${v.ask} ${zq(label)}`);
    if (!body.length) return ' ';
    const fn = functionName('values', ...name);
    functions.push(`${fn}() {`, ...body, '}', '');
    return fn;
  };

  const optionSpecs = (c: CommandSpec): string[] =>
    c.options.flatMap((o: OptionSpec) => {
      const names = [o.short, o.long].filter((n): n is string => n !== undefined);
      // --help and --version stand alone; a repeatable option stays on offer; others once.
      const exclusion = o.alone ? '(- *)' : o.repeatable ? '*' : `(${names.join(' ')})`;
      const explanation = `[${bracketed(o.description)}]`;
      const arg = o.arity === 'flag' ? '' : `${o.arity === 'optional' ? '::' : ':'}${field(o.values.label ?? 'value')}:${action(o.values, c.path, names.at(-1)!)}`;
      return names.map((n) => {
        // -p+ and --process=: the value in the same word or the next one.
        const form = o.arity === 'flag' ? n : n.startsWith('--') ? `${n}=` : `${n}+`;
        return zq(`${exclusion}${form}${explanation}${arg}`);
      });
    });

  const positionalSpecs = (c: CommandSpec): string[] => {
    const specs: string[] = [];
    if (c.commands.length) {
      // The first word: one of the subcommands (or, for whyport itself, HOST).
      const fn = functionName('commands', c.path);
      functions.push(
        `${fn}() {`,
        ...(c.positionals[0]?.hostPort ? [`  ${HOST_PORT} && { _whyport_ask ports port; return }`] : []),
        '  local -a commands=(',
        ...c.commands.map((s) => `    ${zq(`${s.name.replaceAll(':', '\\:')}:${s.description}`)}`),
        '  )',
        `  _describe -t commands ${zq(`${c.path || 'whyport'} command`)} commands`,
        '}',
        '',
      );
      specs.push(zq(`1: :${fn}`));
    }
    c.positionals.forEach((v, i) => {
      if (i === 0 && c.commands.length) return;
      const n = c.repeatLast && i === c.positionals.length - 1 ? '*' : String(i + 1);
      specs.push(zq(`${n}:${field(v.label ?? 'argument')}:${action(v, c.path, v.label ?? String(i + 1))}`));
    });
    return specs;
  };

  const cases = commands.map((c) => ({ c, specs: [...optionSpecs(c), ...positionalSpecs(c)] }));
  const parentOf = (c: CommandSpec) => c.path.split(' ').slice(0, -1).join(' ');
  return [
    `#compdef whyport`,
    `# zsh completion for whyport ${spec.version}, printed by \`whyport completion zsh\`.`,
    `#   whyport completion zsh > /usr/local/share/zsh/site-functions/_whyport   (any folder of`,
    `#   $fpath, before compinit runs), or after compinit: source <(whyport completion zsh)`,
    '',
    `# Names only this machine knows when Tab is pressed (service names, systemd units), from whyport.`,
    `_whyport_ask() {`,
    `  local -a names`,
    `  names=(\${(f)"$(\${_whyport_command:-whyport} ${COMPLETE_COMMAND} $1 "$PREFIX" 2>/dev/null)"})`,
    `  _wanted $1 expl $2 compadd -a names`,
    `}`,
    '',
    ...functions,
    `_whyport() {`,
    // Not `path`: in zsh that is $PATH as an array.
    `  local curcontext=$curcontext state line cmdpath=`,
    `  local _whyport_command=$words[1]`,
    `  typeset -A opt_args`,
    `  # Follow the subcommands the first words name; words[1] is then the innermost one.`,
    `  while (( CURRENT > 2 )); do`,
    `    case "$cmdpath:$words[2]" in`,
    `      (${commands.filter((c) => c.path).map((c) => zq(`${parentOf(c)}:${c.name}`)).join('|')}) ;;`,
    `      (*) break ;;`,
    `    esac`,
    `    cmdpath=\${cmdpath:+$cmdpath }$words[2]`,
    `    shift words`,
    `    (( CURRENT-- ))`,
    `    curcontext="\${curcontext%:*}-$words[1]:"`,
    `  done`,
    `  case $cmdpath in`,
    ...cases.flatMap(({ c, specs }) => [`    (${zq(c.path)})`, `      _arguments -s -S : \\`, ...specs.map((s, i) => `        ${s}${i < specs.length - 1 ? ' \\' : ''}`), `      ;;`]),
    `  esac`,
    `}`,
    '',
    `# Autoloaded from $fpath, this file is the body of _whyport; sourced, it registers the function.`,
    `if [[ $funcstack[1] == _whyport ]]; then`,
    `  _whyport "$@"`,
    `else`,
    `  compdef _whyport whyport`,
    `fi`,
    '',
  ].join('\n');
}
