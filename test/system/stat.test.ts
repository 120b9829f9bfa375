import { describe, expect, it } from 'vitest';
import { fileInfosOfStatLines } from '../../src/system/stat.js';
import { captured } from '../helpers/fixtures.js';

// The ssh host's stat script over ssh (test/fixtures/capture-ssh-host.sh), for /etc/passwd /etc
// /dev/null /nonexistent '/tmp/wpt cap/empty file' /tmp/wpt-cap-five /run/systemd/system (that
// sshd's /run is an empty tmpfs).
describe('fileInfosOfStatLines on the captured stat script', () => {
  const c = captured('stat', 'mixed');
  const infos = fileInfosOfStatLines(c.stdout, 7);

  it('a file, a directory, something else, in the order asked; mtime in ms', () => {
    expect(c.exitCode).toBe(0);
    expect(infos.map((i) => i?.kind)).toEqual(['file', 'directory', 'other', undefined, 'file', 'file', undefined]);
    expect(infos[5]).toEqual({ kind: 'file', size: 5, mtimeMs: Number(c.stdout.split('\n')[5]!.split(' ')[2]) * 1000 });
    expect(infos[4]).toMatchObject({ kind: 'file', size: 0 });
  });

  it('a path with no line (output cut short) cannot be stat-ed', () => {
    expect(fileInfosOfStatLines(c.stdout.split('\n').slice(0, 2).join('\n'), 4)).toEqual([infos[0], infos[1], undefined, undefined]);
  });
});

// The stat script as it is now (mode, owner, link), run by sh on this machine for a 0640 file of
// uid 1 with an old mtime, its directory (0700), a FIFO, a unix socket, a link to the file,
// /dev/null and a path that does not exist.
describe('fileInfosOfStatLines with modes, owners and links', () => {
  const c = captured('stat', 'kinds');
  const infos = fileInfosOfStatLines(c.stdout, 7);

  it('reads the permission bits, the owner, what `other` is, and whether the path is a link', () => {
    expect(infos[0]).toEqual({ kind: 'file', size: 5, mtimeMs: 1704164645000, mode: 0o640, uid: 1, gid: 1 });
    expect(infos[1]).toMatchObject({ kind: 'directory', mode: 0o700, uid: 0 });
    expect(infos.slice(2, 4).map((i) => i?.special)).toEqual(['fifo', 'socket']);
    expect(infos[4]).toEqual({ ...infos[0], link: true });
    expect(infos[5]).toMatchObject({ kind: 'other', special: 'char', mode: 0o666 });
    expect(infos[6]).toBeUndefined();
  });
});
