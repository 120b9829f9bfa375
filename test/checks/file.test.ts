import { describe, expect, it } from 'vitest';
import { safeParse } from 'zod/mini';
import { ageText, decideFile, durationMs, file, type FileParams, type FileReadings } from '../../src/checks/file.js';
import { fileInfosOfStatLines } from '../../src/system/stat.js';
import { pidOfPidfile, type FileState } from '../../src/system/file-state.js';
import { usersOfPasswd } from '../../src/system/passwd.js';
import { captured } from '../helpers/fixtures.js';

// The file step's decision from what the host said of the file: the stat script's real output
// (test/fixtures/stat/kinds.txt: a 0640 file of uid 1 modified 2024-01-02, its 0700 directory, a
// FIFO, a socket, a link to the file) and a real /etc/passwd (Debian 12).

const [conf, dir, fifo, sock, link] = fileInfosOfStatLines(captured('stat', 'kinds').stdout, 5);
const users = usersOfPasswd(captured('passwd', 'debian').stdout);
const MTIME = Date.parse('2024-01-02T03:04:05Z');
const reading = (info: FileState['info'], more: Partial<FileState> = {}): FileReadings => ({ state: { path: '/etc/myapp.conf', info, now: MTIME + 90 * 60_000, ...more }, users });
const decide = (r: FileReadings, p: Omit<FileParams, 'path'> = {}) => decideFile(r, { path: '/etc/myapp.conf', ...p });

describe('decideFile', () => {
  it('ok: what it is, in words and in evidence (mode, owner by name, size, age)', () => {
    const d = decide(reading(conf), { kind: 'file', mode: '0640', owner: 'daemon', olderThan: '2h' });
    expect(d).toMatchObject({ outcome: 'ok', status: 'pass', command: "stat -c '%F %a %U %y' /etc/myapp.conf" });
    expect(d.summary).toBe('/etc/myapp.conf: a regular file 0640 of daemon, 5 bytes, modified 1 h 30 min ago');
    expect(d.evidence).toEqual({ path: '/etc/myapp.conf', kind: 'file', mode: '0640', owner: 'daemon', uid: 1, size: 5, mtime: '2024-01-02T03:04:05.000Z', ageSeconds: 5400 });
    expect(decide(reading(conf), { owner: '1', maxMode: '0644' }).outcome).toBe('ok');
  });

  it('missing: nothing to stat', () => {
    expect(decide(reading(undefined), { kind: 'file' })).toMatchObject({ outcome: 'missing', summary: '/etc/myapp.conf does not exist (or whyport cannot see it from here)', evidence: { path: '/etc/myapp.conf' } });
  });

  it('wrong-kind: a directory, a FIFO, a socket; symlink is the path itself, the rest follow it', () => {
    expect(decide(reading(dir), { kind: 'file' }).summary).toBe('/etc/myapp.conf is a directory, not a regular file');
    expect(decide(reading(fifo), { kind: 'socket' })).toMatchObject({ outcome: 'wrong-kind', evidence: { kind: 'fifo' } });
    expect(decide(reading(sock), { kind: 'socket' }).outcome).toBe('ok');
    expect(decide(reading(link), { kind: 'symlink' })).toMatchObject({ outcome: 'ok', evidence: { kind: 'file', link: true } });
    expect(decide(reading(link), { kind: 'file' }).outcome).toBe('ok');
    expect(decide(reading(conf), { kind: 'symlink' }).summary).toBe('/etc/myapp.conf is not a symbolic link (a regular file)');
    expect(decide(reading(link), { kind: 'dir' }).summary).toBe('/etc/myapp.conf is a link to a regular file, not a directory');
  });

  it('wrong-mode: exact, or more than maxMode allows', () => {
    expect(decide(reading(conf), { mode: '600' })).toMatchObject({ outcome: 'wrong-mode', summary: '/etc/myapp.conf has mode 0640, not 0600' });
    expect(decide(reading(conf), { maxMode: '0600' }).summary).toBe('/etc/myapp.conf has mode 0640, which allows more than 0600');
  });

  it('wrong-owner: by name or uid, the owner named from the host\'s passwd', () => {
    expect(decide(reading(conf), { owner: 'root' })).toMatchObject({ outcome: 'wrong-owner', summary: '/etc/myapp.conf belongs to daemon (uid 1), not root' });
    expect(decide(reading({ ...conf!, uid: 4321 }), { owner: 'root' })).toMatchObject({ outcome: 'wrong-owner', summary: '/etc/myapp.conf belongs to uid 4321, not root', evidence: { owner: '4321', uid: 4321 } });
  });

  it('stale: modified longer ago than olderThan', () => {
    expect(decide(reading(conf), { olderThan: '10m' })).toMatchObject({ outcome: 'stale', summary: '/etc/myapp.conf was last modified 1 h 30 min ago (2024-01-02T03:04:05.000Z), longer ago than 10m' });
  });

  it('contains: the first matching line and its number; no-match; unreadable', () => {
    const passwd = captured('passwd', 'debian').stdout;
    const d = decide(reading(conf, { content: { text: passwd, start: 0 } }), { contains: '^postgres:' });
    expect(d).toMatchObject({ outcome: 'ok', evidence: { line: 'postgres:x:101:104:PostgreSQL administrator,,,:/var/lib/postgresql:/bin/bash', lineNumber: 24 } });
    expect(d.summary).toMatch(/; line 24 matches \/\^postgres:\/: postgres:x:101/);
    expect(decide(reading(conf, { content: { text: passwd, start: 0 } }), { contains: '^myapp:' })).toMatchObject({ outcome: 'no-match', summary: 'no line of /etc/myapp.conf matches /^myapp:/', command: "grep -nE -- '^myapp:' /etc/myapp.conf" });
    expect(decide(reading(conf, { content: { text: passwd, start: 7 } }), { contains: '^myapp:' }).summary).toBe('no line of the last 1 MiB of /etc/myapp.conf matches /^myapp:/');
    expect(decide(reading(conf, { content: { error: 'permission denied', code: 'EACCES' } }), { contains: 'x' })).toMatchObject({ outcome: 'unreadable', summary: 'cannot read /etc/myapp.conf: permission denied', evidence: { error: 'permission denied' } });
  });

  it('pidfile: the process alive, dead, or no pid in it', () => {
    const pidfile = (pid: FileState['pid'], text = '4242\n') => reading(conf, { content: { text, start: 0 }, ...(pid ? { pid } : {}) });
    expect(decide(pidfile({ pid: 4242, alive: true }), { pidfile: true })).toMatchObject({ outcome: 'ok', evidence: { pid: 4242, alive: true } });
    expect(decide(pidfile({ pid: 4242, alive: false }), { pidfile: true })).toMatchObject({ outcome: 'dead-pid', summary: '/etc/myapp.conf names pid 4242, which is not running (a stale pidfile)', command: 'ps -p 4242' });
    expect(decide(pidfile(undefined, ''), { pidfile: true })).toMatchObject({ outcome: 'dead-pid', summary: '/etc/myapp.conf holds no pid' });
  });

  it('the first failure wins: missing, kind, mode, owner, age, content', () => {
    expect(decide(reading(dir), { kind: 'file', mode: '0600', owner: 'root', olderThan: '1m' }).outcome).toBe('wrong-kind');
    expect(decide(reading(conf), { mode: '0600', owner: 'root', olderThan: '1m' }).outcome).toBe('wrong-mode');
    expect(decide(reading(conf), { owner: 'root', olderThan: '1m' }).outcome).toBe('wrong-owner');
    expect(decide(reading(conf, { content: { error: 'permission denied', code: 'EACCES' } }), { olderThan: '1m', contains: 'x' }).outcome).toBe('stale');
  });
});

describe('the small words of the file check', () => {
  it('a pidfile holds a pid as its first word', () => {
    expect([pidOfPidfile('4242\n'), pidOfPidfile(' 17 extra'), pidOfPidfile('abc'), pidOfPidfile('0\n'), pidOfPidfile('')]).toEqual([4242, 17, undefined, undefined, undefined]);
  });
  it('ages in and out of words', () => {
    expect([ageText(45_000), ageText(12 * 60_000), ageText(3 * 3_600_000 + 5 * 60_000), ageText(2 * 86_400_000 + 4 * 3_600_000)]).toEqual(['45 s', '12 min', '3 h 5 min', '2 d 4 h']);
    expect([durationMs('30s'), durationMs('10m'), durationMs('2h'), durationMs('1d'), durationMs('soon')]).toEqual([30_000, 600_000, 7_200_000, 86_400_000, NaN]);
  });
  it('parameters: absolute path, kinds, octal modes, ages, vetted expressions', () => {
    const problem = (v: object) => safeParse(file.params, { path: '/run/myapp.pid', ...v }).error?.issues[0]?.message;
    expect(problem({})).toBeUndefined();
    expect(problem({ path: 'run/myapp.pid' })).toMatch(/^'run\/myapp.pid' is not an absolute path/);
    expect(problem({ kind: 'pipe' })).toBe("'pipe' is not a kind of file whyport tells: file, dir, socket, fifo, symlink");
    expect(problem({ mode: 'rw-r-----' })).toBe("'rw-r-----' is not a file mode: write it in octal, like 0640 or 755");
    expect(problem({ olderThan: '10 minutes' })).toBe("'10 minutes' is not an age: write a number and a unit, like 30s, 10m, 2h or 1d");
    expect(problem({ contains: '(\\w+)*x' })).toMatch(/repeats a group that itself repeats/);
  });
});
