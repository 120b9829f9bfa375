import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decideRedisProtected, PASSWORD_PLACEHOLDER } from '../../src/analysis/redis-protected.js';
import { localHost } from '../../src/host/local.js';
import { readRedisConf } from '../../src/system/redis-conf.js';
import { createNamespace, netnsSkipReason, type Namespace } from '../helpers/netns.js';

/**
 * The protected-mode decision against the real redis-server 7 of Debian: the packaged redis.conf,
 * edited, run in a namespace of the test's own, asked PING by a client from a non-loopback
 * address; whyport's decision (read through the local Host) must match what the server says.
 */

const PACKAGED = '/etc/redis/redis.conf';
const SERVER = '/usr/bin/redis-server';
const CLIENT = '/usr/bin/redis-cli';
const ADDRESS = '10.213.9.2';

function skipReason(): string | undefined {
  if (!existsSync(SERVER) || !existsSync(CLIENT) || !existsSync(PACKAGED)) return 'redis-server is not installed: apt-get install -y redis-server';
  return netnsSkipReason();
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

describe.skipIf(skip !== undefined)('Redis protected mode on the real redis-server', () => {
  let ns: Namespace;
  let dir: string;
  const children: ChildProcess[] = [];
  let port = 16379;

  beforeAll(() => {
    ns = createNamespace({ addresses: [`${ADDRESS}/24`] });
    dir = mkdtempSync(join(tmpdir(), 'wpt-redis-'));
  });
  afterAll(() => {
    for (const c of children) stop(c.pid, 'SIGKILL');
    ns?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Starts redis-server on the packaged file with `lines` appended (and what keeps it in the test's folder); answers PING from ADDRESS. */
  async function serve(name: string, lines: string[], base = readFileSync(PACKAGED, 'utf8')): Promise<{ conf: string; said: string }> {
    port++;
    const conf = join(dir, `${name}.conf`);
    const own = [`daemonize no`, `pidfile ${dir}/${name}.pid`, `logfile ""`, `dir ${dir}`, `port ${port}`];
    writeFileSync(conf, [base, ...own, ...lines, ''].join('\n'));
    const child = spawn(ns.exec[0]!, [...ns.exec.slice(1), SERVER, conf], { stdio: 'ignore' });
    children.push(child);
    let said = '';
    for (let i = 0; i < 50; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const r = spawnSync(ns.exec[0]!, [...ns.exec.slice(1), CLIENT, '-h', ADDRESS, '-p', String(port), 'PING'], { encoding: 'utf8', timeout: 3000 });
      said = `${r.stdout}${r.stderr}`.trim();
      if (!/Connection refused/.test(said)) break;
    }
    return { conf, said };
  }

  const cases: { name: string; lines: string[]; acl?: string; outcome: 'refuses' | 'admits'; says: RegExp }[] = [
    { name: 'open-bind', lines: ['bind * -::*'], outcome: 'refuses', says: /DENIED Redis is running in protected mode/ },
    { name: 'explicit-bind', lines: [`bind ${ADDRESS} 127.0.0.1`], outcome: 'refuses', says: /DENIED/ },
    { name: 'password', lines: ['bind * -::*', 'requirepass test-only-password'], outcome: 'admits', says: /NOAUTH/ },
    { name: 'acl-user', lines: ['bind * -::*', 'user default on >test-only-password ~* &* +@all'], outcome: 'admits', says: /NOAUTH/ },
    { name: 'unprotected', lines: ['bind * -::*', 'protected-mode no'], outcome: 'admits', says: /PONG/ },
    { name: 'acl-file-nopass', lines: ['bind * -::*', 'aclfile {dir}/open.acl'], acl: 'user default on nopass ~* &* +@all\n', outcome: 'refuses', says: /DENIED/ },
    { name: 'acl-file-password', lines: ['bind * -::*', 'aclfile {dir}/closed.acl'], acl: 'user default on >test-only-password ~* &* +@all\n', outcome: 'admits', says: /NOAUTH/ },
  ];

  for (const c of cases) {
    it(`${c.name}: the server ${c.outcome === 'refuses' ? 'says DENIED' : 'serves the client'}, and whyport decides the same from its file`, async () => {
      const lines = c.lines.map((l) => l.replace('{dir}', dir));
      if (c.acl) writeFileSync(lines.find((l) => l.startsWith('aclfile '))!.slice('aclfile '.length), c.acl);
      const { conf, said } = await serve(c.name, lines);
      expect(said).toMatch(c.says);
      const reading = await readRedisConf(localHost, [SERVER, conf]);
      expect(reading.problems).toEqual([]);
      const verdict = decideRedisProtected(reading, ADDRESS);
      expect(verdict.outcome).toBe(c.outcome);
      if (c.outcome === 'refuses') {
        expect(verdict.setting).toEqual({ file: conf, line: 111, text: 'protected-mode yes' });
        expect(verdict.fix?.edit).toMatchObject(c.acl ? { file: `${dir}/open.acl`, at: 'replace', line: 1 } : { file: conf, at: 'replace', line: 1036 });
      }
      expect(JSON.stringify(verdict)).not.toContain('test-only-password');
    });
  }

  it("whyport's fix, its placeholder filled in, turns DENIED into a password prompt (NOAUTH)", async () => {
    const { conf, said } = await serve('fixed', ['bind * -::*']);
    expect(said).toMatch(/DENIED/);
    const edit = decideRedisProtected(await readRedisConf(localHost, [SERVER, conf]), ADDRESS).fix!.edit!;
    expect(edit.line).toBeLessThanOrEqual(readFileSync(PACKAGED, 'utf8').split('\n').length);
    const base = readFileSync(PACKAGED, 'utf8').split('\n');
    base[edit.line! - 1] = edit.text.replace(PASSWORD_PLACEHOLDER, 'test-only-password');
    const fixed = await serve('fixed-again', ['bind * -::*'], base.join('\n'));
    expect(fixed.said).toMatch(/NOAUTH/);
    expect(decideRedisProtected(await readRedisConf(localHost, [SERVER, fixed.conf]), ADDRESS).outcome).toBe('admits');
  });
});
