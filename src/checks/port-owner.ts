import { port, z } from './params.js';
import { isNamedProcess } from '../system/processes.js';
import { unitsOfPids } from '../system/systemd/cgroup.js';
import { LIST_SOCKETS_COMMAND, listenPort, socketUnitsOf, type SocketUnit } from '../system/systemd/sockets.js';
import { unitStatuses } from '../system/systemd/status.js';
import { normaliseUnit, type UnitDetails } from '../system/systemd/units.js';
import { udpServices } from './sockets.js';
import { defineCheck, type CheckContext } from './check.js';
import { e, fields } from './evidence.js';

interface Holder {
  pid: number;
  program: string;
  /** The systemd unit it runs in (from /proc/PID/cgroup). */
  unit: string | undefined;
}

/**
 * Who holds the listening socket, compared with the program and the unit the user named (or that
 * was guessed): `other` is PORT_TAKEN. A listener that systemd (PID 1) holds for a socket unit is
 * that unit's service listening (socket activation), never a conflict in itself.
 */
export const portOwner = defineCheck({
  description: 'Who holds the listening socket (its program, pid and unit), and whether that is the named program or unit; systemd holding it for a socket unit is socket activation',
  outcomes: ['expected', 'socket-activated', 'other', 'unnamed', 'hidden', 'none'],
  params: z.object({ port: port(), process: z.optional(z.string()), service: z.optional(z.string()) }),
  evidence: fields({ ownersHidden: e.bool(), expected: e.str(), owners: e.list(e.any()), holders: e.list(e.any()), holderText: e.str(), socket: e.str(), listen: e.list(e.str()), accept: e.bool(), service: e.str(), serviceState: e.str() }),
  describe: (p, ctx) => `${ownerCommand(p.port, ctx.target.protocol)}${p.process || p.service ? `  (is it ${p.process || p.service}?)` : ''}`,
  async run(p, ctx) {
    const udp = ctx.target.protocol === 'udp';
    const { table, listening } = udp
      ? await udpServices(ctx, p.port).then(({ table, services }) => ({ table, listening: services }))
      : await ctx.facts.socketTable(p.port).then((table) => ({ table, listening: table.sockets.filter((s) => s.state === 'LISTEN' && s.local.port === p.port) }));
    const command = ownerCommand(p.port, ctx.target.protocol);
    // UDP's words: a socket is bound to the port, not listening on it.
    const portText = udp ? `UDP port ${p.port}` : `port ${p.port}`;
    const heldBy = (holders: string) => (udp ? `${holders} is bound to ${portText}` : `${portText} is held by ${holders}`);
    const owners = listening.flatMap((s) => s.owners ?? []);
    const named = { process: p.process?.trim() || undefined, service: p.service?.trim() || undefined };
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
    const units = await unitsOfPids(ctx.host, distinct.map((o) => o.pid));
    const holders = distinct.map((o, i): Holder => ({ pid: o.pid, program: o.program, unit: units[i] }));
    const base = { expected: wanted ?? '', owners: distinct, holders };

    // Socket activation: systemd holds the socket itself until (and while) its service runs. Once
    // the service runs, its processes hold the same socket (and the owner scan may stop at them
    // before it reaches pid 1), so a holder in a unit that a socket unit on this port starts counts too.
    const init = holders.find((h) => h.pid === 1 && h.program === 'systemd');
    const inUnits = holders.filter((h) => h.unit !== undefined && h.unit.endsWith('.service'));
    const candidate = init || inUnits.length ? await socketFor(ctx, p.port, ctx.target.protocol) : undefined;
    const startedBy = (s: SocketUnit) => inUnits.some((h) => h.unit === s.service || (s.accept && s.service !== undefined && h.unit!.startsWith(s.service.replace(/@\.service$/, '@'))));
    const socket = candidate && (init || startedBy(candidate)) ? candidate : undefined;
    const others = holders.filter((h) => h !== init);
    // The named unit's real name (an alias such as sshd → ssh.service), asked of systemd only when
    // the name as given matches nothing.
    let resolved: Promise<string | undefined> | undefined;
    const namedUnit = () => (resolved ??= named.service ? resolveUnit(ctx, named.service) : Promise.resolve(undefined));

    if (socket) {
      const service = socket.service ?? socket.unit;
      const serviceStatus = socket.accept ? undefined : (await unitStatuses(ctx.host, [service], { timeoutMs: ctx.timeoutMs })).find((s): s is UnitDetails => 'subState' in s);
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
      const program = serviceStatus?.commands.find((c) => c.phase === 'ExecStart')?.path.split('/').pop();
      const units = new Set([socket.unit, service]);
      const unitNamed = named.service !== undefined && (units.has(normaliseUnit(named.service)) || units.has((await namedUnit()) ?? ''));
      const processNamed =
        named.process !== undefined &&
        (units.has(normaliseUnit(named.process)) || service.replace(/@?\.service$/, '') === named.process || program === named.process || (await anyNamed(ctx, others, named.process)));
      const isNamed = wanted === undefined || unitNamed || processNamed;
      if (isNamed) return { outcome: 'socket-activated', status: 'pass', summary, command: `${command}; ${LIST_SOCKETS_COMMAND}`, evidence };
      return { outcome: 'other', status: 'fail', summary: `${heldBy(evidence.holderText)}${notBy}`, command: `${command}; ${LIST_SOCKETS_COMMAND}`, evidence };
    }

    const holderText = who(holders);
    const evidence = { ...base, holderText };
    if (wanted === undefined) return { outcome: 'unnamed', status: 'info', summary: heldBy(holderText), command, evidence };

    const matched: Holder[] = [];
    for (const h of holders) {
      const byProcess = named.process !== undefined && ((await isNamedProcess(ctx.host, h.pid, h.program, named.process)) || h.unit === normaliseUnit(named.process));
      const byUnit = named.service !== undefined && h.unit !== undefined && (h.unit === normaliseUnit(named.service) || h.unit === (await namedUnit()));
      if (byProcess || byUnit) matched.push(h);
    }
    if (matched.length > 0) return { outcome: 'expected', status: 'pass', summary: `${heldBy(holderText)}, as expected`, command, evidence };
    return { outcome: 'other', status: 'fail', summary: `${heldBy(holderText)}${notBy}`, command, evidence };
  },
});

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
async function socketFor(ctx: CheckContext, port: number, protocol: 'tcp' | 'udp'): Promise<SocketUnit | undefined> {
  const all = await ctx.facts.read(socketUnitsOf, undefined);
  // ListenDatagram= is UDP's; TCP keeps reading both kinds, as it always has.
  const kinds = protocol === 'udp' ? ['Datagram'] : ['Stream', 'Datagram'];
  const mine = all.filter((s) => s.listen.some((l) => listenPort(l.address) === port && kinds.includes(l.kind)));
  return mine.find((s) => s.state === 'active') ?? mine[0];
}

/** The unit's real name (an alias such as sshd → ssh.service), or undefined. */
async function resolveUnit(ctx: CheckContext, name: string): Promise<string | undefined> {
  if (!(await ctx.facts.systemdRunning())) return undefined;
  const [s] = await unitStatuses(ctx.host, [name], { timeoutMs: ctx.timeoutMs });
  return s && s.state !== 'not-found' && s.state !== 'error' && s.state !== 'no-systemd' ? s.unit : undefined;
}

/** Whether any holder is the named program (by the matcher every step uses: its name, or the script it runs). */
async function anyNamed(ctx: CheckContext, holders: readonly Holder[], name: string): Promise<boolean> {
  for (const h of holders) if (await isNamedProcess(ctx.host, h.pid, h.program, name)) return true;
  return false;
}

function dedupe<T extends { pid: number }>(list: T[]): T[] {
  const seen = new Set<number>();
  return list.filter((o) => !seen.has(o.pid) && seen.add(o.pid));
}
