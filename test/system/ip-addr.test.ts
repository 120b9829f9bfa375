import { describe, expect, it } from 'vitest';
import { interfacesOfIpAddr } from '../../src/system/ip-addr.js';
import { captured } from '../helpers/fixtures.js';

// `ip -o addr show` over ssh in a namespace with a veth of both families (test/fixtures/capture-ssh-host.sh).
describe('interfacesOfIpAddr on captured output', () => {
  it('every address of both families, bare, loopback internal', () => {
    const c = captured('ip-addr', 'veth-two-families');
    expect(interfacesOfIpAddr(c.stdout)).toEqual([
      { name: 'lo', address: '127.0.0.1', family: 4, internal: true },
      { name: 'lo', address: '::1', family: 6, internal: true },
      { name: 'wptSC', address: '10.213.8.1', family: 4, internal: false },
      { name: 'wptSC', address: 'fd00:213:8::1', family: 6, internal: false },
      { name: 'wptSC', address: expect.stringMatching(/^fe80::/), family: 6, internal: false },
    ]);
  });

  it('a veth named with its peer (eth0@if7, as in a container) is eth0', () => {
    const c = captured('ip-addr', 'veth-two-families');
    const line = c.stdout.split('\n')[2]!.replaceAll('wptSC', 'eth0').replace('eth0 ', 'eth0@if7 ');
    expect(interfacesOfIpAddr(line)).toEqual([{ name: 'eth0', address: '10.213.8.1', family: 4, internal: false }]);
  });
});
