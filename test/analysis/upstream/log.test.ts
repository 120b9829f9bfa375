import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { proxyLogLines } from '../../../src/analysis/upstream/log.js';
import type { UpstreamServer } from '../../../src/analysis/upstream/route.js';

const REAL = join(import.meta.dirname, '../../fixtures/proxy/real');
const lines = (f: string) => readFileSync(join(REAL, f), 'utf8').split('\n').filter(Boolean);
const at = (host: string, port: number, name?: string): UpstreamServer => ({ address: { kind: 'tcp', host, port }, ...(name ? { name } : {}), source: { file: 'x', line: 1, text: '' } });

describe('proxyLogLines on the real logs', () => {
  it("nginx's connect() failed lines name the upstream", () => {
    const got = proxyLogLines(lines('nginx-502.error.log'), 'nginx', {}, [at('127.0.0.1', 7071)]);
    expect(got).toHaveLength(2);
    expect(got[1]).toContain('connect() failed (111: Connection refused) while connecting to upstream');
  });
  it("apache2's AH00957 names the upstream; the startup notices do not count", () => {
    const got = proxyLogLines(lines('apache2-503.error.log'), 'apache2', {}, [at('127.0.0.1', 7071)]);
    expect(got.every((l) => l.includes('AH00957'))).toBe(true);
  });
  it("haproxy's journal: the server going DOWN and the backend without servers, by name", () => {
    const got = proxyLogLines(lines('haproxy.journal-u.txt'), 'haproxy', { group: 'app' }, [at('127.0.0.1', 7072, 'app1')], 3);
    expect(got.some((l) => l.includes('Server app/app1 is DOWN'))).toBe(true);
    expect(got.some((l) => l.includes('has no server available'))).toBe(true);
  });
  it('nothing about another upstream', () => {
    expect(proxyLogLines(lines('nginx-502.error.log'), 'nginx', {}, [at('127.0.0.1', 7072)])).toEqual([]);
  });
  it('a long line is cut', () => {
    const got = proxyLogLines([`x 127.0.0.1:7071 ${'y'.repeat(1000)}`], 'nginx', {}, [at('127.0.0.1', 7071)]);
    expect(got[0]!.length).toBe(300);
  });
});
