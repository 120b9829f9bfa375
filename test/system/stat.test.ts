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
