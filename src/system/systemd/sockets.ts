import type { Runner } from '../runner.js';
import { nonEmpty, parseSystemctlShowBlocks, unitList } from './show.js';
import { defineReader } from '../reader.js';
import { systemdRunsReader } from './units.js';

/** A socket unit and what it listens on, from `systemctl show '*.socket'`. */
export interface SocketUnit {
  unit: string;
  /** `[::]:22`, `0.0.0.0:80`, `127.0.0.1:7078`, `/run/foo.sock`, each with its kind: Stream, Datagram, … */
  listen: { address: string; kind: string }[];
  /** The service it starts; for Accept=yes the template (`foo@.service`), one instance per connection. */
  service: string | undefined;
  accept: boolean;
  state: string;
  subState: string;
  result: string | undefined;
}

/** Parses `systemctl show '*.socket' -p Id,Listen,Triggers,Accept,ActiveState,SubState,Result`. */
export function parseSocketUnits(text: string): SocketUnit[] {
  return parseSystemctlShowBlocks(text)
    .filter((p) => p.Id?.endsWith('.socket'))
    .map((p) => {
      const unit = p.Id!;
      const accept = p.Accept === 'yes';
      const service = unitList(p.Triggers)[0] ?? (accept ? unit.replace(/\.socket$/, '@.service') : unit.replace(/\.socket$/, '.service'));
      return {
        unit,
        listen: (p.Listen ?? '')
          .split('\n')
          .map((l) => /^(.*) \((\w+)\)$/.exec(l.trim()))
          .filter((m): m is RegExpExecArray => m !== null)
          .map((m) => ({ address: m[1]!, kind: m[2]! })),
        service,
        accept,
        state: p.ActiveState ?? '',
        subState: p.SubState ?? '',
        result: nonEmpty(p.Result),
      };
    });
}

/** The port of a socket unit's Listen address (`[::]:22` → 22); undefined for a path or netlink. */
export function listenPort(address: string): number | undefined {
  const m = /:(\d+)$/.exec(address);
  return m && /^(\[.*\]|[\d.]+|\*)?:\d+$/.test(address) ? Number(m[1]) : /^\d+$/.test(address) ? Number(address) : undefined;
}

/** The command a person would type to list the socket units: `systemctl list-sockets --all`. */
export const LIST_SOCKETS_COMMAND = 'systemctl list-sockets --all';

/** The socket units of this systemd (loaded ones, any state); [] without systemd. */
export async function socketUnits(runner: Runner, opts: { timeoutMs: number }): Promise<SocketUnit[]> {
  const res = await runner.run(['systemctl', 'show', '--no-pager', '-p', 'Id,Listen,Triggers,Accept,ActiveState,SubState,Result', '--', '*.socket'], { timeoutMs: opts.timeoutMs });
  return res.exitCode === 0 ? parseSocketUnits(res.stdout) : [];
}

/** The socket units systemd listens for, once per diagnosis; none where systemd does not run. */
export const socketUnitsOf = defineReader<void, SocketUnit[]>({
  name: 'systemd socket units',
  read: async (_, s) => ((await s.read(systemdRunsReader, undefined)) ? socketUnits(s.host, { timeoutMs: s.timeoutMs }) : []),
});
