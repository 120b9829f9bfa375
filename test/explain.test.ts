import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/errors.js';
import { runExplain, type ExplainHost } from '../src/commands/explain.js';
import { TCP_STATE_INFO, parseTcpStateName, renderLifeCycle } from '../src/knowledge/tcp-states.js';
import { serviceTable } from '../src/cli/port-argument.js';
import { TCP_STATES } from '../src/system/socket.js';

// `whyport explain`, with Debian 12's /etc/services as captured (test/fixtures/services/debian12.txt)
// and Linux's default ephemeral range, so the output does not depend on the machine.
const SERVICES = fileURLToPath(new URL('./fixtures/services/debian12.txt', import.meta.url));
const services = serviceTable(readFileSync(SERVICES, 'utf8'), SERVICES);
const host: ExplainHost = { services, ephemeralRange: () => '32768\t60999\n' };

async function explain(...args: string[]): Promise<{ status: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const status = await runExplain(args, { stdout: (t) => void (out += t), stderr: (t) => void (err += t) }, host);
  return { status, out, err };
}

async function usageError(...args: string[]): Promise<UsageError> {
  try {
    await explain(...args);
  } catch (e) {
    if (e instanceof UsageError) return e;
    throw e;
  }
  throw new Error(`explain ${args.join(' ')} did not fail`);
}

describe('whyport explain STATE', () => {
  it('close-wait: its names, its sentence, the life cycle with its row marked', async () => {
    const r = await explain('close-wait');
    expect(r.status).toBe(0);
    expect(r.err).toBe('');
    const lines = r.out.split('\n');
    expect(lines[0]).toBe('CLOSE_WAIT (ss: CLOSE-WAIT)');
    expect(r.out.replace(/\n {2}/g, ' ')).toContain(TCP_STATE_INFO.CLOSE_WAIT.sentence);
    const marked = lines.filter((l) => l.startsWith('»'));
    expect(marked).toHaveLength(1);
    expect(marked[0]).toMatch(/FIN_WAIT1 +──── FIN ─+▶ \[CLOSE_WAIT\] +until its program calls close\(\)/);
    expect(r.out).toContain('ss -tanp state close-wait');
  });

  it('takes netstat’s and ss’s spellings, in any case', async () => {
    for (const [word, state] of [
      ['CLOSE_WAIT', 'CLOSE_WAIT'],
      ['estab', 'ESTABLISHED'],
      ['ESTAB', 'ESTABLISHED'],
      ['FIN-WAIT-2', 'FIN_WAIT2'],
      ['fin_wait1', 'FIN_WAIT1'],
      ['syn-recv', 'SYN_RECV'],
      ['SYN_RECEIVED', 'SYN_RECV'],
      ['time-wait', 'TIME_WAIT'],
      ['unconn', 'CLOSE'],
      ['closed', 'CLOSE'],
      ['Listen', 'LISTEN'],
      ['last-ack', 'LAST_ACK'],
    ] as const) {
      expect(parseTcpStateName(word), word).toBe(state);
      expect((await explain(word)).out.split('\n')[0], word).toMatch(new RegExp(`^${state}\\b`));
    }
    expect(parseTcpStateName('unknown')).toBeUndefined();
    expect(parseTcpStateName('https')).toBeUndefined();
  });

  it('every state has a sentence and at least one marked row', () => {
    for (const s of TCP_STATES.filter((x) => x !== 'UNKNOWN')) {
      expect(TCP_STATE_INFO[s].sentence, s).toMatch(/^[A-Z].{40,}\.$/);
      expect(renderLifeCycle(s).split('\n').some((l) => l.startsWith('»')), s).toBe(true);
    }
    // Unmarked, nothing is pointed at, and the columns line up: every state cell starts in the same column.
    const plain = renderLifeCycle();
    expect(plain).not.toContain('»');
    expect(plain).not.toContain('[');
    const at = (label: string) => plain.split('\n').find((l) => l.includes(` ${label} `))!.indexOf(` ${label} `);
    expect(at('SYN_SENT')).toBe(at('FIN_WAIT1'));
    expect(at('SYN_RECV')).toBe(at('CLOSE_WAIT'));
  });
});

describe('whyport explain PORT | NAME', () => {
  it('https → 443/tcp, with the programs and units that usually serve it', async () => {
    const r = await explain('https');
    expect(r.status).toBe(0);
    expect(r.out.split('\n')).toEqual([
      'https is port 443/tcp',
      '  over UDP too: whyport explain 443/udp',
      '  HTTPS, the web over TLS (on UDP: HTTP/3 over QUIC)',
      '  usually served by: nginx, apache2, httpd, caddy, lighttpd, haproxy, traefik, envoy',
      '  systemd units:     nginx, apache2, httpd, caddy, lighttpd, haproxy, traefik',
      "  see what listens there: ss -Htlnp 'sport = :443'   (or: whyport 127.0.0.1 443)",
      '',
    ]);
    expect((await explain('HTTPS')).out).toBe(r.out);
  });

  it('5432 → postgresql, usually postgres; an alias is named as such', async () => {
    const r = await explain('5432');
    expect(r.out).toMatch(/^port 5432\/tcp is postgresql\n {2}also known as: postgres\n {2}PostgreSQL database\n {2}usually served by: postgres\n {2}systemd units: +postgresql\n/);
    expect((await explain('postgres')).out.split('\n')[0]).toBe('postgres is port 5432/tcp (postgresql)');
  });

  it('a program or unit name → the ports it usually listens on', async () => {
    const r = await explain('nginx');
    expect(r.out.split('\n')[0]).toBe('nginx usually listens on 80/tcp (http), 443/tcp+udp (https), 8080/tcp (http-alt), 8443/tcp (https-alt)');
    expect((await explain('redis-server')).out.split('\n')[0]).toBe('redis-server usually listens on 6379/tcp (redis)');
    expect((await explain('postgresql.service')).out.split('\n')[0]).toBe('postgresql.service usually listens on 5432/tcp (postgresql)');
  });

  it('a port nobody is known for: said plainly, with the ephemeral range when it falls in it', async () => {
    const low = await explain('7071');
    expect(low.status).toBe(0);
    expect(low.out).toContain('port 7071/tcp has no name in');
    expect(low.out).toContain('whyport knows no program that usually listens on it');
    expect(low.out).not.toContain('ephemeral');
    expect((await explain('40000')).out).toContain("in this machine's ephemeral range (32768–60999)");
  });

  it('without /etc/services the built-in table answers, and says so', async () => {
    const builtIn = serviceTable(undefined, '/nonexistent/services');
    let out = '';
    await runExplain(['https'], { stdout: (t) => void (out += t), stderr: () => {} }, { services: builtIn, ephemeralRange: () => undefined });
    expect(out).toContain('https is port 443/tcp');
    expect(out).toContain("this machine has no /etc/services: names from whyport's built-in table");
  });
});

describe('whyport explain: UDP ports', () => {
  it('53/udp: the UDP name, who serves it, and how to see what is bound there', async () => {
    const r = await explain('53/udp');
    expect(r.status).toBe(0);
    const lines = r.out.split('\n');
    expect(lines[0]).toBe('port 53/udp is domain');
    expect(lines).toContain('  over TCP too: whyport explain 53/tcp');
    expect(lines).toContain('  usually served by: named, unbound, systemd-resolve, dnsmasq, pdns_server, pdns_recursor, coredns');
    expect(lines).toContain("  see what is bound there: ss -Hulnp 'sport = :53'   (or: whyport 127.0.0.1 53/udp)");
    expect((await explain('domain/UDP')).out).toBe(r.out.replace('port 53/udp is domain', 'domain is port 53/udp'));
  });

  it('a name /etc/services knows for UDP only is UDP by itself; one it knows for both is TCP', async () => {
    expect((await explain('ntp')).out.split('\n')[0]).toBe('ntp is port 123/udp');
    // Debian: `shell 514/tcp cmd syslog` and `syslog 514/udp`: the entry's own name wins over the alias.
    expect((await explain('syslog')).out.split('\n')[0]).toBe('syslog is port 514/udp');
    expect((await explain('domain')).out.split('\n')[0]).toBe('domain is port 53/tcp');
    expect((await explain('123')).out.split('\n')[0]).toMatch(/^port 123\/tcp has no name/);
  });

  it('a program that serves UDP lists its ports with their protocols', async () => {
    const first = (await explain('dnsmasq')).out.split('\n');
    expect(first[0]).toBe('dnsmasq usually listens on 53/tcp+udp (domain), 67/udp (bootps), 69/udp (tftp)');
    expect(first).toContain(`  see where it listens now: ss -Htulnp | grep '"dnsmasq"'`);
  });

  it('another protocol, or none after the slash, is bad usage', async () => {
    expect((await usageError('53/sctp')).message).toBe("'53/sctp': whyport does not diagnose sctp");
    expect((await usageError('53/')).message).toBe("'53/' names no protocol after the '/'");
    expect((await usageError('ntp/tcp')).message).toMatch(/^'ntp' is a UDP service only \(port 123\)/);
  });
});

describe('whyport explain: bad usage', () => {
  it('unknown names fail with a hint, suggesting a near miss', async () => {
    const e = await usageError('ngnix');
    expect(e.message).toMatch(/^'ngnix' is not a TCP state, nor a service in .* nor a program whyport knows$/);
    expect(e.hint).toMatch(/^did you mean 'nginx'\?/);
    expect((await usageError('zzzqqq')).hint).toMatch(/^give a TCP state/);
  });

  it('nothing to explain, a port out of range, or something that is not a word', async () => {
    expect((await usageError()).message).toBe('explain what?');
    expect((await usageError('0')).message).toBe('port 0 is out of range');
    expect((await usageError('65536')).message).toBe('port 65536 is out of range');
    expect((await usageError('a;b')).message).toBe("'a;b' is not a TCP state, a port or a name");
  });

  it('--help prints the usage and succeeds', async () => {
    const r = await explain('--help');
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/^usage: whyport explain STATE \| PORT \| NAME/);
  });
});
