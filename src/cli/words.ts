// The words of whyport's command line, in one place: the subcommands, the diagnosis's options (what
// commander is told, src/cli/diagnose-args.ts) and the HOST:PORT form. The start-up entry reads the
// same table to know a plain diagnosis before the bundle loads (src/host/early.ts), so the two
// never disagree on what takes a value. Nothing here loads commander.

/** The first words that name a subcommand rather than a HOST. */
export const SUBCOMMANDS = ['record', 'explain', 'baseline', 'playbook', 'checks', 'completion'] as const;
export type Subcommand = (typeof SUBCOMMANDS)[number];

/** The hidden word the completion scripts call. */
export const COMPLETE_WORD = '__complete';

/** One option of `whyport HOST PORT`, as commander takes it; `early` when it leaves the first reads as they are. */
export interface DiagnoseOption {
  flags: string;
  description: string;
  default?: string;
  repeatable?: boolean;
  /** The option does not change what a diagnosis reads first (the start-up entry may begin those reads). */
  early?: boolean;
}

/** The options of a diagnosis, in --help's order. */
export const DIAGNOSE_OPTIONS: readonly DiagnoseOption[] = [
  { flags: '-u, --udp', description: 'the port is UDP (the same as writing PORT/udp)', early: true },
  { flags: '-p, --process <name>', description: 'the program that should be listening (e.g. myapp)', early: true },
  { flags: '-s, --service <unit>', description: 'its systemd unit (e.g. myapp or myapp.service)', early: true },
  { flags: '--playbook <file|name>', description: 'a playbook file, or the name of a built-in one', default: 'default' },
  { flags: '--set <name=value...>', description: 'answer a playbook input (repeatable), e.g. --set env=prod' },
  { flags: '--json', description: 'print the JSON report on stdout, nothing else (its fields: see "JSON report" below)', early: true },
  { flags: '--markdown', description: 'print the report as Markdown, for a ticket', early: true },
  { flags: '--brief', description: 'text and Markdown: only the verdict, the evidence and the fix (--json is always whole)', early: true },
  { flags: '-y, --yes', description: 'never prompt: use flags, likely guesses and defaults', early: true },
  { flags: '--fix', description: 'apply the suggested fix (asks first unless --yes), then check again' },
  { flags: '--timeout <ms>', description: 'timeout of each probe and command, in milliseconds', default: '3000', early: true },
  { flags: '--no-color', description: 'no colours (also NO_COLOR=1)', early: true },
  { flags: '-v, --verbose', description: 'show every step’s evidence in the text report', early: true },
  { flags: '--ssh [server]', description: 'diagnose both ends: the server side too, over ssh to [USER@]SERVER[:SSHPORT] (default: HOST); nothing is installed there' },
  { flags: '--ssh-option <key=value>', description: 'passed to ssh as -o KEY=VALUE (repeatable), e.g. IdentityFile=~/.ssh/ops', repeatable: true },
  { flags: '--sudo', description: 'with --ssh: run the server-side reads with sudo -n (never asks for a password)' },
  { flags: '--protocol <name>', description: 'what the port should speak after the handshake (ssh, http, https, tls, postgresql, mysql, redis, smtp, ftp, imap, pop3); default: its /etc/services name, or the program holding it' },
  { flags: '--tls', description: 'the port speaks TLS from the first byte (check the handshake and the certificate)' },
  { flags: '--no-tls', description: 'the port speaks plain text, whatever its name says' },
  { flags: '--no-protocol', description: 'stop at the TCP handshake: send nothing after it' },
  { flags: '--from <address>', description: "judge the server's firewall for a client of this address (an IPv4 or IPv6 address): why can't it reach me? (with --ssh: the client's own address)" },
  { flags: '--as-user <name>', description: 'the user name sent where the protocol asks for one (PostgreSQL); default: the user running whyport; never a password' },
  { flags: '--watch', description: 'repeat the diagnosis until the port is reachable, printing each change of verdict with a timestamp' },
  { flags: '--interval <seconds>', description: 'with --watch: seconds between tries (default 2)' },
  { flags: '--max <n>', description: "with --watch: give up after N tries, with the last verdict's exit status" },
  { flags: '-o, --output <file>', description: 'with whyport record: the file the recording is written to (mode 0600; secrets redacted)' },
  { flags: '--replay <file>', description: 'walk the playbook on a recording (whyport record) instead of this machine: nothing is read or sent here' },
];

/** An option's names (`-p`, `--process`) and whether it takes a value (`<name>`; `[server]` may). */
export function optionWords(o: DiagnoseOption): { names: string[]; value: 'none' | 'required' | 'optional' } {
  const [names, arg] = o.flags.split(/ (?=[<[])/);
  return { names: names!.split(', ').map((n) => n.trim()), value: arg === undefined ? 'none' : arg.startsWith('<') ? 'required' : 'optional' };
}

/**
 * HOST:PORT as one word split in two; undefined when the word is not of that form (an IPv6
 * address alone, a HOST without PORT). IPv6 takes brackets: [2001:db8::5]:7071.
 */
export function splitHostPort(word: string): { host: string; port: string } | undefined {
  const m = /^(\[[^\]]+\]|[^:]+):([^:]+)$/.exec(word);
  return m ? { host: m[1]!, port: m[2]! } : undefined;
}
