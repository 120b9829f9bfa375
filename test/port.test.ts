import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseDiagnoseArgs, type Environment } from '../src/cli/diagnose-args.js';
import { UsageError } from '../src/errors.js';
import { parsePort, serviceTable } from '../src/cli/port-argument.js';

// Debian 12's /etc/services as captured, so the protocols do not depend on the machine.
const SERVICES = fileURLToPath(new URL('./fixtures/services/debian12.txt', import.meta.url));
const services = serviceTable(readFileSync(SERVICES, 'utf8'), SERVICES);
const envi: Environment = { stdinIsTTY: false, stdoutIsTTY: false, stderrIsTTY: false, env: {}, version: '0.0.0' };

function fails(text: string, asked?: 'udp'): UsageError {
  try {
    parsePort(text, services, asked);
  } catch (e) {
    if (e instanceof UsageError) return e;
    throw e;
  }
  throw new Error(`${text} parsed`);
}

describe('PORT with its protocol', () => {
  it('PORT/udp and PORT/tcp say the protocol; a number alone is TCP', () => {
    expect(parsePort('53/udp', services)).toEqual({ port: 53, name: 'domain', protocol: 'udp' });
    expect(parsePort('443/TCP', services)).toEqual({ port: 443, name: 'https', protocol: 'tcp' });
    expect(parsePort('7071', services)).toEqual({ port: 7071, protocol: 'tcp' });
    expect(parsePort('7071/udp', services)).toEqual({ port: 7071, protocol: 'udp' });
  });

  it('--udp is the same as /udp, and contradicting it is an error', () => {
    expect(parsePort('53', services, 'udp')).toEqual(parsePort('53/udp', services));
    expect(parsePort('53/udp', services, 'udp')).toEqual(parsePort('53/udp', services));
    expect(fails('53/tcp', 'udp').message).toBe("'53/tcp' says tcp, but --udp was given");
  });

  it('a name takes its protocol from /etc/services: both is TCP, UDP only is UDP', () => {
    expect(parsePort('domain', services)).toEqual({ port: 53, name: 'domain', protocol: 'tcp' });
    expect(parsePort('domain', services, 'udp')).toEqual({ port: 53, name: 'domain', protocol: 'udp' });
    expect(parsePort('ntp', services)).toEqual({ port: 123, name: 'ntp', protocol: 'udp' });
    // `shell 514/tcp cmd syslog` lists syslog as an alias for TCP; `syslog 514/udp` is its own entry.
    expect(parsePort('syslog', services)).toEqual({ port: 514, name: 'syslog', protocol: 'udp' });
    expect(parsePort('cmd', services)).toEqual({ port: 514, name: 'cmd', protocol: 'tcp' });
    expect(parsePort('ntp/udp', services)).toEqual({ port: 123, name: 'ntp', protocol: 'udp' });
  });

  it('without /etc/services the built-in table knows the UDP names too', () => {
    const builtIn = serviceTable(undefined);
    expect(parsePort('ntp', builtIn).protocol).toBe('udp');
    expect(parsePort('domain', builtIn).protocol).toBe('tcp');
    expect(parsePort('53/udp', builtIn).name).toBe('domain');
  });

  it('bad input is a clear error', () => {
    expect(fails('53/sctp').message).toBe("'53/sctp': whyport does not diagnose sctp");
    expect(fails('53/').message).toBe("'53/' names no protocol after the '/'");
    expect(fails('/udp').message).toBe("'/udp' names no port before the '/'");
    expect(fails('0/udp').message).toBe('port 0 is out of range');
    expect(fails('ntp/tcp').message).toBe("'ntp' is a UDP service only (port 123) in " + SERVICES);
    expect(fails('ntp/tcp').hint).toBe('give 123/tcp if you mean that port over TCP');
    expect(fails('no-such-thing/udp').message).toBe("unknown service name 'no-such-thing/udp'");
  });
});

describe('the diagnosis command line', () => {
  const parse = (...argv: string[]) => parseDiagnoseArgs(argv, envi, () => {}, services);

  it('HOST PORT/udp, HOST:PORT/udp and --udp give the same options', async () => {
    const a = await parse('10.0.0.5', '53/udp');
    const b = await parse('10.0.0.5:53/udp');
    const c = await parse('10.0.0.5', '53', '--udp');
    const d = await parse('-u', '10.0.0.5', 'domain');
    for (const o of [a, b, c, d]) expect(o).toMatchObject({ host: '10.0.0.5', port: 53, portName: 'domain', protocol: 'udp' });
    expect(await parse('[fd00::5]:123/udp')).toMatchObject({ host: 'fd00::5', port: 123, protocol: 'udp' });
    expect(await parse('10.0.0.5', 'ntp')).toMatchObject({ port: 123, protocol: 'udp' });
    expect(await parse('10.0.0.5', '7071')).toMatchObject({ protocol: 'tcp' });
  });

  it('a bad protocol is a UsageError (exit status 2)', async () => {
    await expect(parse('10.0.0.5', '53/sctp')).rejects.toThrow(UsageError);
    await expect(parse('10.0.0.5:53/')).rejects.toThrow("'53/' names no protocol after the '/'");
  });
});
