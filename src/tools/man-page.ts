import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Argument, Command, Help, Option } from 'commander';
import { DIAGNOSE_EXAMPLES, diagnoseProgram } from '../cli/diagnose-args.js';
import { BASELINE_CHECK_EXAMPLES, BASELINE_EXIT, BASELINE_EXIT_MEANINGS, NOTIFY_NOTE, baselineProgram } from '../baseline/command.js';
import { defaultBaselineFile } from '../baseline/store.js';
import { EXPLAIN_FORMS } from '../commands/explain.js';
import { PACKAGE_ROOT, SCHEMA_FILE } from '../paths.js';
import { builtInPlaybooks, openPlaybook } from '../playbook/source.js';
import { EXIT, JSON_CONTRACT_DOC, exitStatusFor } from '../report/model.js';
import { playbookToolsProgram } from '../commands/playbook.js';
import { SHELLS } from '../completion/spec.js';
import { bold, italic, macro, roff, roffLine, roffTag, roffText, roffVerbatimLine } from './roff.js';

/**
 * What the man page is made of. Options, subcommands, examples, exit statuses, codes and paths come
 * from the code that --help and the engine use; only the sentences saying what each exit status and
 * diagnosis code means come from the README's tables, which the build then checks against the code.
 */
export interface ManSources {
  version: string;
  /** The page's date, YYYY-MM-DD. */
  date: string;
  /** `whyport HOST PORT`'s program (diagnoseProgram). */
  diagnose: Command;
  examples: readonly { command: string; note?: string }[];
  explainForms: readonly { query: string; answer: string }[];
  /** `whyport baseline …`'s program, its default file described for any user. */
  baseline: Command;
  /** What a command's --help says after its options (by command words): a note, and examples. */
  afterHelp: Readonly<Record<string, { note: string; examples: readonly string[] }>>;
  /** `baseline check`'s exit statuses and their meanings. */
  baselineExit: readonly [status: number, meaning: string][];
  /** `whyport playbook …` and `whyport checks`. */
  tools: Command;
  /** whyport's exit statuses (report/model.ts). */
  exit: typeof EXIT;
  /** The exit status a diagnosis code gives (exitStatusFor). */
  exitStatusFor: (code: string) => number;
  /** The built-in playbooks: their file relative to the package, and the codes they report. */
  playbooks: readonly { name: string; file: string; description: string; codes: readonly string[] }[];
  /** Relative to the package: the JSON Schema of playbooks. */
  schemaFile: string;
  /** Relative to the package: the contract of the JSON report. */
  jsonContract: string;
  baselineFiles: { root: string; user: string; xdg: string };
  readme: string;
}

/**
 * The sources as whyport has them now: its programs (actions that do nothing, output dropped), the
 * built-in playbooks read afresh, and the README of the package.
 */
export async function manSources(date = pageDate()): Promise<ManSources> {
  const version = (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  const quiet = { stdout: () => {}, stderr: () => {} };
  const noAction = async () => {};
  const baselineFiles = {
    root: defaultBaselineFile({ uid: 0, env: {} }),
    user: defaultBaselineFile({ uid: 1000, env: {}, home: '~' }),
    // Any absolute XDG_STATE_HOME, then named as the variable.
    xdg: defaultBaselineFile({ uid: 1000, env: { XDG_STATE_HOME: '/XDG_STATE_HOME' } }).replace('/XDG_STATE_HOME', '$XDG_STATE_HOME'),
  };
  const playbooks = await Promise.all(
    builtInPlaybooks().map(async ({ name, file, description }) => {
      const pb = await openPlaybook(name, { fresh: true });
      // A diagnosis that takes a followed walk's (`from:`) without a code of its own reports that walk's codes, listed where they are written.
      const codes = Object.entries(pb.diagnoses).flatMap(([id, d]) => (d.code !== undefined ? [d.code] : d.from !== undefined ? [] : [id]));
      return { name, file, description, codes };
    }),
  );
  return {
    version,
    date,
    diagnose: diagnoseProgram(version),
    examples: DIAGNOSE_EXAMPLES,
    explainForms: EXPLAIN_FORMS,
    baseline: baselineProgram(quiet, `${baselineFiles.user}, or ${baselineFiles.root} as root`, { save: noAction, check: noAction }),
    afterHelp: { 'whyport baseline check': { note: NOTIFY_NOTE, examples: BASELINE_CHECK_EXAMPLES } },
    baselineExit: Object.entries(BASELINE_EXIT_MEANINGS).map(([k, meaning]) => [BASELINE_EXIT[k as keyof typeof BASELINE_EXIT], meaning]),
    tools: playbookToolsProgram(quiet, version, () => {}),
    exit: EXIT,
    exitStatusFor,
    playbooks,
    schemaFile: relative(PACKAGE_ROOT, SCHEMA_FILE),
    jsonContract: JSON_CONTRACT_DOC,
    baselineFiles,
    readme: readFileSync(join(PACKAGE_ROOT, 'README.md'), 'utf8'),
  };
}

/** The JSON report's top-level fields, as docs/json-contract.md fixes them, in a sentence each. */
const JSON_FIELDS: readonly [field: string, meaning: string][] = [
  ['version', 'the version of this contract: 1.'],
  ['target', 'host, address (null when the name did not resolve), port, protocol (tcp or udp), local (the address belongs to this machine).'],
  ['playbook', 'the name and source of the playbook that ran.'],
  ['steps', 'the checks in the order they ran: id, check, outcome, summary, the command a person would type to see the same, durationMs, and the evidence the outcome rests on.'],
  ['diagnosis', 'code (see DIAGNOSES), title, explanation, fix (summary and commands, or null) and applied (what --fix ran and whether it was verified, or null).'],
  ['durationMs', "the whole run as its user waited for it, from whyport's start to the report, prompts and --fix included."],
  ['whyport', 'the run: version (of whyport), host (the machine whyport ran on) and startedAt (ISO 8601, UTC).'],
  ['vantages', 'with --ssh: the client and the server, and why the server could not be reached, if it could not.'],
];

/** SOURCE_DATE_EPOCH's day when set (a reproducible build), else today's. */
function pageDate(): string {
  const epoch = Number(process.env.SOURCE_DATE_EPOCH);
  return (process.env.SOURCE_DATE_EPOCH && Number.isFinite(epoch) ? new Date(epoch * 1000) : new Date()).toISOString().slice(0, 10);
}

/** The whole page, in man(7) roff. Throws when the README lacks a meaning the page needs. */
export function manPage(s: ManSources): string {
  const help = s.diagnose.createHelp();
  const out: string[] = [];
  const line = (roff: string) => out.push(roffLine(roff));
  const para = (roff: string) => out.push('.PP', roffLine(roff));
  const item = (tag: string, body: string) => out.push('.TP', roffTag(tag), roffLine(body));
  const exitMeanings = readmeTable(s.readme, 'Exit status');
  const codeMeanings = readmeTable(s.readme, 'Diagnoses');
  const usage = s.exit.usage;
  const statuses: number[] = Object.values(s.exit);

  out.push(
    `.\\" Generated by src/tools/emit-man.ts from whyport's command line, playbooks and README; do not edit.`,
    macro('TH', 'WHYPORT', '1', s.date, roffText(`whyport ${s.version}`), 'User Commands'),
  );

  out.push('.SH NAME');
  line(roffText(`whyport - ${s.diagnose.description()}`));

  out.push('.SH SYNOPSIS');
  const synopses: [name: string, rest: string][] = [
    ['whyport', usageRoff(s.diagnose.usage().split('\n')[0]!)],
    ['whyport', `${italic('HOST')}:${italic('PORT')} [${italic('options')}]`],
    ['whyport record', `${italic('HOST PORT')} ${bold('-o')} ${italic('FILE')} [${italic('options')}]`],
    ['whyport', `${italic('HOST PORT')} ${bold('--replay')} ${italic('FILE')}`],
    ['whyport explain', `${italic('STATE')} | ${italic('PORT')} | ${italic('NAME')}`],
    ...[...leaves(s.baseline), ...leaves(s.tools)].map((c): [string, string] => [fullName(c), commandSynopsis(c, help)]),
  ];
  for (const [name, rest] of synopses) out.push(macro('SY', roffText(name)), ...(rest ? [roffLine(rest)] : []), '.YS');

  out.push('.SH DESCRIPTION');
  line(roff`${bold('whyport')} finds out why a TCP port cannot be reached: it walks the checks an expert would, on the client and on the server (when the server is this machine, or over ssh with ${bold('--ssh')}), explains what it found, and offers the fix.`);
  para(
    roff`The checks and the order they run in come from a playbook (${bold('--playbook')}, by default the built-in ${bold('default')}). ` +
      roff`A diagnosis ends in one code (see ${bold('DIAGNOSES')}); the exit status follows it (see ${bold('EXIT STATUS')}).`,
  );
  para(
    roff`Without a terminal on stdin whyport behaves as with ${bold('--yes')}: it never waits for input. Progress and questions go to stderr, so ${bold('--json')} keeps stdout clean. ` +
      roff`Values given on the command line are passed to commands as single words — whyport never uses a shell — and anything with shell metacharacters is refused with exit status ${usage}.`,
  );
  for (const arg of help.visibleArguments(s.diagnose)) item(italic(arg.name().toUpperCase()), roffText(help.argumentDescription(arg)));

  out.push('.SH OPTIONS');
  for (const opt of help.visibleOptions(s.diagnose)) item(flagsRoff(opt), roffText(help.optionDescription(opt)));

  out.push('.SH SUBCOMMANDS');
  out.push(macro('SS', 'whyport explain'));
  line(roff`${bold('whyport explain')} ${italic('STATE')} | ${italic('PORT')} | ${italic('NAME')} explains without diagnosing anything:`);
  for (const f of s.explainForms) item(bold(`whyport explain ${f.query}`), roffText(f.answer));
  out.push(macro('SS', 'whyport record'));
  line(
    roff`${bold('whyport record')} ${italic('HOST PORT')} ${bold('-o')} ${italic('FILE')} [${italic('options')}] diagnoses as ${bold('whyport')} ${italic('HOST PORT')} does and writes what the walk read — commands and their output, files, lookups, the probes' results; with ${bold('--ssh')} the server's too — to ${italic('FILE')} (mode 0600), with the diagnosis it reached. ` +
      roff`Secrets are redacted (environment values, passwords on command lines and in config files, private keys) and the file lists what was. ${bold('whyport')} ${italic('HOST PORT')} ${bold('--replay')} ${italic('FILE')} walks the playbook on the recording, anywhere, reading and sending nothing; ${bold('whyport playbook test')} compares each recording's diagnosis with the one recorded.`,
  );
  out.push(macro('SS', 'whyport completion'));
  line(roff`${bold('whyport completion')} ${italic('SHELL')} prints a completion script for ${italic('SHELL')} (${SHELLS.join(', ')}): Tab then offers the subcommands, the options, the built-in playbooks, service names for PORT and this machine's systemd units for --service. ${bold('whyport completion --help')} says how to install it.`);
  for (const group of [...s.baseline.commands, ...s.tools.commands]) {
    out.push(macro('SS', roffText(fullName(group))));
    line(sentence(help.commandDescription(group)));
    if (group.commands.length === 0) commandDetails(group);
    for (const leaf of group.commands) {
      item(commandTag(leaf, help), sentence(help.commandDescription(leaf)));
      if (describedArguments(leaf).length > 0 || ownOptions(leaf, help).length > 0) {
        out.push('.RS');
        commandDetails(leaf);
        out.push('.RE');
      }
    }
  }

  out.push('.SH EXIT STATUS');
  for (const status of statuses) {
    const meaning = exitMeanings.get(String(status));
    if (meaning === undefined) throw new Error(`README.md's "Exit status" table has no row for ${status}: add one (the man page takes each status's meaning from it)`);
    item(bold(String(status)), markdownRoff(meaning));
  }
  for (const documented of exitMeanings.keys()) {
    if (!statuses.includes(Number(documented))) throw new Error(`README.md's "Exit status" table lists ${documented}, which whyport never returns (src/report/model.ts EXIT): remove the row`);
  }
  para(roff`${bold('whyport baseline check')} has statuses of its own:`);
  for (const [status, meaning] of s.baselineExit) item(bold(String(status)), roffText(meaning));
  para(roff`The other subcommands exit with ${s.exit.ok}, or ${usage} on bad usage or a bad playbook.`);

  out.push('.SH DIAGNOSES');
  line(roff`The codes the built-in playbooks report (${bold('diagnosis.code')} of the ${bold('--json')} report), each with the exit status it gives. A custom playbook may define codes of its own; they follow the same rule.`);
  const codes = [...new Set(s.playbooks.flatMap((p) => p.codes))];
  for (const code of codes) {
    const meaning = codeMeanings.get(`\`${code}\``);
    if (meaning === undefined) {
      const from = s.playbooks.filter((p) => p.codes.includes(code)).map((p) => p.file).join(', ');
      throw new Error(`README.md's "Diagnoses" table has no row for ${code} (reported by ${from}): add one (the man page takes each code's meaning from it)`);
    }
    item(roff`${bold(code)} (exit status ${s.exitStatusFor(code)})`, markdownRoff(meaning));
  }

  out.push('.SH JSON REPORT');
  line(roff`${bold('whyport')} ${italic('HOST PORT')} ${bold('--json')} prints one JSON document on stdout and nothing else there. Within ${bold('"version": 1')} fields are only ever added, never renamed or removed; what scripts may rely on is written in ${italic(s.jsonContract)} in whyport's package directory (for an npm install, ${italic(`$(npm root -g)/whyport/${s.jsonContract}`)}). In short:`);
  for (const [field, meaning] of JSON_FIELDS) item(bold(field), roffText(meaning));
  para(roff`${bold('--brief')} shortens the text and Markdown reports only; with ${bold('--json')} it changes nothing.`);

  out.push('.SH FILES');
  for (const p of s.playbooks) {
    item(italic(p.file), roff`The built-in playbook ${bold(p.name)}, in whyport's package directory: ${roffText(p.description)} ${bold(`whyport playbook show ${p.name}`)} prints it, to copy and adapt.`);
  }
  item(italic(s.jsonContract), roff`The contract of the ${bold('--json')} report (see ${bold('JSON REPORT')}).`);
  item(italic(s.schemaFile), roff`The JSON Schema of playbooks, for editors: ${bold('whyport playbook schema')} prints it (save it beside your playbooks as ${italic('playbook.schema.json')}), ${bold('whyport playbook schema --path')} prints where this file is.`);
  item(italic(s.baselineFiles.user), roff`The baseline of ${bold('whyport baseline')} for a user other than root (${italic(s.baselineFiles.xdg)} when ${bold('XDG_STATE_HOME')} is set); ${bold('--file')} names another.`);
  item(italic(s.baselineFiles.root), roff`The baseline when run as root.`);
  item(italic('/etc/services'), roff`Service names for ${italic('PORT')} and ${bold('whyport explain')}; a built-in table is used when it is missing.`);

  out.push('.SH ENVIRONMENT');
  item(bold('NO_COLOR'), roff`When set and not empty, no colours, as with ${bold('--no-color')}. Colours are off anyway when stdout is not a terminal.`);
  item(bold('COLUMNS'), roff`The width of the text report when neither stdout nor stderr is a terminal (by default 80 columns).`);
  item(bold('WHYPORT_DEBUG'), roff`When set, an internal error also prints where it happened (its stack trace).`);
  item(bold('XDG_STATE_HOME'), roff`Where a user's baseline is kept (see ${bold('FILES')}); ignored unless it is an absolute path.`);
  item(bold('XDG_CACHE_HOME'), roff`Where whyport keeps V8's code cache of itself, which makes later runs start faster, and where the single executable writes the copy of the JSON Schema that ${bold('whyport playbook schema --path')} names (by default ${italic('~/.cache/whyport/VERSION/')}); ignored unless it is an absolute path. Deleting it is harmless.`);
  item(bold('PATH'), roff`Where the programs whyport runs are found (${bold('ss')}, ${bold('nft')}, ${bold('systemctl')}, ${bold('traceroute')}, a playbook's ${bold('command')}); one it cannot find in any folder of it, or only in folders it may not search, is reported as not installed.`);
  item(bold('LC_ALL'), roff`Passed on to the ${bold('--notify')} command of ${bold('whyport baseline check')}; the commands whyport reads run with ${bold('LC_ALL=C')}, so their output parses the same everywhere.`);

  out.push('.SH EXAMPLES');
  out.push('.EX');
  for (const e of s.examples) {
    if (e.note !== undefined) out.push(roffVerbatimLine(`# ${e.note}`));
    out.push(roffVerbatimLine(e.command));
  }
  out.push('.EE');

  out.push('.SH SEE ALSO');
  const related = [['ss', '8'], ['nmap', '1'], ['systemctl', '1'], ['ssh', '1']] as const;
  out.push(...related.map(([page, section], i) => macro('BR', page, `(${section})${i < related.length - 1 ? ',' : ''}`)));

  return out.join('\n') + '\n';

  /** A command's arguments and options as tagged paragraphs, then what its --help says after them. */
  function commandDetails(cmd: Command): void {
    for (const arg of describedArguments(cmd)) item(italic(arg.name()), roffText(help.argumentDescription(arg)));
    for (const opt of ownOptions(cmd, help)) item(flagsRoff(opt), roffText(help.optionDescription(opt)));
    const after = s.afterHelp[fullName(cmd)];
    if (after) {
      para(roffText(after.note));
      out.push('.PP', '.EX', ...after.examples.map(roffVerbatimLine), '.EE');
    }
  }
}

/** The commands under `cmd` that run something (no groups), depth first. */
function leaves(cmd: Command): Command[] {
  return cmd.commands.flatMap((c) => (c.commands.length ? leaves(c) : [c]));
}

/** `whyport baseline check`: the words that select a command. */
function fullName(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** A command's options apart from --help, which every command has. */
function ownOptions(cmd: Command, help: Help): Option[] {
  return help.visibleOptions(cmd).filter((o) => o.long !== '--help');
}

function describedArguments(cmd: Command): readonly Argument[] {
  return cmd.registeredArguments.filter((a) => a.description);
}

/** What follows the command's words in its synopsis: every option spelled out, then the arguments. */
function commandSynopsis(cmd: Command, help: Help): string {
  const options = ownOptions(cmd, help).map((o) => {
    const value = o.argChoices ? ` ${o.argChoices.map((c) => bold(c)).join('|')}` : o.flags.includes('<') ? ` ${italic(o.flags.replace(/^.*<(.*)>.*$/, '$1'))}` : '';
    return `[${bold(o.long ?? o.flags)}${value}]`;
  });
  return [...options, argumentsRoff(cmd)].filter(Boolean).join(' ');
}

/** `whyport playbook graph [options] [playbook]`: short enough to head the command's paragraph. */
function commandTag(cmd: Command, help: Help): string {
  return [bold(fullName(cmd)), ownOptions(cmd, help).length ? `[${italic('options')}]` : '', argumentsRoff(cmd)].filter(Boolean).join(' ');
}

function argumentsRoff(cmd: Command): string {
  return cmd.registeredArguments
    .map((a) => {
      const name = `${italic(a.name())}${a.variadic ? '\\&...' : ''}`;
      return a.required ? name : `[${name}]`;
    })
    .join(' ');
}

/** `HOST PORT [options]` with placeholders in italics. */
function usageRoff(usage: string): string {
  return usage
    .split(' ')
    .map((w) => (/^\[(\w+)\]$/.test(w) ? `[${italic(w.slice(1, -1))}]` : /^[A-Z]+$/.test(w) ? italic(w) : roffText(w)))
    .join(' ');
}

/** `-p, --process <name>` with the flags in bold and the value in italics. */
function flagsRoff(opt: Option): string {
  return opt.flags
    .split(' ')
    .map((w) => {
      const comma = w.endsWith(',') ? ',' : '';
      const word = comma ? w.slice(0, -1) : w;
      if (word.startsWith('-')) return bold(word) + comma;
      const m = /^([<[])(.*)([>\]])$/.exec(word);
      if (m) return m[1] === '[' ? `[${italic(m[2]!)}]` : italic(m[2]!);
      return roffText(w);
    })
    .join(' ');
}

/** A commander description as a sentence: capital first, full stop last. */
function sentence(text: string): string {
  const t = text.trim();
  return roffText(`${t.charAt(0).toUpperCase()}${t.slice(1)}${/[.!?]$/.test(t) ? '' : '.'}`);
}

/**
 * The rows of the two-column table under a README heading (`## Exit status`): first cell → second
 * cell, both as written in Markdown.
 */
export function readmeTable(readme: string, heading: string): Map<string, string> {
  const start = readme.search(new RegExp(`^## ${heading}\\s*$`, 'm'));
  if (start < 0) throw new Error(`README.md has no "## ${heading}" section: the man page takes its table from there`);
  const body = readme.slice(start).split('\n').slice(1);
  const end = body.findIndex((l) => /^#{1,2} /.test(l));
  const table = (end < 0 ? body : body.slice(0, end)).filter((l) => l.startsWith('|'));
  const rows = new Map<string, string>();
  // The first two lines are the header and the |---| under it.
  for (const l of table.slice(2)) {
    const cells = l.slice(1, l.endsWith('|') ? -1 : undefined).split(/(?<!\\)\|/).map((c) => c.trim().replace(/\\\|/g, '|'));
    if (cells.length >= 2) rows.set(cells[0]!, cells[1]!);
  }
  return rows;
}

/** The inline Markdown of a README table cell: `code` in bold, [links](…) as their text. */
export function markdownRoff(text: string): string {
  return text
    .replace(/\[([^\]]+)\]\([^)]*\)/g, '$1')
    .split(/(`[^`]+`)/)
    .map((part) => (part.startsWith('`') && part.endsWith('`') && part.length > 1 ? bold(part.slice(1, -1)) : roffText(part)))
    .join('');
}
