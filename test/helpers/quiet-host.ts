import { readFileSync } from 'node:fs';
import { parseDiagnoseArgs } from '../../src/cli/diagnose-args.js';
import { diagnose, type DiagnoseIO } from '../../src/commands/diagnose.js';
import { serviceTable } from '../../src/cli/port-argument.js';
import { replayHost, type CapturedHost } from './replay-host.js';

const fixture = (path: string) => readFileSync(new URL(`../fixtures/${path}`, import.meta.url), 'utf8');

/**
 * A captured server where nothing holds port 7071 and nothing runs that could (ss's empty answer,
 * an empty /proc/net/tcp, Debian 12's /etc/services): a diagnosis of 10.213.9.2:7071 on it ends in
 * NOT_LISTENING, with nothing read from this machine.
 */
export const quietHost: CapturedHost = {
  files: {
    '/proc/net/tcp': '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n',
    '/etc/services': fixture('services/debian12.txt'),
  },
  commands: { 'ss -Htane state all ( sport = :7071 or dport = :7071 )': { stdout: fixture('ss/empty.txt') } },
  interfaces: [
    { name: 'lo', address: '127.0.0.1', family: 4, internal: true },
    { name: 'eth0', address: '10.213.9.2', family: 4, internal: false },
  ],
  identity: { hostname: 'app1', uid: 0, root: true },
};

/** `whyport 10.213.9.2 7071 ARGS…` on the quiet host, without a terminal; what it printed on stdout. */
export async function diagnoseQuietHost(args: readonly string[], io: Partial<DiagnoseIO> = {}): Promise<string> {
  const env = { stdinIsTTY: false, stdoutIsTTY: false, stderrIsTTY: false, env: {}, version: '0.1.0' };
  const opts = await parseDiagnoseArgs(['10.213.9.2', '7071', ...args], env, () => {}, serviceTable(quietHost.files!['/etc/services']!, '/etc/services'));
  if (opts === 'exit') throw new Error('no diagnosis');
  let out = '';
  await diagnose(opts, { stderr: () => {}, host: replayHost(quietHost), ...io, stdout: (t) => void (out += t) });
  return out;
}
