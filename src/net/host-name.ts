import { domainToASCII } from 'node:url';

/**
 * The name the resolver needs: an internationalised name (`例え.jp`) in punycode (`xn--r8jz45g.jp`),
 * as every program's getaddrinfo expects; other names as they are. '' when it cannot be converted.
 * whyport shows the name as typed and resolves this one.
 */
export function asciiHostName(name: string): string {
  return /^[\x00-\x7f]*$/.test(name) ? name : domainToASCII(name);
}
