import type { FirewallRulesets } from '../../system/firewall/read.js';
import type { RuleRef } from './model.js';
export type { BanTime } from '../../system/fail2ban.js';

// Ban lists: fail2ban and sshguard keep their bans as firewall rules of their own. A rule of theirs
// that turns the client away is a ban, to be lifted with their own command, not a rule to delete.

/** A ban, as diagnosis.ban reports it (CONTRACT): who bans, in which jail, and whom. */
export interface Ban {
  by: 'fail2ban' | 'sshguard';
  /** fail2ban's jail; sshguard has none. */
  jail?: string;
  address: string;
}

/** A rule of a ban list, as a rule reference names it: its chain, table and text. */
type BanRule = Pick<RuleRef, 'tool' | 'table' | 'chain' | 'rule'> & { path?: readonly string[] };

/**
 * Whose ban list a rule belongs to, by the names fail2ban's and sshguard's actions give their
 * rules: iptables chains `f2b-JAIL` (iptables-multiport, -allports), the ipset `f2b-JAIL`
 * (iptables-ipset), nftables `table inet f2b-table` with its set `addr-set-JAIL`; sshguard's chain
 * `sshguard` (iptables backend) and `table ip sshguard` with its set `attackers`. Undefined for
 * any other rule.
 */
export function banListOf(r: BanRule): Omit<Ban, 'address'> | undefined {
  if (r.tool === 'nftables') {
    const table = r.table.split(' ').at(-1);
    if (table === 'f2b-table') {
      const jail = /@addr-set-([\w.:-]+)/.exec(r.rule)?.[1];
      return { by: 'fail2ban', ...(jail ? { jail } : {}) };
    }
    if (table === 'sshguard') return { by: 'sshguard' };
    return undefined;
  }
  if (r.tool !== 'iptables' && r.tool !== 'ip6tables') return undefined;
  const chains = [r.chain, ...(r.path ?? [])];
  const f2b = chains.map((c) => /^f2b-(.+)$/.exec(c)?.[1]).find((j) => j !== undefined) ?? /--match-set f2b-(\S+) src\b/.exec(r.rule)?.[1];
  if (f2b) return { by: 'fail2ban', jail: f2b };
  if (chains.includes('sshguard')) return { by: 'sshguard' };
  return undefined;
}

/** The jails whose rules are in the firewall read (fail2ban's chains, sets and ipsets), each once, in the order met. */
export function fail2banJails(rs: FirewallRulesets): string[] {
  const jails: string[] = [];
  const add = (j: string | undefined) => {
    if (j && !jails.includes(j)) jails.push(j);
  };
  for (const t of rs.nft?.tables ?? []) {
    if (t.name === 'f2b-table') for (const s of t.sets) add(/^addr-set-(.+)$/.exec(s.name)?.[1]);
  }
  for (const ipt of rs.iptables ?? []) {
    for (const t of ipt.tables) {
      for (const c of t.chains) {
        add(/^f2b-(.+)$/.exec(c.name)?.[1]);
        for (const rule of c.rules) add(/--match-set f2b-(\S+) src\b/.exec(rule.text)?.[1]);
      }
    }
  }
  return jails;
}

/** What lifts a ban, as argv: fail2ban's own unban, or the rule or set element sshguard added. */
export function unbanArgv(ban: Ban, r: Pick<RuleRef, 'tool' | 'table'>): string[] {
  if (ban.by === 'fail2ban' && ban.jail) return ['fail2ban-client', 'set', ban.jail, 'unbanip', ban.address];
  if (ban.by === 'fail2ban') return ['fail2ban-client', 'unban', ban.address];
  const six = ban.address.includes(':');
  if (r.tool === 'nftables') return ['nft', 'delete', 'element', ...r.table.split(' '), 'attackers', `{ ${ban.address}/${six ? 128 : 32} }`];
  return [six ? 'ip6tables' : 'iptables', '-D', 'sshguard', '-s', `${ban.address}/${six ? 128 : 32}`, '-j', 'DROP'];
}

/** What keeps a lifted ban from coming back, in one sentence. */
export function unbanNote(ban: Ban): string {
  if (ban.by === 'fail2ban') {
    return `the next failures from ${ban.address} ban it again: to keep it from coming back, add it to \`ignoreip\` in /etc/fail2ban/jail.local${ban.jail ? ` (under [DEFAULT], or [${ban.jail}])` : ''} and run \`fail2ban-client reload\``;
  }
  return `the next attacks seen from ${ban.address} block it again: to keep it from coming back, add it to sshguard's whitelist (\`WHITELIST_FILE\` in /etc/sshguard/sshguard.conf) and restart sshguard`;
}
