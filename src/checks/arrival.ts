import { port, text, z } from './params.js';
import { defineCheck, type CheckContext } from './check.js';
import { e, fields } from './evidence.js';
import { endpointText } from '../net/endpoint.js';
import { tcpSynArrivals } from '../system/capture.js';
import { udpProbeOptions } from '../knowledge/udp-payloads.js';

// tcpdump needs a moment after its channel opens before it captures; the client's one connect
// then sends its SYN and one retransmission (Linux waits 1 s) well inside the capture.
const CAPTURE_START_MS = 700;
const CLIENT_TRY_MS = 1_600;
const CAPTURE_MS = 3_000;

/**
 * Where the packet dies (--ssh): capture on the server while the client connects once more. The
 * SYNs arriving and nothing answering means they die on the server (a rule, rp_filter, no route
 * back); none arriving means they die on the way there.
 */
export const arrival = defineCheck({
  description: "Capture on the server (tcpdump) while the client connects: do the client's SYNs arrive?",
  outcomes: ['arrived', 'none-arrived', 'cannot'],
  params: z.object({ host: text(), port: port() }),
  evidence: fields({
    client: e.str(),
    server: e.str(),
    syns: e.num(),
    filter: e.str(),
    reason: e.str(),
    lines: e.list(e.str()),
    probe: e.any(),
  }),
  describe: (p, ctx) => `capturing port ${p.port}/${ctx.target.protocol} on the server while the client ${ctx.target.protocol === 'udp' ? 'sends to it' : 'connects'}`,
  async run(p, ctx) {
    const id = await ctx.host.identity();
    const client = id.via?.client;
    const server = id.via?.server;
    const udp = ctx.target.protocol === 'udp';
    const filter = `${udp ? `udp dst port ${p.port}` : `tcp dst port ${p.port} and tcp[tcpflags] & tcp-syn != 0`}${client ? ` and src host ${client}` : ''}`;
    const packets = udp ? 'datagrams' : 'SYNs';
    const command = `tcpdump -n -i any -c 2 '${filter}'`;
    const seen = { ...(client ? { client } : {}), ...(server ? { server } : {}), filter };
    const cannot = (reason: string) => ({ outcome: 'cannot' as const, status: 'info' as const, summary: reason, command, evidence: { ...seen, reason } });
    if (!ctx.client) return cannot('there is no client end to connect from (the capture runs with --ssh)');
    const address = await targetAddress(ctx.client, p.host);
    if (!address) return cannot(`${p.host} does not resolve on the client`);

    const capture = tcpSynArrivals(ctx.host, filter, { timeoutMs: CAPTURE_MS, protocol: ctx.target.protocol });
    await new Promise((r) => setTimeout(r, CAPTURE_START_MS));
    // The same datagram as the client's probe: its tries (0, 250, 750 ms…) fall inside the capture.
    const probe = udp
      ? await ctx.client.host.probeUdp(address, p.port, udpProbeOptions(p.port, CLIENT_TRY_MS))
      : await ctx.client.host.connectTcp(address, p.port, CLIENT_TRY_MS);
    const got = await capture;
    if (got.kind === 'cannot') return cannot(got.reason);
    const from = client ? ` from ${client}` : '';
    const to = endpointText(server ?? address, p.port);
    const evidence = { ...seen, syns: got.syns, lines: got.lines, probe };
    if (got.syns > 0) {
      return {
        outcome: 'arrived',
        status: 'fail',
        summary: `the client's ${packets} arrive at the server (${got.syns} captured${from} to ${to}), and the server does not answer them`,
        command,
        evidence,
      };
    }
    return {
      outcome: 'none-arrived',
      status: 'fail',
      summary: `none of the client's ${packets}${from} arrived at the server (tcpdump captured nothing for ${to} in ${CAPTURE_MS / 1000} s while the client ${udp ? 'sent' : 'connected'}): they die on the way`,
      command,
      evidence,
    };
  },
});

async function targetAddress(client: CheckContext, host: string): Promise<string | undefined> {
  const res = await client.facts.resolve(host);
  return res.ok ? res.addresses[0]?.address : undefined;
}
