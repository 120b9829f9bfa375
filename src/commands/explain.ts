import { commandProgram, parseCommandLine } from '../cli/command-line.js';
import { UsageError } from '../errors.js';
import type { CommandIO } from '../cli/io.js';
import type { Host } from '../host/host.js';
import { localHost } from '../host/local.js';
import { TCP_STATE_INFO, parseTcpStateName, renderLifeCycle } from '../knowledge/tcp-states.js';
import { portsOfProgram, protocolsOf, wellKnown, WELL_KNOWN_PORTS, type WellKnownPort } from '../knowledge/well-known.js';
import { didYouMean } from '../playbook/suggest.js';
import { parsePort, readServiceTable, type Protocol, type ServiceTable } from '../cli/port-argument.js';
import { TCP_STATES, type TcpState } from '../system/socket.js';
import { wrap } from '../text/terminal.js';

/** Where explain writes. */
export type ExplainIO = CommandIO;

/** What explain reads from the host, replaceable in tests. */
export interface ExplainHost {
  /** The machine explained (its /etc/services and ephemeral range); the local one by default. */
  host?: Host;
  services?: ServiceTable;
  /** /proc/sys/net/ipv4/ip_local_port_range as text; undefined when unreadable. */
  ephemeralRange?: () => string | undefined;
}

/** What explain answers, by the kind of query: its usage and the man page list these. */
export const EXPLAIN_FORMS: readonly { query: string; answer: string }[] = [
  { query: 'close-wait', answer: "a TCP state (netstat's or ss's spelling): where it sits in the life of a connection, drawn, and what seeing it means" },
  { query: 'https', answer: 'what port a service uses, and which programs usually serve it' },
  { query: '5432', answer: 'what a port is used for, and by which programs and units' },
  { query: '53/udp', answer: 'the same for a UDP port (a name known only for UDP, such as ntp, is UDP by itself)' },
  { query: 'nginx', answer: 'which ports a program or unit usually listens on' },
];

const USAGE = `usage: whyport explain STATE | PORT | NAME

${EXPLAIN_FORMS.map(({ query, answer }) => wrap(answer, 62).map((line, i) => `${(i === 0 ? `  whyport explain ${query}` : '').padEnd(32)}${line}\n`).join('')).join('')}`;

const HINT = 'give a TCP state (close-wait, TIME_WAIT, estab…), a port number (1–65535, 53/udp), or a service or program name (https, ntp, postgresql, nginx)';

/**
 * `whyport explain STATE | PORT | NAME`: the TCP life cycle with STATE marked and its meaning; or
 * what a port is for, both ways ("what port is used for HTTPS?" and "what is 5432?"), from
 * /etc/services, the built-in table and the well-known programs and units. Returns the exit status;
 * throws UsageError for something it knows nothing about (main() prints it, exit status 2).
 */
export async function runExplain(args: readonly string[], io: ExplainIO, host: ExplainHost = {}): Promise<number> {
  let words: string[] = [];
  const program = commandProgram(io)
    .argument('[words...]')
    // A query is free text ("close wait", "-5" is a bad port, not an option): only -h/--help is ours.
    .allowUnknownOption()
    .action((w: string[]) => void (words = w));
  program.helpInformation = () => USAGE;
  if ((await parseCommandLine(program, args, 'see whyport explain --help')) !== 'ran') return 0;
  const query = words.filter((a) => a !== '--').join(' ').trim();
  if (!query) throw new UsageError('explain what?', HINT);

  const state = parseTcpStateName(query);
  if (state) {
    io.stdout(explainState(state));
    return 0;
  }
  const machine = host.host ?? localHost;
  const services = host.services ?? (await readServiceTable(machine));
  const range = host.ephemeralRange ? host.ephemeralRange() : await machine.readFile('/proc/sys/net/ipv4/ip_local_port_range').catch(() => undefined);
  const ephemeralRange = () => range;
  if (/^\d+(\/\w*)?$/.test(query) || /^[A-Za-z][\w.+-]*\/\w*$/.test(query)) {
    // PORT, PORT/udp, NAME/udp: parsed as the diagnosis parses PORT (same errors).
    const { port, protocol } = parsePort(query, services);
    io.stdout(explainPort(port, services, ephemeralRange, /^\d/.test(query) ? undefined : query.replace(/\/.*$/, '').toLowerCase(), protocol));
    return 0;
  }
  if (!/^[A-Za-z][\w.+@-]*$/.test(query)) throw new UsageError(`'${query}' is not a TCP state, a port or a name`, HINT);

  const name = query.toLowerCase();
  if (services.byName.has(name) || services.udp.byName.has(name)) {
    const { port, protocol } = parsePort(name, services);
    io.stdout(explainPort(port, services, ephemeralRange, name, protocol));
    return 0;
  }
  const usual = portsOfProgram(name);
  if (usual.length) {
    io.stdout(explainProgram(query, usual));
    return 0;
  }
  const known = [
    ...TCP_STATES.filter((s) => s !== 'UNKNOWN').map((s) => s.toLowerCase()),
    ...services.byName.keys(),
    ...services.udp.byName.keys(),
    ...WELL_KNOWN_PORTS.flatMap((w) => [...w.programs, ...w.units]),
  ];
  const suggestion = didYouMean(name, [...new Set(known)]);
  throw new UsageError(
    `'${query}' is not a TCP state, nor a service in ${services.source === 'built-in' ? "whyport's built-in table" : `${services.source} or whyport's table`}, nor a program whyport knows`,
    suggestion ? `${suggestion} (or ${HINT})` : HINT,
  );
}

// ss's state filter words (`ss -tan state close-wait`), where they differ from the lowercased name.
const SS_FILTER: Partial<Record<TcpState, string>> = { ESTABLISHED: 'established', LISTEN: 'listening', CLOSE: 'closed', NEW_SYN_RECV: 'syn-recv' };

/** STATE: its names, its sentence, the life cycle with it marked, and how to list such sockets. */
export function explainState(state: TcpState): string {
  const info = TCP_STATE_INFO[state];
  const filter = SS_FILTER[state] ?? state.toLowerCase().replace(/_/g, '-').replace(/wait(\d)/, 'wait-$1');
  const also = [...(info.ss !== state ? [`ss: ${info.ss}`] : []), ...(state === 'CLOSE' ? ['CLOSED in the RFC'] : [])];
  const names = also.length ? `${state} (${also.join(', ')})` : state;
  return [
    names,
    ...wrap(info.sentence, 76).map((l) => `  ${l}`),
    '',
    `Where it sits in the life of a TCP connection (» marks the rows of ${state === 'CLOSE' ? 'CLOSED' : state === 'NEW_SYN_RECV' ? 'SYN_RECV' : state}):`,
    '',
    renderLifeCycle(state).trimEnd(),
    '',
    `List the sockets in this state:  ss -tanp state ${filter}`,
    `                     on one port:  ss -tanp state ${filter} '( sport = :PORT or dport = :PORT )'`,
    '',
  ].join('\n');
}

/** A port: its names, what it is for, who usually serves it, and how to see what listens there. */
export function explainPort(port: number, services: ServiceTable, ephemeralRange: () => string | undefined, asked?: string, protocol: Protocol = 'tcp'): string {
  const table = protocol === 'udp' ? services.udp : services;
  const names = [...table.byName].filter(([, p]) => p === port).map(([n]) => n);
  const primary = table.byPort.get(port) ?? names[0];
  const w = wellKnown(port, protocol);
  const out: string[] = [];
  const p = `${port}/${protocol}`;
  if (asked) {
    out.push(`${asked} is port ${p}${primary && primary !== asked ? ` (${primary})` : ''}`);
  } else if (primary) {
    out.push(`port ${p} is ${primary}`);
  } else {
    out.push(`port ${p} has no name in ${services.source === 'built-in' ? "whyport's built-in table" : `${services.source} or whyport's table`}`);
  }
  const aliases = names.filter((n) => n !== primary && n !== asked);
  if (aliases.length) out.push(`  also known as: ${aliases.join(', ')}`);
  const other: Protocol = protocol === 'udp' ? 'tcp' : 'udp';
  if ((other === 'udp' ? services.udp : services).byPort.has(port)) out.push(`  over ${other.toUpperCase()} too: whyport explain ${port}/${other}`);
  if (services.source === 'built-in') out.push("  (this machine has no /etc/services: names from whyport's built-in table)");
  if (w) out.push(...usualLines(w));
  else out.push('  whyport knows no program that usually listens on it');
  const range = ephemeralRange();
  const m = range ? /^(\d+)\s+(\d+)/.exec(range.trim()) : null;
  if (m && port >= Number(m[1]) && port <= Number(m[2])) {
    out.push(`  it is in this machine's ephemeral range (${m[1]}–${m[2]}): clients use such ports for their side of outgoing connections`);
  }
  if (protocol === 'udp') {
    out.push(
      '  UDP has no handshake: a silent port may be open (the program ignores what it was sent) or filtered',
      `  see what is bound there: ss -Hulnp 'sport = :${port}'   (or: whyport 127.0.0.1 ${port}/udp)`,
      '',
    );
  } else {
    out.push(`  see what listens there: ss -Htlnp 'sport = :${port}'   (or: whyport 127.0.0.1 ${port})`, '');
  }
  return out.join('\n');
}

function usualLines(w: WellKnownPort): string[] {
  return [
    `  ${w.description}`,
    `  usually served by: ${w.programs.join(', ')}`,
    ...(w.units.length ? [`  systemd units:     ${w.units.join(', ')}`] : []),
  ];
}

/** A program or unit: the ports it usually listens on. */
export function explainProgram(name: string, usual: readonly WellKnownPort[]): string {
  const out = [`${name} usually listens on ${usual.map((w) => `${w.port}/${protocolsOf(w).join('+')} (${w.name})`).join(', ')}`];
  for (const w of usual) out.push(`  ${String(w.port).padStart(5)}  ${w.description}`);
  const flags = usual.some((w) => protocolsOf(w).includes('udp')) ? '-Htulnp' : '-Htlnp';
  out.push(`  see where it listens now: ss ${flags} | grep '"${name.replace(/\.service$/, '')}"'`, '');
  return out.join('\n');
}

