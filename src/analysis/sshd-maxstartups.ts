import { SSHD } from '../knowledge/service-settings.js';
import type { SshdConfigReading, SshdEffective, SshdKeywordLine } from '../system/sshd-config.js';
import type { SettingVerdict, SourceLine } from './service-setting.js';

/** The line that sets a keyword for every connection: the first one outside Match blocks, as sshd keeps the first value it reads. */
export function firstSshdSetting(keywords: readonly SshdKeywordLine[], keyword: string): SshdKeywordLine | undefined {
  const want = keyword.toLowerCase();
  return keywords.find((k) => !k.inMatch && k.keyword === want);
}

/** The first Match line of a file (settings for everyone go before it). */
export function firstMatchLine(keywords: readonly SshdKeywordLine[], file: string): SourceLine | undefined {
  return keywords.find((k) => k.source.file === file && k.keyword === 'match')?.source;
}

/** MaxStartups `start:rate:full` (or a single number: refuse past it). */
export interface MaxStartups {
  start: number;
  rate: number;
  full: number;
}

export function parseMaxStartups(value: string): MaxStartups | undefined {
  const m = /^(\d+)(?::(\d+):(\d+))?$/.exec(value.trim());
  if (!m) return undefined;
  const start = Number(m[1]);
  return m[2] === undefined ? { start, rate: 100, full: start } : { start, rate: Number(m[2]), full: Number(m[3]) };
}

/**
 * Names the setting behind sshd's `Exceeded MaxStartups`: the effective value (`sshd -T`, when it
 * could run) and the line that sets it (the first one outside Match blocks, in sshd_config and
 * the files it includes), or sshd's default when no line does. The fix doubles the start and full
 * values in that line (or adds one before the first Match block) and reloads sshd; unauthenticated
 * connections piling up is also what a scan looks like, and the summary says so.
 */
export function decideMaxStartups(config: SshdConfigReading, effective: SshdEffective | undefined, opts: { perSource?: boolean; port?: number } = {}): SettingVerdict {
  const keyword = opts.perSource ? 'PerSourceMaxStartups' : 'MaxStartups';
  const found = firstSshdSetting(config.keywords, keyword);
  const line = found?.source;
  const fromT = effective?.get(keyword.toLowerCase())?.[0];
  const written = found?.args[0];
  const value = fromT ?? written ?? (opts.perSource ? 'none' : SSHD.maxStartupsDefault);
  const evidence = [
    fromT !== undefined ? `sshd -T: ${keyword.toLowerCase()} ${fromT}` : `sshd -T did not run: the value comes from the files`,
    line ? `${line.file}:${line.line}: ${line.text}` : `no ${keyword} line in ${config.path} or the files it includes: sshd's default ${opts.perSource ? 'none' : SSHD.maxStartupsDefault}`,
  ];
  if (fromT !== undefined && written !== undefined && fromT !== written && parseMaxStartups(written) && parseMaxStartups(fromT)) {
    const [a, b] = [parseMaxStartups(written)!, parseMaxStartups(fromT)!];
    if (a.start !== b.start || a.rate !== b.rate || a.full !== b.full) evidence.push(`the running configuration says ${fromT}, not the ${written} of that line: sshd was started with another file or an -o option`);
  }
  const parsed = parseMaxStartups(value);
  const next = opts.perSource ? (/^\d+$/.test(value) ? String(Number(value) * 2) : '10') : parsed ? `${parsed.start * 2}:${parsed.rate}:${Math.max(parsed.full, parsed.start) * 2}` : '20:30:200';
  const text = `${keyword} ${next}`;
  const match = firstMatchLine(config.keywords, config.path);
  const edit = line
    ? { file: line.file, at: 'replace' as const, line: line.line, text }
    : match
      ? { file: config.path, at: 'before' as const, line: match.line, text }
      : { file: config.path, at: 'append' as const, text };
  const port = opts.port ?? 22;
  return {
    outcome: 'refuses',
    ...(line ? { setting: line } : {}),
    explanation: `sshd drops new connections once ${opts.perSource ? 'one address holds' : 'it holds'} ${value} unauthenticated ones (${keyword}${line ? `, ${line.file}:${line.line}` : ", sshd's default"}): it answered "Exceeded ${keyword}" and closed`,
    fix: {
      summary:
        `Raise ${keyword} (${value} → ${next}) and reload sshd; but first look at who holds the unauthenticated connections (ss -tn state established '( sport = :${port} )'): ` +
        `a scan or a password-guessing run fills them too, and a ban (fail2ban) or a firewall rule is then the fix, not a higher limit`,
      edit,
      commands: [[...SSHD.reload]],
    },
    evidence,
  };
}
