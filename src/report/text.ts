import boxen from 'boxen';
import { EXIT, exitStatusFor, pathText, statesToExplain, type AppliedFix, type Diagnosis, type FollowedWalk, type Report, type ReportTarget, type StepRecord, type StepStatus, type Vantages } from './model.js';
import { clean, commandLines, displayWidth, formatDuration, hang, joinFitting, palette, truncate, wrap, type Palette, type Tone } from '../text/terminal.js';
import { endpointText } from '../net/endpoint.js';

/** How the text report is laid out. */
export interface TextOptions {
  /** ANSI colours on. Off gives byte-stable output (tests, pipes, NO_COLOR). */
  color: boolean;
  /** Terminal columns. Defaults to 80; the report stays within 24…100 columns whatever is asked. */
  width?: number;
  /** Also show each step's check, outcome and parsed evidence, the whole output of an applied fix, and every TCP state seen. */
  verbose?: boolean;
  /** --brief: the verdict, the evidence and the fix only. */
  brief?: boolean;
}

const DEFAULT_WIDTH = 80;
// Below this the box and the step column stop making sense; above it prose gets hard to read.
const MIN_WIDTH = 24;
const MAX_WIDTH = 100;
// An applied fix's output is shown in full only with --verbose; its tail is what usually matters.
const FIX_OUTPUT_TAIL = 8;

/**
 * The report as an on-call engineer reads it: the verdict in a box, why, the evidence, the fix,
 * then the chain of checks that led there with the command behind each one.
 */
export function renderText(report: Report, opts: TextOptions): string {
  const width = Math.min(MAX_WIDTH, Math.max(MIN_WIDTH, Math.floor(opts.width ?? DEFAULT_WIDTH)));
  const p = palette(opts.color);
  const { diagnosis } = report;
  const sections: string[][] = [verdictBox(report, width, p)];

  // An ssh that failed changes what the verdict means: said right under it, not after the steps.
  const sshError = report.vantages?.server.error;
  if (sshError) sections.push(hang(`${sshError}. The verdict above is the client's alone.`, width, `${p.yellow('⚠')} `, '  ').map((l) => p.bold(l)));

  const brief = opts.brief ?? false;
  if (diagnosis.explanation.trim() && !brief) sections.push(wrap(diagnosis.explanation, width));

  if (diagnosis.proxy) sections.push(hang(throughText(diagnosis.proxy), width, `${p.bold('Through:')} `, '  '));
  if (diagnosis.path) sections.push(hang(clean(pathText(diagnosis.path, report.target)), width, `${p.bold('Path:')} `, '  '));
  if (diagnosis.ban) sections.push(hang(banText(diagnosis.ban), width, `${p.bold('Ban:')} `, '  '));

  if (diagnosis.evidence?.length) {
    const gutter = p.dim('│ ');
    sections.push([
      p.bold('Evidence'),
      ...diagnosis.evidence.flatMap((line) => hang(line, width, `  ${gutter}`, `  ${gutter}  `)),
    ]);
  }

  // The line of the server's configuration that decides (a pg_hba.conf line, a bind setting):
  // where to look, said apart from the story so it can be found at a glance.
  const setting = diagnosis.setting;
  if (setting) {
    sections.push([p.bold('The setting that decides'), ...hang(`${clean(setting.file)}:${setting.line}`, width, '  ', '  '), ...hang(clean(setting.text), width, `    ${p.dim('│ ')}`, `    ${p.dim('│ ')}  `)]);
  }

  const fix = fixSection(report, width, p, opts.verbose ?? false);
  if (fix.length) sections.push(fix);
  if (brief) return sections.map((s) => s.join('\n')).join('\n\n') + '\n';

  if (report.steps.length || report.interrupted) {
    sections.push([p.bold('How we got here'), ...stepLines(report, width, p, opts.verbose ?? false)]);
  }

  if (report.findings?.length) {
    sections.push([
      p.bold('Also noticed'),
      ...report.findings.flatMap((f) => {
        const where = opts.verbose && f.step ? ` (step ${f.step})` : '';
        return hang(`${f.summary}${where}`, width, `  ${p.yellow('•')} `, '    ');
      }),
    ]);
  }

  const states = statesToExplain(report, opts.verbose);
  if (states.length) {
    // Each TCP state the report mentions, in one plain sentence: the name column stays narrow,
    // and on a narrow terminal the name goes on a line of its own.
    const col = Math.max(...states.map(([name]) => displayWidth(name)));
    const inline = width >= 60;
    sections.push([
      p.bold('TCP states seen'),
      ...states.flatMap(([name, sentence]) =>
        inline
          ? hang(sentence, width, `  ${p.cyan(clean(name))}${' '.repeat(col - displayWidth(name) + 2)}`, ' '.repeat(col + 4))
          : [`  ${p.cyan(clean(name))}`, ...hang(sentence, width, '    ', '    ')],
      ),
    ]);
  }

  sections.push(footer(report, width, p));
  return sections.map((s) => s.join('\n')).join('\n\n') + '\n';
}

/** How the port leads to what was diagnosed: "nginx (/etc/nginx/sites-enabled/default:4) → 127.0.0.1:7071, status 502". */
export function throughText(proxy: NonNullable<Diagnosis['proxy']>): string {
  const config = proxy.config ? ` (${clean(proxy.config)})` : '';
  const status = typeof proxy.status === 'number' ? `, status ${proxy.status}` : '';
  return `${clean(proxy.program)}${config} → ${clean(proxy.upstream)}${status}`;
}

/** Who bans whom: "fail2ban jail nginx-http-auth bans 10.0.0.7 since 2026-12-06 20:52:59". */
export function banText(ban: NonNullable<Diagnosis['ban']>): string {
  return `${clean(ban.by)}${ban.jail ? ` jail ${clean(ban.jail)}` : ''} bans ${clean(ban.address)}${ban.since ? ` since ${clean(ban.since)}` : ''}`;
}

// ── verdict ──────────────────────────────────────────────────────────────────────────────────────

function toneOf(code: string): { tone: Tone; mark: string } {
  if (code === 'REACHABLE') return { tone: 'green', mark: '✔' };
  // Undecided (exit status 3): INCONCLUSIVE, and a silent UDP port.
  if (exitStatusFor(code) === EXIT.inconclusive) return { tone: 'yellow', mark: '?' };
  return { tone: 'red', mark: '✖' };
}

function verdictBox(report: Report, width: number, p: Palette): string[] {
  const { diagnosis, target } = report;
  const { tone, mark } = toneOf(diagnosis.code);
  // Border (2) and one column of padding each side.
  const inner = width - 4;
  const lines = [
    ...hang(clean(diagnosis.code), inner, `${mark} `, '  ').map((l) => p.bold(p[tone](l))),
    ...hang(diagnosis.title, inner, '  ', '  ').map((l) => p.bold(l)),
  ];
  const { applied } = diagnosis;
  if (applied) {
    const line = applied.verified
      ? `✔ Fixed: after the fix, ${endpoint(target)} is reachable`
      : '✖ The fix was applied but did not fix it';
    lines.push('', ...hang(line, inner, '', '  ').map((l) => p.bold(applied.verified ? p.green(l) : p.red(l))));
  }
  if (report.interrupted) {
    lines.push('', ...hang('⚠ Interrupted: this report is partial', inner, '', '  ').map((l) => p.bold(p.yellow(l))));
  }

  // UDP says so in the frame; TCP, the default, keeps the plain HOST:PORT.
  const title = truncate(`whyport · ${clean(target.host)}:${target.port}${target.protocol === 'udp' ? '/udp' : ''}`, width - 6);
  // boxen measures with string-width, which counts ✔ ✖ ⚠ as two columns where terminals draw one,
  // and would pad those lines short. So it frames placeholders of the exact widths, and the real
  // text goes in afterwards; its layout is fixed: border, one space, text.
  const mask = (s: string): string => 'x'.repeat(displayWidth(s));
  const frame = boxen(lines.map(mask).join('\n'), {
    width,
    padding: { top: 0, bottom: 0, left: 1, right: 1 },
    borderStyle: 'round',
    title: mask(title),
  }).split('\n');
  const tw = displayWidth(title);
  // After a verified fix the port works: the frame says so even though the code names what was wrong.
  const paint = diagnosis.applied?.verified ? p.green : p[tone];
  return frame.map((row, i) => {
    if (i === 0) return paint(`╭─ ${title} ${row.slice(3 + tw, -2)}╮`);
    if (i === frame.length - 1) return paint(row);
    const text = lines[i - 1] ?? '';
    return paint(row.slice(0, 1)) + row.slice(1, 2) + text + row.slice(2 + displayWidth(text), -1) + paint(row.slice(-1));
  });
}

// ── fix ──────────────────────────────────────────────────────────────────────────────────────────

function fixSection(report: Report, width: number, p: Palette, verbose: boolean): string[] {
  const { fix, applied } = report.diagnosis;
  if (!fix && !applied) return [];
  const out = [p.bold('Fix')];
  if (fix) {
    const lead = fix.commands.length ? `${fix.summary.replace(/[.:]\s*$/, '')}:` : fix.summary;
    out.push(...hang(lead, width, '  ', '  '));
    if (fix.commands.length) {
      out.push('');
      // No "$ " here: these lines are meant to be copied and run as they stand.
      for (const cmd of fix.commands) out.push(...commandLines(cmd, width, '    ', '      ').map((l) => p.cyan(l)));
    }
  }
  if (applied) {
    if (fix) out.push('');
    out.push(...appliedLines(applied, fix?.commands ?? [], report.target, width, p, verbose));
  }
  return out;
}

function appliedLines(
  applied: AppliedFix,
  shown: string[],
  target: ReportTarget,
  width: number,
  p: Palette,
  verbose: boolean,
): string[] {
  const mark = applied.exitCode === 0 ? p.green('✔') : p.red('✖');
  const exit = applied.exitCode === null ? 'no exit code (killed or timed out)' : `exit ${applied.exitCode}`;
  // Usually whyport ran exactly what is printed just above; say so rather than print it twice.
  const same = shown.length > 0 && applied.command === shown.join(' && ');
  const out = same
    ? hang(`whyport ran ${shown.length === 1 ? 'it' : 'them'}: ${exit}`, width, `  ${mark} `, '    ')
    : [
        ...hang(`whyport ran (${exit}):`, width, `  ${mark} `, '    '),
        ...commandLines(applied.command, width, '    $ ', '        ').map((l) => p.dim(l)),
      ];
  const output = clean(applied.output ?? '').replace(/\n+$/, '');
  if (output) {
    let lines = output.split('\n');
    if (!verbose && lines.length > FIX_OUTPUT_TAIL) {
      const hidden = lines.length - FIX_OUTPUT_TAIL;
      lines = [`… ${hidden} earlier line${hidden === 1 ? '' : 's'} (--verbose shows all)`, ...lines.slice(-FIX_OUTPUT_TAIL)];
    }
    const gutter = p.dim('│ ');
    out.push(...lines.flatMap((l) => hang(l, width, `    ${gutter}`, `    ${gutter}  `)));
  }
  const after = applied.after ? ` (${clean(applied.after)})` : '';
  const verdict = applied.verified
    ? `Verified: the checks ran again and ${endpoint(target)} is reachable now${after}.`
    : `Not verified: the checks ran again and ${endpoint(target)} is still not reachable${after}.`;
  out.push(...hang(verdict, width, `  ${applied.verified ? p.green('✔') : p.red('✖')} `, '    '));
  return out;
}

// ── steps ────────────────────────────────────────────────────────────────────────────────────────

const MARKS: Record<StepStatus, string> = { pass: '✔', fail: '✖', info: '•' };

function stepLines(report: Report, width: number, p: Palette, verbose: boolean): string[] {
  const durations = report.steps.map((s) => formatDuration(s.durationMs));
  const durWidth = Math.max(0, ...durations.map(displayWidth));
  // Durations sit in one column just right of the longest summary, so the eye does not cross the
  // whole terminal; they move left of the edge only when summaries are short.
  const summaryMax = Math.max(8, width - 4 - 2 - durWidth);
  const longest = Math.max(0, ...report.steps.map((s) => Math.max(...wrap(s.summary, summaryMax).map(displayWidth))));
  const summaryWidth = Math.min(summaryMax, longest);

  const out: string[] = [];
  let at: string | undefined;
  report.steps.forEach((step, i) => {
    if (report.vantages && step.where && step.where !== at) {
      at = step.where;
      out.push(...hang(vantageHeading(report.vantages, step.where), width, '  ', '    ').map((l) => p.bold(l)));
    }
    const status = step.status ?? 'info';
    const mark = status === 'pass' ? p.green(MARKS.pass) : status === 'fail' ? p.red(MARKS.fail) : p.cyan(MARKS.info);
    const summary = wrap(step.summary, summaryWidth);
    const dur = durations[i] ?? '';
    const [head = '', ...more] = summary;
    const gap = ' '.repeat(summaryWidth - displayWidth(head) + 2 + durWidth - displayWidth(dur));
    out.push(`  ${mark} ${head}${gap}${p.dim(dur)}`, ...more.map((line) => `    ${line}`));
    if (step.command) out.push(...commandLines(step.command, width, '    $ ', '        ').map((l) => p.dim(l)));
    if (verbose) out.push(...stepDetails(step, width).map((l) => p.dim(l)));
    if (step.follow) out.push(...followedLines(step.follow, width, p, verbose, '    '));
  });
  const server = report.vantages?.server;
  if (server?.error) {
    out.push(...hang(vantageHeading(report.vantages!, 'server'), width, '  ', '    ').map((l) => p.bold(l)));
    out.push(...hang('not reached over ssh (why: under the verdict above)', width, `  ${p.yellow('⚠')} `, '    '));
  }
  if (report.interrupted) {
    out.push(...hang('interrupted (Ctrl-C): the checks stopped here', width, `  ${p.yellow('⚠')} `, '    '));
  }
  return out;
}

/** A follow step's walk, under it: each step a mark and its summary, indented (with --verbose, its command and details too). */
function followedLines(walk: FollowedWalk, width: number, p: Palette, verbose: boolean, indent: string): string[] {
  const out: string[] = [];
  for (const step of walk.steps) {
    const status = step.status ?? 'info';
    const mark = status === 'pass' ? p.green(MARKS.pass) : status === 'fail' ? p.red(MARKS.fail) : p.cyan(MARKS.info);
    out.push(...hang(step.summary, width, `${indent}${mark} `, `${indent}  `));
    if (verbose && step.command) out.push(...commandLines(step.command, width, `${indent}  $ `, `${indent}      `).map((l) => p.dim(l)));
    // Details hang as a top-level step's do, moved right with the step and kept within the width.
    const shift = ' '.repeat(indent.length - 2);
    if (verbose) out.push(...stepDetails(step, width - shift.length).map((l) => p.dim(`${shift}${l}`)));
    if (step.follow) out.push(...followedLines(step.follow, width, p, verbose, `${indent}  `));
  }
  if (walk.interrupted) out.push(...hang('interrupted (Ctrl-C) while this was diagnosed', width, `${indent}${p.yellow('⚠')} `, `${indent}  `));
  return out;
}

/** "On the client (laptop)" / "On the server: root@10.0.0.5 over ssh (db1, 5 remote commands)". */
function vantageHeading(v: Vantages, where: 'client' | 'server'): string {
  if (where === 'client') return `On the client (${v.client.host}, this machine)`;
  const s = v.server;
  const who = `${s.user ? `${s.user}@` : ''}${s.host}`;
  const about = [s.hostname && s.hostname !== s.host ? s.hostname : '', s.as && s.user && s.as !== s.user ? `as ${s.as} with sudo` : '', s.commands !== undefined ? `${s.commands} remote command${s.commands === 1 ? '' : 's'}` : ''].filter(Boolean).join(', ');
  return `On the server: ${who} over ssh${about ? ` (${about})` : ''}`;
}

function stepDetails(step: StepRecord, width: number): string[] {
  const out = hang(`step ${step.id} · check ${step.check} → ${step.outcome}`, width, '      ', '        ');
  for (const [key, value] of Object.entries(step.evidence)) {
    // Lists of lines (a journal, addresses) read best one per line; other values as JSON.
    if (Array.isArray(value) && value.length && value.every((v) => typeof v !== 'object')) {
      out.push(...hang(`${key}:`, width, '      ', '        '));
      for (const item of value) out.push(...hang(String(item), width, '        - ', '          '));
      continue;
    }
    const shown = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
    out.push(...hang(`${key}: ${shown}`, width, '      ', '        '));
  }
  return out;
}

// ── footer ───────────────────────────────────────────────────────────────────────────────────────

function footer(report: Report, width: number, p: Palette): string[] {
  const { target } = report;
  const where =
    target.address === null
      ? `${target.host}:${target.port} (did not resolve)`
      : target.address === target.host
        ? endpoint(target)
        : `${target.host} → ${endpoint(target)}`;
  const parts = [
    `${where}/${target.protocol}${target.portName ? ` (${target.portName})` : ''}`,
    ...(target.local ? ['on this machine'] : []),
    `playbook ${report.playbook.name}`,
    report.interrupted ? `interrupted after ${formatDuration(report.durationMs)}` : `took ${formatDuration(report.durationMs)}`,
  ];
  const others = (target.addresses ?? []).filter((a) => a !== target.address);
  if (others.length) parts.push(`${target.host} also resolves to ${others.join(', ')}`);
  return [p.dim('─'.repeat(width)), ...joinFitting(parts, ' · ', width).map((l) => p.dim(l))];
}

function endpoint(target: ReportTarget): string {
  const addr = target.address ?? target.host;
  return endpointText(addr, target.port);
}
