import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseDiagnoseArgs } from '../../src/cli/diagnose-args.js';
import { diagnose } from '../../src/commands/diagnose.js';
import { serviceTable } from '../../src/cli/port-argument.js';
import type { Report } from '../../src/report/model.js';
import { SHOW_PROPERTIES } from '../../src/system/systemd/show.js';
import { replayHost, type CapturedHost } from '../helpers/replay-host.js';

// A whole diagnosis served by a replayed server: the real engine, the default playbook and every
// check, with nothing read from this machine. The seed scenario — nothing on 7071, myapp not
// running, myapp.service failed — from the outputs captured on a real systemd
// (test/fixtures/ss/empty.txt, test/fixtures/systemctl/show-failed.txt, journal-failed.txt).

const fixture = (path: string) => readFileSync(new URL(`../fixtures/${path}`, import.meta.url), 'utf8');

/** A small process table: systemd, sshd and a shell; no myapp. */
function proc(pid: number, comm: string, cmdline: string, cgroup: string): Record<string, string> {
  return {
    [`/proc/${pid}/comm`]: `${comm}\n`,
    [`/proc/${pid}/cmdline`]: `${cmdline.split(' ').join('\0')}\0`,
    [`/proc/${pid}/cgroup`]: `0::${cgroup}\n`,
    [`/proc/${pid}/status`]: `Name:\t${comm}\nFDSize:\t64\n`,
    [`/proc/${pid}/task/${pid}/children`]: '',
  };
}

const server: CapturedHost = {
  files: {
    ...proc(1, 'systemd', '/sbin/init', '/init.scope'),
    ...proc(210, 'sshd', 'sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups', '/system.slice/ssh.service'),
    ...proc(388, 'bash', '-bash', '/user.slice/user-0.slice/session-1.scope'),
    '/proc/net/tcp': '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n',
    '/etc/systemd/system/myapp.service': `[Unit]\nDescription=My App (fails: missing config)\n\n[Service]\nExecStart=/bin/sh -c 'echo "myapp: cannot open /etc/myapp/myapp.conf" >&2; exit 1'\n`,
    '/run/systemd/system/session-1.scope': '',
    '/etc/services': fixture('services/debian12.txt'),
  },
  links: { '/proc/210/fd/3': 'socket:[20411]', '/proc/388/fd/0': '/dev/pts/0' },
  commands: {
    "ss -Htane state all ( sport = :7071 or dport = :7071 )": { stdout: fixture('ss/empty.txt') },
    [`systemctl show -p ${SHOW_PROPERTIES.join(',')} --no-pager -- myapp.service`]: { stdout: fixture('systemctl/show-failed.txt') },
    'journalctl --unit=myapp.service -n 200 --no-pager -o short-iso': { stdout: fixture('systemctl/journal-failed.txt') },
  },
  interfaces: [
    { name: 'lo', address: '127.0.0.1', family: 4, internal: true },
    { name: 'eth0', address: '10.213.9.2', family: 4, internal: false },
  ],
  identity: { hostname: 'app1', uid: 0, root: true },
};

describe('a whole diagnosis from a replayed host', () => {
  it('the seed scenario: SERVICE_FAILED with the journal line that says why, every read served by the host', async () => {
    const host = replayHost(server);
    const env = { stdinIsTTY: false, stdoutIsTTY: false, stderrIsTTY: false, env: {}, version: '0.0.0' };
    const opts = await parseDiagnoseArgs(['10.213.9.2', '7071', '--process', 'myapp', '--service', 'myapp', '--json'], env, () => {}, serviceTable(server.files!['/etc/services'], '/etc/services'));
    if (opts === 'exit') throw new Error('no diagnosis');
    let out = '';
    let err = '';
    const status = await diagnose(opts, { stdout: (t) => void (out += t), stderr: (t) => void (err += t), host });
    expect(err).toBe('');
    const report = JSON.parse(out) as Report;

    expect(report.steps.map((s) => [s.id, s.outcome])).toEqual([
      ['where', 'local'],
      ['sockets', 'none'],
      // Not forwarded, and no other namespace of the captured host holds the port.
      ['forward', 'none'],
      ['namespaces', 'none'],
      ['which-process', 'given'],
      ['process', 'not-running'],
      ['service', 'given'],
      ['unit', 'failed'],
    ]);
    expect(report.diagnosis.code).toBe('SERVICE_FAILED');
    expect(report.diagnosis.title).toBe('myapp.service has failed (exit status 1)');
    expect(report.diagnosis.evidence).toEqual([
      'myapp.service has failed (exit status 1)',
      '09:31:16 sh[48]: myapp: cannot open /etc/myapp/myapp.conf',
      '09:31:16 systemd[1]: myapp.service: Main process exited, code=exited, status=1/FAILURE',
      "09:31:16 systemd[1]: myapp.service: Failed with result 'exit-code'.",
    ]);
    expect(report.diagnosis.fix?.commands).toEqual(['systemctl start myapp']);
    expect(report.target).toMatchObject({ host: '10.213.9.2', port: 7071, local: true });
    expect(status).not.toBe(0);

    // Every command it ran was one of the captured ones (nothing fell through as 'not installed'),
    // and the process table was walked once, in one host call.
    const commands = host.calls.filter((c) => /^(ss|systemctl|journalctl|pgrep|netstat|nstat) /.test(c));
    expect(commands.every((c) => c in server.commands!)).toBe(true);
    expect(host.calls.filter((c) => c === 'processes name myapp')).toHaveLength(1);
  });

  it('the same server with myapp running and listening: the owner comes from the replayed /proc', async () => {
    const listening = fixture('ss/port-7071.txt');
    const inode = /ino:(\d+)/.exec(listening)?.[1];
    expect(inode).toBeDefined();
    const host = replayHost({
      ...server,
      files: { ...server.files, ...proc(512, 'myapp', 'node /opt/myapp/myapp.js', '/system.slice/myapp.service') },
      links: { ...server.links, '/proc/512/fd/21': `socket:[${inode}]` },
      commands: { ...server.commands, "ss -Htane state all ( sport = :7071 or dport = :7071 )": { stdout: listening } },
    });
    const found = await host.socketOwners([Number(inode)], { candidatePids: [512] });
    expect(found).toEqual({ owners: [{ inode: Number(inode), holders: [{ pid: 512, program: 'myapp', fd: 21 }] }], hidden: false });
    expect(await host.processes({ name: 'myapp', match: 'name' })).toEqual([{ pid: 512, commandLine: 'node /opt/myapp/myapp.js', name: 'myapp', script: '/opt/myapp/myapp.js' }]);
    expect(await host.cgroups([512, 999])).toEqual(['0::/system.slice/myapp.service\n', undefined]);
    expect((await host.unitFiles(['/etc/systemd/system', '/run/systemd/system'], { suffixes: ['service', 'scope'], maxBytes: 1 << 20 })).map((f) => f.unit)).toEqual(['myapp.service', 'session-1.scope']);
  });
});
