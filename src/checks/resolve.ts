import { text, z } from './params.js';
import { defineCheck } from './check.js';
import type { NameserverReply } from '../host/host.js';
import type { Resolution } from '../system/facts.js';
import { nameserverRepliesOf, nameserversOf } from '../system/nameservers.js';
import { nameserverAnswer, worthAskingNameservers, type NameserverAnswer } from '../analysis/nameservers.js';

import { e, fields } from './evidence.js';
import { asciiHostName } from '../net/host-name.js';

/** What the resolve step reads: getaddrinfo's answer, and when it failed, the nameservers and what each says asked directly. */
export interface ResolveReadings {
  resolution: Resolution;
  /** /etc/resolv.conf's nameservers (read only when the name does not resolve). */
  nameservers: string[];
  /** Their direct answers (asked only when that can say more than getaddrinfo did). */
  replies: NameserverReply[];
}

/**
 * Why a name does not resolve, the way an expert finds out: what getaddrinfo said (files and DNS,
 * as every program sees it), and, when the resolver failed without an answer, what each
 * nameserver of /etc/resolv.conf says when asked directly: no such name, refused, or silence.
 */
export const resolve = defineCheck({
  description: 'Resolve the host (both families) and, when that fails, ask each configured nameserver why',
  outcomes: ['resolved', 'no-such-name', 'no-answer', 'refused', 'no-resolver', 'failed'],
  params: z.object({ host: text() }),
  evidence: fields({ host: e.str(), code: e.str(), error: e.str(), durationMs: e.num(), nameservers: e.list(e.str()), answers: e.list(e.any()), ipv4: e.list(e.str()), ipv6: e.list(e.str()) }),
  describe: (p) => `resolving ${p.host} and asking its nameservers`,
  async read(p, ctx): Promise<ResolveReadings> {
    const resolution = await ctx.facts.resolve(p.host);
    if (resolution.ok) return { resolution, nameservers: [], replies: [] };
    const nameservers = await ctx.facts.read(nameserversOf, undefined);
    const ask = worthAskingNameservers(resolution.code, nameservers);
    return { resolution, nameservers, replies: ask ? await ctx.facts.read(nameserverRepliesOf, { servers: nameservers, name: p.host }) : [] };
  },
  decide: decideResolve,
});

/** The pure decision of the resolve step: what getaddrinfo said, and why, from the nameservers' own answers. */
export function decideResolve(r: ResolveReadings, p: { host: string }) {
  const res = r.resolution;
  const command = `getent ahosts ${asciiHostName(p.host)}`;
  if (res.ok) {
    const v4 = res.addresses.filter((a) => a.family === 4).map((a) => a.address);
    const v6 = res.addresses.filter((a) => a.family === 6).map((a) => a.address);
    const parts = [v4.length ? `IPv4 ${v4.join(', ')}` : 'no IPv4 address', v6.length ? `IPv6 ${v6.join(', ')}` : 'no IPv6 address'];
    return { outcome: 'resolved' as const, status: 'pass' as const, summary: `${p.host} resolves: ${parts.join('; ')}`, command, evidence: { ipv4: v4, ipv6: v6, durationMs: res.durationMs } };
  }
  const servers = r.nameservers;
  const base = { host: p.host, code: res.code, error: res.error, durationMs: res.durationMs, nameservers: servers };
  if (res.code === 'ENOTFOUND') {
    const by = servers.length ? ` (nameservers: ${servers.join(', ')})` : '';
    return { outcome: 'no-such-name' as const, status: 'fail' as const, summary: `${p.host} is not in /etc/hosts and DNS says there is no such name (${res.code})${by}`, command, evidence: { ...base, answers: [] } };
  }
  if (servers.length === 0) {
    return { outcome: 'no-resolver' as const, status: 'fail' as const, summary: `${p.host} does not resolve (${res.code}) and /etc/resolv.conf names no nameserver`, command: 'cat /etc/resolv.conf', evidence: { ...base, answers: [] } };
  }
  if (res.code === 'ETIMEOUT') {
    return { outcome: 'no-answer' as const, status: 'fail' as const, summary: `no answer for ${p.host} within ${res.durationMs} ms from the nameservers ${servers.join(', ')}`, command, evidence: { ...base, answers: [] } };
  }
  const answers = r.replies.map((x) => nameserverAnswer(x.server, x.a, x.aaaa));
  const all = (v: NameserverAnswer['verdict']) => answers.every((a) => a.verdict === v);
  const outcome =
    answers.some((a) => a.verdict === 'no-such-name') ? ('no-such-name' as const) :
    all('refused') ? ('refused' as const) :
    answers.every((a) => a.verdict === 'refused' || a.verdict === 'no-answer') ? ('no-answer' as const) :
    ('failed' as const);
  const summary = `${p.host} does not resolve (getaddrinfo: ${res.code} after ${res.durationMs} ms); asked directly, ${answers.map((a) => a.text).join('; ')}`;
  return { outcome, status: 'fail' as const, summary, command, evidence: { ...base, answers } };
}
