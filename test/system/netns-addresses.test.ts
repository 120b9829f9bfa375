import { describe, expect, it } from 'vitest';
import { addressesOfIfInet6, localAddressesOfFibTrie } from '../../src/system/netns-addresses.js';
import { fixture } from './firewall/fixtures.js';

// Captured by test/fixtures/netns/capture.sh: /proc/PID/net/* of a process in each namespace, read from outside.

describe('localAddressesOfFibTrie', () => {
  it('lists the /32 host LOCAL leaves once, though the trie is printed for Main and Local', () => {
    expect(localAddressesOfFibTrie(fixture('netns', 'host.fib_trie.txt'))).toEqual(['10.213.9.1', '10.213.9.5', '127.0.0.1', '172.30.0.1']);
  });

  it("reads a container's addresses, a /32 on lo included, and not the 127.0.0.0/8 route or the broadcasts", () => {
    const addresses = localAddressesOfFibTrie(fixture('netns', 'container.fib_trie.txt'));
    expect(addresses).toEqual(['10.96.0.10', '127.0.0.1', '172.30.0.2']);
    expect(addresses).not.toContain('127.0.0.0');
    expect(addresses).not.toContain('172.30.0.255');
  });

  it('a namespace with only lo has 127.0.0.1', () => {
    expect(localAddressesOfFibTrie(fixture('netns', 'empty.fib_trie.txt'))).toEqual(['127.0.0.1']);
  });

  it('nothing from text that is not a fib_trie', () => {
    expect(localAddressesOfFibTrie(fixture('netns', 'host.if_inet6.txt'))).toEqual([]);
  });
});

describe('addressesOfIfInet6', () => {
  it('writes each address with :: compression, in file order, link-local included', () => {
    expect(addressesOfIfInet6(fixture('netns', 'host.if_inet6.txt'))).toEqual([
      'fe80::bc72:6eff:fe06:4f30',
      'fe80::8cb8:17ff:fe65:b32b',
      'fe80::f86a:35ff:fea0:da5e',
      'fe80::e0bb:4bff:fe62:f811',
      'fd00:30::1',
      'fd00:9::1',
      '::1',
    ]);
  });

  it("reads a container's global, loopback and link-local addresses", () => {
    expect(addressesOfIfInet6(fixture('netns', 'container.if_inet6.txt'))).toEqual(['fd00:30::2', '::1', 'fe80::f41e:f6ff:fe30:9713']);
    expect(addressesOfIfInet6(fixture('netns', 'empty.if_inet6.txt'))).toEqual(['::1']);
  });
});
