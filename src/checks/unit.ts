import { text, z } from './params.js';
import { unitJournal } from '../system/systemd/journal.js';
import { instancesOf, unitStatus, unitStatuses } from '../system/systemd/status.js';
import { normaliseUnit, statusCommand, type UnitDetails, type UnitStatus } from '../system/systemd/units.js';
import { unitVerdict, type UnitVerdict } from '../system/unit-failure.js';
import { informativeLines, mentionsTrouble, pointsElsewhere } from '../system/journal-lines.js';
import { reasonFromProgramLog } from '../system/program-log.js';
import { defineCheck, type CheckContext } from './check.js';
import { e, fields } from './evidence.js';

/** Lines read from the unit's journal; the informative ones among them are kept (crash loops repeat every cycle). */
const JOURNAL_READ = 200;
/** At most this many journal lines go into the evidence. */
const JOURNAL_SHOWN = 12;

type Outcome = 'active' | 'activating' | 'inactive' | 'failed' | 'not-found' | 'no-systemd' | 'error';

/**
 * The systemd unit of the service: active, stopped, crashed (and why), or unknown. A wrapper that
 * only groups the real services (Debian's postgresql.service over postgresql@15-main) and a bare
 * template name (openvpn@) are followed to the instances that run the program; a service started
 * by a socket unit is judged with its socket.
 */
export const unit = defineCheck({
  description: "The systemd unit's state and why: its result, how its start ended, the journal lines that say why (and the program's own log), followed through wrappers, templates and socket units",
  outcomes: ['active', 'activating', 'inactive', 'failed', 'not-found', 'no-systemd', 'error'],
  params: z.object({ unit: text() }),
  evidence: fields({
    // What systemctl show says (src/system/systemd.ts UnitDetails), then the verdict on it.
    unit: e.str(), state: e.str(), message: e.str(), template: e.bool(), loadState: e.str(), description: e.str(), subState: e.str(), result: e.str(), mainPid: e.num(),
    execMainCode: e.str(), execMainStatus: e.num(), execMainStatusText: e.str(), since: e.str(), fragmentPath: e.str(), type: e.str(), nRestarts: e.num(), restart: e.str(),
    timeoutStart: e.str(), startedMonotonicUs: e.num(), triggeredBy: e.list(e.str()), triggers: e.list(e.str()), consistsOf: e.list(e.str()), wants: e.list(e.str()), commands: e.list(e.any()), startLimit: fields({ burst: e.num(), interval: e.str() }),
    journal: e.list(e.str()), exit: e.str(), kind: e.str(), headline: e.str(), story: e.str(), startUnit: e.str(), reset: e.list(e.str()), startingForMs: e.num(),
    socket: fields({ unit: e.str(), state: e.str(), result: e.str() }), programLog: fields({ path: e.str(), lines: e.list(e.str()) }), through: e.str(),
    group: fields({ wrapper: e.str(), members: e.list(e.any()) }),
  }),
  describe: (p) => statusCommand(p.unit),
  async run(p, ctx) {
    const command = statusCommand(p.unit);
    if (/@(\.service)?$/.test(p.unit.trim())) {
      // A template (`openvpn@`): systemd cannot show it, only its instances.
      const instances = await instancesOf(ctx.host, p.unit.trim(), { timeoutMs: ctx.timeoutMs });
      if (instances.length > 0) return judgeGroup(p.unit, undefined, instances, ctx);
      const template = p.unit.trim().replace(/@(\.service)?$/, '@.service');
      return { outcome: 'not-found', status: 'fail', summary: `no instance of ${template} is loaded`, command, evidence: { unit: template, template: true } };
    }
    const asked = await unitStatus(ctx.host, p.unit, { timeoutMs: ctx.timeoutMs, journalLines: JOURNAL_READ });
    switch (asked.state) {
      case 'no-systemd':
        return { outcome: 'no-systemd', status: 'info', summary: `no systemd on this machine (${asked.message})`, command, evidence: { ...asked } };
      case 'error':
        return { outcome: 'error', status: 'fail', summary: `could not ask systemd about ${p.unit}: ${asked.message}`, command, evidence: { ...asked } };
      case 'not-found': {
        // `openvpn@` or `postgresql@` (a template named without its instance), or a name whose
        // template has loaded instances: judge the instances.
        const instances = await instancesOf(ctx.host, p.unit.replace(/\.service$/, ''), { timeoutMs: ctx.timeoutMs });
        if (instances.length > 0) return judgeGroup(p.unit, undefined, instances, ctx);
        return { outcome: 'not-found', status: 'fail', summary: `there is no unit ${asked.unit}`, command, evidence: { ...asked } };
      }
    }
    // A socket unit stands for the service it starts: judge that, with the socket.
    const service = asked.unit.endsWith('.socket') ? asked.triggers.find((u) => u.endsWith('.service')) : undefined;
    if (service) {
      const s = await unitStatus(ctx.host, service, { timeoutMs: ctx.timeoutMs, journalLines: JOURNAL_READ });
      if ('subState' in s) return judge(service.replace(/\.service$/, ''), s, ctx);
    }
    const members = wrapperMembers(asked);
    if (members.length > 0) return judgeGroup(p.unit, asked, members, ctx);
    return judge(p.unit, asked, ctx);
  },
});

/**
 * The real services of a unit that stays `active (exited)` only to group them: its `ConsistsOf=`
 * (units that are PartOf= it) and the template instances it `Wants=`.
 */
function wrapperMembers(s: UnitDetails): string[] {
  if (!(s.state === 'active' && s.subState === 'exited')) return [];
  const services = (list: string[]) => list.filter((u) => u.endsWith('.service'));
  return [...new Set([...services(s.consistsOf), ...services(s.wants).filter((u) => u.includes('@'))])];
}

/** Worst first: the member that explains the port best. */
const SEVERITY: Record<string, number> = { failed: 0, activating: 1, inactive: 2, deactivating: 3, reloading: 4, active: 5 };

/** Judges the member of a wrapper or template that is in the worst state (or the first active one that has a main process). */
async function judgeGroup(asked: string, wrapper: UnitDetails | undefined, members: string[], ctx: CheckContext) {
  const statuses = (await unitStatuses(ctx.host, members, { timeoutMs: ctx.timeoutMs })).filter((s): s is UnitDetails => 'subState' in s);
  const ranked = [...statuses].sort((a, b) => (SEVERITY[a.state] ?? 9) - (SEVERITY[b.state] ?? 9) || Number(b.mainPid !== undefined) - Number(a.mainPid !== undefined));
  const pick = ranked[0];
  const group = { wrapper: wrapper?.unit ?? asked, members: statuses.map((m) => ({ unit: m.unit, state: m.state, subState: m.subState })) };
  if (!pick) {
    if (wrapper) return judge(asked, wrapper, ctx);
    return { outcome: 'not-found' as const, status: 'fail' as const, summary: `there is no unit ${normaliseUnit(asked)}`, command: statusCommand(asked), evidence: { unit: normaliseUnit(asked) } };
  }
  // The batch already read its properties: only its journal is missing.
  const details = { ...pick, journal: await unitJournal(ctx.host, pick.unit, JOURNAL_READ, ctx.timeoutMs) };
  const through = wrapper
    ? `${wrapper.unit} is only a wrapper (active (exited)) around ${statuses.map((m) => m.unit).join(', ')}`
    : `${asked} is a template; its instances: ${statuses.map((m) => `${m.unit} (${m.state})`).join(', ')}`;
  return judge(pick.unit.replace(/\.service$/, ''), details, ctx, { through, group });
}

async function judge(asked: string, s: UnitDetails, ctx: CheckContext, via?: { through: string; group: object }) {
  const command = statusCommand(via ? s.unit.replace(/\.service$/, '') : asked);
  // The socket unit that starts this service: a socket that failed (its service hit the start
  // limit, or the socket its trigger limit) no longer listens, and that is the failure to report.
  const sockets = s.triggeredBy.filter((u) => u.endsWith('.socket'));
  const socketStates = sockets.length && s.state !== 'active' ? (await unitStatuses(ctx.host, sockets, { timeoutMs: ctx.timeoutMs })).filter((x): x is UnitDetails => 'subState' in x) : [];
  const deadSocket = socketStates.find((x) => x.state === 'failed');

  const verdict = unitVerdict(s, s.journal, await ctx.host.monotonicUs());
  const outcome = outcomeOf(s, verdict, deadSocket !== undefined);
  const journal = informativeLines(s.journal, { max: JOURNAL_SHOWN });
  // The journal may only say "Examine the log output": then the program's own log has the reason.
  const programLog = outcome === 'failed' || outcome === 'inactive' || verdict.kind === 'crash-loop' ? await ownLog(ctx, s, s.journal) : undefined;

  let headline = verdict.headline;
  let story = verdict.story;
  if (deadSocket) {
    const why = deadSocket.result === 'trigger-limit-hit' ? 'it was triggered too often (trigger-limit-hit)' : deadSocket.result === 'service-start-limit-hit' ? `${s.unit} failed to start too often (service-start-limit-hit)` : `Result: ${deadSocket.result ?? 'failed'}`;
    headline = `${deadSocket.unit} has stopped listening: ${why}; ${s.unit} last failed with ${verdict.exit}`;
    story = `${s.unit} is started by ${deadSocket.unit} on the first connection; it failed each time (${verdict.exit}), and systemd closed the socket: ${why}`;
  }
  const resetUnits = deadSocket ? [s.unit, deadSocket.unit] : verdict.kind === 'start-limit' ? [s.unit] : [];
  const startUnit = deadSocket ? deadSocket.unit : via ? s.unit.replace(/\.service$/, '') : asked.trim();
  const evidence = {
    ...s,
    journal: [...journal, ...(programLog ? [`from ${programLog.path}:`, ...programLog.lines] : [])],
    exit: verdict.exit,
    kind: verdict.kind,
    headline,
    story,
    startUnit,
    // The argv of `systemctl reset-failed UNIT…`, or [] when a plain start will do.
    reset: resetUnits.length ? ['systemctl', 'reset-failed', ...resetUnits] : [],
    ...(verdict.startingForMs !== undefined ? { startingForMs: verdict.startingForMs } : {}),
    ...(deadSocket ? { socket: { unit: deadSocket.unit, state: deadSocket.state, result: deadSocket.result } } : {}),
    ...(programLog ? { programLog } : {}),
    ...(via ? { through: via.through, group: via.group } : {}),
  };
  const prefix = via ? `${via.through}: ` : '';
  const summaries: Record<Outcome, string> = {
    active: `${s.unit} is active (${s.subState}${s.mainPid ? `, main pid ${s.mainPid}` : ''})`,
    activating: headline,
    inactive: verdict.kind === 'stopping' ? headline : `${s.unit} is stopped (inactive${s.result && s.result !== 'success' ? `, result ${s.result}` : ''})`,
    failed: headline,
    'not-found': `there is no unit ${s.unit}`,
    'no-systemd': '',
    error: '',
  };
  const status = outcome === 'active' ? 'pass' : outcome === 'activating' ? 'info' : 'fail';
  return { outcome, status, summary: prefix + summaries[outcome], command, evidence } as const;
}

/** A unit restarting in a loop has failed, whatever its ActiveState says; a failed socket fails its service. */
function outcomeOf(s: UnitDetails, v: UnitVerdict, socketFailed: boolean): Outcome {
  if (socketFailed) return 'failed';
  if (s.state === 'inactive') return 'inactive';
  switch (v.kind) {
    case 'running':
    case 'exited':
      return 'active';
    case 'starting':
      return 'activating';
    case 'stopped':
    case 'stopping':
      return 'inactive';
    default:
      return 'failed';
  }
}

/** The program's own log, when the journal points there or the program is known to log elsewhere. */
async function ownLog(ctx: CheckContext, s: UnitDetails, journal: string[]): Promise<{ path: string; lines: string[] } | undefined> {
  const program = s.commands.find((c) => c.phase === 'ExecStart')?.path.split('/').pop();
  const found = await reasonFromProgramLog(ctx.host, s.unit, program);
  if (!found) return undefined;
  const elsewhere = pointsElsewhere(journal);
  // The log is there but unreadable: say so only when the journal sends the reader to it.
  if ('error' in found) return elsewhere ? { path: found.path, lines: [found.error] } : undefined;
  if (found.lines.length === 0) return undefined;
  // Say it only when it adds something the journal does not already show, or the journal points there.
  // (The ` (×N)` of a collapsed repeat is not part of what the program wrote.)
  const fresh = found.lines.filter((l) => !journal.some((j) => j.includes(l.replace(/ \(×\d+\)$/, '').trim().slice(-60))));
  if (fresh.length > 0) return { path: found.path, lines: fresh };
  if (!elsewhere) return undefined;
  // The journal points at the log, and the log says what the journal already quoted (Debian's
  // pg_ctlcluster copies it): show that it was looked at, with its first reasons only.
  const reasons = found.lines.filter(mentionsTrouble);
  return { path: found.path, lines: (reasons.length ? reasons : found.lines).slice(0, 2) };
}

export type { UnitStatus };
