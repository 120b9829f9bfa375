import { showCommand, type CommandResult, type Runner } from '../runner.js';
import { parseFirewalldListAll, parseFirewalldServiceInfo, type FirewalldService, type FirewalldZone } from './firewalld.js';
import { legacyTablesPresent, parseIptablesSave, type IptablesRuleset } from './iptables.js';
import { parseNftJson, type NftRuleset } from './nft.js';
import { parseUfwStatus, type UfwStatus } from './ufw.js';

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

const DENIED = /operation not permitted|permission denied|must be root|need to be root|authorization failed|not authorized|access denied/i;

/**
 * Reads every firewall tool that is installed: `nft -j list ruleset`, `iptables-save`,
 * `ip6tables-save` (plus their legacy or nf_tables twins when the other backend holds rules too),
 * `ufw status verbose`, `firewall-cmd --list-all` and the services that zone names. Missing tools
 * are noted, not errors. Rules are read with the save commands rather than `-S`: they list every
 * table, and unlike `iptables-legacy -S` they never create a table that was not there.
 */
export async function readFirewall(runner: Runner, opts: { timeoutMs: number }): Promise<FirewallReading> {
  const sources: FirewallSource[] = [];
  const rulesets: FirewallRulesets = {};
  // Report the command as asked for, whatever a wrapping runner prefixed it with (sudo, ip netns exec…).
  const run = async (argv: string[]): Promise<CommandResult> => ({ ...(await runner.run(argv, { timeoutMs: opts.timeoutMs })), argv });

  const [nft, ipt4, ipt6, ufw, fwd] = await Promise.all([
    run(['nft', '-j', 'list', 'ruleset']),
    run(['iptables-save']),
    run(['ip6tables-save']),
    run(['ufw', 'status', 'verbose']),
    run(['firewall-cmd', '--list-all']),
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

  sources.push(
    settle('ufw', ufw, (text) => {
      rulesets.ufw = parseUfwStatus(text);
    }),
  );
  const ufwSource = sources[sources.length - 1]!;
  if (ufwSource.status === 'ok' && rulesets.ufw?.active === false) ufwSource.status = 'inactive';

  const fwdSource = settle('firewalld', fwd, (text) => {
    rulesets.firewalld = { zone: parseFirewalldListAll(text) };
  });
  // firewall-cmd exits 252 ("FirewallD is not running") when the daemon is down.
  if (fwd.exitCode === 252 || /not running/i.test(fwd.stderr)) {
    fwdSource.status = 'inactive';
    delete fwdSource.error;
  }
  sources.push(fwdSource);
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
