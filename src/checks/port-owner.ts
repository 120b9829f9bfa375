import type { output } from 'zod/v4/core';
import { port, z } from './params.js';
import { isProgram } from '../knowledge/program-names.js';
import { udpServices } from '../analysis/udp-sockets.js';
import { argvOfPid } from '../system/processes.js';
import type { SocketTable, TcpSocket } from '../system/socket.js';
import { unitsOfPidsOf } from '../system/systemd/cgroup.js';
import { LIST_SOCKETS_COMMAND, listenPort, socketUnitsOf, type SocketUnit } from '../system/systemd/sockets.js';
import { unitStatusesOf } from '../system/systemd/status.js';
import { normaliseUnit, type UnitDetails, type UnitStatus } from '../system/systemd/units.js';
import { udpPortOf } from '../system/udp-port.js';
import { defineCheck, type CheckContext, type Decision } from './check.js';
import { e, fields } from './evidence.js';

interface Holder {
  pid: number;
  program: string;
  /** The systemd unit it runs in (from /proc/PID/cgroup). */
  unit: string | undefined;
}

const PORT_OWNER_OUTCOMES = ['expected', 'socket-activated', 'other', 'unnamed', 'hidden', 'none'] as const;
type PortOwnerOutcome = (typeof PORT_OWNER_OUTCOMES)[number];
const portOwnerEvidence = fields({ ownersHidden: e.bool(), expected: e.str(), owners: e.list(e.any()), holders: e.list(e.any()), holderText: e.str(), socket: e.str(), listen: e.list(e.str()), accept: e.bool(), service: e.str(), serviceState: e.str() });

/**
 * Who holds the listening socket, compared with the program and the unit the user named (or that
 * was guessed): `other` is PORT_TAKEN. A listener that systemd (PID 1) holds for a socket unit is
 * that unit's service listening (socket activation), never a conflict in itself.
 */
export const portOwner = defineCheck({
  description: 'Who holds the listening socket (its program, pid and unit), and whether that is the named program or unit; systemd holding it for a socket unit is socket activation',
  outcomes: PORT_OWNER_OUTCOMES,
  params: z.object({ port: port(), process: z.optional(z.string()), service: z.optional(z.string()) }),
  evidence: portOwnerEvidence,
  describe: (p, at) => `${ownerCommand(p.port, at.target.protocol)}${p.process || p.service ? `  (is it ${p.process || p.service}?)` : ''}`,
  read: readPortOwner,
  decide: decidePortOwner,
});

/** What the port-owner step reads: the port's listeners, their owners' units, and what says whether they are the named program or unit. */
export interface PortOwnerReadings {
  protocol: 'tcp' | 'udp';
  table: SocketTable;
  /** TCP's LISTEN sockets on the port; for UDP its bound service sockets. */
  listening: TcpSocket[];
  /** The systemd unit of each owner's pid, for those in one. */
  units: Record<number, string>;
  /** The socket units of this systemd, read when pid 1 or a service holds the socket. */
  socketUnits?: SocketUnit[];
  /** The state of the socket unit's service (not for Accept=yes). */
  serviceStatuses?: UnitStatus[];
  /** The named unit as systemd knows it (an alias), asked only when the name as given matches nothing. */
  namedUnit?: UnitStatus;
  /** The command lines of holders whose process name alone is not the named program. */
  argv: Record<number, string[]>;
}

type PortOwnerParams = { port: number; process?: string | undefined; service?: string | undefined };

/** The names the user gave, blank ones left out. */
function namesOf(p: PortOwnerParams) {
  return { process: p.process?.trim() || undefined, service: p.service?.trim() || undefined };
}

/** The distinct owners of the listening sockets, each with its unit. */
function holdersOf(listening: readonly TcpSocket[], units: Record<number, string>): Holder[] {
  return dedupe(listening.flatMap((s) => s.owners ?? [])).map((o) => ({ pid: o.pid, program: o.program, unit: units[o.pid] }));
}

/**
 * The socket unit systemd holds the port for, when it does: pid 1 holds the socket itself until
 * (and while) its service runs. Once the service runs, its processes hold the same socket (and the
 * owner scan may stop at them before it reaches pid 1), so a holder in a unit that a socket unit on
 * this port starts counts too.
 */
function activatedBy(holders: readonly Holder[], socketUnits: readonly SocketUnit[] | undefined, port: number, protocol: 'tcp' | 'udp'): SocketUnit | undefined {
  const init = holders.find((h) => h.pid === 1 && h.program === 'systemd');
  const inUnits = holders.filter((h) => h.unit !== undefined && h.unit.endsWith('.service'));
  const candidate = socketUnits && socketOnPort(socketUnits, port, protocol);
  const startedBy = (s: SocketUnit) => inUnits.some((h) => h.unit === s.service || (s.accept && s.service !== undefined && h.unit!.startsWith(s.service.replace(/@\.service$/, '@'))));
  return candidate && (init || startedBy(candidate)) ? candidate : undefined;
}

/** Whether pid 1 or a service holds the socket: only then can a socket unit be behind it. */
function mayBeActivated(holders: readonly Holder[]): boolean {
  return holders.some((h) => (h.pid === 1 && h.program === 'systemd') || (h.unit !== undefined && h.unit.endsWith('.service')));
}

async function readPortOwner(p: PortOwnerParams, ctx: CheckContext): Promise<PortOwnerReadings> {
  const protocol = ctx.target.protocol;
  let table: SocketTable;
  let listening: TcpSocket[];
  if (protocol === 'udp') {
    const reading = await ctx.facts.read(udpPortOf, p.port);
    [table, listening] = [reading.table, udpServices(reading, p.port)];
  } else {
    table = await ctx.facts.socketTable(p.port);
    listening = table.sockets.filter((s) => s.state === 'LISTEN' && s.local.port === p.port);
  }
  const r: PortOwnerReadings = { protocol, table, listening, units: {}, argv: {} };
  const pids = dedupe(listening.flatMap((s) => s.owners ?? [])).map((o) => o.pid);
  if (pids.length === 0) return r;
  const units = await ctx.facts.read(unitsOfPidsOf, pids);
  r.units = Object.fromEntries(pids.flatMap((pid, i) => (units[i] ? [[pid, units[i]]] : [])));
  const holders = holdersOf(listening, r.units);
  if (mayBeActivated(holders)) r.socketUnits = await ctx.facts.read(socketUnitsOf, undefined);
  const socket = activatedBy(holders, r.socketUnits, p.port, protocol);
  const named = namesOf(p);
  const service = socket && (socket.service ?? socket.unit);
  if (socket && !socket.accept) r.serviceStatuses = await ctx.facts.read(unitStatusesOf, [service!]);
  const wanted = named.process ?? named.service;
  if (socket) {
    const names = new Set([socket.unit, service]);
    if (named.service !== undefined && !names.has(normaliseUnit(named.service))) await readNamedUnit(ctx, r, named.service);
    const program = execStartProgram(r.serviceStatuses);
    if (named.process !== undefined && !names.has(normaliseUnit(named.process)) && service!.replace(/@?\.service$/, '') !== named.process && program !== named.process) {
      await readArgv(ctx, r, holders.filter((h) => !(h.pid === 1 && h.program === 'systemd')), named.process, true);
    }
  } else if (wanted !== undefined) {
    if (named.process !== undefined) await readArgv(ctx, r, holders, named.process, false);
    if (named.service !== undefined && holders.some((h) => h.unit !== undefined && h.unit !== normaliseUnit(named.service!))) await readNamedUnit(ctx, r, named.service);
  }
  return r;
}

/** The named unit's state, as systemd knows it (an alias such as sshd → ssh.service); not asked where systemd does not run. */
async function readNamedUnit(ctx: CheckContext, r: PortOwnerReadings, name: string): Promise<void> {
  if (!(await ctx.facts.systemdRunning())) return;
  const [s] = await ctx.facts.read(unitStatusesOf, [name]);
  if (s) r.namedUnit = s;
}

/** The command lines of the holders whose process name alone is not `name`; with `first`, only until one is. */
async function readArgv(ctx: CheckContext, r: PortOwnerReadings, holders: readonly Holder[], name: string, first: boolean): Promise<void> {
  for (const h of holders) {
    if (isProgram(name, h.program, [])) {
      if (first) return;
      continue;
    }
    r.argv[h.pid] = await ctx.facts.read(argvOfPid, h.pid);
    if (first && isProgram(name, h.program, r.argv[h.pid]!)) return;
  }
}

/** The program the service runs (ExecStart's base name). */
function execStartProgram(statuses: readonly UnitStatus[] | undefined): string | undefined {
  return serviceDetails(statuses)?.commands.find((c) => c.phase === 'ExecStart')?.path.split('/').pop();
}

function serviceDetails(statuses: readonly UnitStatus[] | undefined): UnitDetails | undefined {
  return statuses?.find((s): s is UnitDetails => 'subState' in s);
}

/**
 * Who holds the listening socket, against the named program or unit: `expected`, `other`
 * (PORT_TAKEN), `socket-activated` when systemd holds it for a socket unit, `unnamed` when nothing
 * was named, `hidden` when the owner cannot be seen, `none` when nothing listens.
 */
export function decidePortOwner(r: PortOwnerReadings, p: PortOwnerParams): Decision<PortOwnerOutcome, output<typeof portOwnerEvidence>> {
  const udp = r.protocol === 'udp';
  const { table, listening } = r;
  const command = ownerCommand(p.port, r.protocol);
  // UDP's words: a socket is bound to the port, not listening on it.
  const portText = udp ? `UDP port ${p.port}` : `port ${p.port}`;
  const heldBy = (holders: string) => (udp ? `${holders} is bound to ${portText}` : `${portText} is held by ${holders}`);
  const owners = listening.flatMap((s) => s.owners ?? []);
  const named = namesOf(p);
  const wanted = named.process ?? named.service;
  const notBy = udp ? `, not ${wanted}` : `, not by ${wanted}`;
  if (listening.length === 0) return { outcome: 'none', status: 'fail', summary: udp ? `nothing is bound to ${portText}` : `nothing listens on port ${p.port}`, command, evidence: {} };
  if (owners.length === 0) {
    return {
      outcome: 'hidden',
      status: 'info',
      summary: table.ownersHidden
        ? `the owner of ${portText} is hidden: whyport is not root, so other users' processes cannot be seen`
        : `no process could be found holding ${portText}`,
      command: table.ownersHidden ? `sudo ${command}` : command,
      evidence: { ownersHidden: table.ownersHidden },
    };
  }
  const distinct = dedupe(owners);
  const holders = holdersOf(listening, r.units);
  const base = { expected: wanted ?? '', owners: distinct, holders };
  const socket = activatedBy(holders, r.socketUnits, p.port, r.protocol);
  const init = holders.find((h) => h.pid === 1 && h.program === 'systemd');
  const others = holders.filter((h) => h !== init);
  const s = r.namedUnit;
  const namedUnit = s && s.state !== 'not-found' && s.state !== 'error' && s.state !== 'no-systemd' ? s.unit : undefined;
  const isNamed = (h: Holder, name: string) => isProgram(name, h.program, []) || isProgram(name, h.program, r.argv[h.pid] ?? []);

  if (socket) {
    const service = socket.service ?? socket.unit;
    const serviceStatus = socket.accept ? undefined : serviceDetails(r.serviceStatuses);
    const running = others.length ? `; ${service} runs (${who(others)})` : '';
    const how = socket.accept ? `which starts an instance of ${service} for each connection` : `which starts ${service} on the first ${udp ? 'datagram' : 'connection'}`;
    const summary = `systemd ${udp ? 'holds' : 'listens on'} ${portText} for ${socket.unit}, ${how}${running}`;
    const evidence = {
      ...base,
      socket: socket.unit,
      listen: socket.listen.map((l) => l.address),
      accept: socket.accept,
      // The unit to look at next: the service, or for Accept=yes its template (`foo@`).
      service: service.replace(/\.service$/, ''),
      serviceState: serviceStatus ? `${serviceStatus.state} (${serviceStatus.subState})` : undefined,
      holderText: `systemd (pid 1) for ${socket.unit} (${service})`,
    };
    // The named unit is the socket or its service; the named program is the service's program,
    // its name, or what runs in it now.
    const program = execStartProgram(r.serviceStatuses);
    const units = new Set([socket.unit, service]);
    const unitNamed = named.service !== undefined && (units.has(normaliseUnit(named.service)) || units.has(namedUnit ?? ''));
    const processNamed =
      named.process !== undefined &&
      (units.has(normaliseUnit(named.process)) || service.replace(/@?\.service$/, '') === named.process || program === named.process || others.some((h) => isNamed(h, named.process!)));
    if (wanted === undefined || unitNamed || processNamed) return { outcome: 'socket-activated', status: 'pass', summary, command: `${command}; ${LIST_SOCKETS_COMMAND}`, evidence };
    return { outcome: 'other', status: 'fail', summary: `${heldBy(evidence.holderText)}${notBy}`, command: `${command}; ${LIST_SOCKETS_COMMAND}`, evidence };
  }

  const holderText = who(holders);
  const evidence = { ...base, holderText };
  if (wanted === undefined) return { outcome: 'unnamed', status: 'info', summary: heldBy(holderText), command, evidence };

  const matched = holders.filter((h) => {
    const byProcess = named.process !== undefined && (isNamed(h, named.process) || h.unit === normaliseUnit(named.process));
    const byUnit = named.service !== undefined && h.unit !== undefined && (h.unit === normaliseUnit(named.service) || h.unit === namedUnit);
    return byProcess || byUnit;
  });
  if (matched.length > 0) return { outcome: 'expected', status: 'pass', summary: `${heldBy(holderText)}, as expected`, command, evidence };
  return { outcome: 'other', status: 'fail', summary: `${heldBy(holderText)}${notBy}`, command, evidence };
}

function ownerCommand(port: number, protocol: 'tcp' | 'udp'): string {
  return protocol === 'udp' ? `ss -Hulnp 'sport = :${port}'` : `ss -Htlnp 'sport = :${port}'`;
}

/** `nginx (pids 41, 42, 43) in nginx.service, redis-server (pid 50)` */
function who(holders: Holder[]): string {
  const groups = new Map<string, Holder[]>();
  for (const h of holders) {
    const key = `${h.program}\0${h.unit ?? ''}`;
    groups.set(key, [...(groups.get(key) ?? []), h]);
  }
  return [...groups.values()]
    .map((g) => {
      const pids = g.map((h) => h.pid);
      return `${g[0]!.program} (pid${pids.length > 1 ? 's' : ''} ${pids.slice(0, 5).join(', ')}${pids.length > 5 ? ', …' : ''})${g[0]!.unit ? ` in ${g[0]!.unit}` : ''}`;
    })
    .join(', ');
}

/** The socket unit that listens on the port, preferring one that is listening now. */
function socketOnPort(all: readonly SocketUnit[], port: number, protocol: 'tcp' | 'udp'): SocketUnit | undefined {
  // ListenDatagram= is UDP's; TCP keeps reading both kinds, as it always has.
  const kinds = protocol === 'udp' ? ['Datagram'] : ['Stream', 'Datagram'];
  const mine = all.filter((s) => s.listen.some((l) => listenPort(l.address) === port && kinds.includes(l.kind)));
  return mine.find((s) => s.state === 'active') ?? mine[0];
}

function dedupe<T extends { pid: number }>(list: readonly T[]): T[] {
  const seen = new Set<number>();
  return list.filter((o) => !seen.has(o.pid) && seen.add(o.pid));
}
