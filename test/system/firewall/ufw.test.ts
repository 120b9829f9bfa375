import { describe, expect, it } from 'vitest';
import { parseUfwStatus } from '../../../src/system/firewall/ufw.js';
import { fixture } from './fixtures.js';

describe('parseUfwStatus', () => {
  it('reads an inactive ufw', () => {
    expect(parseUfwStatus(fixture('ufw', 'inactive.txt'))).toEqual({ active: false });
  });

  it('reads the defaults of an active ufw without rules', () => {
    expect(parseUfwStatus(fixture('ufw', 'active-no-rules.txt'))).toEqual({
      active: true,
      logging: 'on (low)',
      defaults: { incoming: 'deny', outgoing: 'allow', routed: 'disabled' },
      rules: [],
    });
  });

  it('reads every kind of rule of status verbose', () => {
    const s = parseUfwStatus(fixture('ufw', 'active-rules.txt'));
    if (!s.active) throw new Error('expected active');
    const rule = (text: string) => s.rules.find((r) => r.text.replace(/\s+/g, ' ') === text)!;
    expect(rule('22/tcp ALLOW IN Anywhere')).toEqual({ text: expect.any(String), to: { ports: [[22, 22]], protocol: 'tcp' }, from: {}, action: 'allow', direction: 'in', v6: false });
    expect(rule('7071/tcp DENY IN Anywhere')).toMatchObject({ action: 'deny', to: { ports: [[7071, 7071]] } });
    expect(rule('7000:7100/tcp REJECT IN Anywhere')).toMatchObject({ action: 'reject', to: { ports: [[7000, 7100]], protocol: 'tcp' } });
    expect(rule('7072/tcp ALLOW IN 10.0.0.0/8').from).toEqual({ address: '10.0.0.0/8' });
    expect(rule('8080/tcp on eth0 ALLOW IN Anywhere').to).toEqual({ ports: [[8080, 8080]], protocol: 'tcp', interface: 'eth0' });
    expect(rule('2222/tcp LIMIT IN Anywhere # rate-limited ssh')).toMatchObject({ action: 'limit', comment: 'rate-limited ssh' });
    expect(rule('Anywhere DENY IN 192.0.2.0/24')).toMatchObject({ to: {}, from: { address: '192.0.2.0/24' }, action: 'deny' });
    expect(rule('53 ALLOW IN Anywhere').to).toEqual({ ports: [[53, 53]] });
    expect(rule('80,443/tcp (WWW Full) ALLOW IN Anywhere').to).toEqual({ ports: [[80, 80], [443, 443]], protocol: 'tcp', app: 'WWW Full' });
    expect(rule('80,443/tcp (WWW Full (v6)) ALLOW IN Anywhere (v6)')).toMatchObject({ v6: true, to: { app: 'WWW Full' } });
    expect(rule('10.9.9.9 7073/tcp ALLOW IN Anywhere').to).toEqual({ address: '10.9.9.9', ports: [[7073, 7073]], protocol: 'tcp' });
    expect(rule('Anywhere on eth1 ALLOW IN 10.1.0.0/16')).toMatchObject({ to: { interface: 'eth1' }, from: { address: '10.1.0.0/16' } });
    expect(rule('7074/tcp ALLOW IN Anywhere (log)')).toMatchObject({ log: 'log', from: {} });
    expect(rule('7075/tcp ALLOW IN 10.2.0.0/16 5000/tcp').from).toEqual({ address: '10.2.0.0/16', ports: [[5000, 5000]], protocol: 'tcp' });
    expect(rule('9000/tcp ALLOW IN fd00::/8')).toMatchObject({ v6: true });
    expect(rule('7071/tcp (v6) DENY IN Anywhere (v6)')).toMatchObject({ v6: true, to: { ports: [[7071, 7071]] } });
    expect(rule('25/tcp DENY OUT Anywhere')).toMatchObject({ direction: 'out' });
    expect(rule('3306/tcp on eth1 ALLOW FWD Anywhere on eth0')).toMatchObject({ direction: 'fwd', from: { interface: 'eth0' } });
    expect(s.rules).toHaveLength(30);
  });

  it('reads numbered status: application rules by name only', () => {
    const s = parseUfwStatus(fixture('ufw', 'active-rules.numbered.txt'));
    if (!s.active) throw new Error('expected active');
    expect(s.rules).toHaveLength(30);
    expect(s.rules[0]!.text).toBe('22/tcp                     ALLOW IN    Anywhere');
    expect(s.rules.find((r) => r.to.app === 'WWW Full' && !r.v6)!.to).toEqual({ app: 'WWW Full' });
    expect(s.rules.find((r) => r.text.startsWith('25/tcp ') )).toMatchObject({ direction: 'out' });
  });

  it('reads the other default policies', () => {
    const allow = parseUfwStatus(fixture('ufw', 'default-allow.txt'));
    const reject = parseUfwStatus(fixture('ufw', 'default-reject.txt'));
    expect(allow.active && allow.defaults.incoming).toBe('allow');
    expect(reject.active && reject.defaults).toEqual({ incoming: 'reject', outgoing: 'allow', routed: 'disabled' });
    expect(reject.active && reject.logging).toBe('off');
  });

  it('refuses text that is not ufw status', () => {
    expect(() => parseUfwStatus(fixture('ufw', 'nonroot.stderr.txt'))).toThrow(/not ufw status/);
  });
});
