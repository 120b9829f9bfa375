import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decideRedisProtected } from '../../src/analysis/redis-protected.js';
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
  async function serve(name: string, lines: string[]): Promise<{ conf: string; said: string }> {
    port++;
    const conf = join(dir, `${name}.conf`);
    const own = [`daemonize no`, `pidfile ${dir}/${name}.pid`, `logfile ""`, `dir ${dir}`, `port ${port}`];
    writeFileSync(conf, [readFileSync(PACKAGED, 'utf8'), ...own, ...lines, ''].join('\n'));
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

  const cases: { name: string; lines: string[]; outcome: 'refuses' | 'admits'; says: RegExp }[] = [
    { name: 'open-bind', lines: ['bind * -::*'], outcome: 'refuses', says: /DENIED Redis is running in protected mode/ },
    { name: 'explicit-bind', lines: [`bind ${ADDRESS} 127.0.0.1`], outcome: 'refuses', says: /DENIED/ },
    { name: 'password', lines: ['bind * -::*', 'requirepass test-only-password'], outcome: 'admits', says: /NOAUTH/ },
    { name: 'acl-user', lines: ['bind * -::*', 'user default on >test-only-password ~* &* +@all'], outcome: 'admits', says: /NOAUTH/ },
    { name: 'unprotected', lines: ['bind * -::*', 'protected-mode no'], outcome: 'admits', says: /PONG/ },
  ];

  for (const c of cases) {
    it(`${c.name}: the server ${c.outcome === 'refuses' ? 'says DENIED' : 'serves the client'}, and whyport decides the same from its file`, async () => {
      const { conf, said } = await serve(c.name, c.lines);
      expect(said).toMatch(c.says);
      const reading = await readRedisConf(localHost, [SERVER, conf]);
      expect(reading.problems).toEqual([]);
      const verdict = decideRedisProtected(reading, ADDRESS);
      expect(verdict.outcome).toBe(c.outcome);
      if (c.outcome === 'refuses') {
        expect(verdict.setting).toEqual({ file: conf, line: 111, text: 'protected-mode yes' });
        expect(verdict.fix?.edit).toMatchObject({ file: conf, at: 'replace', line: 1036 });
      }
      expect(JSON.stringify(verdict)).not.toContain('test-only-password');
    });
  }
});
