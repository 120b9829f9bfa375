import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decideMaxStartups, firstSshdSetting, parseMaxStartups } from '../../src/analysis/sshd-maxstartups.js';
import { parseSshdT, readSshdConfig, readSshdEffective, sshdKeywordLines, sshdLine, sshdTArgv } from '../../src/system/sshd-config.js';
import { fuzzTexts } from '../helpers/fuzz.js';
import { replayHost } from '../helpers/replay-host.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/sshd/${name}`, import.meta.url), 'utf8');
const CONFIG = '/etc/ssh/sshd_config';
const DROPIN = '/etc/ssh/sshd_config.d';

/** Debian's packaged sshd_config (line 12 includes sshd_config.d/*.conf), edited, and drop-ins. */
function bed(config = fixture('sshd_config'), dropins: Record<string, string> = {}) {
  const files: Record<string, string> = { [CONFIG]: config, [`${DROPIN}/.keep`]: '' };
  for (const [name, text] of Object.entries(dropins)) files[`${DROPIN}/${name}`] = text;
  return replayHost({ files, commands: { '/usr/sbin/sshd -T': { stdout: fixture('sshd-T.txt') }, '/usr/sbin/sshd -T -C user=root,host=,addr=10.0.0.7': { stdout: fixture('sshd-T-C.txt') } } });
}

describe('sshd -T and sshd_config', () => {
  it("parses the real sshd -T of Debian's packaged configuration, and the -C form for one client", async () => {
    const t = parseSshdT(fixture('sshd-T.txt'));
    expect(t.get('maxstartups')).toEqual(['10:30:100']);
    expect(t.get('persourcemaxstartups')).toEqual(['none']);
    expect(t.get('port')).toEqual(['22']);
    expect(t.get('hostkey')?.length).toBeGreaterThan(1);
    const r = await readSshdEffective(bed(), { connection: { user: 'root', addr: '10.0.0.7' } });
    expect(r).toMatchObject({ command: ['/usr/sbin/sshd', '-T', '-C', 'user=root,host=,addr=10.0.0.7'] });
    expect('effective' in r && r.effective.get('maxstartups')).toEqual(['10:30:100']);
  });

  it("sshd -T's own error line when it cannot run (no /run/sshd outside its unit)", async () => {
    const host = replayHost({ commands: { '/usr/sbin/sshd -T': { stderr: fixture('sshd-T-no-privsep.stderr.txt'), exitCode: 255 } } });
    expect(await readSshdEffective(host)).toEqual({ error: 'Missing privilege separation directory: /run/sshd', command: ['/usr/sbin/sshd', '-T'] });
    expect(sshdTArgv({ config: '/tmp/c', connection: { user: 'u', addr: '::1', laddr: '::1', lport: 22 } })).toEqual(['/usr/sbin/sshd', '-T', '-f', '/tmp/c', '-C', 'user=u,host=,addr=::1,laddr=::1,lport=22']);
  });

  it('keyword lines: spaces or =, quotes, comments', () => {
    expect(sshdLine('MaxStartups 10:30:100')).toEqual({ keyword: 'maxstartups', args: ['10:30:100'] });
    expect(sshdLine('maxstartups=3')).toEqual({ keyword: 'maxstartups', args: ['3'] });
    expect(sshdLine('Banner "/etc/a b"')).toEqual({ keyword: 'banner', args: ['/etc/a b'] });
    expect(sshdLine('#MaxStartups 10:30:100')).toBeUndefined();
    expect(parseMaxStartups('10:30:100')).toEqual({ start: 10, rate: 30, full: 100 });
    expect(parseMaxStartups('5')).toEqual({ start: 5, rate: 100, full: 5 });
    expect(parseMaxStartups('x')).toBeUndefined();
  });

  it("the packaged file has only the commented default: no setting line, the fix adds one (before the first Match block when there is one)", async () => {
    const reading = await readSshdConfig(bed());
    expect(reading.problems).toEqual([]);
    expect(firstSshdSetting(reading.keywords, 'MaxStartups')).toBeUndefined();
    const v = decideMaxStartups(reading, parseSshdT(fixture('sshd-T.txt')));
    expect(v.outcome).toBe('refuses');
    expect(v.setting).toBeUndefined();
    expect(v.explanation).toContain("10:30:100 unauthenticated ones (MaxStartups, sshd's default)");
    expect(v.fix?.edit).toEqual({ file: CONFIG, at: 'append', text: 'MaxStartups 20:30:200' });
    expect(v.fix?.commands).toEqual([['systemctl', 'reload', 'ssh']]);
    const withMatch = await readSshdConfig(bed(fixture('sshd_config') + 'Match User backup\n\tMaxStartups 99\n'));
    expect(decideMaxStartups(withMatch, undefined).fix?.edit).toEqual({ file: CONFIG, at: 'before', line: 123, text: 'MaxStartups 20:30:200' });
  });

  it('the first line outside Match blocks wins: a drop-in included at line 12 before the main file; the drop-in is the setting', async () => {
    const reading = await readSshdConfig(bed(fixture('sshd_config').replace('#MaxStartups 10:30:100', 'MaxStartups 10:30:60'), { '10-limits.conf': 'Match Address 10.0.0.0/8\n  MaxSessions 2\n', '20-limits.conf': 'MaxStartups=1:100:1\n', 'notes.txt': 'MaxStartups 7' }));
    expect(reading.flat.files).toEqual([CONFIG, `${DROPIN}/10-limits.conf`, `${DROPIN}/20-limits.conf`]);
    const v = decideMaxStartups(reading, undefined);
    expect(v.setting).toEqual({ file: `${DROPIN}/20-limits.conf`, line: 1, text: 'MaxStartups=1:100:1' });
    expect(v.fix?.edit).toEqual({ file: `${DROPIN}/20-limits.conf`, at: 'replace', line: 1, text: 'MaxStartups 2:100:2' });
    expect(v.evidence[0]).toBe('sshd -T did not run: the value comes from the files');
  });

  it('a running value other than the line says so; PerSourceMaxStartups is its own setting', async () => {
    const reading = await readSshdConfig(bed(fixture('sshd_config').replace('#MaxStartups 10:30:100', 'MaxStartups 10:30:60\nPerSourceMaxStartups 3')));
    const v = decideMaxStartups(reading, parseSshdT('maxstartups 1:100:1\npersourcemaxstartups 3\n'));
    expect(v.evidence).toContain('the running configuration says 1:100:1, not the 10:30:60 of that line: sshd was started with another file or an -o option');
    const p = decideMaxStartups(reading, parseSshdT('maxstartups 10:30:60\npersourcemaxstartups 3\n'), { perSource: true });
    expect(p.setting?.text).toBe('PerSourceMaxStartups 3');
    expect(p.fix?.edit?.text).toBe('PerSourceMaxStartups 6');
  });

  it('never throws and always ends on random and truncated text', () => {
    for (const text of fuzzTexts(fixture('sshd_config') + fixture('sshd-T.txt'), 300, 2222)) {
      const lines = text.split('\n').map((t, i) => ({ file: CONFIG, line: i + 1, text: t.trim() }));
      const flat = { lines, files: [CONFIG], problems: [], wanted: { files: [], dirs: [] } };
      const keywords = sshdKeywordLines(lines);
      decideMaxStartups({ path: CONFIG, flat, keywords, problems: [] }, parseSshdT(text));
      decideMaxStartups({ path: CONFIG, flat, keywords, problems: [] }, parseSshdT(text), { perSource: true });
    }
  });
});
