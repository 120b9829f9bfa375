import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refusalLogLines } from '../../src/analysis/refusal-log.js';
import { decideMaxStartups } from '../../src/analysis/sshd-maxstartups.js';
import { decideTcpWrappers } from '../../src/analysis/tcp-wrappers.js';
import { localHost } from '../../src/host/local.js';
import { readSshdConfig, readSshdEffective } from '../../src/system/sshd-config.js';
import { readWrapperTables, usesTcpWrappers } from '../../src/system/tcp-wrappers.js';
import { createNamespace, netnsSkipReason, type Namespace } from '../helpers/netns.js';
import { python3Path } from '../helpers/servers.js';

/**
 * The settings that turn an ssh client away, against Debian's real sshd 9.2 (linked with libwrap):
 * `sshd -T` on a private configuration whose drop-in sets MaxStartups, the real refusal when the
 * limit is reached, and hosts.deny naming the client (accepted, then closed without a word). The
 * test's mount namespace (/work/bin/isolated, or .ci's own) gets a private /run (sshd's
 * privilege-separation folder) and private /etc/hosts.allow and hosts.deny: the machine's own are
 * never touched.
 */

const SSHD = '/usr/sbin/sshd';
const ADDRESS = '10.213.9.2';
const PORT = 2222;


function skipReason(): string | undefined {
  if (!existsSync(SSHD)) return 'openssh-server is not installed: apt-get install -y openssh-server';
  if (!python3Path()) return 'python3 is missing (the test client): apt-get install -y python3';
  const ns = netnsSkipReason();
  if (ns) return ns;
  if (!privateMounts()) return 'needs a mount namespace of its own (run it through /work/bin/isolated): it mounts over /run and /etc/hosts.deny';
  return undefined;
}
/** Ends a process this test started, by its pid; one that already ended is fine. */
function stop(pid: number | undefined, signal: NodeJS.Signals): void {
  try {
    if (pid) process.kill(pid, signal);
  } catch {
    // already gone
  }
}

const skip = skipReason();

/** Connects from ADDRESS (inside the namespace), holds for `hold` seconds, and says what came back and when the server closed. */
const CLIENT_PY = `
import socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=8, source_address=(sys.argv[1], 0))
t = time.time(); data = b''
try:
    while len(data) < 200:
        b = s.recv(200)
        if not b: break
        data += b
        if b'\\n' in data and float(sys.argv[3]) == 0: break
except socket.timeout:
    pass
print(repr(data), round(time.time() - t, 1))
`;
import { privateMounts } from '../helpers/mounts.js';
import { alsoInPrivateMounts } from '../helpers/private-mounts.js';

describe.skipIf(skip !== undefined)('sshd settings on the real sshd', () => {
  let ns: Namespace;
  let dir: string;
  let sshd: ChildProcess | undefined;
  const holders: ChildProcess[] = [];

  const conf = () => join(dir, 'sshd_config');
  const startSshd = async () => {
    const log = openSync(join(dir, 'sshd.log'), 'a');
    sshd = spawn(ns.exec[0]!, [...ns.exec.slice(1), SSHD, '-D', '-e', '-f', conf()], { stdio: ['ignore', log, log] });
    closeSync(log);
    for (let i = 0; i < 50; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const r = spawnSync(ns.exec[0]!, [...ns.exec.slice(1), 'ss', '-Htln', `sport = :${PORT}`], { encoding: 'utf8' });
      if (r.stdout.trim() !== '') return;
    }
  };
  const stopSshd = () => {
    stop(sshd?.pid, 'SIGTERM');
    sshd = undefined;
  };
  const connect = (hold = 0) => {
    const r = spawnSync(ns.exec[0]!, [...ns.exec.slice(1), python3Path()!, '-c', CLIENT_PY, ADDRESS, String(PORT), String(hold)], { encoding: 'utf8', timeout: 15_000 });
    return r.stdout.trim();
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'wpt-sshd-'));
    // A private /run with sshd's privilege-separation folder, root-owned and not writable by others.
    spawnSync('mount', ['-t', 'tmpfs', '-o', 'mode=755', 'tmpfs', '/run']);
    mkdirSync('/run/sshd', { mode: 0o755 });
    mkdirSync('/run/netns', { recursive: true });
    ns = createNamespace({ addresses: [`${ADDRESS}/24`] });
    spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host_ed25519')]);
    mkdirSync(join(dir, 'sshd_config.d'));
    writeFileSync(
      conf(),
      [`Include ${dir}/sshd_config.d/*.conf`, `Port ${PORT}`, `ListenAddress ${ADDRESS}`, `HostKey ${dir}/host_ed25519`, `PidFile ${dir}/sshd.pid`, 'UsePAM no', '#MaxStartups 10:30:100', 'Match User nobody', '  MaxSessions 1', ''].join('\n'),
    );
    for (const f of ['hosts.allow', 'hosts.deny']) {
      writeFileSync(join(dir, `${f}.packaged`), readFileSync(`/etc/${f}`, 'utf8'));
      writeFileSync(join(dir, f), readFileSync(`/etc/${f}`, 'utf8'));
      spawnSync('mount', ['--bind', join(dir, f), `/etc/${f}`]);
    }
  });
  afterAll(() => {
    for (const h of holders) stop(h.pid, 'SIGKILL');
    stopSshd();
    ns?.remove();
    for (const f of ['hosts.allow', 'hosts.deny']) spawnSync('umount', [`/etc/${f}`]);
    // WPT_KEEP_LOG=PATH keeps sshd's log (how test/fixtures/sshd/maxstartups.log was captured).
    if (dir && process.env.WPT_KEEP_LOG) copyFileSync(join(dir, 'sshd.log'), process.env.WPT_KEEP_LOG);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('sshd -T on the private configuration: its default MaxStartups, then the drop-in line as the setting', async () => {
    let t = await readSshdEffective(localHost, { config: conf(), connection: { user: 'root', addr: '10.0.0.7' } });
    expect('effective' in t && t.effective.get('maxstartups')).toEqual(['10:30:100']);
    writeFileSync(join(dir, 'sshd_config.d', '50-limits.conf'), 'MaxStartups 1:100:1\n');
    t = await readSshdEffective(localHost, { config: conf() });
    expect('effective' in t && t.effective.get('maxstartups')).toEqual(['1:100:1']);
    const reading = await readSshdConfig(localHost, conf());
    const v = decideMaxStartups(reading, 'effective' in t ? t.effective : undefined, { port: PORT });
    expect(v.setting).toEqual({ file: join(dir, 'sshd_config.d', '50-limits.conf'), line: 1, text: 'MaxStartups 1:100:1' });
    expect(v.fix?.edit).toMatchObject({ at: 'replace', text: 'MaxStartups 2:100:2' });
  });

  it('MaxStartups reached: one unauthenticated connection held, the next gets "Exceeded MaxStartups"', async () => {
    await startSshd();
    const holder = spawn(ns.exec[0]!, [...ns.exec.slice(1), python3Path()!, '-c', CLIENT_PY, ADDRESS, String(PORT), '6'], { stdio: 'ignore' });
    holders.push(holder);
    await new Promise((r) => setTimeout(r, 500));
    expect(connect()).toMatch(/^b'Exceeded MaxStartups\\r\\n'/);
    await new Promise((r) => setTimeout(r, 200));
    expect(refusalLogLines('sshd-maxstartups', readFileSync(join(dir, 'sshd.log'), 'utf8').split('\n'), ADDRESS)).toEqual([expect.stringMatching(/^drop connection #\d+ from \[10\.213\.9\.2\]:\d+ on \[10\.213\.9\.2\]:2222 past MaxStartups/)]);
    stop(holder.pid, 'SIGKILL');
    stopSshd();
    rmSync(join(dir, 'sshd_config.d', '50-limits.conf'));
  }, 20_000);

  it('hosts.deny naming the client: accepted, no byte, closed; whyport names the line, and its grant in hosts.allow lets the client in', async () => {
    await startSshd();
    expect(await usesTcpWrappers(localHost, sshd!.pid!)).toBe(true);
    expect(connect()).toMatch(/^b'SSH-2\.0-OpenSSH/);
    writeFileSync('/etc/hosts.deny', `${readFileSync('/etc/hosts.deny', 'utf8')}sshd: ${ADDRESS}\n`);
    const refused = connect();
    expect(refused).toMatch(/^b'' /);
    const tables = await readWrapperTables(localHost);
    const v = decideTcpWrappers(tables, { daemon: 'sshd', address: ADDRESS }, { allow: '/etc/hosts.allow', deny: '/etc/hosts.deny' });
    expect(v.outcome).toBe('refuses');
    expect(v.setting).toEqual({ file: '/etc/hosts.deny', line: 18, text: `sshd: ${ADDRESS}` });
    writeFileSync('/etc/hosts.allow', `${readFileSync('/etc/hosts.allow', 'utf8')}${v.fix!.edit!.text}\n`);
    expect(connect()).toMatch(/^b'SSH-2\.0-OpenSSH/);
    expect(decideTcpWrappers(await readWrapperTables(localHost), { daemon: 'sshd', address: ADDRESS }, { allow: '/etc/hosts.allow', deny: '/etc/hosts.deny' }).outcome).toBe('admits');
    stopSshd();
  }, 30_000);

  // Each as libwrap reads it, with both files as packaged plus these lines; the server's answer
  // (a banner, or nothing before it closes) must be what whyport decides.
  const wrapperCases: { name: string; allow?: string; deny?: string; refused: boolean }[] = [
    { name: 'net/mask in hosts.deny', deny: 'sshd: 10.213.9.0/255.255.255.0', refused: true },
    { name: 'EXCEPT the client', deny: 'ALL: 10.213.9.0/255.255.255.0 EXCEPT 10.213.9.2', refused: false },
    { name: 'an address prefix', deny: 'sshd, vsftpd: 10.213.', refused: true },
    { name: 'another daemon only', deny: 'vsftpd: ALL', refused: false },
    { name: "hosts.allow's deny option (hosts_options)", allow: 'sshd: ALL : deny', refused: true },
    { name: "hosts.deny's allow option", deny: 'sshd: 10.213.9.2 : allow', refused: false },
    { name: 'hosts.allow wins over hosts.deny', allow: 'sshd: 10.213.9.2', deny: 'ALL: ALL', refused: false },
  ];
  for (const c of wrapperCases) {
    it(`TCP wrappers, ${c.name}: ${c.refused ? 'closed without a word' : 'the banner'}, as whyport decides`, async () => {
      const packaged = (f: string) => readFileSync(join(dir, `${f}.packaged`), 'utf8');
      writeFileSync('/etc/hosts.allow', `${packaged('hosts.allow')}${c.allow ? `${c.allow}\n` : ''}`);
      writeFileSync('/etc/hosts.deny', `${packaged('hosts.deny')}${c.deny ? `${c.deny}\n` : ''}`);
      if (!sshd) await startSshd();
      const said = connect();
      expect(said).toMatch(c.refused ? /^b'' / : /^b'SSH-2\.0-OpenSSH/);
      const v = decideTcpWrappers(await readWrapperTables(localHost), { daemon: 'sshd', address: ADDRESS }, { allow: '/etc/hosts.allow', deny: '/etc/hosts.deny' });
      expect(v.outcome).toBe(c.refused ? 'refuses' : 'admits');
    }, 20_000);
  }
});

// Run by npm test in the machine's own mount namespace, the tests above that mount over /etc skip:
// run the file again in a mount namespace of its own, where they do.
alsoInPrivateMounts(import.meta.url, 'it mounts over /run and /etc/hosts.deny', skip !== undefined && !skip.includes('mount namespace of its own') ? skip : undefined);
