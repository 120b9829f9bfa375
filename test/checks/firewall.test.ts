import { describe, expect, it } from 'vitest';
import { firewall, decideFirewall, type FirewallReadings } from '../../src/checks/firewall.js';
import { runCheck } from '../../src/checks/check.js';
import { captured, contextWith, FakeFacts, fixtureText, paramsOf, replay, type Reply } from './replay.js';
import { parseNftJson } from '../../src/system/firewall/nft.js';

// The firewall check over rulesets captured in network namespaces (test/fixtures/nft, iptables,
// ufw): which outcome, which rule as the user sees it, which fix, and what happens over loopback.

const OWN = '10.213.9.2';
const EMPTY_IPTABLES: Reply = { stdout: fixtureText('iptables', 'nft-empty.save.txt') };
const NO_IP6TABLES: Reply = { stdout: '' };

async function run(replies: Record<string, Reply>, host: string, port = 7071, more: { isRoot?: boolean; portName?: string } = {}) {
  const r = replay(replies, { identity: { root: more.isRoot ?? true } });
  const facts = new FakeFacts(r, {}, [OWN]);
  const ctx = contextWith(r, facts, { host, port, ...(more.portName ? { portName: more.portName } : {}) });
  return runCheck(firewall, paramsOf(firewall, { host, port: String(port) }), ctx);
}

const nftLoopbackThenDrop = {
  'nft -j list ruleset': { stdout: fixtureText('nft', 'inet-lo-accept-drop.json') },
  'iptables-save': EMPTY_IPTABLES,
  'ip6tables-save': NO_IP6TABLES,
};

describe('the firewall check', () => {
  it('a loopback accept before a drop: blocks clients on other machines, and says loopback gets through', async () => {
    const res = await run(nftLoopbackThenDrop, OWN, 7071, { portName: 'myapp' });
    expect(res.outcome).toBe('blocks');
    expect(res.summary).toBe(
      'nftables table inet filter, chain input: `tcp dport 7071 drop` drops connections to port 7071 (myapp) from other machines; connections over loopback are accepted before it, by `iifname "lo" accept` (nftables table inet filter, chain input)',
    );
    expect(res.command).toBe('nft -a list chain inet filter input');
    expect(res.evidence).toMatchObject({
      tool: 'nftables',
      table: 'inet filter',
      chain: 'input',
      rule: 'tcp dport 7071 drop',
      action: 'drops',
      remoteOnly: true,
      fix: ['nft', 'delete', 'rule', 'inet', 'filter', 'input', 'handle', '4'],
      fixCommand: 'nft delete rule inet filter input handle 4',
      fixKind: 'remove',
      fixSummary: 'Delete the rule `tcp dport 7071 drop` (inet filter, chain input): it is about port 7071 alone, and nothing else blocks the port without it',
    });
  });

  it('asked about loopback itself: allowed, with a finding that remote clients would be dropped', async () => {
    const res = await run(nftLoopbackThenDrop, '127.0.0.1');
    expect(res.outcome).toBe('allows');
    expect(res.summary).toMatch(/^no firewall rule drops or rejects incoming connections to port 7071 \(accepted by `iifname "lo" accept`, nftables table inet filter, chain input\); read nftables, iptables, ip6tables; ufw, firewalld not installed$/);
    expect(res.findings).toEqual([{ code: 'FIREWALL_BLOCKS_REMOTE', summary: 'clients on other machines would be blocked: nftables table inet filter, chain input: `tcp dport 7071 drop` drops connections to port 7071 from other machines' }]);
  });

  it('another port: allows', async () => {
    expect((await run(nftLoopbackThenDrop, OWN, 8080)).outcome).toBe('allows');
  });

  it('an iptables DROP, loopback included: blocks, with the iptables fix', async () => {
    const res = await run({ 'nft -j list ruleset': { stdout: fixtureText('nft', 'empty.json') }, 'iptables-save': { stdout: fixtureText('iptables', 'nft-drop-port.save.txt') }, 'ip6tables-save': NO_IP6TABLES }, OWN);
    expect(res.outcome).toBe('blocks');
    expect(res.summary).toBe('iptables table filter, chain INPUT: `-A INPUT -p tcp -m tcp --dport 7071 -j DROP` drops connections to port 7071');
    expect(res.evidence).toMatchObject({ remoteOnly: false, loopback: 'connections over loopback are blocked as well', fixCommand: 'iptables -D INPUT -p tcp -m tcp --dport 7071 -j DROP' });
    expect(res.command).toBe('iptables -S INPUT');
  });

  it('not root: no permission, said in a finding so a reachable port stays REACHABLE', async () => {
    const res = await run(
      {
        'nft -j list ruleset': captured('nft', 'nonroot'),
        'iptables-save': { stdout: '', stderr: fixtureText('iptables', 'nonroot-save.stderr.txt'), exitCode: 4 },
        'ip6tables-save': { stdout: '', stderr: fixtureText('iptables', 'nonroot-ip6-save.stderr.txt'), exitCode: 4 },
      },
      OWN,
      7071,
      { isRoot: false },
    );
    expect(res.outcome).toBe('no-permission');
    expect(res.summary).toBe('the firewall rules cannot be read without root (nft -j list ruleset, iptables-save, ip6tables-save: permission denied): run whyport as root (sudo) to see whether a rule blocks clients on other machines');
    expect(res.findings).toEqual([{ code: 'FIREWALL_UNREADABLE', summary: res.summary }]);
  });

  it('no firewall tool at all: unknown, and why', async () => {
    const res = await run({}, OWN);
    expect(res).toMatchObject({ outcome: 'unknown', summary: 'the firewall could not be checked: neither nft nor iptables is installed, so the rules in the kernel cannot be listed' });
  });

  it('a front end that cannot be asked (firewalld without D-Bus) hides nothing once netfilter is read', async () => {
    const res = await run({ ...nftLoopbackThenDrop, 'firewall-cmd --list-all': { stdout: '', stderr: 'Error: DBUS_ERROR: Failed to connect to socket /run/dbus/system_bus_socket: No such file or directory\n', exitCode: 1 } }, OWN, 8080);
    expect(res.outcome).toBe('allows');
    expect(res.summary).toMatch(/firewalld could not be asked$/);
  });
});

describe('the firewall check for a UDP target', () => {
  async function runUdp(replies: Record<string, Reply>, host: string, port: number, portName?: string) {
    const r = replay(replies, { identity: { root: true } });
    const facts = new FakeFacts(r, {}, [OWN]);
    const ctx = contextWith(r, facts, { host, port, protocol: 'udp', ...(portName ? { portName } : {}) });
    return { ctx, res: await runCheck(firewall, paramsOf(firewall, { host, port: String(port) }), ctx) };
  }
  const nftUdp = (name: string): Record<string, Reply> => ({ 'nft -j list ruleset': { stdout: fixtureText('nft', name) }, 'iptables-save': EMPTY_IPTABLES, 'ip6tables-save': NO_IP6TABLES });

  it('`udp dport 53 drop`: blocks datagrams from other machines, says the client sees silence, and fixes with udp dport', async () => {
    const { ctx, res } = await runUdp(nftUdp('udp-drop-53.json'), OWN, 53, 'domain');
    expect(firewall.describe({ port: 53, host: OWN }, ctx)).toBe('reading the firewall rules for incoming UDP port 53 (domain)');
    expect(res.outcome).toBe('blocks');
    expect(res.summary).toBe(
      'nftables table inet filter, chain input: `udp dport 53 drop` drops datagrams to port 53 (domain) from other machines: a client gets no reply, so from there the port looks open or filtered; datagrams over loopback are accepted before it, by `iifname "lo" accept` (nftables table inet filter, chain input)',
    );
    expect(res.evidence).toMatchObject({ rule: 'udp dport 53 drop', clientSees: 'no reply', clientCode: 'OPEN_OR_FILTERED', fixCommand: expect.stringMatching(/^nft delete rule inet filter input handle \d+$/), fixKind: 'remove' });
  });

  it('an iptables REJECT with icmp-admin-prohibited: the client sees it as filtered', async () => {
    const { res } = await runUdp({ 'nft -j list ruleset': { stdout: fixtureText('nft', 'empty.json') }, 'iptables-save': { stdout: fixtureText('iptables', 'udp-reject-53.save.txt') }, 'ip6tables-save': NO_IP6TABLES }, OWN, 53);
    expect(res.outcome).toBe('blocks');
    expect(res.summary).toBe('iptables table filter, chain INPUT: `-A INPUT -p udp -m udp --dport 53 -j REJECT --reject-with icmp-admin-prohibited` rejects (with icmp-admin-prohibited) datagrams to port 53: a client gets ICMP administratively prohibited, so from there the port looks filtered');
    expect(res.evidence).toMatchObject({ clientCode: 'PORT_FILTERED', loopback: 'datagrams over loopback are blocked as well', fixCommand: 'iptables -D INPUT -p udp -m udp --dport 53 -j REJECT --reject-with icmp-admin-prohibited' });
  });

  it('a TCP-only rule for the port: UDP allows, in datagrams', async () => {
    const { res } = await runUdp({ 'nft -j list ruleset': { stdout: fixtureText('nft', 'empty.json') }, 'iptables-save': { stdout: fixtureText('iptables', 'nft-drop-port.save.txt') }, 'ip6tables-save': NO_IP6TABLES }, OWN, 7071);
    expect(res.outcome).toBe('allows');
    expect(res.summary).toBe('no firewall rule drops or rejects incoming datagrams to port 7071; read nftables, iptables, ip6tables; ufw, firewalld not installed');
  });

  it('the same ruleset asked about TCP still blocks: the protocol comes from the target', async () => {
    const res = await run({ 'nft -j list ruleset': { stdout: fixtureText('nft', 'empty.json') }, 'iptables-save': { stdout: fixtureText('iptables', 'udp-reject-53.save.txt') }, 'ip6tables-save': NO_IP6TABLES }, OWN, 53);
    expect(res.outcome).toBe('allows');
    expect(res.summary).toMatch(/^no firewall rule drops or rejects incoming connections to port 53;/);
  });
});

describe('decideFirewall, on plain readings', () => {
  const ok = (name: 'nftables' | 'iptables', command: string) => ({ name, command, status: 'ok' as const, durationMs: 1 });
  const dropping: FirewallReadings = {
    reading: { permission: true, sources: [ok('nftables', 'nft -j list ruleset')], rulesets: { nft: parseNftJson(fixtureText('nft', 'inet-lo-accept-drop.json')) } },
    local: [{ address: OWN, family: 4 }],
  };
  const at = (protocol: 'tcp' | 'udp' = 'tcp') => ({ target: { host: OWN, port: 7071, protocol }, timeoutMs: 1000 });

  it('blocks: the rule, the fix, and loopback let through first', () => {
    const d = decideFirewall(dropping, { port: 7071 }, at());
    expect(d).toMatchObject({ outcome: 'blocks', status: 'fail', command: 'nft -a list chain inet filter input', evidence: { rule: 'tcp dport 7071 drop', remoteOnly: true, address: OWN, fixKind: 'remove' } });
  });

  it('allows: another port, with what was read', () => {
    const d = decideFirewall(dropping, { port: 8080 }, at());
    expect(d).toMatchObject({ outcome: 'allows', status: 'pass', command: 'nft -j list ruleset' });
    expect(d.summary).toMatch(/; read nftables$/);
  });

  it('not resolved or not local: judged for a remote IPv4 client', () => {
    expect(decideFirewall({ ...dropping, local: [] }, { port: 7071 }, at()).evidence).toMatchObject({ address: '', family: 4 });
  });

  it('no-permission: says whether root would help', () => {
    const denied: FirewallReadings = { reading: { permission: false, sources: [{ name: 'nftables', command: 'nft -j list ruleset', status: 'denied', error: 'Operation not permitted', durationMs: 1 }], rulesets: {} }, local: [], root: false };
    const d = decideFirewall(denied, { port: 7071 }, at());
    expect(d.outcome).toBe('no-permission');
    expect(d.summary).toBe('the firewall rules cannot be read without root (nft -j list ruleset: permission denied): run whyport as root (sudo) to see whether a rule blocks clients on other machines');
    expect(d.findings).toEqual([{ code: 'FIREWALL_UNREADABLE', summary: d.summary }]);
    expect(decideFirewall({ ...denied, root: true }, { port: 7071 }, at()).summary).toMatch(/^the firewall rules cannot be read \(nft/);
  });

  it('unknown: neither nft nor iptables could list the rules', () => {
    const failed: FirewallReadings = { reading: { permission: true, sources: [{ name: 'nftables', command: 'nft -j list ruleset', status: 'error', error: 'timed out', durationMs: 1 }, { name: 'iptables', command: 'iptables-save', status: 'missing', durationMs: 1 }], rulesets: {} }, local: [] };
    const d = decideFirewall(failed, { port: 7071 }, at());
    expect(d).toMatchObject({ outcome: 'unknown', status: 'info', summary: 'the firewall could not be checked: nft -j list ruleset: timed out', command: 'nft list ruleset' });
  });
});

// The client's address in the server's rules: fail2ban's bans (the real package's rulesets and
// fail2ban-client's answers, test/fixtures/fail2ban), and a source-specific ufw allow.
describe('the firewall check for a known client', () => {
  const SERVER = '10.0.0.1';
  const f2b = (action: string): Record<string, Reply> => ({
    'nft -j list ruleset': { stdout: fixtureText('fail2ban', `${action}/nft.json`) },
    'iptables-save': { stdout: fixtureText('fail2ban', `${action}/iptables-save.txt`) },
    'ip6tables-save': NO_IP6TABLES,
    'fail2ban-client get nginx-http-auth banip --with-time': { stdout: fixtureText('fail2ban', `${action}/banip-with-time.txt`) },
  });

  /** The check on the server: with `from` (--from), or as the server side of --ssh (a client context, $SSH_CONNECTION's address). */
  async function onServer(replies: Record<string, Reply>, params: { client?: string; from?: string }, ssh?: { seen: string; clientOwn?: string[] }, port = 80) {
    const r = replay(replies, { identity: { root: true, ...(ssh ? { via: { client: ssh.seen, server: SERVER } } : {}) } });
    const facts = new FakeFacts(r, {}, [SERVER]);
    const client = ssh ? contextWith(replay({}), new FakeFacts(replay({}), {}, ssh.clientOwn ?? []), { host: SERVER, port }) : undefined;
    const ctx = contextWith(r, facts, { host: SERVER, port }, client ? { client } : {});
    return runCheck(firewall, paramsOf(firewall, { host: SERVER, port: String(port), ...params }), ctx);
  }

  it("--ssh: fail2ban's iptables-multiport bans the probe's source address: banned, with the jail, since when, and the unban", async () => {
    const res = await onServer(f2b('iptables-multiport'), { client: '10.0.0.7' }, { seen: '10.0.0.7', clientOwn: ['10.0.0.7'] });
    expect(res.outcome).toBe('banned');
    expect(res.summary).toBe(
      'fail2ban jail nginx-http-auth bans 10.0.0.7 since 2026-12-06 20:52:59 (until 2026-12-06 21:02:59): `-A f2b-nginx-http-auth -s 10.0.0.7/32 -j REJECT --reject-with icmp-port-unreachable` (iptables table filter, chain f2b-nginx-http-auth) rejects (with icmp-port-unreachable) its connections to port 80',
    );
    expect(res.command).toBe('fail2ban-client status nginx-http-auth');
    expect(res.evidence).toMatchObject({
      client: '10.0.0.7',
      clientHow: 'probe',
      ban: { by: 'fail2ban', jail: 'nginx-http-auth', address: '10.0.0.7', since: '2026-12-06 20:52:59' },
      fix: ['fail2ban-client', 'set', 'nginx-http-auth', 'unbanip', '10.0.0.7'],
      fixCommand: 'fail2ban-client set nginx-http-auth unbanip 10.0.0.7',
      fixKind: 'unban',
      clientSees: 'ICMP port unreachable',
    });
    expect(res.evidence.fixNote).toContain('`ignoreip` in /etc/fail2ban/jail.local');
  });

  it('--ssh behind a NAT: judged for the address the server sees, and said so', async () => {
    const res = await onServer(f2b('iptables-multiport'), { client: '172.16.5.9' }, { seen: '192.0.2.44', clientOwn: ['172.16.5.9'] });
    expect(res.outcome).toBe('banned');
    expect(res.evidence).toMatchObject({ client: '192.0.2.44', clientHow: 'nat', ban: { address: '192.0.2.44' } });
    expect(res.summary).toMatch(/; the server sees the client as 192\.0\.2\.44 \(NAT\)$/);
  });

  it("--ssh from a client with two addresses (ssh through the other one): the probe's source decides, no NAT", async () => {
    const res = await onServer(f2b('iptables-multiport'), { client: '10.0.0.8' }, { seen: '10.0.0.7', clientOwn: ['10.0.0.7', '10.0.0.8'] });
    expect(res.outcome).toBe('allows');
    expect(res.evidence).toMatchObject({ client: '10.0.0.8', clientHow: 'probe', sourceNote: '' });
    expect(res.summary).toContain('for the client 10.0.0.8 (the address its probe came from)');
  });

  it("--from on the server: fail2ban's nftables-multiport table and set", async () => {
    const res = await onServer(f2b('nftables-multiport'), { from: '192.0.2.44' });
    expect(res.outcome).toBe('banned');
    expect(res.evidence).toMatchObject({ clientHow: 'from', table: 'inet f2b-table', ban: { by: 'fail2ban', jail: 'nginx-http-auth', address: '192.0.2.44', since: '2026-12-06 20:53:05' }, fixCommand: 'fail2ban-client set nginx-http-auth unbanip 192.0.2.44' });
  });

  it('no client known: let in, and the rules that turn some sources away are said in the verdict, with --from', async () => {
    const res = await onServer(f2b('iptables-multiport'), {});
    expect(res.outcome).toBe('allows');
    expect(res.evidence.sourceNote).toBe(
      'Clients from some addresses are still turned away: `-A f2b-nginx-http-auth -s 192.0.2.44/32 -j REJECT --reject-with icmp-port-unreachable` (fail2ban jail nginx-http-auth) rejects clients from 192.0.2.44/32 on port 80, and 1 more rule like it; to check one client, run whyport again with --from ADDRESS.',
    );
    // Nothing asked of fail2ban-client without a client to look for.
    expect(res.evidence.client).toBe('');
  });

  it('a port no source rule is about: no note', async () => {
    const res = await onServer(f2b('iptables-multiport'), {}, undefined, 22);
    expect(res.outcome).toBe('allows');
    expect(res.evidence.sourceNote).toBe('');
  });

  it("ufw allows port 80 from 10.9.0.0/24 only: --from another address meets ufw's default deny, and the allow that does not cover it is named", async () => {
    const replies: Record<string, Reply> = {
      'nft -j list ruleset': { stdout: '{"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}}]}' },
      'iptables-save': { stdout: fixtureText('ufw', 'allow-from-network.iptables-save.txt') },
      'ip6tables-save': NO_IP6TABLES,
      'ufw status verbose': { stdout: fixtureText('ufw', 'allow-from-network.txt') },
    };
    const outside = await onServer(replies, { from: '10.0.0.99' });
    expect(outside.outcome).toBe('blocks');
    expect(outside.evidence).toMatchObject({ tool: 'ufw', rule: 'Default: deny (incoming)', policy: true, client: '10.0.0.99' });
    expect(outside.evidence.notCovering).toBe("ufw's `80 ALLOW IN 10.9.0.0/24` admits only 10.9.0.0/24, not 10.0.0.99");
    expect(outside.summary).toContain('for the client 10.0.0.99 (--from)');
    const inside = await onServer(replies, { from: '10.9.0.5' });
    expect(inside.outcome).toBe('allows');
  });
});
