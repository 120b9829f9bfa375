import { EXIT, exitStatusFor, pathText, statesToExplain, type Report, type StepRecord, type StepStatus } from './model.js';
import { clean, formatDuration } from '../text/terminal.js';
import { endpointText } from '../net/endpoint.js';

const MARKS: Record<StepStatus, string> = { pass: '✔', fail: '✖', info: '•' };

/** How the Markdown report is cut. */
export interface MarkdownOptions {
  /** --brief: the verdict, the evidence and the fix only. */
  brief?: boolean;
}

/**
 * The report as GitHub-flavoured Markdown, for pasting into a ticket: the same content as the text
 * report, with commands in code so they survive the paste and can be copied back out.
 */
export function renderMarkdown(report: Report, opts: MarkdownOptions = {}): string {
  const brief = opts.brief ?? false;
  const { diagnosis, target } = report;
  const mark = diagnosis.code === 'REACHABLE' ? '✔' : exitStatusFor(diagnosis.code) === EXIT.inconclusive ? '?' : '✖';
  const out: string[] = [`## ${mark} ${code(diagnosis.code)}: ${text(diagnosis.title)}`];

  const server = report.vantages?.server;
  const who = server ? `${server.user ? `${server.user}@` : ''}${server.host}` : '';
  // An ssh that failed changes what the verdict means: said right under it.
  if (server?.error) out.push(`> ⚠ **Server ${text(who)} not reached over ssh:** ${text(server.error)}. The verdict is the client's alone.`);
  if (report.interrupted) {
    out.push('> **Partial report:** whyport was interrupted (Ctrl-C) before the checks finished.');
  }
  if (diagnosis.explanation.trim() && !brief) out.push(text(diagnosis.explanation));

  if (diagnosis.proxy) {
    const { program, config, upstream, status } = diagnosis.proxy;
    out.push(`**Through:** ${text(program)}${config ? ` (${code(config)})` : ''} → ${code(upstream)}${typeof status === 'number' ? `, status ${status}` : ''}`);
  }

  if (diagnosis.path) out.push(`**Path:** ${text(pathText(diagnosis.path, target))}`);
  if (diagnosis.ban) {
    const { by, jail, address, since } = diagnosis.ban;
    out.push(`**Ban:** ${text(by)}${jail ? ` jail ${code(jail)}` : ''} bans ${code(address)}${since ? ` since ${text(since)}` : ''}`);
  }

  if (diagnosis.evidence?.length) out.push('### Evidence', fence(diagnosis.evidence.join('\n'), 'text'));

  if (diagnosis.setting) {
    const { file, line, text: setting } = diagnosis.setting;
    out.push('### The setting that decides', `${code(`${file}:${line}`)}`, fence(setting, 'text'));
  }

  const { fix, applied } = diagnosis;
  if (fix || applied) {
    out.push('### Fix');
    if (fix) {
      // The same lead-in as the text report: a colon when the commands follow.
      const summary = fix.summary.replace(/[.:]\s*$/, '');
      out.push(text(fix.commands.length ? `${summary}:` : /[.!?]$/.test(summary) ? summary : `${summary}.`));
      if (fix.commands.length) out.push(fence(fix.commands.join('\n'), 'sh'));
    }
    if (applied) {
      const exit = applied.exitCode === null ? 'no exit code (killed or timed out)' : `exit ${applied.exitCode}`;
      const after = applied.after ? ` (${code(applied.after)})` : '';
      const verdict = applied.verified
        ? `✔ **Verified:** the checks ran again and ${code(endpoint(report))} is reachable now${after}.`
        : `✖ **Not verified:** the checks ran again and ${code(endpoint(report))} is still not reachable${after}.`;
      const output = clean(applied.output ?? '').replace(/\n+$/, '');
      out.push(`**Applied:** whyport ran ${code(applied.command)}: ${exit}${output ? '. Its output:' : '.'}`);
      if (output) out.push(fence(output, 'text'));
      out.push(verdict);
    }
  }

  if (brief) return out.join('\n\n') + '\n';

  if (report.steps.length) {
    out.push(
      '### How we got here',
      [
        '| | Step | Result | Command | Time |',
        '|---|---|---|---|--:|',
        ...report.steps.flatMap((s) => stepRows(s, 0)),
        ...(report.interrupted ? ['| ⚠ | | *interrupted (Ctrl-C): the checks stopped here* | | |'] : []),
      ].join('\n'),
    );
  }

  if (server && !server.error) out.push(`Server side over ssh: ${code(who)}${server.commands !== undefined ? `, ${server.commands} remote commands` : ''}.`);

  if (report.findings?.length) {
    out.push('### Also noticed', report.findings.map((f) => `- ${text(f.summary)} (${code(f.code)})`).join('\n'));
  }

  const states = statesToExplain(report);
  if (states.length) {
    out.push('### TCP states seen', states.map(([name, sentence]) => `- ${code(name)}: ${text(sentence)}`).join('\n'));
  }

  const where =
    target.address === null
      ? `${code(`${target.host}:${target.port}`)} (did not resolve)`
      : target.address === target.host
        ? code(endpoint(report))
        : `${code(target.host)} → ${code(endpoint(report))}`;
  const facts = [
    `${where}/${target.protocol}${target.portName ? ` (${text(target.portName)})` : ''}`,
    ...(target.local ? ['on the machine that ran whyport'] : []),
    `playbook ${code(report.playbook.name)} (${code(report.playbook.source)})`,
    report.interrupted ? `interrupted after ${formatDuration(report.durationMs)}` : `took ${formatDuration(report.durationMs)}`,
  ];
  out.push('---', `**Target:** ${facts.join(' · ')}`);
  // Which whyport, where and when: a ticket holds reports of several runs and machines.
  const run = report.whyport;
  if (run) out.push(`**Run:** whyport ${text(run.version)} on ${code(run.host)} · started ${text(run.startedAt)}`);
  return out.join('\n\n') + '\n';
}

/** A step's row, and under a follow step the rows of its walk (↳, their ids prefixed with its own). */
function stepRows(step: StepRecord, depth: number, prefix = ''): string[] {
  const rows = [stepRow(step, depth, prefix)];
  if (step.follow) {
    rows.push(...step.follow.steps.flatMap((s) => stepRows(s, depth + 1, `${prefix}${step.id} › `)));
    if (step.follow.interrupted) rows.push(`| ⚠ | ${'↳'.repeat(depth + 1)} | *interrupted (Ctrl-C) while this was diagnosed* | | |`);
  }
  return rows;
}

function stepRow(step: StepRecord, depth = 0, prefix = ''): string {
  const id = `${depth ? `${'↳'.repeat(depth)} ` : ''}${code(`${prefix}${step.id}`)}`;
  const cells = [
    MARKS[step.status ?? 'info'],
    step.where ? `${id} (${step.where})` : id,
    text(step.summary),
    step.command ? code(step.command) : '',
    formatDuration(step.durationMs),
  ];
  // GFM splits a row at every | not written \|, even inside a code span, and removes the backslash
  // of each \| before reading the cell; so every | gets one, whatever precedes it.
  return `| ${cells.map((c) => c.replace(/\n/g, ' ').replace(/\|/g, '\\|')).join(' | ')} |`;
}

function endpoint(report: Report): string {
  const addr = report.target.address ?? report.target.host;
  return endpointText(addr, report.target.port);
}

/**
 * Prose with Markdown's active characters escaped, so a host's text cannot become markup. An _
 * inside a word (CLOSE_WAIT) is left alone: GFM never reads it as emphasis, and tickets stay legible.
 */
function text(s: string): string {
  return clean(s).replace(/[\\`*_[\]<>|~]/g, (c, at: number, all: string) =>
    c === '_' && /[\p{L}\p{N}]/u.test(all[at - 1] ?? '') && /[\p{L}\p{N}]/u.test(all[at + 1] ?? '') ? c : `\\${c}`,
  );
}

/** A code span that holds any text: its fence is longer than the longest run of backticks inside. */
function code(s: string): string {
  const body = clean(s).replace(/\n/g, ' ');
  const longest = Math.max(0, ...(body.match(/`+/g) ?? []).map((run) => run.length));
  const ticks = '`'.repeat(longest + 1);
  // CommonMark strips one space each side, which lets a span start or end with a backtick.
  const pad = body.startsWith('`') || body.endsWith('`') ? ' ' : '';
  return `${ticks}${pad}${body}${pad}${ticks}`;
}

/** A fenced block that holds any text, however many backticks it contains. */
function fence(body: string, lang: string): string {
  const cleaned = clean(body).replace(/\n+$/, '');
  const longest = Math.max(2, ...(cleaned.match(/`{3,}/g) ?? []).map((run) => run.length));
  const ticks = '`'.repeat(longest + 1);
  return `${ticks}${lang}\n${cleaned}\n${ticks}`;
}
