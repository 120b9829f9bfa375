import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tcpInUse } from '../../src/system/namespaces.js';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, '..', 'fixtures', 'proc', name), 'utf8');

describe('sockstat: how many TCP sockets a namespace has, before its table is read', () => {
  it('reads the TCP line of sockstat and the TCP6 line of sockstat6 (captured on this machine)', () => {
    expect(tcpInUse(fixture('sockstat.txt'), 'TCP')).toBe(Number(/^TCP: inuse (\d+)/m.exec(fixture('sockstat.txt'))![1]));
    expect(tcpInUse(fixture('sockstat6.txt'), 'TCP6')).toBe(0);
    // The TCP6 label is not the TCP one, nor UDP's.
    expect(tcpInUse(fixture('sockstat6.txt'), 'TCP')).toBeUndefined();
    expect(tcpInUse('UDP: inuse 4 mem 1\n', 'TCP')).toBeUndefined();
  });
  it('undefined when the file could not be read: the table is read then', () => {
    expect(tcpInUse('', 'TCP')).toBeUndefined();
  });
});
