import { isIP } from 'node:net';
import { Option, type Command } from 'commander';
import { commandProgram, parseCommandLine } from './command-line.js';
import { DIAGNOSE_OPTIONS, splitHostPort } from './words.js';
import type { CommandIO } from './io.js';
import { UsageError } from '../errors.js';
import { parseHost } from './host-argument.js';
import { asciiHostName } from '../net/host-name.js';
import { parsePort, type Protocol, type ServiceTable } from './port-argument.js';
import { SAFE_VALUE } from '../engine/safe.js';
import { parseSshOption, parseSshTarget, type SshTarget } from '../host/ssh-target.js';
import { JSON_CONTRACT_DOC } from '../report/model.js';
import { PROTOCOL_CHOICES, protocolByName } from '../knowledge/protocols.js';

/** Everything the command line says about a diagnosis, as one object. */
export interface DiagnoseOptions {
  host: string;
  port: number;
  portName?: string;
  /** tcp unless PORT was written 53/udp, --udp was given, or the service name is UDP's only. */
  protocol: Protocol;
  answers: Record<string, string>;
  /** The input names given with --set: each must be an input of the playbook (checked once it is loaded). */
  setInputs?: string[];
  playbook: string;
  format: 'text' | 'json' | 'markdown';
  yes: boolean;
  fix: boolean;
  timeoutMs: number;
  color: boolean;
  /** Prompts are possible: stdin is a TTY and --yes was not given. */
  interactive: boolean;
  verbose: boolean;
  /** --brief: the text and Markdown reports show the verdict, the evidence and the fix only. */
  brief: boolean;
  /** --watch: repeat until reachable, printing changes of verdict. */
  watch?: { intervalMs: number; max?: number };
  /** --ssh: the server's side too, over ssh. */
  ssh?: { target: SshTarget; options: string[]; sudo: boolean; batchMode: boolean };
  /** whyport record … -o FILE: every host call of the walk written to FILE. */
  record?: { file: string };
  /** --replay FILE: the walk reads a recording; `ownPlaybook` when --playbook was given (else the recorded one). */
  replay?: { file: string; ownPlaybook: boolean };
}

export interface Environment {
  stdinIsTTY: boolean;
  stdoutIsTTY: boolean;
  stderrIsTTY: boolean;
  env: Record<string, string | undefined>;
  version: string;
}

const METACHARS = /[;&|`$<>(){}\\!*?\[\]'"\n\r]/;

function safe(flag: string, value: string): string {
  if (value.startsWith('-')) {
    throw new UsageError(`${flag} '${value}' starts with '-'`, 'a name may not start with a dash (it would read as an option of the commands it is passed to)');
  }
  if (!SAFE_VALUE.test(value)) {
    throw new UsageError(`${flag} '${value}' contains characters whyport does not accept`, 'use letters, digits and . _ - @ : + / only (values are passed to commands as single words, never through a shell)');
  }
  return value;
}

/** The examples of `whyport --help` and of the man page: a command line, and what it shows. */
export const DIAGNOSE_EXAMPLES: readonly { command: string; note?: string }[] = [
  { command: 'whyport 10.0.0.5 7071', note: 'answer a few prompts, read the diagnosis' },
  { command: 'whyport db.internal postgres --json --process postgres' },
  { command: 'whyport 127.0.0.1 8080 --service myapp --fix' },
  { command: 'whyport 10.0.0.5 7071 --playbook ./myapp.yaml' },
  { command: 'whyport 10.0.0.5 7071 --ssh admin@10.0.0.5 --sudo', note: 'both ends in one report' },
  { command: 'whyport ns1.internal 53/udp', note: 'UDP: a DNS query, by nmap\'s rule' },
];

/** An example as --help lists it: notes in a column, or three spaces after a longer command. */
function exampleLine({ command, note }: (typeof DIAGNOSE_EXAMPLES)[number]): string {
  const line = `  ${command}`;
  if (note === undefined) return line;
  return `${line.length < 42 ? line.padEnd(44) : `${line}   `}${note}`;
}

/** The commander program for `whyport HOST PORT`; help and errors go through exitOverride. */
export function diagnoseProgram(version: string, io: CommandIO = { stdout: () => {}, stderr: () => {} }, mode: { record?: boolean } = {}): Command {
  if (mode.record) {
    // `whyport record --help`: the same options, under its own usage line.
    const program = diagnoseProgram(version, io);
    return program.name('whyport record').usage('HOST PORT -o FILE [options]').description('Diagnoses HOST:PORT as whyport HOST PORT does, and writes what the walk read to FILE (secrets redacted), to replay with whyport HOST PORT --replay FILE.');
  }
  const program = commandProgram(io)
    .usage('HOST PORT [options]\n       whyport record HOST PORT -o FILE [options]   |   whyport HOST PORT --replay FILE\n       whyport explain STATE|PORT|NAME   |   whyport baseline save|check [options]\n       whyport playbook validate|list|show|graph|schema|test   |   whyport checks\n       whyport completion bash|zsh|fish')
    .description("I can't reach HOST:PORT — why? Walks the checks an expert would, explains, and offers the fix.")
    .argument('<host>', 'a host name, an IPv4 or an IPv6 address (HOST:PORT works too)')
    .argument('[port]', 'a port number (1–65535) or a service name from /etc/services, e.g. https; 53/udp for UDP');
  for (const o of DIAGNOSE_OPTIONS) {
    const option = new Option(o.flags, o.description);
    if (o.default !== undefined) option.default(o.default);
    if (o.repeatable) option.argParser((v: string, all: string[] = []) => [...all, v]);
    program.addOption(option);
  }
  // After the options, so -V stays where --help has always listed it.
  return program
    .version(version, '-V, --version')
    .addHelpText(
      'after',
      `
Examples:
${DIAGNOSE_EXAMPLES.map(exampleLine).join('\n')}

Exit status: 0 reachable, 1 a problem was diagnosed, 2 bad usage or playbook,
3 inconclusive (or a silent UDP port: open or filtered), 130 interrupted.

JSON report: what --json prints, and what scripts may rely on, is written in
\`man whyport\` (section JSON REPORT) and ${JSON_CONTRACT_DOC} in whyport's package.`,
    )
    .allowExcessArguments(false);
}

/** Turns argv (without node and the script) into options, or throws UsageError. */
export async function parseDiagnoseArgs(argv: readonly string[], envi: Environment, onOutput: (text: string) => void, services: ServiceTable, mode: { record?: boolean } = {}): Promise<DiagnoseOptions | 'exit'> {
  // Help and version go to stdout; commander's error text is not printed (the UsageError is).
  const program = diagnoseProgram(envi.version, { stdout: onOutput, stderr: () => {} }, mode);
  if ((await parseCommandLine(program, argv, 'see whyport --help')) !== 'ran') return 'exit';
  const o = program.opts<{ process?: string; service?: string; playbook: string; set?: string[]; json?: boolean; markdown?: boolean; yes?: boolean; fix?: boolean; timeout: string; color: boolean; verbose?: boolean; brief?: boolean; watch?: boolean; interval?: string; max?: string; ssh?: string | true; sshOption?: string[]; sudo?: boolean; udp?: boolean; protocol?: string | false; tls?: boolean; asUser?: string; from?: string; output?: string; replay?: string }>();
  let [hostArg, portArg] = program.args as [string, string | undefined];
  if (portArg === undefined) {
    const m = splitHostPort(hostArg);
    // An IPv6 address alone is a HOST without its PORT; other words with two colons are a typo.
    if (!m && !isIP(hostArg) && /^(\[[^\]]*\]|[^:\[]*):[^:]*:/.test(hostArg)) {
      throw new UsageError(`'${hostArg}' is not HOST:PORT: HOST:PORT has one colon`, 'for IPv6 write [addr]:port, e.g. whyport [2001:db8::5]:7071 (or HOST and PORT as two words)');
    }
    if (!m) throw new UsageError('missing PORT', isIP(hostArg) === 6 ? `usage: whyport HOST PORT (e.g. whyport ${hostArg} 7071, or whyport [${hostArg}]:7071)` : 'usage: whyport HOST PORT (e.g. whyport 10.0.0.5 7071, or whyport 10.0.0.5:7071)');
    hostArg = m.host;
    portArg = m.port;
  }
  const host = parseHost(hostArg);
  const { port, name: portName, protocol } = parsePort(portArg, services, o.udp ? 'udp' : undefined);

  const answers: Record<string, string> = {};
  const setInputs: string[] = [];
  for (const kv of o.set ?? []) {
    const m = /^([a-z][a-z0-9-]*)=(.*)$/.exec(kv);
    if (!m) throw new UsageError(`--set '${kv}' is not NAME=VALUE`, 'e.g. --set process=myapp');
    answers[m[1]!] = safe(`--set ${m[1]}`, m[2]!);
    setInputs.push(m[1]!);
  }
  if (o.process !== undefined) answers.process = safe('--process', o.process);
  if (o.service !== undefined) answers.service = safe('--service', o.service);
  if (o.protocol === false) answers.protocol = 'none';
  else if (o.protocol !== undefined) {
    const name = o.protocol.trim().toLowerCase();
    if (!PROTOCOL_CHOICES.includes(name) && !protocolByName(name)) throw new UsageError(`--protocol '${o.protocol}' is not a protocol whyport knows`, `use one of ${PROTOCOL_CHOICES.join(', ')} (or --no-protocol to stop at the handshake)`);
    answers.protocol = name;
  }
  if (o.tls !== undefined) {
    if (o.protocol === false) throw new UsageError(`--${o.tls ? '' : 'no-'}tls does not go with --no-protocol`, 'drop one of them');
    answers.tls = o.tls ? 'yes' : 'no';
  }
  if (o.asUser !== undefined) answers['as-user'] = safe('--as-user', o.asUser);
  if (o.from !== undefined) {
    const from = o.from.trim().replace(/^\[(.*)\]$/, '$1');
    if (!isIP(from)) throw new UsageError(`--from '${o.from}' is not an IP address`, "give the client's address as an IPv4 or IPv6 literal, e.g. --from 10.0.0.7");
    answers.from = from;
  }
  if (METACHARS.test(o.playbook)) throw new UsageError(`--playbook '${o.playbook}' contains shell metacharacters`, 'give a plain file path or a built-in playbook name');
  if (!/^\d+$/.test(o.timeout)) throw new UsageError(`--timeout '${o.timeout}' is not a number of milliseconds`, 'e.g. --timeout 2000 (1 to 600000)');
  if (Number(o.timeout) < 1) throw new UsageError(`--timeout ${o.timeout}: must be at least 1 ms`, 'e.g. --timeout 2000 (a probe needs time to be answered; 1 to 600000)');
  if (Number(o.timeout) > 600_000) throw new UsageError(`--timeout ${o.timeout}: must be at most 600000 ms (10 minutes)`, 'e.g. --timeout 30000');
  if (o.json && o.markdown) throw new UsageError('--json and --markdown cannot be used together', 'pick one output format');

  let watch: DiagnoseOptions['watch'];
  if (o.watch) {
    if (o.fix) throw new UsageError('--watch and --fix cannot be used together', 'run --fix first, then --watch');
    if (o.json || o.markdown) throw new UsageError('--watch prints one line per change of verdict; it has no --json or --markdown form', 'drop --json/--markdown');
    const interval = o.interval === undefined ? 2 : Number(o.interval);
    if (!Number.isFinite(interval) || interval < 0.1 || interval > 3600) throw new UsageError(`--interval '${o.interval}' is not a number of seconds`, 'e.g. --interval 5 (0.1 to 3600)');
    const max = o.max === undefined ? undefined : Number(o.max);
    if (max !== undefined && (!Number.isInteger(max) || max < 1)) throw new UsageError(`--max '${o.max}' is not a number of tries`, 'e.g. --max 60');
    watch = { intervalMs: Math.round(interval * 1000), ...(max !== undefined ? { max } : {}) };
  } else if (o.interval !== undefined || o.max !== undefined) {
    throw new UsageError('--interval and --max only go with --watch', 'e.g. whyport HOST PORT --watch --interval 5 --max 60');
  }

  let ssh: DiagnoseOptions['ssh'];
  if (o.ssh !== undefined) {
    if (watch) throw new UsageError('--watch does not go with --ssh yet', 'run whyport --ssh once per try, or --watch on the server itself');
    const target = parseSshTarget(o.ssh === true ? asciiHostName(host) : o.ssh);
    ssh = { target, options: (o.sshOption ?? []).map(parseSshOption), sudo: Boolean(o.sudo), batchMode: !envi.stdinIsTTY };
  } else if (o.sshOption !== undefined || o.sudo) {
    throw new UsageError(`${o.sudo ? '--sudo' : '--ssh-option'} only goes with --ssh`, 'e.g. whyport 10.0.0.5 7071 --ssh admin@10.0.0.5 --sudo');
  }

  let record: DiagnoseOptions['record'];
  let replay: DiagnoseOptions['replay'];
  if (mode.record) {
    if (o.output === undefined) throw new UsageError('whyport record needs -o FILE: where the recording goes', 'e.g. whyport record 10.0.0.5 7071 -o myapp.whyport.json');
    if (o.fix || watch) throw new UsageError(`whyport record does not go with ${o.fix ? '--fix' : '--watch'}`, 'record the diagnosis, then fix or watch in another run');
    if (o.replay !== undefined) throw new UsageError('whyport record does not go with --replay', 'a recording is made of a real diagnosis');
    record = { file: o.output };
  } else if (o.output !== undefined) {
    throw new UsageError('-o/--output only goes with whyport record', `e.g. whyport record ${hostArg} ${portArg} -o ${o.output}`);
  }
  if (o.replay !== undefined) {
    if (o.fix || watch || ssh) throw new UsageError(`--replay does not go with ${o.fix ? '--fix' : watch ? '--watch' : '--ssh'}`, 'a replay walks what was recorded (the server too, when it was recorded with --ssh) and changes nothing');
    replay = { file: o.replay, ownPlaybook: program.getOptionValueSource('playbook') === 'cli' };
  }

  const noColor = envi.env.NO_COLOR !== undefined && envi.env.NO_COLOR !== '';
  const yes = Boolean(o.yes) || !envi.stdinIsTTY;
  return {
    host,
    port,
    ...(portName ? { portName } : {}),
    protocol,
    answers,
    ...(setInputs.length ? { setInputs } : {}),
    playbook: o.playbook,
    format: o.json ? 'json' : o.markdown ? 'markdown' : 'text',
    yes,
    fix: Boolean(o.fix),
    timeoutMs: Number(o.timeout),
    color: o.color && !noColor && envi.stdoutIsTTY && !o.json && !o.markdown,
    interactive: !yes && envi.stderrIsTTY && !watch,
    verbose: Boolean(o.verbose),
    brief: Boolean(o.brief),
    ...(watch ? { watch } : {}),
    ...(ssh ? { ssh } : {}),
    ...(record ? { record } : {}),
    ...(replay ? { replay } : {}),
  };
}
