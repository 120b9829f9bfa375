import { describe, expect, it } from 'vitest';
import { firewall } from '../../src/checks/firewall.js';
import { captured, contextWith, FakeFacts, fixtureText, replay, type Reply } from './replay.js';

// The firewall check over rulesets captured in network namespaces (test/fixtures/nft, iptables,
// ufw): which outcome, which rule as the user sees it, which fix, and what happens over loopback.

const OWN = '10.213.9.2';
const EMPTY_IPTABLES: Reply = { stdout: fixtureText('iptables', 'nft-empty.save.txt') };
const NO_IP6TABLES: Reply = { stdout: '' };

async function run(replies: Record<string, Reply>, host: string, port = 7071, more: { isRoot?: boolean; portName?: string } = {}) {
  const r = replay(replies, { identity: { root: more.isRoot ?? true } });
  const facts = new FakeFacts(r, {}, [OWN]);
  const ctx = contextWith(r, facts, { host, port, ...(more.portName ? { portName: more.portName } : {}) });
  return firewall.run(firewall.params.parse({ host, port: String(port) }), ctx);
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
    return { ctx, res: await firewall.run(firewall.params.parse({ host, port: String(port) }), ctx) };
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
