import { defineReader } from './reader.js';
import { showCommand } from './runner.js';

/** One line of `fail2ban-client get JAIL banip --with-time`. */
export interface BanTime {
  address: string;
  /** When the ban began, as fail2ban prints it (local time): `2026-12-06 20:52:59`. */
  since: string;
  /** How long it lasts, in seconds (-1: for ever). */
  seconds?: number;
  /** When it ends, as fail2ban prints it. */
  until?: string;
}

/**
 * Reads `fail2ban-client get JAIL banip --with-time` (fail2ban 0.11+): one ban a line,
 * `10.0.0.7 \t2026-12-06 20:52:59 + 600 = 2026-12-06 21:02:59`. Lines of another form are skipped.
 */
export function parseBanTimes(text: string): BanTime[] {
  const out: BanTime[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*(\S+)\s+(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)(?:\s*\+\s*(-?\d+)(?:\s*=\s*(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d))?)?/.exec(line);
    if (!m) continue;
    out.push({ address: m[1]!, since: m[2]!, ...(m[3] !== undefined ? { seconds: Number(m[3]) } : {}), ...(m[4] ? { until: m[4] } : {}) });
  }
  return out;
}

/** What `fail2ban-client get JAIL banip --with-time` said: the bans of one jail with their times, or why not. */
export type JailBans = { jail: string; command: string; ok: true; bans: BanTime[] } | { jail: string; command: string; ok: false; error: string };

/**
 * The bans of one fail2ban jail and since when (fail2ban 0.11+), asked of its server through the
 * host's runner with the diagnosis's timeout: it answers over its socket at once, or not at all.
 */
export const fail2banBansOf = defineReader<string, JailBans>({
  name: 'fail2ban bans',
  key: (jail) => jail,
  async read(jail, s) {
    const argv = ['fail2ban-client', 'get', jail, 'banip', '--with-time'];
    const command = showCommand(argv);
    const r = await s.host.run(argv, { timeoutMs: Math.min(s.timeoutMs, 3_000) });
    if (r.missing) return { jail, command, ok: false, error: 'fail2ban-client is not installed' };
    if (r.exitCode !== 0) return { jail, command, ok: false, error: (r.stderr || r.stdout).trim().split('\n')[0] || `exit status ${r.exitCode}` };
    return { jail, command, ok: true, bans: parseBanTimes(r.stdout) };
  },
});
