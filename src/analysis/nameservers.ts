import type { DnsAnswer } from '../host/host.js';

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
 * Whether asking each nameserver directly can say more than getaddrinfo did: not after NXDOMAIN (DNS
 * answered), not without nameservers, and not after a timeout (the resolver already had the whole
 * timeout; asking again would only double the wait).
 */
export function worthAskingNameservers(code: string, servers: readonly string[]): boolean {
  return code !== 'ENOTFOUND' && servers.length > 0 && code !== 'ETIMEOUT';
}
