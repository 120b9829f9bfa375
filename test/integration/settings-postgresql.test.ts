import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, closeSync, copyFileSync, existsSync, mkdirSync, openSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decidePgHba, type PgClient } from '../../src/analysis/pg-hba.js';
import { refusalLogLines } from '../../src/analysis/refusal-log.js';
import { localHost } from '../../src/host/local.js';
import { readPgHba } from '../../src/system/pg-hba.js';
import { createNamespace, netnsSkipReason, type Namespace } from '../helpers/netns.js';
import { privateMounts } from '../helpers/mounts.js';
import { alsoInPrivateMounts } from '../helpers/private-mounts.js';

/**
 * The pg_hba.conf decision against the real PostgreSQL 15 of Debian: a cluster laid out as
 * postgresql-common does (/etc/postgresql/15/wpt/postgresql.conf naming its hba_file, over a
 * private /etc/postgresql in the test's own mount namespace), its pg_hba.conf the packaged one,
 * the server in a network namespace listening on a non-loopback address. The client gets "no
 * pg_hba.conf entry" exactly when whyport says refused; whyport's line and its own reload command (pg_ctlcluster) let it through
 * to authentication; a reject line is named as the setting.
 */

const BIN = '/usr/lib/postgresql/15/bin';
const PACKAGED_HBA = '/etc/postgresql/15/main/pg_hba.conf';
const ADDRESS = '10.213.9.2';
const PORT = 15432;
const CONF_DIR = '/etc/postgresql/15/wpt';
const HBA = `${CONF_DIR}/pg_hba.conf`;

function stop(pid: number | undefined, signal: NodeJS.Signals): void {
  try {
    if (pid) process.kill(pid, signal);
  } catch {
    // already gone
  }
}


function skipReason(): string | undefined {
  if (!existsSync(`${BIN}/postgres`) || !existsSync(PACKAGED_HBA)) return 'postgresql-15 is not installed: apt-get install -y postgresql';
  if (spawnSync('id', ['postgres']).status !== 0) return 'no postgres user (the postgresql package makes it)';
  const ns = netnsSkipReason();
  if (ns) return ns;
  if (!privateMounts()) return 'needs a mount namespace of its own (run it through /work/bin/isolated): it mounts a private /etc/postgresql';
  return undefined;
}
const skip = skipReason();

describe.skipIf(skip !== undefined)('pg_hba.conf on the real PostgreSQL', () => {
  let ns: Namespace;
  let dir: string;
  let server: ChildProcess | undefined;
  const client: PgClient = { address: ADDRESS, user: 'app', database: 'app', ssl: false };

  /** psql from ADDRESS as app, no password (-w): the server's first words. */
  const connect = () => {
    const r = spawnSync(ns.exec[0]!, [...ns.exec.slice(1), 'runuser', '-u', 'postgres', '--', `${BIN}/psql`, '-w', `host=${ADDRESS} port=${PORT} user=app dbname=app sslmode=disable`, '-c', 'SELECT 1'], { encoding: 'utf8', timeout: 15_000 });
    return `${r.stdout}${r.stderr}`.trim();
  };
  const reload = () => spawnSync('runuser', ['-u', 'postgres', '--', `${BIN}/pg_ctl`, 'reload', '-D', join(dir, 'data')], { encoding: 'utf8' });

  beforeAll(async () => {
    ns = createNamespace({ addresses: [`${ADDRESS}/24`] });
    dir = mkdtempSync(join(tmpdir(), 'wpt-pg-'));
    chownSync(dir, Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout), Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout));
    const init = spawnSync('runuser', ['-u', 'postgres', '--', `${BIN}/initdb`, '-D', join(dir, 'data'), '-U', 'postgres', '--auth=trust'], { encoding: 'utf8', timeout: 60_000 });
    if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
    // postgresql-common's layout, private to this mount namespace.
    const packaged = readFileSync(PACKAGED_HBA, 'utf8');
    const etc = join(dir, 'etc');
    mkdirSync(join(etc, '15', 'wpt', 'conf.d'), { recursive: true });
    spawnSync('mount', ['--bind', etc, '/etc/postgresql']);
    writeFileSync(
      `${CONF_DIR}/postgresql.conf`,
      [`data_directory = '${dir}/data'`, `hba_file = '${HBA}'`, `ident_file = '${CONF_DIR}/pg_ident.conf'`, `listen_addresses = '${ADDRESS}'`, `port = ${PORT}`, `unix_socket_directories = '${dir}'`, `include_dir = 'conf.d'`, ''].join('\n'),
    );
    writeFileSync(`${CONF_DIR}/pg_ident.conf`, '');
    writeFileSync(HBA, packaged);
    spawnSync('chown', ['-R', 'postgres:postgres', etc]);
    const log = openSync(join(dir, 'server.log'), 'a');
    server = spawn(ns.exec[0]!, [...ns.exec.slice(1), 'runuser', '-u', 'postgres', '--', `${BIN}/postgres`, '-c', `config_file=${CONF_DIR}/postgresql.conf`], { stdio: ['ignore', log, log] });
    closeSync(log);
    for (let i = 0; i < 100; i++) {
      await new Promise((r) => setTimeout(r, 100));
      if (spawnSync(`${BIN}/pg_isready`, ['-h', dir, '-p', String(PORT)]).status === 0) break;
    }
  }, 90_000);
  afterAll(() => {
    if (dir) spawnSync('runuser', ['-u', 'postgres', '--', `${BIN}/pg_ctl`, 'stop', '-m', 'immediate', '-D', join(dir, 'data')]);
    stop(server?.pid, 'SIGKILL');
    ns?.remove();
    spawnSync('umount', ['/etc/postgresql']);
    // WPT_KEEP_LOG=PATH keeps the server's log (how test/fixtures/postgresql/refusals.log was captured).
    if (dir && process.env.WPT_KEEP_LOG) copyFileSync(join(dir, 'server.log'), process.env.WPT_KEEP_LOG);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const serverLog = () => readFileSync(join(dir, 'server.log'), 'utf8').split('\n');

  it("the packaged pg_hba.conf: the server says no pg_hba.conf entry, whyport finds the cluster by its port and says refused; its line and a reload let the client on to authentication", async () => {
    expect(connect()).toContain(`no pg_hba.conf entry for host "${ADDRESS}", user "app", database "app", no encryption`);
    const reading = await readPgHba(localHost, PORT);
    expect(reading.problems).toEqual([]);
    expect(reading.cluster).toMatchObject({ version: '15', name: 'wpt', port: PORT, hbaFile: HBA });
    const verdict = decidePgHba(reading.parse!.records, client, { file: HBA, ...(reading.cluster ? { cluster: reading.cluster } : {}) });
    expect(verdict.outcome).toBe('refuses');
    expect(verdict.fix?.commands[0]).toEqual(['pg_ctlcluster', '15', 'wpt', 'reload']);
    expect(refusalLogLines('pg-hba-none', serverLog(), ADDRESS)).toEqual([expect.stringContaining(`FATAL:  no pg_hba.conf entry for host "${ADDRESS}", user "app", database "app", no encryption`)]);
    expect(refusalLogLines('pg-hba-none', serverLog(), '10.213.9.3')).toEqual([]);

    const edit = verdict.fix!.edit!;
    const lines = readFileSync(HBA, 'utf8').split('\n');
    lines.splice(edit.line!, 0, edit.text);
    writeFileSync(HBA, lines.join('\n'));
    // The fix's own command: pg_ctlcluster finds the cluster in the (private) /etc/postgresql.
    const ctl = spawnSync(verdict.fix!.commands[0]![0]!, verdict.fix!.commands[0]!.slice(1), { encoding: 'utf8' });
    expect(`${ctl.status} ${ctl.stderr}`).toBe('0 ');
    await new Promise((r) => setTimeout(r, 300));
    const after = connect();
    expect(after).not.toContain('no pg_hba.conf entry');
    expect(after).toMatch(/password|no password supplied/);
    const again = await readPgHba(localHost, PORT);
    expect(decidePgHba(again.parse!.records, client, { file: HBA }).outcome).toBe('admits');
  }, 30_000);

  it('a reject line for the subnet ahead of the line: the server rejects, whyport names that line', async () => {
    const lines = readFileSync(HBA, 'utf8').split('\n');
    lines.splice(96, 0, 'host    all             all             10.213.9.0/24           reject');
    writeFileSync(HBA, lines.join('\n'));
    expect(reload().status).toBe(0);
    await new Promise((r) => setTimeout(r, 300));
    expect(connect()).toContain(`pg_hba.conf rejects connection for host "${ADDRESS}"`);
    const reading = await readPgHba(localHost, PORT);
    const verdict = decidePgHba(reading.parse!.records, client, { file: HBA });
    expect(verdict.setting).toEqual({ file: HBA, line: 97, text: 'host    all             all             10.213.9.0/24           reject' });
    expect(verdict.fix?.edit).toMatchObject({ at: 'before', line: 97 });
    expect(refusalLogLines('pg-hba-reject', serverLog(), ADDRESS)).toHaveLength(1);
  }, 30_000);
});

// Run by npm test in the machine's own mount namespace, the tests above that mount over /etc skip:
// run the file again in a mount namespace of its own, where they do.
alsoInPrivateMounts(import.meta.url, 'it mounts a private /etc/postgresql', skip !== undefined && !skip.includes('mount namespace of its own') ? skip : undefined);
