import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseNetstat } from '../../src/system/netstat.js';
import { parseSs } from '../../src/system/ss.js';

// Captured by test/fixtures/capture-sockets.sh, at the same moment as the ss fixtures.
const fixture = (name: string) => readFileSync(new URL(`../fixtures/netstat/${name}`, import.meta.url), 'utf8');
const withoutHeader = (text: string) => text.split('\n').slice(2).join('\n');

describe('parseNetstat', () => {
  it('reads netstat -tanpee: states, queues, uid, inode and owners', () => {
    const { sockets, notices, ownersHidden } = parseNetstat(fixture('tanpee.txt'));
    expect(notices).toEqual([]);
    expect(ownersHidden).toBe(false);
    expect(sockets).toHaveLength(28);
    expect(sockets[0]).toEqual({
      family: 'inet',
      state: 'LISTEN',
      // netstat shows the accept queue on LISTEN but never the backlog: Send-Q is 0 (ss says 2 1).
      recvQ: 2,
      sendQ: 0,
      local: { address: '127.0.0.1', port: 7077 },
      peer: { address: '0.0.0.0', port: 0 },
      uid: 0,
      inode: 30189,
      owners: [{ pid: 13467, program: 'python3' }],
    });
    const states = sockets.filter((s) => s.local.port === 7071 || s.peer.port === 7071).map((s) => s.state).sort();
    expect(states).toEqual(['CLOSE_WAIT', 'ESTABLISHED', 'ESTABLISHED', 'FIN_WAIT2', 'LISTEN', 'TIME_WAIT', 'TIME_WAIT']);
    // As root, `-` on a socket without an inode means: no process holds it.
    const timeWait = sockets.find((s) => s.state === 'TIME_WAIT')!;
    expect(timeWait).toMatchObject({ inode: 0, owners: [] });
    expect(sockets.find((s) => s.state === 'SYN_SENT')).toMatchObject({ recvQ: 0, sendQ: 1, peer: { port: 7077 } });
  });

  it('keeps program names with blanks and commas, and names one owner of a shared socket (from argv[0])', () => {
    const { sockets } = parseNetstat(fixture('tanpee.txt'));
    // Held by "my (app), v2" (pid 13468) and its forked child (13494): netstat names one.
    expect(sockets.find((s) => s.local.port === 7076)!.owners).toEqual([{ pid: 13468, program: 'my (app), v2' }]);
    expect(sockets.find((s) => s.local.port === 7080)).toMatchObject({ uid: 65534, inode: 30141, owners: [{ pid: 13469, program: 'python3' }] });
  });

  it('reads tcp6 lines, giving IPv4-mapped addresses back their ::ffff: prefix', () => {
    const { sockets } = parseNetstat(fixture('tanpee.txt'));
    const v6 = sockets.filter((s) => s.family === 'inet6');
    expect(v6.filter((s) => s.state === 'LISTEN').map((s) => [s.local.address, s.local.port])).toEqual([
      ['::1', 7075],
      ['::1', 7079],
      ['::ffff:127.0.0.1', 7078],
      ['::', 7073],
      ['::', 7072],
    ]);
    expect(v6.find((s) => s.local.port === 7073 && s.state === 'ESTABLISHED' && s.local.address.startsWith('::ffff:'))).toMatchObject({
      local: { address: '::ffff:127.0.0.1' },
      peer: { address: '::ffff:127.0.0.1', port: 33308 },
    });
    // netstat cannot tell a dual-stack wildcard from a v6only one.
    expect(v6.every((s) => s.dualStack === undefined)).toBe(true);
    expect(v6.find((s) => s.local.port === 7073 && s.state === 'LISTEN')!.peer).toEqual({ address: '::', port: 0 });
  });

  it('sees the same sockets as ss did at the same moment', () => {
    const ss = parseSs(readFileSync(new URL('../fixtures/ss/all-owners.txt', import.meta.url), 'utf8'));
    const key = (s: { state: string; local: { port: number }; peer: { port: number }; inode?: number }) =>
      `${s.state} ${s.local.port} ${s.peer.port} ${s.inode}`;
    expect(parseNetstat(fixture('tanpee.txt')).sockets.map(key).sort()).toEqual(ss.map(key).sort());
  });

  it('reads -tanee (no owner column) and -W the same way', () => {
    const plain = parseNetstat(fixture('tanee.txt'));
    expect(plain.sockets).toHaveLength(28);
    expect(plain.sockets.every((s) => s.owners === undefined)).toBe(true);
    expect(plain.sockets[0]).toMatchObject({ uid: 0, inode: 30189 });
    expect(parseNetstat(fixture('taneeW.txt'))).toEqual(plain);
  });

  it('reads -tlnp (no User/Inode columns)', () => {
    const { sockets } = parseNetstat(fixture('tlnp.txt'));
    expect(sockets).toHaveLength(10);
    expect(sockets.every((s) => s.state === 'LISTEN' && s.inode === undefined && s.uid === undefined)).toBe(true);
    expect(sockets[1]).toMatchObject({ local: { port: 7076 }, owners: [{ pid: 13468, program: 'my (app), v2' }] });
  });

  it('reads the same without the two header lines', () => {
    for (const name of ['tanpee.txt', 'tanee.txt', 'tlnp.txt']) {
      expect(parseNetstat(withoutHeader(fixture(name)))).toEqual(parseNetstat(fixture(name)));
    }
  });

  it('as non-root: the notice (from stderr) says owners are hidden, and `-` is then unknown, not none', () => {
    const text = `${fixture('nonroot-tanpee.txt')}\n${fixture('nonroot-tanpee.stderr.txt')}`;
    const { sockets, notices, ownersHidden } = parseNetstat(text);
    expect(ownersHidden).toBe(true);
    expect(notices).toEqual([
      '(Not all processes could be identified, non-owned process info will not be shown, you would have to be root to see it all.)',
    ]);
    expect(sockets).toHaveLength(28);
    expect(sockets.find((s) => s.local.port === 7071 && s.state === 'LISTEN')!.owners).toBeUndefined();
    expect(sockets.find((s) => s.state === 'TIME_WAIT')!.owners).toBeUndefined();
    expect(sockets.find((s) => s.local.port === 7080)!.owners).toEqual([{ pid: 13469, program: 'python3' }]);
    // The notice may come first too (stderr before stdout, as in a terminal).
    expect(parseNetstat(`${fixture('nonroot-tanpee.stderr.txt')}${fixture('nonroot-tanpee.txt')}`)).toEqual({ sockets, notices, ownersHidden });
  });

  it('as non-root seeing no process at all: the other wording of the notice', () => {
    const { sockets, notices, ownersHidden } = parseNetstat(`${fixture('nonroot-no-info.txt')}\n${fixture('nonroot-no-info.stderr.txt')}`);
    expect(ownersHidden).toBe(true);
    expect(notices).toEqual(['(No info could be read for "-p": geteuid()=65534 but you should be root.)']);
    expect(sockets).toEqual([
      { family: 'inet', state: 'LISTEN', recvQ: 0, sendQ: 0, local: { address: '127.0.0.1', port: 7071 }, peer: { address: '0.0.0.0', port: 0 }, uid: 0, inode: 30071 },
    ]);
  });

  it('returns nothing for headers only, empty text and garbage', () => {
    expect(parseNetstat(fixture('empty-tanpee.txt'))).toEqual({ sockets: [], notices: [], ownersHidden: false });
    expect(parseNetstat('')).toEqual({ sockets: [], notices: [], ownersHidden: false });
    const garbage = 'netstat: no support for `AF INET (tcp)\' on this system.\nudp 0 0 0.0.0.0:68 0.0.0.0:* 0 123 -\ntcp x y z';
    expect(parseNetstat(garbage).sockets).toEqual([]);
  });
});
