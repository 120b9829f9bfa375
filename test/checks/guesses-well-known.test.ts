import { describe, expect, it } from 'vitest';
import type { CheckContext } from '../../src/checks/check.js';
import { guessers } from '../../src/checks/guesses.js';
import { portsOfProgram, wellKnown } from '../../src/knowledge/well-known.js';
import { localHost } from '../../src/host/local.js';
import { Facts } from '../../src/system/facts.js';
import type { CommandResult, Runner } from '../../src/system/runner.js';
import type { SocketTable, TcpSocket } from '../../src/system/socket.js';

// Well-known ports as the first guesses: a well-known program that runs is likely (taken with
// --yes), one that does not is only offered; and when a process already holds the port, it is the
// answer and no guess from the port number is taken. The process table is given per name.

function context(port: number, running: Record<string, number[]>, sockets: TcpSocket[] = [], systemd = true): { ctx: CheckContext; asked: string[] } {
  const asked: string[] = [];
  const runner: Runner = {
    async run(argv): Promise<CommandResult> {
      const name = argv.at(-1)!;
      if (argv[0] === 'pgrep') asked.push(name);
      const pids = argv[0] === 'pgrep' ? (running[name] ?? []) : [];
      const stdout = pids.map((p) => `${p} /usr/sbin/${name}\n`).join('');
      return { argv, exitCode: pids.length ? 0 : 1, stdout, stderr: '', missing: false, timedOut: false, durationMs: 1 };
    },
  };
  const table: SocketTable = { source: 'ss', command: 'ss', sockets, ownersHidden: false, notices: [] };
  // The real Facts (memoised pgrep, unit-file scan…) over the replayed runner; only the socket
  // table is given.
  const host = { ...localHost, run: runner.run };
  const facts = new Facts(host, { timeoutMs: 1000 });
  facts.socketTable = async () => table;
  // As on a server with systemd (this test machine has none as PID 1).
  facts.systemdRunning = async () => systemd;
  // The process table as pgrep would print it for these names (whyport reads /proc itself).
  facts.processes = async (name) => {
    asked.push(name);
    const pids = running[name] ?? [];
    return { processes: pids.map((pid) => ({ pid, commandLine: `/usr/sbin/${name}` })), command: `pgrep -a ${name}` };
  };
  const ctx: CheckContext = { target: { host: '127.0.0.1', port, protocol: 'tcp' }, host, facts, timeoutMs: 1000 };
  return { ctx, asked };
}

const listener = (port: number, owners?: { pid: number; program: string }[]): TcpSocket => ({
  family: 'inet',
  state: 'LISTEN',
  recvQ: 0,
  sendQ: 128,
  local: { address: '0.0.0.0', port },
  peer: { address: '0.0.0.0', port: 0 },
  inode: 4242,
  ...(owners ? { owners } : {}),
});

describe('well-known ports in the guesses', () => {
  it('the issue’s ports know their usual programs and units', () => {
    expect(wellKnown(443)?.programs).toEqual(expect.arrayContaining(['nginx', 'apache2', 'httpd', 'caddy']));
    expect(wellKnown(80)?.programs.slice(0, 4)).toEqual(['nginx', 'apache2', 'httpd', 'caddy']);
    expect(wellKnown(22)).toMatchObject({ programs: ['sshd'], units: ['ssh', 'sshd'] });
    expect(wellKnown(53)?.programs).toEqual(expect.arrayContaining(['named', 'unbound', 'systemd-resolve', 'dnsmasq']));
    expect(wellKnown(25)?.units).toEqual(expect.arrayContaining(['postfix', 'exim4']));
    expect(wellKnown(3306)?.programs).toEqual(['mysqld', 'mariadbd']);
    expect(wellKnown(5432)).toMatchObject({ name: 'postgresql', programs: ['postgres'] });
    expect(wellKnown(6379)?.programs[0]).toBe('redis-server');
    expect(wellKnown(27017)?.programs).toEqual(['mongod']);
    // comm keeps 15 characters: systemd-resolved runs as systemd-resolve, as pgrep and ss show it.
    expect(wellKnown(53)?.programs).toContain('systemd-resolve');
  });

  it('finds the ports of a program or unit, the other way round', () => {
    expect(portsOfProgram('nginx').map((w) => w.port)).toEqual([80, 443, 8080, 8443]);
    expect(portsOfProgram('postgresql.service').map((w) => w.port)).toEqual([5432]);
    expect(portsOfProgram('no-such-program')).toEqual([]);
  });

  it('a running well-known program is likely, and comes before the ones that do not run', async () => {
    const { ctx, asked } = context(443, { apache2: [812, 813] });
    const guesses = await guessers['programs-for-port'](ctx);
    expect(asked).toEqual(wellKnown(443)!.programs);
    expect(guesses.find((g) => g.value === 'apache2')).toEqual({ value: 'apache2', reason: 'usually on port 443 (https), and running (pid 812, 813)', likely: true });
    expect(guesses.filter((g) => g.likely).map((g) => g.value)).toEqual(['apache2']);
    expect(guesses.find((g) => g.value === 'nginx')).toEqual({ value: 'nginx', reason: 'usually on port 443 (https)', likely: false });
  });

  it('nothing runs: every well-known program is offered, none is taken with --yes', async () => {
    const { ctx } = context(5432, {});
    const guesses = await guessers['programs-for-port'](ctx);
    expect(guesses).toEqual([{ value: 'postgres', reason: 'usually on port 5432 (postgresql)', likely: false }]);
  });

  it('when a process holds the port, no unit is guessed from the number (its own unit would be)', async () => {
    // This test's own process holds the listener: it runs in no systemd unit here, so nothing is likely.
    const { ctx } = context(80, {}, [listener(80, [{ pid: process.pid, program: 'node' }])]);
    const guesses = await guessers['units-for-port'](ctx);
    expect(guesses.filter((g) => g.likely)).toEqual([]);
    expect(guesses.map((g) => g.value)).toEqual(expect.arrayContaining(['nginx', 'apache2']));
  });

  it('a listener whose owner cannot be seen also holds the port', async () => {
    const { ctx } = context(80, {}, [listener(80)]);
    const guesses = await guessers['units-for-port'](ctx);
    expect(guesses.filter((g) => g.likely)).toEqual([]);
  });

  it('without systemd running no unit is guessed at all (nothing could be asked about it)', async () => {
    const { ctx } = context(80, {}, [], false);
    expect(await guessers['units-for-port'](ctx)).toEqual([]);
  });
});
