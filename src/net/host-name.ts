import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';

/**
 * The name the resolver needs: an internationalised name (`例え.jp`) in punycode (`xn--r8jz45g.jp`),
 * as every program's getaddrinfo expects; other names as they are. '' when it cannot be converted.
 * whyport shows the name as typed and resolves this one.
 */
export function asciiHostName(name: string): string {
  return /^[\x00-\x7f]*$/.test(name) ? name : domainToASCII(name);
}

/**
 * The name a client sends for `host` in TLS's SNI and HTTP's Host (RFC 6066 §3, RFC 9110 §7.2),
 * which a proxy also matches its server_name against: ASCII (an internationalised name in
 * punycode); none for an address literal or a name that cannot be converted.
 */
export function nameToSend(host: string): string | undefined {
  return isIP(host) === 0 ? asciiHostName(host) || undefined : undefined;
}
