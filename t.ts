import { probeUdp } from '/work/wt-udp-probe/src/host/udp-probe.ts';
import { udpPayloadFor } from '/work/wt-udp-probe/src/knowledge/udp-payloads.ts';
const [addr, ...ports] = process.argv.slice(2);
const timeoutMs = Number(process.env.T ?? 2000);
const rs = await Promise.all(ports.map((p) => { const pl = udpPayloadFor(Number(p)); return probeUdp(addr, Number(p), { timeoutMs, payload: pl?.bytes, payloadName: pl?.name }); }));
for (const r of rs) console.log(JSON.stringify(r));
