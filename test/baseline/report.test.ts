// Golden files for the check report: test/baseline/golden/<case>.txt and .json.
//
// After an intended change to the layout, rewrite them and review the diff before committing:
//
//   UPDATE_GOLDEN=1 npx vitest run test/baseline/report.test.ts
//
// Without UPDATE_GOLDEN the test compares and fails on any difference.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { diffListeners } from '../../src/baseline/diff.js';
import type { Listener } from '../../src/baseline/model.js';
import { renderCheckJson, renderCheckText, showAddress, type CheckReport } from '../../src/baseline/report.js';

const GOLDEN = join(dirname(fileURLToPath(import.meta.url)), 'golden');
const UPDATE = process.env.UPDATE_GOLDEN === '1';

function golden(file: string, actual: string): void {
  const path = join(GOLDEN, file);
  if (UPDATE) {
    mkdirSync(GOLDEN, { recursive: true });
    writeFileSync(path, actual);
    return;
  }
  if (!existsSync(path)) throw new Error(`${path} is missing: run UPDATE_GOLDEN=1 npx vitest run test/baseline/report.test.ts`);
  expect(actual, `${file} differs; if the change is intended: UPDATE_GOLDEN=1 npx vitest run test/baseline/report.test.ts`).toBe(readFileSync(path, 'utf8'));
}

const L = (protocol: 'tcp' | 'udp', address: string, port: number, program?: string, unit?: string, device?: string): Listener => ({
  protocol,
  address,
  port,
  family: address.includes(':') || address === '*' ? 'inet6' : 'inet',
  ...(device ? { device } : {}),
  ...(program ? { program } : {}),
  ...(unit ? { unit } : {}),
});

const before: Listener[] = [
  L('tcp', '0.0.0.0', 22, 'sshd', 'ssh.service'),
  L('tcp', '127.0.0.1', 6379, 'redis-server', 'redis-server.service'),
  L('tcp', '::1', 8080, 'node', 'myapp.service'),
  L('tcp', '127.0.0.1', 9000, 'python3'),
  L('udp', '0.0.0.0', 5353, 'avahi-daemon', 'avahi-daemon.service'),
  L('udp', '127.0.0.1', 323, 'chronyd', 'chrony.service'),
];
const after: Listener[] = [
  L('tcp', '0.0.0.0', 22, 'sshd', 'ssh.service'),
  L('tcp', '0.0.0.0', 6379, 'redis-server', 'redis-server.service'),
  L('tcp', '*', 8080, 'node', 'myapp.service'),
  L('tcp', '127.0.0.1', 9000, 'node'),
  L('tcp', '0.0.0.0', 9100, 'node_exporter', 'prometheus-node-exporter.service'),
  L('udp', '127.0.0.1', 323, 'chronyd', 'chrony.service', 'lo'),
  L('udp', '0.0.0.0', 51820),
];

const report = (changes = diffListeners(before, after), extra: Partial<CheckReport> = {}): CheckReport => ({
  file: '/var/lib/whyport/baseline.json',
  baseline: { host: 'web1', savedAt: '2025-03-01T10:00:00.000Z', listeners: before.length },
  host: 'web1',
  checkedAt: '2025-03-01T10:05:00.000Z',
  listeners: after.length,
  ignored: { ports: [], programs: [] },
  changes,
  ...extra,
});

describe('check report', () => {
  it('renders a table with exposure first (text)', () => golden('changed.txt', renderCheckText(report())));
  it('renders a stable document (JSON)', () => golden('changed.json', renderCheckJson(report())));
  it('renders "no changes", with the filters and another host named', () => {
    const r = report([], { host: 'web2', ignored: { ports: ['22', '8000-8100'], programs: ['chronyd'] } });
    golden('unchanged.txt', renderCheckText(r));
    golden('unchanged.json', renderCheckJson(r));
  });

  it('writes IPv6 in brackets, * as is, and the bound device', () => {
    expect(showAddress({ address: '::1', family: 'inet6' })).toBe('[::1]');
    expect(showAddress({ address: '*', family: 'inet6' })).toBe('*');
    expect(showAddress({ address: '127.0.0.1', family: 'inet', device: 'lo' })).toBe('127.0.0.1%lo');
  });

  it('parses back as JSON with the changes in table order', () => {
    const doc = JSON.parse(renderCheckJson(report())) as { changed: boolean; changes: { kind: string; exposure: boolean; port: number }[] };
    expect(doc.changed).toBe(true);
    expect(doc.changes.map((c) => `${c.exposure ? '!' : ''}${c.kind} ${c.port}`)).toEqual([
      '!changed 6379',
      '!changed 8080',
      'appeared 9100',
      'appeared 51820',
      'disappeared 5353',
      'changed 9000',
      'changed 323',
    ]);
  });
});
