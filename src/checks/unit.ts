import { text, z } from './params.js';
import { unitJournalOf } from '../system/systemd/journal.js';
import { monotonicClockFor, templateInstancesOf, unitStatusOf, unitStatusesOf } from '../system/systemd/status.js';
import { normaliseUnit, statusCommand, type UnitDetails, type UnitStatus } from '../system/systemd/units.js';
import { unitOutcome, unitVerdict, worstMember, wrapperMembers } from '../analysis/unit-failure.js';
import { informativeLines, mentionsTrouble, pointsElsewhere } from '../analysis/journal-lines.js';
import { programLogReason, type ProgramLogReason } from '../analysis/program-log.js';
import { programLogOf, type ProgramLogTail } from '../system/program-log.js';
import { defineCheck, type CheckContext } from './check.js';
import { e, fields } from './evidence.js';

/** Lines read from the unit's journal; the informative ones among them are kept (crash loops repeat every cycle). */
const JOURNAL_READ = 200;
/** At most this many journal lines go into the evidence. */
const JOURNAL_SHOWN = 12;

type Outcome = 'active' | 'activating' | 'inactive' | 'failed' | 'not-found' | 'no-systemd' | 'error';

/** What the unit step reads: systemctl's answer, followed through templates, wrappers and socket units to the unit judged. */
export type UnitReadings =
  /** A template (`openvpn@`) with no loaded instance. */
  | { kind: 'no-instances'; template: string }
  /** systemd could not be asked, or knows no such unit (nor instances of it). */
  | { kind: 'unanswered'; status: Exclude<UnitStatus, UnitDetails> }
  /** A wrapper's or template's members systemd would not show, and no wrapper to judge instead. */
  | { kind: 'no-members'; asked: string }
  | JudgedUnit;

/** The unit judged, with what it takes to judge it. */
export interface JudgedUnit {
  kind: 'unit';
  /** The name it was followed to: the name given, a socket's service or a member (without `.service`). */
  asked: string;
  /** Its properties and its journal. */
  details: UnitDetails;
  /** The socket units that start it, read when it is not active. */
  sockets: UnitDetails[];
  /** The host's monotonic clock when it was read (how long a start has lasted). */
  monotonicUs: number;
  /** The end of the program's own log, read when the unit failed, stopped or restarts in a loop. */
  programLog?: ProgramLogTail;
  /** Followed from a wrapper (its name) or a template (the name given): the members read. */
  group?: { asked: string; wrapper?: string; members: Pick<UnitDetails, 'unit' | 'state' | 'subState'>[] };
}

const isDetails = (s: UnitStatus): s is UnitDetails => 'subState' in s;

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
  async read(p, ctx): Promise<UnitReadings> {
    if (/@(\.service)?$/.test(p.unit.trim())) {
      // A template (`openvpn@`): systemd cannot show it, only its instances.
      const instances = await ctx.facts.read(templateInstancesOf, p.unit.trim());
      if (instances.length > 0) return readGroup(p.unit, undefined, instances, ctx);
      return { kind: 'no-instances', template: p.unit.trim().replace(/@(\.service)?$/, '@.service') };
    }
    const asked = await ctx.facts.read(unitStatusOf, { unit: p.unit, journalLines: JOURNAL_READ });
    if (!isDetails(asked)) {
      if (asked.state === 'not-found') {
        // `openvpn@` or `postgresql@` (a template named without its instance), or a name whose
        // template has loaded instances: judge the instances.
        const instances = await ctx.facts.read(templateInstancesOf, p.unit.replace(/\.service$/, ''));
        if (instances.length > 0) return readGroup(p.unit, undefined, instances, ctx);
      }
      return { kind: 'unanswered', status: asked };
    }
    // A socket unit stands for the service it starts: judge that, with the socket.
    const service = asked.unit.endsWith('.socket') ? asked.triggers.find((u) => u.endsWith('.service')) : undefined;
    if (service) {
      const s = await ctx.facts.read(unitStatusOf, { unit: service, journalLines: JOURNAL_READ });
      if (isDetails(s)) return readUnit(service.replace(/\.service$/, ''), s, ctx);
    }
    const members = wrapperMembers(asked);
    if (members.length > 0) return readGroup(p.unit, asked, members, ctx);
    return readUnit(p.unit, asked, ctx);
  },
  decide: (r, p) => decideUnit(r, p),
});

/** Reads the member of a wrapper or template that is in the worst state (or the first active one that has a main process). */
async function readGroup(asked: string, wrapper: UnitDetails | undefined, members: string[], ctx: CheckContext): Promise<UnitReadings> {
  const statuses = (await ctx.facts.read(unitStatusesOf, members)).filter(isDetails);
  const pick = worstMember(statuses);
  if (!pick) return wrapper ? readUnit(asked, wrapper, ctx) : { kind: 'no-members', asked };
  // The batch already read its properties: only its journal is missing.
  const details = { ...pick, journal: await ctx.facts.read(unitJournalOf, { unit: pick.unit, lines: JOURNAL_READ }) };
  const group = { asked, ...(wrapper ? { wrapper: wrapper.unit } : {}), members: statuses.map((m) => ({ unit: m.unit, state: m.state, subState: m.subState })) };
  return readUnit(pick.unit.replace(/\.service$/, ''), details, ctx, group);
}

/** Reads what judging the unit takes: the sockets that start it, the clock, and the program's own log when the journal may not say why. */
async function readUnit(asked: string, s: UnitDetails, ctx: CheckContext, group?: JudgedUnit['group']): Promise<JudgedUnit> {
  const sockets = s.triggeredBy.filter((u) => u.endsWith('.socket'));
  const socketStates = sockets.length && s.state !== 'active' ? (await ctx.facts.read(unitStatusesOf, sockets)).filter(isDetails) : [];
  const monotonicUs = await ctx.facts.read(monotonicClockFor, s.unit);
  const verdict = unitVerdict(s, s.journal, monotonicUs);
  const outcome = unitOutcome(s, verdict, socketStates.some((x) => x.state === 'failed'));
  const judged: JudgedUnit = { kind: 'unit', asked, details: s, sockets: socketStates, monotonicUs, ...(group ? { group } : {}) };
  // The journal may only say "Examine the log output": then the program's own log has the reason.
  if (outcome === 'failed' || outcome === 'inactive' || verdict.kind === 'crash-loop') {
    const program = s.commands.find((c) => c.phase === 'ExecStart')?.path.split('/').pop();
    const found = await ctx.facts.read(programLogOf, { unit: s.unit, program });
    if (found) judged.programLog = found;
  }
  return judged;
}

/** The pure decision of the unit step. */
export function decideUnit(r: UnitReadings, p: { unit: string }) {
  const command = statusCommand(p.unit);
  switch (r.kind) {
    case 'no-instances':
      return { outcome: 'not-found' as const, status: 'fail' as const, summary: `no instance of ${r.template} is loaded`, command, evidence: { unit: r.template, template: true } };
    case 'no-members':
      return { outcome: 'not-found' as const, status: 'fail' as const, summary: `there is no unit ${normaliseUnit(r.asked)}`, command: statusCommand(r.asked), evidence: { unit: normaliseUnit(r.asked) } };
    case 'unanswered':
      return unanswered(r.status, p.unit, command);
    case 'unit':
      return judge(r);
  }
}

/** systemd could not be asked, or knows no such unit. */
function unanswered(asked: Exclude<UnitStatus, UnitDetails>, unit: string, command: string) {
  switch (asked.state) {
    case 'no-systemd':
      return { outcome: 'no-systemd' as const, status: 'info' as const, summary: `no systemd on this machine (${asked.message})`, command, evidence: { ...asked } };
    case 'error':
      return { outcome: 'error' as const, status: 'fail' as const, summary: `could not ask systemd about ${unit}: ${asked.message}`, command, evidence: { ...asked } };
    case 'not-found':
      return { outcome: 'not-found' as const, status: 'fail' as const, summary: `there is no unit ${asked.unit}`, command, evidence: { ...asked } };
  }
}

function judge(r: JudgedUnit) {
  const s = r.details;
  const via = r.group ? viaGroup(r.group) : undefined;
  const command = statusCommand(via ? s.unit.replace(/\.service$/, '') : r.asked);
  // The socket unit that starts this service: a socket that failed (its service hit the start
  // limit, or the socket its trigger limit) no longer listens, and that is the failure to report.
  const deadSocket = r.sockets.find((x) => x.state === 'failed');

  const verdict = unitVerdict(s, s.journal, r.monotonicUs);
  const outcome: Outcome = unitOutcome(s, verdict, deadSocket !== undefined);
  const journal = informativeLines(s.journal, { max: JOURNAL_SHOWN });
  const programLog = ownLog(programLogReason(r.programLog), s.journal);
  let headline = verdict.headline;
  let story = verdict.story;
  if (deadSocket) {
    const why = deadSocket.result === 'trigger-limit-hit' ? 'it was triggered too often (trigger-limit-hit)' : deadSocket.result === 'service-start-limit-hit' ? `${s.unit} failed to start too often (service-start-limit-hit)` : `Result: ${deadSocket.result ?? 'failed'}`;
    headline = `${deadSocket.unit} has stopped listening: ${why}; ${s.unit} last failed with ${verdict.exit}`;
    story = `${s.unit} is started by ${deadSocket.unit} on the first connection; it failed each time (${verdict.exit}), and systemd closed the socket: ${why}`;
  }
  const resetUnits = deadSocket ? [s.unit, deadSocket.unit] : verdict.kind === 'start-limit' ? [s.unit] : [];
  const startUnit = deadSocket ? deadSocket.unit : via ? s.unit.replace(/\.service$/, '') : r.asked.trim();
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

/** What a group's member is judged through: the wrapper around it, or the template it is an instance of. */
function viaGroup(g: NonNullable<JudgedUnit['group']>): { through: string; group: { wrapper: string; members: object[] } } {
  const through = g.wrapper
    ? `${g.wrapper} is only a wrapper (active (exited)) around ${g.members.map((m) => m.unit).join(', ')}`
    : `${g.asked} is a template; its instances: ${g.members.map((m) => `${m.unit} (${m.state})`).join(', ')}`;
  return { through, group: { wrapper: g.wrapper ?? g.asked, members: g.members } };
}

/** The program's own log as the report shows it: when the journal points there, or it says what the journal does not. */
function ownLog(found: ProgramLogReason | undefined, journal: string[]): { path: string; lines: string[] } | undefined {
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
