import { readFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandResult, Runner } from '../../src/system/runner.js';
import { execaRunner } from '../../src/system/runner.js';
import { localHost } from '../../src/host/local.js';
import type { Host } from '../../src/host/host.js';
import type { SocketSource, TcpSocket } from '../../src/system/socket.js';
import { attachOwners, readListeners, readSocketTable } from '../../src/system/socket-query.js';

// Real sockets on loopback, opened by this test on ports the kernel picks; read with the real
// ss and netstat, and from the real /proc.
const myComm = readFileSync('/proc/self/comm', 'utf8').replace(/\n$/, '');

let server: Server;
let port: number;
let client: Socket;
const accepted: Socket[] = [];
let clientPort: number;
// A second pair, closed by the client first, so the client side is left in TIME-WAIT.
let closedClientPort: number;

beforeAll(async () => {
  server = createServer((s) => {
    accepted.push(s);
    s.on('end', () => s.end());
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  port = (server.address() as { port: number }).port;

  client = connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve) => client.once('connect', resolve));
  clientPort = client.localPort!;

  const closing = connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve) => closing.once('connect', resolve));
  closedClientPort = closing.localPort!;
  await new Promise<void>((resolve) => {
    closing.once('close', () => resolve());
    closing.end();
  });
  // Let the server's FIN arrive so the client side reaches TIME-WAIT.
  await new Promise((resolve) => setTimeout(resolve, 100));
});

afterAll(async () => {
  client?.destroy();
  for (const s of accepted) s.destroy();
  await new Promise((resolve) => server?.close(resolve));
});

const find = (sockets: TcpSocket[], state: string, localPort: number, peerPort: number) =>
  sockets.find((s) => s.state === state && s.local.port === localPort && s.peer.port === peerPort);

describe.each<SocketSource>(['ss', 'netstat', 'proc'])('readSocketTable, prefer %s', (prefer) => {
  it('reads LISTEN, both ends of an ESTABLISHED pair and a TIME-WAIT, with owners', async () => {
    const table = await readSocketTable(localHost, port, { timeoutMs: 5_000, prefer });
    expect(table.source).toBe(prefer);
    expect(table.notices).toEqual([]);
    expect(table.ownersHidden).toBe(false);
    // Only sockets on this port, local or peer side.
    expect(table.sockets.every((s) => s.local.port === port || s.peer.port === port)).toBe(true);

    const me = { pid: process.pid, program: myComm };
    const listening = find(table.sockets, 'LISTEN', port, 0);
    expect(listening).toMatchObject({ family: 'inet', local: { address: '127.0.0.1', port }, peer: { port: 0 } });
    expect(listening!.inode).toBeGreaterThan(0);
    expect(listening!.owners).toEqual([expect.objectContaining(me)]);

    const clientSide = find(table.sockets, 'ESTABLISHED', clientPort, port);
    const serverSide = find(table.sockets, 'ESTABLISHED', port, clientPort);
    expect(clientSide!.owners).toEqual([expect.objectContaining(me)]);
    expect(serverSide!.owners).toEqual([expect.objectContaining(me)]);
    expect(clientSide!.uid).toBe(process.getuid?.());

    // No file holds a TIME-WAIT socket: asked, and none.
    expect(find(table.sockets, 'TIME_WAIT', closedClientPort, port)).toMatchObject({ inode: 0, owners: [] });
  });

  it('says what a person would type to see the same', async () => {
    const table = await readSocketTable(localHost, port, { timeoutMs: 5_000, prefer });
    const hex = port.toString(16).toUpperCase().padStart(4, '0');
    expect(table.command).toBe(
      {
        ss: `ss -Htanp '( sport = :${port} or dport = :${port} )'`,
        netstat: `netstat -tanp | grep ':${port} '`,
        proc: `grep ':${hex} ' /proc/net/tcp /proc/net/tcp6`,
      }[prefer],
    );
  });
});

describe.each<SocketSource>(['ss', 'netstat', 'proc'])('readListeners, prefer %s', (prefer) => {
  it('lists every LISTEN socket without owners; attachOwners fills them in', async () => {
    const table = await readListeners(localHost, { timeoutMs: 5_000, prefer });
    expect(table.source).toBe(prefer);
    expect(table.sockets.every((s) => s.state === 'LISTEN')).toBe(true);
    const mine = table.sockets.find((s) => s.local.port === port)!;
    expect(mine).toMatchObject({ local: { address: '127.0.0.1', port } });
    expect(mine.owners).toBeUndefined();

    const withOwners = await attachOwners(localHost, { ...table, sockets: [mine] }, [process.pid]);
    expect(withOwners.sockets[0]!.owners).toEqual([{ pid: process.pid, program: myComm, fd: expect.any(Number) }]);
    expect(withOwners.ownersHidden).toBe(false);
    // The table read once is shared: attaching owners makes a new one.
    expect(mine.owners).toBeUndefined();
  });
});

/** The real runner, except that the named programs are not installed. */
function runnerWithout(...missing: string[]): Host {
  return {
    ...localHost,
    async run(argv, options) {
      if (missing.includes(argv[0]!)) {
        const result: CommandResult = { argv, exitCode: null, stdout: '', stderr: '', missing: true, timedOut: false, durationMs: 0 };
        return result;
      }
      return execaRunner.run(argv, options);
    },
  };
}

describe('fallbacks', () => {
  it('reads netstat when ss is not installed, and /proc when netstat is not either', async () => {
    const viaNetstat = await readSocketTable(runnerWithout('ss'), port, { timeoutMs: 5_000 });
    expect(viaNetstat.source).toBe('netstat');
    expect(viaNetstat.notices).toEqual(['ss is not installed: read another source instead']);
    expect(find(viaNetstat.sockets, 'LISTEN', port, 0)!.owners).toEqual([expect.objectContaining({ pid: process.pid })]);

    const viaProc = await readSocketTable(runnerWithout('ss', 'netstat'), port, { timeoutMs: 5_000 });
    expect(viaProc.source).toBe('proc');
    expect(viaProc.notices).toEqual(['ss is not installed; netstat is not installed: read another source instead']);
    expect(find(viaProc.sockets, 'ESTABLISHED', clientPort, port)!.owners).toEqual([expect.objectContaining({ pid: process.pid })]);
  });

  it('falls back when ss fails, saying how', async () => {
    const failing: Host = {
      ...localHost,
      async run(argv, options) {
        if (argv[0] === 'ss') return { argv, exitCode: 1, stdout: '', stderr: 'Cannot open netlink socket: Permission denied\n', missing: false, timedOut: false, durationMs: 1 };
        return execaRunner.run(argv, options);
      },
    };
    const table = await readListeners(failing, { timeoutMs: 5_000 });
    expect(table.source).toBe('netstat');
    expect(table.notices).toEqual(['ss -Htlne failed (exit 1: Cannot open netlink socket: Permission denied): read another source instead']);
  });

  it('uses the candidate pids first', async () => {
    const table = await readSocketTable(localHost, port, { timeoutMs: 5_000, candidatePids: [process.pid] });
    expect(find(table.sockets, 'LISTEN', port, 0)!.owners).toEqual([expect.objectContaining({ pid: process.pid })]);
  });
});
