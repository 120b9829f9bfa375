import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from '../helpers/cli-in-bed.js';
import { startSystemdTestbed, systemdTestbedAvailable, type SystemdTestbed } from '../helpers/nspawn.js';

/**
 * `--service <Tab>` against a real systemd (systemd-nspawn, TESTBED.md): whyport __complete units
 * and the bash and fish scripts run inside the container, next to its systemd, and the time a Tab
 * costs is measured there. A systemctl that hangs (a stuck bus) is a script that sleeps.
 */

const unavailable = await systemdTestbedAvailable();
if (unavailable) console.warn(`skipping the completion-against-real-systemd tests: ${unavailable}`);
const noFish = spawnSync('fish', ['--version']).error ? 'fish is not installed' : undefined;

// The container boots on this machine's /usr, so it has every unit its packages installed
// (MariaDB brings mysql.service and mysqld.service, which start with "my"). The test makes units
// under a prefix of its own and asserts on those alone; of the machine's units it only expects
// the few systemd itself runs.
const P = 'wptcompl';
const APP = `${P}-app.service`;
const WORKER_A = `${P}-worker@a.service`;
const WORKER_B = `${P}-worker@b.service`;
const NEVER = `${P}-never-started.service`;

describe.skipIf(unavailable !== null)('completion of --service against a real systemd', () => {
  let bed: SystemdTestbed;
  let bin: string;
  const env = () => ({ NODE_EXTRA_CA_CERTS: '', PATH: `${bin}:${process.env.PATH}` });

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first (npm test does)`);
    bed = await startSystemdTestbed();
    bin = join(bed.tmpDir, 'bin');
    await mkdir(bin);
    await writeFile(join(bin, 'whyport'), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} "$@"\n`);
    await chmod(join(bin, 'whyport'), 0o755);
    for (const shell of ['bash', 'fish']) await writeFile(join(bed.tmpDir, `whyport.${shell}`), execFileSync(process.execPath, [CLI, 'completion', shell], { encoding: 'utf8' }));
    await bed.writeUnit(APP, '[Unit]\nDescription=My App\n\n[Service]\nExecStart=/bin/sh -c "exit 1"\n');
    await bed.writeUnit(`${P}-worker@.service`, '[Unit]\nDescription=Worker %i\n\n[Service]\nExecStart=/bin/sleep infinity\n');
    await bed.writeUnit(NEVER, '[Unit]\nDescription=Installed, never loaded\n\n[Service]\nExecStart=/bin/true\n');
    await bed.daemonReload();
    await bed.exec(['systemctl', 'start', APP, WORKER_A, WORKER_B], { timeoutMs: 15_000 });
  });

  afterAll(async () => {
    await bed?.stop();
  });

  async function units(prefix: string, extraEnv: Record<string, string> = {}): Promise<string[]> {
    const r = await bed.exec(['whyport', '__complete', 'units', prefix], { env: { ...env(), ...extraEnv }, timeoutMs: 10_000 });
    expect([r.exitCode, r.stderr]).toEqual([0, '']);
    return r.stdout.split('\n').filter(Boolean);
  }

  /** How long `whyport __complete units PREFIX` takes inside the container, each of `runs` times (ms). */
  async function timings(prefix: string, runs = 5, extraEnv: Record<string, string> = {}): Promise<number[]> {
    const loop = `for i in $(seq ${runs}); do s=$(date +%s%N); whyport __complete units "$1" >/dev/null; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); done`;
    const r = await bed.exec(['bash', '-c', loop, 'bash', prefix], { env: { ...env(), ...extraEnv }, timeoutMs: 60_000 });
    return r.stdout.split('\n').filter(Boolean).map(Number);
  }

  const summary = (ms: number[]) => `median ${[...ms].sort((a, b) => a - b)[Math.floor(ms.length / 2)]} ms, max ${Math.max(...ms)} ms`;

  it('lists the loaded units and the installed unit files, instances yes, templates no', async () => {
    expect(await units(P)).toEqual([APP, NEVER, WORKER_A, WORKER_B]);
    expect(await units(`${P}-w`)).toEqual([WORKER_A, WORKER_B]);
    expect(await units(`${P}-never`)).toEqual([NEVER]);
    // Every unit offered starts with what was typed, whatever else the machine has installed.
    for (const u of await units('my')) expect(u.startsWith('my'), u).toBe(true);
    const all = await units('');
    for (const u of [APP, WORKER_A, NEVER, 'dbus.service', 'systemd-journald.service']) expect(all).toContain(u);
    expect(all.some((u) => u.endsWith('@.service'))).toBe(false);
  });

  it('answers within the bound, and in about a node start when a prefix narrows it', async () => {
    const node = (await bed.exec(['bash', '-c', 'for i in 1 2 3 4 5; do s=$(date +%s%N); node -e 0; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); done'], { env: env() })).stdout
      .split('\n')
      .filter(Boolean)
      .map(Number);
    const narrowed = await timings(P);
    const everything = await timings('');
    console.info(`whyport __complete units, inside the container: '${P}' ${summary(narrowed)}; '' (every unit) ${summary(everything)}; node -e 0 ${summary(node)}`);
    expect(Math.max(...narrowed)).toBeLessThan(1_000);
    // One second for systemctl, plus starting node: never much more, whatever systemd does.
    expect(Math.max(...everything)).toBeLessThan(1_800);
  });

  it('gives up on a systemctl that does not answer after a second, offering nothing', async () => {
    const fake = join(bed.tmpDir, 'hung');
    await mkdir(fake);
    await writeFile(join(fake, 'systemctl'), '#!/bin/sh\nexec sleep 30\n');
    await chmod(join(fake, 'systemctl'), 0o755);
    const hung = { PATH: `${fake}:${bin}:${process.env.PATH}` };
    expect(await units(P, hung)).toEqual([]);
    const ms = await timings(P, 3, hung);
    console.info(`whyport __complete units with a systemctl that hangs: ${summary(ms)}`);
    expect(Math.min(...ms)).toBeGreaterThanOrEqual(1_000);
    expect(Math.max(...ms)).toBeLessThan(1_800);
  });

  it('bash offers the units for --service, --service=… and after the @ of an instance', async () => {
    const tab = async (line: string, words: string[]) => {
      const code = 'source "$1"; COMP_LINE=$2; COMP_POINT=${#COMP_LINE}; shift 2; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _whyport; printf "%s\\n" "${COMPREPLY[@]}"';
      const r = await bed.exec(['bash', '--norc', '--noprofile', '-c', code, 'bash', join(bed.tmpDir, 'whyport.bash'), line, ...words], { env: env() });
      expect(r.stderr).toBe('');
      return r.stdout.split('\n').filter(Boolean);
    };
    expect(await tab(`whyport 10.0.0.5 7071 --service ${P}`, ['whyport', '10.0.0.5', '7071', '--service', P])).toEqual([APP, NEVER, WORKER_A, WORKER_B]);
    expect(await tab(`whyport 10.0.0.5 7071 -s ${P}-a`, ['whyport', '10.0.0.5', '7071', '-s', `${P}-a`])).toEqual([APP]);
    expect(await tab(`whyport 10.0.0.5 7071 --service=${P}-a`, ['whyport', '10.0.0.5', '7071', '--service', '=', `${P}-a`])).toEqual([APP]);
    // bash split the word at '@' and replaces only what follows it.
    expect(await tab(`whyport 10.0.0.5 7071 --service ${P}-worker@`, ['whyport', '10.0.0.5', '7071', '--service', `${P}-worker`, '@'])).toEqual(['a.service', 'b.service']);
  });

  it.skipIf(noFish !== undefined)('fish offers the units for --service', async () => {
    const r = await bed.exec(['fish', '--no-config', '-c', 'source $argv[1]; complete -C $argv[2]', join(bed.tmpDir, 'whyport.fish'), `whyport 10.0.0.5 7071 --service ${P}-w`], { env: env() });
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n').filter(Boolean).map((l) => l.split('\t')[0])).toEqual([WORKER_A, WORKER_B]);
  });
});
