import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decideRefusalSetting, settingKindOf, wrapperDaemonOf, type RefusalReadings } from '../../src/checks/refusal-setting.js';
import { parsePgHba, type PgHbaReading } from '../../src/system/pg-hba.js';
import { parseWrapperTable } from '../../src/system/tcp-wrappers.js';
import type { SourceLine } from '../../src/system/config-tree.js';
import { assertHas } from '../helpers/narrow.js';

// The refusal-setting step's decision, on plain objects: Debian's packaged pg_hba.conf and
// hosts.allow/hosts.deny (test/fixtures), with lines added as an admin would.

const HBA = '/etc/postgresql/15/main/pg_hba.conf';
const fixture = (path: string) => readFileSync(new URL(`../fixtures/${path}`, import.meta.url), 'utf8');
const linesOf = (text: string, file = HBA): SourceLine[] => text.split('\n').map((t, i) => ({ file, line: i + 1, text: t.trim() }));

function pgHba(extra: string[] = []): RefusalReadings {
  const text = [fixture('postgresql/pg_hba.conf'), ...extra].join('\n');
  const reading: PgHbaReading = { file: HBA, parse: parsePgHba(linesOf(text)), problems: [] };
  return { kind: 'pg_hba', client: '10.0.0.7', program: 'postgres', reading, serverAddresses: ['10.0.0.5'] };
}
const params = { port: 5432, outcome: 'refuses-client', protocol: 'postgresql', said: 'FATAL: no pg_hba.conf entry for host "10.0.0.7"', reason: 'pg_hba', user: 'app' };

describe('settingKindOf', () => {
  it('which setting a refusal points at', () => {
    expect(settingKindOf({ outcome: 'refuses-client', reason: 'pg_hba' }, 'postgres')).toBe('pg_hba');
    expect(settingKindOf({ outcome: 'refuses-client', protocol: 'redis', reason: 'protected-mode' }, 'redis-server')).toBe('redis');
    expect(settingKindOf({ outcome: 'refuses-client', protocol: 'mysql', reason: 'host-not-allowed' }, 'mariadbd')).toBe('mysql');
    expect(settingKindOf({ outcome: 'refuses-client', protocol: 'ssh', reason: 'tcp-wrappers' }, 'sshd')).toBe('tcp-wrappers');
    expect(settingKindOf({ outcome: 'overloaded', protocol: 'ssh', reason: 'max-startups' }, 'sshd')).toBe('max-startups');
    expect(settingKindOf({ outcome: 'tls-failure', protocol: 'tls' }, 'nginx')).toBe('nginx');
    expect(settingKindOf({ outcome: 'wrong-protocol', protocol: 'http' }, 'nginx')).toBe('nginx');
    expect(settingKindOf({ outcome: 'tls-failure', protocol: 'tls' }, 'myapp')).toBeUndefined();
    expect(settingKindOf({ outcome: 'closed-after-accept' }, 'vsftpd')).toBe('tcp-wrappers');
    expect(settingKindOf({ outcome: 'silent', protocol: 'ssh' }, 'sshd')).toBe('tcp-wrappers');
    expect(settingKindOf({ outcome: 'not-ready', protocol: 'postgresql' }, 'postgres')).toBeUndefined();
  });
});

describe('wrapperDaemonOf', () => {
  it("libwrap's daemon name, from a command line sshd rewrote once it listens", () => {
    // /proc/PID/cmdline of Debian 12's sshd listener, as the test/integration protocol step read it.
    expect(wrapperDaemonOf('sshd: /usr/sbin/sshd -D -e -f /etc/ssh/sshd_config [listener] 1 of 10-100 startups', 'sshd')).toBe('sshd');
    expect(wrapperDaemonOf('sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups', 'sshd')).toBe('sshd');
    expect(wrapperDaemonOf('/usr/sbin/sshd', 'sshd')).toBe('sshd');
    expect(wrapperDaemonOf('in.telnetd', undefined)).toBe('in.telnetd');
    expect(wrapperDaemonOf(undefined, 'vsftpd')).toBe('vsftpd');
    expect(wrapperDaemonOf(undefined, undefined)).toBe('sshd');
  });
});

describe('decideRefusalSetting', () => {
  it('no-line: no pg_hba.conf line admits the client; the line to add and the reload', () => {
    const d = decideRefusalSetting(pgHba(), params);
    expect(d).toMatchObject({ outcome: 'no-line', status: 'fail', evidence: { client: '10.0.0.7', service: { protocol: 'postgresql', said: params.said } } });
    assertHas(d.evidence, 'fixEdit');
    assertHas(d.evidence, 'fixCommand');
    expect(d.evidence.fixEdit).toMatch(/10\.0\.0\.7\/32/);
    expect(d.evidence.fixCommand?.join(' ')).toMatch(/reload/);
  });

  it('named: a reject line is the setting, with its file, line and text', () => {
    const d = decideRefusalSetting(pgHba(['host all all 10.0.0.0/24 reject']), params);
    expect(d).toMatchObject({ outcome: 'named', evidence: { setting: { file: HBA, text: 'host all all 10.0.0.0/24 reject' } } });
    expect(d.summary).toContain(`${HBA}:`);
  });

  it('admits: a line lets the client on to authentication', () => {
    expect(decideRefusalSetting(pgHba(['host all all 10.0.0.7/32 scram-sha-256']), params)).toMatchObject({ outcome: 'admits', status: 'info' });
  });

  it('named: a hosts.deny line for sshd', () => {
    const tables = { allow: parseWrapperTable('/etc/hosts.allow', fixture('tcp-wrappers/hosts.allow')), deny: parseWrapperTable('/etc/hosts.deny', `${fixture('tcp-wrappers/hosts.deny')}\nsshd: 10.0.0.7`), problems: [] };
    const d = decideRefusalSetting({ kind: 'tcp-wrappers', client: '10.0.0.7', tables, daemon: 'sshd' }, { port: 22, outcome: 'refuses-client', reason: 'tcp-wrappers', protocol: 'ssh' });
    expect(d).toMatchObject({ outcome: 'named', evidence: { setting: { file: '/etc/hosts.deny', text: 'sshd: 10.0.0.7' } } });
  });

  it('undecided and unknown: what whyport cannot read or tell', () => {
    const unread = decideRefusalSetting({ kind: 'pg_hba', client: '10.0.0.7', reading: { problems: ['no PostgreSQL cluster under /etc/postgresql serves port 5432'] }, serverAddresses: [] }, params);
    expect(unread).toMatchObject({ outcome: 'unknown', summary: expect.stringMatching(/no PostgreSQL cluster/) });
    expect(decideRefusalSetting({ kind: 'none', client: '10.0.0.7', why: 'no setting whyport reads decides this' }, { port: 7070, outcome: 'closed-after-accept' })).toMatchObject({ outcome: 'unknown', status: 'info' });
    const byName = decideRefusalSetting(pgHba(['host all all .example.com scram-sha-256']), params);
    expect(byName.outcome).toBe('undecided');
  });
});
