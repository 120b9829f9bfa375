import type { Command, Option } from 'commander';
import type { HelpOption, HelpText } from './help-text.js';

/**
 * What a shell may offer at each place of a whyport command line, as plain data: the three shell
 * scripts are renderings of one CompletionSpec (bash.ts, zsh.ts, fish.ts), so they cannot disagree.
 */

/** Which values a word may take. Several may hold at once (`--playbook`: built-in names and files). */
export interface Values {
  /** What the word is, for shells that show it (`port`, `TCP state`). */
  label?: string;
  /** Fixed words: built-in playbook names, TCP states, choices. */
  words?: readonly string[];
  /** Paths on this machine. */
  files?: boolean;
  /** Asked of whyport when Tab is pressed (`whyport __complete KIND PREFIX`), one name a line. */
  ask?: AskKind;
  /** HOST, or HOST:PORT with PORT a service name (asked) after the colon. */
  hostPort?: boolean;
}

/** What `whyport __complete` answers. */
export const ASK_KINDS = ['units', 'ports'] as const;
export type AskKind = (typeof ASK_KINDS)[number];

export interface OptionSpec {
  short?: string;
  long?: string;
  description: string;
  /** flag: no value; value: the next word (or `--long=VALUE`); optional: the next word unless it is an option. */
  arity: 'flag' | 'value' | 'optional';
  /** commander's `<x...>`: takes every following word up to the next option. */
  variadic: boolean;
  /** May be given more than once (variadic, or its help says "repeatable"). */
  repeatable: boolean;
  /** Nothing else goes with it (--help, --version). */
  alone: boolean;
  values: Values;
}

export interface CommandSpec {
  /** `baseline check`; '' for whyport HOST PORT itself. */
  path: string;
  name: string;
  description: string;
  options: OptionSpec[];
  /** What each positional argument takes, in order. */
  positionals: Values[];
  /** The last positional takes any number of words (`playbook validate FILE…`). */
  repeatLast: boolean;
  commands: CommandSpec[];
}

export interface CompletionSpec {
  version: string;
  /** whyport HOST PORT, with the subcommands a first word may name. */
  root: CommandSpec;
}

/** The shells `whyport completion` writes a script for. */
export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

/** The hidden command the scripts call for what only this machine knows at Tab time. */
export const COMPLETE_COMMAND = '__complete';

/** The values of options that are not free text, by long name (each must exist: test/completion). */
export function diagnoseOptionValues(playbooks: readonly string[]): Record<string, Values> {
  return {
    '--playbook': { words: playbooks, files: true },
    '--service': { ask: 'units' },
    '--output': { files: true },
    '--replay': { files: true },
  };
}

/** An option from what commander or its help says of it. */
function option(o: { short?: string | undefined; long?: string | undefined; description: string; arity: OptionSpec['arity']; variadic: boolean; values: Values }): OptionSpec {
  return {
    ...(o.short ? { short: o.short } : {}),
    ...(o.long ? { long: o.long } : {}),
    description: o.description,
    arity: o.arity,
    variadic: o.variadic,
    repeatable: o.variadic || /\brepeatable\b/.test(o.description),
    alone: o.long === '--help' || o.long === '--version',
    values: o.values,
  };
}

/** One commander option of a program, as completion sees it; `values` beyond its choices, if any. */
export function optionSpec(o: Option, values: Values = {}): OptionSpec {
  const label = /[<[]([^>\]]+?)(?:\.\.\.)?[>\]]/.exec(o.flags)?.[1];
  return option({
    short: o.short,
    long: o.long,
    description: o.description,
    arity: o.required ? 'value' : o.optional ? 'optional' : 'flag',
    variadic: o.variadic,
    values: { ...(label ? { label } : {}), ...(o.argChoices ? { words: o.argChoices } : {}), ...values },
  });
}

/** A commander program's options (help and version included), as its help lists them. */
export function programOptions(program: Command, values: Record<string, Values> = {}): OptionSpec[] {
  return program
    .createHelp()
    .visibleOptions(program)
    .map((o) => optionSpec(o, (o.long && values[o.long]) || {}));
}

/** An option as a subcommand's help text lists it: choices, and files for a `<path>` or `<file>`. */
export function helpOptionSpec(o: HelpOption): OptionSpec {
  return option({
    short: o.short,
    long: o.long,
    description: o.description,
    arity: o.value === undefined ? 'flag' : o.optional ? 'optional' : 'value',
    variadic: o.variadic,
    values: {
      ...(o.value ? { label: o.value } : {}),
      ...(o.choices ? { words: o.choices } : o.value && /^(path|file|dir)/.test(o.value) ? { files: true } : {}),
    },
  });
}

/** A subcommand from its help text (and its own subcommands' help texts, by name). */
export function commandFromHelp(path: string, help: HelpText, positionals: Values[] = [], repeatLast = false, commands: CommandSpec[] = []): CommandSpec {
  return {
    path,
    name: path.split(' ').at(-1)!,
    description: help.description,
    options: help.options.map(helpOptionSpec),
    positionals,
    repeatLast,
    commands,
  };
}

/** Every option word of a command: `-p`, `--process`, … */
export function optionWords(c: CommandSpec): string[] {
  return c.options.flatMap((o) => [o.short, o.long].filter((w): w is string => w !== undefined));
}

/** The root and every command below it, depth first. */
export function allCommands(c: CommandSpec): CommandSpec[] {
  return [c, ...c.commands.flatMap(allCommands)];
}
