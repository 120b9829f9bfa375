import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { refusalLogLines } from '../../src/analysis/refusal-log.js';
import { fuzzTexts } from '../helpers/fuzz.js';

const log = (path: string) => readFileSync(new URL(`../fixtures/${path}`, import.meta.url), 'utf8').split('\n');

describe('log lines of a refusal', () => {
  it("PostgreSQL's own lines (captured from the real server): no entry, and a reject line, for this client only", () => {
    const lines = log('postgresql/refusals.log');
    expect(refusalLogLines('pg-hba-none', lines, '10.213.9.2')).toEqual(['2026-12-06 18:06:30.093 GMT [21291] FATAL:  no pg_hba.conf entry for host "10.213.9.2", user "app", database "app", no encryption']);
    expect(refusalLogLines('pg-hba-reject', lines, '10.213.9.2')).toEqual(['2026-12-06 18:06:30.824 GMT [21353] FATAL:  pg_hba.conf rejects connection for host "10.213.9.2", user "app", database "app", no encryption']);
    expect(refusalLogLines('pg-hba-none', lines, '10.213.9.20')).toEqual([]);
    expect(refusalLogLines('pg-hba-none', lines, '::ffff:10.213.9.2')).toHaveLength(1);
  });

  it("sshd's drop line past MaxStartups (captured from the real sshd), and libwrap's refused connect", () => {
    expect(refusalLogLines('sshd-maxstartups', log('sshd/maxstartups.log'), '10.213.9.2')).toEqual(['drop connection #1 from [10.213.9.2]:60771 on [10.213.9.2]:2222 past MaxStartups']);
    expect(refusalLogLines('sshd-maxstartups', log('sshd/maxstartups.log'), '10.213.9.1')).toEqual([]);
    const syslog = ['Dec  6 18:00:01 bed sshd[812]: refused connect from 10.0.0.7 (10.0.0.7)', 'Dec  6 18:00:02 bed sshd[813]: refused connect from 10.0.0.70 (10.0.0.70)'];
    expect(refusalLogLines('tcp-wrappers', syslog, '10.0.0.7')).toEqual([syslog[0]]);
  });

  it('keeps the newest few and never throws on random text', () => {
    const many = Array.from({ length: 9 }, (_, i) => `FATAL:  no pg_hba.conf entry for host "10.0.0.7", user "u${i}"`);
    expect(refusalLogLines('pg-hba-none', many, '10.0.0.7')).toEqual(many.slice(-3));
    for (const text of fuzzTexts(log('postgresql/refusals.log').join('\n'), 200, 5)) refusalLogLines('pg-hba-none', text.split('\n'), '10.0.0.7');
    const started = performance.now();
    const long = 'drop connection #1 from [' + '10.0.0.7'.repeat(100_000) + ' on x';
    expect(refusalLogLines('sshd-maxstartups', [long], '10.0.0.7')).toEqual([]);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
