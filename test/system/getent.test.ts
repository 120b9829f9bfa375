import { describe, expect, it } from 'vitest';
import { addressesOfAhosts } from '../../src/system/getent.js';
import { captured } from '../helpers/fixtures.js';

// `getent ahosts NAME` as it printed over ssh (test/fixtures/capture-ssh-host.sh).
describe('addressesOfAhosts on captured getent output', () => {
  it.each([
    ['ahosts-localhost', [{ address: '127.0.0.1', family: 4 }]],
    ['ahosts-ipv4-literal', [{ address: '10.213.8.2', family: 4 }]],
    ['ahosts-ipv6-literal', [{ address: '::1', family: 6 }]],
  ])('%s: each address once, though getent prints a line per socket type', (name, expected) => {
    const c = captured('getent', name);
    expect(c.exitCode).toBe(0);
    expect(c.stdout.split('\n').filter(Boolean)).toHaveLength(3);
    expect(addressesOfAhosts(c.stdout)).toEqual(expected);
  });

  it('a name that does not resolve: exit status 2 and no address', () => {
    const c = captured('getent', 'ahosts-unknown');
    expect(c.exitCode).toBe(2);
    expect(addressesOfAhosts(c.stdout)).toEqual([]);
  });
});
