import { describe, expect, it } from 'vitest';
import { fileErrno, socketErrno } from '../../src/system/strerror.js';
import { captured } from '../helpers/fixtures.js';

// coreutils and bash failing over ssh (test/fixtures/capture-ssh-host.sh).
describe('fileErrno on captured coreutils errors', () => {
  it.each([
    ['cat-missing', 'ENOENT'],
    ['cat-directory', 'EISDIR'],
    ['ls-not-a-directory', 'ENOTDIR'],
    ['readlink-not-a-link', 'EIO'],
  ])('%s: %s', (name, code) => {
    const c = captured('coreutils', name);
    expect(c.exitCode).not.toBe(0);
    expect(fileErrno(c.stderr, false)).toBe(code);
  });

  it('a read stopped by its timeout, with nothing said: ETIMEDOUT', () => {
    expect(fileErrno('', true)).toBe('ETIMEDOUT');
  });
});

describe('socketErrno on captured bash socket errors', () => {
  it.each([
    ['connect-refused', 'ECONNREFUSED'],
    ['connect-no-route', 'EHOSTUNREACH'],
    ['connect-network-unreachable', 'ENETUNREACH'],
    ['connect-prohibited', undefined],
    ['connect-timeout', undefined],
    ['udp-refused', 'ECONNREFUSED'],
  ])('%s: %s', (name, errno) => {
    expect(socketErrno(captured('bash', name).stderr)).toBe(errno);
  });
});
