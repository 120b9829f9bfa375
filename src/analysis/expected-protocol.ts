import { isTlsService, protocolByName, protocolOfProgram, protocolOfService, protocolSpec, type ProtocolName } from '../knowledge/protocols.js';

/** What a port is expected to speak: TLS, one of whyport's plaintext protocols, or nothing known. */
export type ExpectedProtocol =
  | { speaks: 'tls'; from: ExpectedFrom }
  | { speaks: 'plain'; protocol: ProtocolName; from: ExpectedFrom }
  | { speaks: 'unknown' }
  | { speaks: 'skip' };

/** Where the expectation came from: said in the report. */
/** `answer`: a port of no known protocol that answered a TLS handshake with a certificate. */
export type ExpectedFrom = 'option' | 'service-name' | 'program' | 'answer';

/** What the user said of the protocol: `--protocol NAME` (or `none` for `--no-protocol`), `--tls` / `--no-tls`. */
export interface ProtocolWish {
  /** A name (`postgresql`, `https`, `tls`), `none` to stop at the handshake, or empty. */
  protocol?: string | undefined;
  /** `yes` (--tls), `no` (--no-tls) or empty. */
  tls?: string | undefined;
}

/**
 * What the port is expected to speak, first rule that knows: the user's words (`--protocol`,
 * `--tls`/`--no-tls`), the port's /etc/services name, the program that holds it (when whyport
 * sees the server). Pure; the program is looked up only when the first two say nothing.
 */
export function expectedProtocol(wish: ProtocolWish, portName: string | undefined, program?: string): ExpectedProtocol {
  const named = wish.protocol?.trim().toLowerCase() ?? '';
  if (named === 'none') return { speaks: 'skip' };
  const tls = wish.tls === 'yes' ? true : wish.tls === 'no' ? false : undefined;
  if (named === 'tls' || named === 'https') return tls === false ? { speaks: 'plain', protocol: 'http', from: 'option' } : { speaks: 'tls', from: 'option' };
  const explicit = named ? protocolByName(named) : undefined;
  if (tls === true) return { speaks: 'tls', from: 'option' };
  if (explicit) return { speaks: 'plain', protocol: explicit, from: 'option' };
  const byService = portName ? protocolOfService(portName) : undefined;
  if (portName && isTlsService(portName)) {
    // --no-tls on a TLS port: the plain protocol of its name without the s (https → http).
    if (tls === false) return portName.toLowerCase() === 'https' ? { speaks: 'plain', protocol: 'http', from: 'option' } : { speaks: 'unknown' };
    return { speaks: 'tls', from: 'service-name' };
  }
  if (byService) return { speaks: 'plain', protocol: byService, from: 'service-name' };
  const byProgram = program ? protocolOfProgram(program, portName) : undefined;
  if (byProgram) return { speaks: 'plain', protocol: byProgram, from: 'program' };
  return { speaks: 'unknown' };
}

/**
 * Why an expectation is weak, or undefined when it is not: only the port's name said what to
 * expect, and either the program holding it (seen on the server) is none whyport knows for any
 * protocol — a program of its own on a well-known port — or, seen from a client, the protocol
 * waits for the client's words (TLS, HTTP, Redis, PostgreSQL), which a program of its own on 443
 * never answers. Such a port is listened to briefly, and silence there is no alarm.
 */
export function weakExpectation(e: ExpectedProtocol, program: string | undefined): string | undefined {
  if (e.speaks !== 'tls' && e.speaks !== 'plain') return undefined;
  if (e.from !== 'service-name') return undefined;
  if (program !== undefined) return protocolOfProgram(program) === undefined ? `${program} holds it, a program of no protocol whyport knows` : undefined;
  const clientFirst = e.speaks === 'tls' || protocolSpec(e.protocol).speaksFirst === 'client';
  return clientFirst ? 'only the port’s name says so' : undefined;
}
