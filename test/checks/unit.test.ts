import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decideUnit, type JudgedUnit } from '../../src/checks/unit.js';
import { parseJournal } from '../../src/system/systemd/journal.js';
import { parseSystemctlShow, statusFromProperties } from '../../src/system/systemd/show.js';
import type { UnitDetails } from '../../src/system/systemd/units.js';
import { assertHas } from '../helpers/narrow.js';

// The unit step's decision, from what it read: `systemctl show` and journals captured from real
// Debian packages under a real systemd (test/fixtures/systemd-real/README.md says how).

const text = (name: string) => readFileSync(new URL(`../fixtures/systemd-real/${name}`, import.meta.url), 'utf8');

function details(name: string, journal?: string): UnitDetails {
  const s = statusFromProperties('x', parseSystemctlShow(text(name)));
  if (!('subState' in s)) throw new Error(`${name}: ${s.state}`);
  return journal ? { ...s, journal: parseJournal(text(journal)) } : s;
}

const judged = (asked: string, d: UnitDetails, more: Partial<JudgedUnit> = {}): JudgedUnit => ({ kind: 'unit', asked, details: d, sockets: [], monotonicUs: 0, ...more });

describe('decideUnit', () => {
  it('not-found: a template with no loaded instance', () => {
    expect(decideUnit({ kind: 'no-instances', template: 'openvpn@.service' }, { unit: 'openvpn@' })).toMatchObject({
      outcome: 'not-found', status: 'fail', summary: 'no instance of openvpn@.service is loaded', command: 'systemctl status openvpn@', evidence: { unit: 'openvpn@.service', template: true },
    });
  });

  it('no-systemd, error and not-found as systemctl said them', () => {
    expect(decideUnit({ kind: 'unanswered', status: { state: 'no-systemd', unit: 'myapp.service', message: 'systemctl is not installed' } }, { unit: 'myapp' })).toMatchObject({ outcome: 'no-systemd', status: 'info', summary: 'no systemd on this machine (systemctl is not installed)' });
    expect(decideUnit({ kind: 'unanswered', status: { state: 'error', unit: 'my app', message: "'my app' is not a systemd unit name" } }, { unit: 'my app' })).toMatchObject({ outcome: 'error', status: 'fail', summary: "could not ask systemd about my app: 'my app' is not a systemd unit name" });
    expect(decideUnit({ kind: 'unanswered', status: { state: 'not-found', unit: 'nosuch.service' } }, { unit: 'nosuch' })).toMatchObject({ outcome: 'not-found', summary: 'there is no unit nosuch.service', evidence: { unit: 'nosuch.service', state: 'not-found' } });
    expect(decideUnit({ kind: 'no-members', asked: 'postgresql' }, { unit: 'postgresql' })).toMatchObject({ outcome: 'not-found', summary: 'there is no unit postgresql.service' });
  });

  it('active: a oneshot that stays active (exited)', () => {
    const d = decideUnit(judged('postgresql', details('show-postgresql-wrapper.txt')), { unit: 'postgresql' });
    expect(d).toMatchObject({ outcome: 'active', status: 'pass', summary: 'postgresql.service is active (exited)', evidence: { reset: [], startUnit: 'postgresql' } });
  });

  it('failed, through the wrapper: the member judged, and the wrapper said first', () => {
    const member = details('show-postgresql-15-main-failed.txt', 'journal-postgresql-15-main.txt');
    const group = { asked: 'postgresql', wrapper: 'postgresql.service', members: [{ unit: member.unit, state: member.state, subState: member.subState }] };
    const d = decideUnit(judged('postgresql@15-main', member, { group }), { unit: 'postgresql' });
    expect(d.outcome).toBe('failed');
    expect(d.summary).toMatch(/^postgresql\.service is only a wrapper \(active \(exited\)\) around postgresql@15-main\.service: postgresql@15-main\.service has failed/);
    expect(d.command).toBe('systemctl status postgresql@15-main');
    expect(d.evidence).toMatchObject({ through: 'postgresql.service is only a wrapper (active (exited)) around postgresql@15-main.service', group: { wrapper: 'postgresql.service' }, startUnit: 'postgresql@15-main' });
  });

  it('failed: a crash loop, with the lines of its own log the journal does not show', () => {
    const loop = details('show-crash-loop.txt', 'journal-crash-loop.txt');
    const d = decideUnit(judged('looper', loop, { programLog: { path: '/var/log/looper.log', lines: ['fatal: cannot open /etc/looper.conf'] } }), { unit: 'looper' });
    expect(d.outcome).toBe('failed');
    assertHas(d.evidence, 'kind');
    expect(d.evidence.kind).toBe('crash-loop');
    expect(d.evidence.programLog).toEqual({ path: '/var/log/looper.log', lines: ['fatal: cannot open /etc/looper.conf'] });
    expect(d.evidence.journal?.slice(-2)).toEqual(['from /var/log/looper.log:', 'fatal: cannot open /etc/looper.conf']);
  });

  it('failed: the socket that starts it hit the start limit, and is what to reset', () => {
    const ssh = details('show-ssh-start-limit.txt', 'journal-ssh-bad-config.txt');
    const d = decideUnit(judged('ssh', ssh, { sockets: [details('show-ssh-socket-failed.txt')] }), { unit: 'ssh' });
    expect(d.outcome).toBe('failed');
    expect(d.summary).toMatch(/^ssh\.socket has stopped listening: ssh\.service failed to start too often \(service-start-limit-hit\)/);
    expect(d.evidence).toMatchObject({ reset: ['systemctl', 'reset-failed', 'ssh.service', 'ssh.socket'], startUnit: 'ssh.socket', socket: { unit: 'ssh.socket', state: 'failed' } });
  });

  it('activating: still starting, and for how long by the host clock', () => {
    const slow = details('show-slow-start.txt');
    const d = decideUnit(judged('slowpoke', slow, { monotonicUs: slow.startedMonotonicUs! + 12_400_000 }), { unit: 'slowpoke' });
    expect(d).toMatchObject({ outcome: 'activating', status: 'info', evidence: { startingForMs: 12_400 } });
  });

  it('inactive: stopped, with its result', () => {
    const stopped: UnitDetails = { ...details('show-postgresql-wrapper.txt'), state: 'inactive', subState: 'dead', result: 'exit-code' };
    expect(decideUnit(judged('postgresql', stopped), { unit: 'postgresql' })).toMatchObject({ outcome: 'inactive', status: 'fail', summary: 'postgresql.service is stopped (inactive, result exit-code)' });
  });
});
