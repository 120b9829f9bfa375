import { isIP } from 'node:net';
import { normalizeAddress } from '../net/address.js';
import type { WrapperRule, WrapperTables } from '../system/tcp-wrappers.js';
import { GLOB, wildcardMatches } from '../text/wildcard.js';
import { addressIn } from './firewall/address.js';
import { maskPrefix } from '../net/mask.js';
import type { SettingVerdict, SourceLine } from './service-setting.js';

/** A connection as libwrap sees it: the daemon's process name, the client's address (and names, when known), the server's address. */
export interface WrapperClient {
  daemon: string;
  address: string;
  /** The client's host name by reverse lookup (undefined: not looked up; [] none). */
  names?: readonly string[];
  /** The address the client connected to (for `daemon@host` patterns). */
  server?: string;
}

type Tri = true | false | string;

/** libwrap's string_match: ALL, `.domain` suffixes, `net.` prefixes, `*`/`?` wildcards, else equal (case-insensitive). */
function stringMatch(pattern: string, text: string): boolean {
  const p = pattern.toLowerCase();
  const t = text.toLowerCase();
  if (p === 'all') return true;
  if (p.startsWith('.')) return t.endsWith(p) && t.length > p.length;
  if (p.endsWith('.') && p.length > 1) return t.startsWith(p);
  if (/[*?]/.test(p)) return wildcardMatches(p, t, GLOB);
  return p === t;
}

/** `n.n.n.n/m.m.m.m`, `n.n.n.n/len`, `[v6]/len`: whether the address is in it; undefined when it is no such form. */
function maskedMatch(pattern: string, address: string): boolean | undefined {
  const m = /^\[?([0-9a-fA-F:.]+)\]?\/(\S+)$/.exec(pattern);
  if (!m || !isIP(m[1]!)) return undefined;
  const prefix = /^\d+$/.test(m[2]!) ? Number(m[2]!) : maskPrefix(m[2]!);
  if (prefix === undefined) return false;
  return addressIn(address, `${m[1]!}/${prefix}`) === true;
}

/** Whether one client pattern matches (libwrap's host_match and client_match). */
function clientPatternMatches(pattern: string, c: WrapperClient): Tri {
  const address = normalizeAddress(c.address);
  if (pattern.includes('@') && !pattern.startsWith('@')) {
    // user@host asks the client's ident server, which whyport does not do.
    return `the client's user name by ident (${pattern})`;
  }
  const p = pattern.toUpperCase();
  if (p === 'ALL') return true;
  if (p === 'KNOWN' || p === 'UNKNOWN' || p === 'PARANOID' || p === 'LOCAL') {
    if (c.names === undefined) return `the host name ${address} resolves to (${pattern})`;
    const named = c.names.length > 0;
    if (p === 'KNOWN') return named;
    if (p === 'UNKNOWN') return !named;
    if (p === 'LOCAL') return c.names.some((n) => !n.includes('.'));
    return `whether the name of ${address} resolves back to it (${pattern})`;
  }
  if (pattern.startsWith('@')) return `the members of NIS netgroup ${pattern.slice(1)}`;
  if (pattern.startsWith('/')) return `the patterns in file ${pattern}`;
  const masked = maskedMatch(pattern, address);
  if (masked !== undefined) return masked;
  const bare = pattern.replace(/^\[(.*)\]$/, '$1');
  if (isIP(bare)) return normalizeAddress(bare) === address;
  if (stringMatch(pattern, address)) return true;
  // A name pattern: it matches the client's host name, which needs a reverse lookup.
  if (/^[\d.]+$/.test(pattern) || pattern.includes(':')) return false;
  if (c.names === undefined) return `the host name ${address} resolves to (${pattern})`;
  return c.names.some((n) => stringMatch(pattern, n));
}

function daemonPatternMatches(pattern: string, c: WrapperClient): Tri {
  const at = pattern.lastIndexOf('@');
  if (at > 0) {
    const d = daemonPatternMatches(pattern.slice(0, at), c);
    if (d === false) return false;
    if (!c.server) return `the address the client connected to (${pattern})`;
    const s = clientPatternMatches(pattern.slice(at + 1), { daemon: c.daemon, address: c.server, names: [] });
    return d === true ? s : s === false ? false : d;
  }
  return stringMatch(pattern, c.daemon);
}

/** libwrap's list_match: the first pattern that matches, `EXCEPT` turning the rest into exceptions (nested right to left). */
function listMatches(words: readonly string[], test: (p: string) => Tri): Tri {
  const except = words.findIndex((w) => w.toUpperCase() === 'EXCEPT');
  const head = except < 0 ? words : words.slice(0, except);
  let result: Tri = false;
  for (const w of head) {
    const r = test(w);
    if (r === true) {
      result = true;
      break;
    }
    if (r !== false && result === false) result = r;
  }
  if (result === false || except < 0) return result;
  const excepted = listMatches(words.slice(except + 1), test);
  if (excepted === true) return false;
  if (excepted === false) return result;
  return typeof result === 'string' ? result : excepted;
}

/** Whether one rule applies to the connection: its daemon list and its client list. */
export function wrapperRuleMatches(rule: WrapperRule, c: WrapperClient): Tri {
  const d = listMatches(rule.daemons, (p) => daemonPatternMatches(p, c));
  if (d === false) return false;
  const cl = listMatches(rule.clients, (p) => clientPatternMatches(p, c));
  if (cl === false) return false;
  return d === true ? cl : d;
}

/** The first rule of a table that surely applies, unless one before it might. */
function firstMatch(rules: readonly WrapperRule[], c: WrapperClient): { rule: WrapperRule } | { undecided: { line: SourceLine; why: string }[] } | undefined {
  const undecided: { line: SourceLine; why: string }[] = [];
  for (const rule of rules) {
    const m = wrapperRuleMatches(rule, c);
    if (m === false) continue;
    if (m === true) return undecided.length > 0 ? { undecided } : { rule };
    undecided.push({ line: rule.source, why: m });
  }
  return undecided.length > 0 ? { undecided } : undefined;
}

const hasOption = (rule: WrapperRule, word: 'allow' | 'deny') => rule.options.some((o) => o.toLowerCase() === word);
const ref = (s: SourceLine) => `${s.file}:${s.line}`;

/**
 * Decides what TCP wrappers (hosts_access(5)) say to a connection: the first rule of hosts.allow
 * that matches grants it, else the first of hosts.deny refuses it, else it is granted; an `allow`
 * or `deny` option (hosts_options(5)) turns a rule's meaning. The refusing rule is the setting; the
 * fix adds the client to hosts.allow (ahead of a refusing rule there), or narrows that rule. The
 * files are read on every connection: nothing to reload.
 */
export function decideTcpWrappers(tables: WrapperTables, c: WrapperClient, files: { allow: string; deny: string }): SettingVerdict {
  const address = normalizeAddress(c.address);
  const grant = `${c.daemon}: ${isIP(address) === 6 ? `[${address}]` : address}`;
  const evidence = [`${files.allow}: ${tables.allow.rules.length} rule(s); ${files.deny}: ${tables.deny.rules.length} rule(s)`, ...tables.problems];
  const who = `${c.daemon} for ${address}`;
  const refused = (rule: WrapperRule, inAllow: boolean): SettingVerdict => ({
    outcome: 'refuses',
    setting: rule.source,
    explanation: `${ref(rule.source)} refuses ${who}${inAllow ? ' (its deny option)' : ', and no line of ' + files.allow + ' grants it first'}: sshd accepts the connection and closes it without a word`,
    fix: {
      summary: `Let ${address} in: add "${grant}" to ${files.allow}${inAllow ? ` before line ${rule.source.line}` : ''} (a grant there wins over ${files.deny}), or narrow ${ref(rule.source)} (e.g. "… EXCEPT ${isIP(address) === 6 ? `[${address}]` : address}"). libwrap reads both files on every connection: nothing to reload`,
      edit: inAllow ? { file: files.allow, at: 'before', line: rule.source.line, text: grant } : { file: files.allow, at: 'append', text: grant },
      commands: [],
    },
    evidence,
  });

  const allow = firstMatch(tables.allow.rules, c);
  if (allow && 'undecided' in allow) return { outcome: 'undecided', explanation: `whether ${ref(allow.undecided[0]!.line)} applies to ${who} depends on ${allow.undecided[0]!.why}`, undecided: allow.undecided, evidence };
  if (allow) {
    if (hasOption(allow.rule, 'deny')) return refused(allow.rule, true);
    return { outcome: 'admits', setting: allow.rule.source, explanation: `${ref(allow.rule.source)} grants ${who}`, evidence };
  }
  const deny = firstMatch(tables.deny.rules, c);
  if (deny && 'undecided' in deny) return { outcome: 'undecided', explanation: `whether ${ref(deny.undecided[0]!.line)} refuses ${who} depends on ${deny.undecided[0]!.why}`, undecided: deny.undecided, evidence };
  if (deny) {
    if (hasOption(deny.rule, 'allow')) return { outcome: 'admits', setting: deny.rule.source, explanation: `${ref(deny.rule.source)} matches ${who} with its allow option`, evidence };
    return refused(deny.rule, false);
  }
  return { outcome: 'admits', explanation: `no line of ${files.allow} or ${files.deny} applies to ${who}: granted`, evidence };
}
