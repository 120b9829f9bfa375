import { describe, expect, it } from 'vitest';
import { proxyForward } from '../../src/analysis/proxy.js';
import { fixture } from '../system/firewall/fixtures.js';

// `pgrep -a` lines (pid, then the command line) from test/fixtures/proxy; # lines name sources.
function commandLines(name: string): string[] {
  return fixture('proxy', name)
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'))
    .map((l) => l.replace(/^\d+\s+/, ''));
}

describe('proxyForward: docker-proxy', () => {
  const [old, tcp, udp6] = commandLines('docker-proxy.txt');

  it('reads the Go flags: host side listens, container side receives', () => {
    expect(proxyForward(tcp!, 8080)).toEqual({
      via: 'proxy',
      program: 'docker-proxy',
      to: { address: '172.17.0.2', port: 80 },
      listen: { address: '0.0.0.0', port: 8080 },
      protocol: 'tcp',
      rule: '/usr/bin/docker-proxy -proto tcp -host-ip 0.0.0.0 -host-port 8080 -container-ip 172.17.0.2 -container-port 80 -use-listen-fd',
    });
    expect(proxyForward(udp6!, 5353)).toMatchObject({ to: { address: 'fd00:17::4', port: 53 }, listen: { address: '::1', port: 5353 }, protocol: 'udp' });
  });

  it('the 2014 form, started by name without a path', () => {
    expect(proxyForward(old!, 49153)).toMatchObject({ program: 'docker-proxy', to: { address: '10.0.0.2', port: 80 }, listen: { address: '0.0.0.0', port: 49153 } });
  });

  it("is not the answer for another port's proxy", () => {
    expect(proxyForward(tcp!, 80)).toBeUndefined();
    expect(proxyForward(old!, 49154)).toBeUndefined();
  });
});

describe('proxyForward: socat (captured here)', () => {
  const lines = commandLines('socat.pgrep-a.txt');
  const at = (port: number) => lines.map((l) => proxyForward(l, port)).find((f) => f !== undefined);

  it('TCP-LISTEN to TCP: listens on every IPv4 address', () => {
    expect(at(8080)).toEqual({
      via: 'proxy',
      program: 'socat',
      to: { address: '172.30.0.2', port: 80 },
      listen: { address: '0.0.0.0', port: 8080 },
      protocol: 'tcp',
      rule: 'socat TCP-LISTEN:8080,fork,reuseaddr TCP:172.30.0.2:80',
    });
  });

  it('options before the addresses, bind=, TCP6 with a bracketed target, UDP, lower-case abbreviations', () => {
    expect(at(8081)).toMatchObject({ to: { address: '10.88.0.5', port: 8080 }, listen: { address: '127.0.0.1', port: 8081 } });
    expect(at(8082)).toMatchObject({ to: { address: 'fd00:30::2', port: 80 }, listen: { address: '::', port: 8082 } });
    expect(at(5353)).toMatchObject({ to: { address: '10.88.0.5', port: 53 }, protocol: 'udp' });
    expect(at(8085)).toMatchObject({ to: { address: '127.0.0.1', port: 9000 }, listen: { address: '0.0.0.0', port: 8085 } });
  });

  it('a host name stays a name; a Unix socket is no network target', () => {
    expect(at(8083)).toMatchObject({ to: { address: 'db.internal', port: 5432 } });
    expect(at(8084)).toMatchObject({ to: undefined, note: 'socat sends the connections to UNIX-CONNECT:/run/app.sock, not to a network address' });
  });

  it('reads /proc/PID/cmdline as it is, NUL-separated', () => {
    expect(proxyForward(fixture('proxy', 'socat-8080.cmdline'), 8080)).toMatchObject({ to: { address: '172.30.0.2', port: 80 }, rule: 'socat TCP-LISTEN:8080,fork,reuseaddr TCP:172.30.0.2:80' });
  });

  it('no socat listens on 9999', () => {
    expect(at(9999)).toBeUndefined();
  });
});

describe('proxyForward: forwarders whose command line names no target', () => {
  it('slirp4netns (captured here), from pgrep and from /proc/PID/cmdline', () => {
    const [line] = commandLines('slirp4netns.pgrep-a.txt');
    expect(proxyForward(line!, 8080)).toMatchObject({ via: 'proxy', program: 'slirp4netns', to: undefined, rule: line });
    expect(proxyForward(fixture('proxy', 'slirp4netns.cmdline'), 8080)).toMatchObject({ program: 'slirp4netns', to: undefined, rule: line });
    expect(proxyForward(line!, 8080)?.note).toMatch(/API socket/);
  });

  it('rootlessport', () => {
    const [line] = commandLines('rootlessport.txt');
    expect(proxyForward(line!, 8080)).toEqual({ via: 'proxy', program: 'rootlessport', to: undefined, rule: 'rootlessport', note: 'rootlessport reads its port mappings from stdin; `podman port CONTAINER` lists them' });
  });
});

describe('proxyForward: ssh -L (captured here)', () => {
  const [line] = commandLines('ssh.pgrep-a.txt');

  it('each -L by its listen port; loopback unless a bind address is given', () => {
    expect(proxyForward(line!, 8086)).toMatchObject({ program: 'ssh', to: { address: '10.88.0.7', port: 80 }, listen: { address: '127.0.0.1', port: 8086 } });
    expect(proxyForward(line!, 8087)).toMatchObject({ to: { address: 'fd00::7', port: 443 }, listen: { address: '127.0.0.1', port: 8087 } });
    expect(proxyForward(line!, 22)).toBeUndefined();
  });
});

describe('proxyForward: other programs', () => {
  it('are not forwarders, even on the port', () => {
    expect(proxyForward('/usr/sbin/nginx -g daemon off;', 80)).toBeUndefined();
    expect(proxyForward('', 80)).toBeUndefined();
  });
});
