import type { Host } from '../../host/host.js';
import { showCommand, type CommandResult, type Runner } from '../runner.js';
import { parseFirewalldListAll, parseFirewalldServiceInfo, type FirewalldService, type FirewalldZone } from './firewalld.js';
import { legacyTablesPresent, parseIptablesSave, type IptablesRuleset } from './iptables.js';
import { parseNftJson, type NftRuleset } from './nft.js';
import { parseUfwStatus, type UfwStatus } from './ufw.js';
import { defineReader } from '../reader.js';

/** Everything read from the host's firewall; any part may be missing (not installed, not readable). */
export interface FirewallRulesets {
  nft?: NftRuleset;
  /** iptables / ip6tables, from the nf_tables or the legacy backend (one entry each). */
  iptables?: IptablesRuleset[];
  ufw?: UfwStatus;
  firewalld?: { zone: FirewalldZone; services?: Record<string, FirewalldService> };
}

/** Where firewall rules were read from. */
export type FirewallSourceName = 'nftables' | 'iptables' | 'ip6tables' | 'iptables-legacy' | 'ip6tables-legacy' | 'iptables-nft' | 'ip6tables-nft' | 'ufw' | 'firewalld';

/** How reading one source went. */
export type FirewallSourceStatus =
  /** Read and parsed. */
  | 'ok'
  /** The tool is not installed. */
  | 'missing'
  /** The tool said reading needs root (or polkit refused). */
  | 'denied'
  /** ufw is installed but disabled; firewalld is installed but its daemon does not run. */
  | 'inactive'
  /** It ran but failed, timed out, or printed what the parser could not read. */
  | 'error';

/** One command run to read the firewall, and how it went. */
export interface FirewallSource {
  name: FirewallSourceName;
  /** The command a person would type to see the same. */
  command: string;
  status: FirewallSourceStatus;
  /** For `error` and `denied`: what the tool said (its first line), or why parsing failed. */
  error?: string;
  durationMs: number;
}

/** The result of readFirewall: what each tool said, and the rules read. */
export interface FirewallReading {
  /** False when a tool refused to show its rules to a non-root user: the verdict is then unknown, not "open". */
  permission: boolean;
  sources: FirewallSource[];
  /** What was read, ready for findBlockingRules. */
  rulesets: FirewallRulesets;
}

/**
 * What readFirewall reads through: commands, and files when the host can read them (a bare Runner,
 * such as a command prefix for a namespace, cannot: then ufw and firewalld are always asked).
 */
export type FirewallHost = Runner & Partial<Pick<Host, 'readFile'>>;

const UFW_CONF = '/etc/ufw/ufw.conf';
const FIREWALLD_CONF = '/etc/firewalld/firewalld.conf';

const DENIED = /operation not permitted|permission denied|must be root|need to be root|authorization failed|not authorized|access denied/i;

/**
 * Reads every firewall tool that is installed: `nft -j list ruleset`, `iptables-save`,
 * `ip6tables-save` (plus their legacy or nf_tables twins when the other backend holds rules too),
 * `ufw status verbose`, `firewall-cmd --list-all` and the services that zone names. Missing tools
 * are noted, not errors. Rules are read with the save commands rather than `-S`: they list every
 * table, and unlike `iptables-legacy -S` they never create a table that was not there. ufw and
 * firewalld are Python programs (~370 ms to start between them); when their configuration or
 * process says they are off, they are not started (see ufwOff and firewalldOff).
 */
export async function readFirewall(runner: FirewallHost, opts: { timeoutMs: number }): Promise<FirewallReading> {
  const sources: FirewallSource[] = [];
  const rulesets: FirewallRulesets = {};
  // Report the command as asked for, whatever a wrapping runner prefixed it with (sudo, ip netns exec…).
  const run = async (argv: string[]): Promise<CommandResult> => ({ ...(await runner.run(argv, { timeoutMs: opts.timeoutMs })), argv });

  const [nft, ipt4, ipt6, ufw, fwd] = await Promise.all([
    run(['nft', '-j', 'list', 'ruleset']),
    run(['iptables-save']),
    run(['ip6tables-save']),
    ufwOff(runner).then((off): Promise<CommandResult | FoundOff> => (off ? Promise.resolve(off) : run(['ufw', 'status', 'verbose']))),
    firewalldOff(runner, opts.timeoutMs).then((off): Promise<CommandResult | FoundOff> => (off ? Promise.resolve(off) : run(['firewall-cmd', '--list-all']))),
  ]);

  const nftSource = settle('nftables', nft, (text) => {
    rulesets.nft = parseNftJson(text);
  });
  sources.push(nftSource);

  const iptables: IptablesRuleset[] = [];
  const followUps: Promise<void>[] = [];
  for (const [family, result] of [[4, ipt4], [6, ipt6]] as const) {
    const tool = family === 4 ? 'iptables' : 'ip6tables';
    let parsed: IptablesRuleset | undefined;
    sources.push(
      settle(tool, result, (text) => {
        parsed = parseIptablesSave(text, { family });
        parsed.binary = parsed.backend === 'legacy' ? `${tool}-legacy` : tool;
        if (parsed.tables.length > 0) iptables.push(parsed);
      }),
    );
    // The nf_tables tools warn on stderr when legacy tables hold rules too; those rules apply as well.
    if (legacyTablesPresent(result.stderr)) {
      followUps.push(readIptables(`${tool}-legacy`, family, run, sources, iptables));
    }
    // `iptables` may itself be the legacy variant; rules made with iptables-nft then show in nft.
    const nftHasIptablesTables = rulesets.nft?.tables.some((t) => t.family === (family === 4 ? 'ip' : 'ip6') && t.chains.some((c) => /^[A-Z]+$/.test(c.name)));
    if (parsed?.backend === 'legacy' && nftHasIptablesTables) {
      followUps.push(readIptables(`${tool}-nft`, family, run, sources, iptables));
    }
  }

  if ('off' in ufw) {
    sources.push({ name: 'ufw', command: ufw.command, status: 'inactive', durationMs: ufw.durationMs });
  } else {
    sources.push(
      settle('ufw', ufw, (text) => {
        rulesets.ufw = parseUfwStatus(text);
      }),
    );
    const ufwSource = sources[sources.length - 1]!;
    if (ufwSource.status === 'ok' && rulesets.ufw?.active === false) ufwSource.status = 'inactive';
  }

  if ('off' in fwd) {
    sources.push({ name: 'firewalld', command: fwd.command, status: 'inactive', durationMs: fwd.durationMs });
  } else {
    const fwdSource = settle('firewalld', fwd, (text) => {
      rulesets.firewalld = { zone: parseFirewalldListAll(text) };
    });
    // firewall-cmd exits 252 ("FirewallD is not running") when the daemon is down.
    if (fwd.exitCode === 252 || /not running/i.test(fwd.stderr)) {
      fwdSource.status = 'inactive';
      delete fwdSource.error;
    }
    sources.push(fwdSource);
  }
  if (rulesets.firewalld) {
    const zone = rulesets.firewalld.zone;
    const names = [...new Set([...zone.services, ...zone.richRules.flatMap((r) => (r.service ? [r.service] : []))])];
    const infos = await Promise.all(names.map((n) => run(['firewall-cmd', `--info-service=${n}`])));
    const services: Record<string, FirewalldService> = {};
    infos.forEach((r, i) => {
      if (r.exitCode !== 0) return;
      try {
        services[names[i]!] = parseFirewalldServiceInfo(r.stdout);
      } catch {
        // An unreadable service stays unknown: rules naming it are then reported as undecided.
      }
    });
    rulesets.firewalld.services = services;
  }

  await Promise.all(followUps);
  if (iptables.length > 0) rulesets.iptables = iptables;
  return { permission: !sources.some((s) => s.status === 'denied'), sources, rulesets };
}

/** A firewall found off without starting its program: what was looked at instead, and how long it took. */
interface FoundOff {
  off: true;
  command: string;
  durationMs: number;
}

/**
 * ufw off by its configuration: `ufw status` says inactive exactly when ufw.conf says ENABLED=no
 * (ufw reads nothing else to decide), and the file is world-readable, so this holds without root
 * too. Undefined when the file cannot be read or does not say: then `ufw status` is asked. (Over
 * ssh the file is one more command in the same round trip as the rules; an enabled ufw then costs
 * a second round trip for its status.)
 */
async function ufwOff(host: FirewallHost): Promise<FoundOff | undefined> {
  const started = performance.now();
  const conf = await readConfig(host, UFW_CONF);
  if (conf === undefined || ufwEnabled(conf) !== false) return undefined;
  return { off: true, command: `grep ENABLED ${UFW_CONF}`, durationMs: Math.round(performance.now() - started) };
}

/** ENABLED=yes|no of ufw.conf (quotes allowed, as the shell that reads it allows); undefined when absent. */
export function ufwEnabled(conf: string): boolean | undefined {
  const m = /^[ \t]*ENABLED[ \t]*=[ \t]*(["']?)(yes|no)\1[ \t]*$/im.exec(conf);
  return m ? m[2]!.toLowerCase() === 'yes' : undefined;
}

/**
 * firewalld installed (its firewalld.conf is there) but no firewalld process running: firewall-cmd
 * would only say "FirewallD is not running" after starting Python. A process is the one sign that
 * holds with and without systemd (under systemd, firewalld writes no pid file). Undefined when
 * firewalld is not installed (firewall-cmd then is missing, at the cost of a failed exec), when
 * the file cannot be read, or when pgrep cannot tell.
 */
async function firewalldOff(host: FirewallHost, timeoutMs: number): Promise<FoundOff | undefined> {
  const started = performance.now();
  if ((await readConfig(host, FIREWALLD_CONF)) === undefined) return undefined;
  // pgrep exits 1 when no process matches; anything else (missing, an error) leaves it to firewall-cmd.
  const argv = ['pgrep', '-x', 'firewalld'];
  const r = await host.run(argv, { timeoutMs });
  if (r.missing || r.timedOut || r.exitCode !== 1) return undefined;
  return { off: true, command: showCommand(argv), durationMs: Math.round(performance.now() - started) };
}

/** A configuration file's text, or undefined when the host reads no files or this one is not there. */
async function readConfig(host: FirewallHost, path: string): Promise<string | undefined> {
  try {
    return await host.readFile?.(path);
  } catch {
    return undefined;
  }
}

async function readIptables(
  binary: 'iptables-legacy' | 'ip6tables-legacy' | 'iptables-nft' | 'ip6tables-nft',
  family: 4 | 6,
  run: (argv: string[]) => Promise<CommandResult>,
  sources: FirewallSource[],
  into: IptablesRuleset[],
): Promise<void> {
  const result = await run([`${binary}-save`]);
  sources.push(
    settle(binary, result, (text) => {
      const parsed = parseIptablesSave(text, { family, backend: binary.endsWith('-legacy') ? 'legacy' : 'nf_tables' });
      parsed.binary = binary;
      if (parsed.tables.length > 0) into.push(parsed);
    }),
  );
}

/** Turns one command's result into a source status, running `parse` on its output when it worked. */
function settle(name: FirewallSourceName, result: CommandResult, parse: (stdout: string) => void): FirewallSource {
  const source: FirewallSource = { name, command: showCommand(result.argv), status: 'ok', durationMs: result.durationMs };
  const said = (result.stderr.trim() || result.stdout.trim()).split('\n')[0] ?? '';
  if (result.missing) {
    source.status = 'missing';
  } else if (result.timedOut) {
    source.status = 'error';
    source.error = `no answer within the timeout`;
  } else if (result.exitCode !== 0 && DENIED.test(result.stderr + result.stdout)) {
    source.status = 'denied';
    source.error = said;
  } else if (result.exitCode !== 0) {
    source.status = 'error';
    source.error = said || `exit status ${result.exitCode}`;
  } else {
    try {
      parse(result.stdout);
    } catch (err) {
      source.status = 'error';
      source.error = (err as Error).message;
    }
  }
  return source;
}

/** The host's firewall (every ruleset whyport reads), once per diagnosis. */
export const firewallRules = defineReader<void, FirewallReading>({ name: 'firewall rules', read: (_, s) => readFirewall(s.host, { timeoutMs: s.timeoutMs }) });
