import type { DnsAnswer, Host } from '../host/host.js';
import { text, z } from './params.js';
import { defineCheck } from './check.js';
import { e, fields } from './evidence.js';
import { asciiHostName } from '../net/host-name.js';

/** What one nameserver says of the name, asked directly (A and AAAA). */
export interface NameserverAnswer {
  server: string;
  /** answers | no-such-name | no-records | refused | no-answer | failed */
  verdict: 'answers' | 'no-such-name' | 'no-records' | 'refused' | 'no-answer' | 'failed';
  /** c-ares's code: ECONNREFUSED, ETIMEOUT, ENOTFOUND, ESERVFAIL, EREFUSED, … */
  code?: string;
  addresses?: string[];
  text: string;
}

/** How long a nameserver gets when asked directly: the resolver already said something is wrong. */
const DIRECT_QUERY_MS = 400;

function nameserverText(server: string, verdict: NameserverAnswer['verdict'], code: string | undefined, addresses: string[]): string {
  switch (verdict) {
    case 'answers':
      return `nameserver ${server} answers with ${addresses.join(', ')}`;
    case 'no-such-name':
      return `nameserver ${server} says there is no such name (NXDOMAIN)`;
    case 'no-records':
      return `nameserver ${server} knows the name but has no address for it (no A or AAAA record)`;
    case 'refused':
      return code === 'ECONNREFUSED'
        ? `nameserver ${server} refuses the connection (ECONNREFUSED): no DNS server listens there`
        : `nameserver ${server} refuses to answer (${code})`;
    case 'no-answer':
      return `nameserver ${server} does not answer (${code})`;
    default:
      return `nameserver ${server}: ${code}`;
  }
}

/** Asks each nameserver for A and AAAA records of the name (one host call), with a short timeout. */
export async function askNameservers(host: Host, servers: readonly string[], name: string): Promise<NameserverAnswer[]> {
  const replies = await host.queryNameservers(servers, asciiHostName(name), { timeoutMs: DIRECT_QUERY_MS });
  return replies.map((r) => nameserverAnswer(r.server, r.a, r.aaaa));
}

/** What the A and AAAA answers of one nameserver say together. */
export function nameserverAnswer(server: string, a: DnsAnswer, aaaa: DnsAnswer): NameserverAnswer {
  const addresses = [a, aaaa].flatMap((r) => ('addresses' in r ? r.addresses : []));
  const codes = [a, aaaa].flatMap((r) => ('code' in r ? [r.code] : []));
  const code = codes.find((c) => c !== 'ENODATA') ?? codes[0];
  const verdict: NameserverAnswer['verdict'] =
    addresses.length > 0 ? 'answers' :
    code === 'ENOTFOUND' ? 'no-such-name' :
    code === 'ENODATA' ? 'no-records' :
    code === 'ECONNREFUSED' || code === 'EREFUSED' ? 'refused' :
    code === 'ETIMEOUT' || code === 'ECONNRESET' ? 'no-answer' :
    'failed';
  return { server, verdict, ...(code ? { code } : {}), ...(addresses.length ? { addresses } : {}), text: nameserverText(server, verdict, code, addresses) };
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
  async run(p, ctx) {
    const res = await ctx.facts.resolve(p.host);
    const command = `getent ahosts ${asciiHostName(p.host)}`;
    if (res.ok) {
      const v4 = res.addresses.filter((a) => a.family === 4).map((a) => a.address);
      const v6 = res.addresses.filter((a) => a.family === 6).map((a) => a.address);
      const parts = [v4.length ? `IPv4 ${v4.join(', ')}` : 'no IPv4 address', v6.length ? `IPv6 ${v6.join(', ')}` : 'no IPv6 address'];
      return { outcome: 'resolved', status: 'pass', summary: `${p.host} resolves: ${parts.join('; ')}`, command, evidence: { ipv4: v4, ipv6: v6, durationMs: res.durationMs } };
    }
    const servers = await ctx.host.nameservers();
    const base = { host: p.host, code: res.code, error: res.error, durationMs: res.durationMs, nameservers: servers };
    if (res.code === 'ENOTFOUND') {
      const by = servers.length ? ` (nameservers: ${servers.join(', ')})` : '';
      return { outcome: 'no-such-name', status: 'fail', summary: `${p.host} is not in /etc/hosts and DNS says there is no such name (${res.code})${by}`, command, evidence: { ...base, answers: [] } };
    }
    if (servers.length === 0) {
      return { outcome: 'no-resolver', status: 'fail', summary: `${p.host} does not resolve (${res.code}) and /etc/resolv.conf names no nameserver`, command: 'cat /etc/resolv.conf', evidence: { ...base, answers: [] } };
    }
    if (res.code === 'ETIMEOUT') {
      // The resolver was already given the whole timeout: asking again would only double the wait.
      return { outcome: 'no-answer', status: 'fail', summary: `no answer for ${p.host} within ${res.durationMs} ms from the nameservers ${servers.join(', ')}`, command, evidence: { ...base, answers: [] } };
    }
    const answers = await askNameservers(ctx.host, servers, p.host);
    const all = (v: NameserverAnswer['verdict']) => answers.every((a) => a.verdict === v);
    const outcome =
      answers.some((a) => a.verdict === 'no-such-name') ? 'no-such-name' :
      all('refused') ? 'refused' :
      answers.every((a) => a.verdict === 'refused' || a.verdict === 'no-answer') ? 'no-answer' :
      'failed';
    const summary = `${p.host} does not resolve (getaddrinfo: ${res.code} after ${res.durationMs} ms); asked directly, ${answers.map((a) => a.text).join('; ')}`;
    return { outcome, status: 'fail', summary, command, evidence: { ...base, answers } };
  },
});
