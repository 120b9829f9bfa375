/**
 * UDP beside TCP (issue 13), inside the busy case: the same port over UDP, each beside its floor,
 * taking turns with the TCP commands of the same group.
 */
import { NODE_NOOP, whyportCmd, type Case } from './shared/timing.js';

/** The closed port as PORT/udp (nothing bound), and its floor with `ss -u`. */
export function closedPortUdpCases(port: number, absent: string, filter: string): Case[] {
  return [
    { id: 'whyport-closed-udp', label: 'whyport P/udp --json --yes --process (not running)', whyport: true, cmds: [whyportCmd(['127.0.0.1', `${port}/udp`, '--json', '--yes', '--process', absent])] },
    {
      id: 'floor-udp',
      label: 'floor, UDP',
      cmds: [NODE_NOOP, { label: `ss -Huan '${filter}'`, argv: ['ss', '-Huan', filter] }, { label: `pgrep ${absent}`, argv: ['pgrep', absent] }],
    },
  ];
}

/** The listener's UDP socket on the same port (bound, read, never answering), against `ss -ulnp`. */
export function listenerUdpCases(port: number, owner: string): Case[] {
  return [
    { id: 'whyport-listener-udp', label: `whyport P/udp --json --yes --process ${owner}`, whyport: true, cmds: [whyportCmd(['127.0.0.1', `${port}/udp`, '--json', '--yes', '--process', owner])] },
    { id: 'ss-ulnp', label: `ss -ulnp 'sport = :${port}'`, cmds: [{ label: `ss -Hulnp 'sport = :${port}'`, argv: ['ss', '-Hulnp', `sport = :${port}`] }] },
  ];
}
