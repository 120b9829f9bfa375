import type { DiagnoseOptions } from '../cli/diagnose-args.js';
import type { CheckContext } from '../checks/check.js';
import { makeContext, prefetch } from './context.js';
import { walk, type WalkOptions, type WalkResult } from '../engine/walk.js';
import { UsageError } from '../errors.js';
import { procSnapshotArgv, sshHost, statArgv } from '../host/ssh/host.js';
import { SshError, SshSession } from '../host/ssh/session.js';
import { execaRunner } from '../host/runner.js';
import type { Host } from '../host/host.js';
import type { Playbook } from '../playbook/schema.js';
import type { Vantages } from '../report/model.js';
import { firstReads } from '../engine/first-reads.js';
import { checks } from '../checks/index.js';

/**
 * The connection to the server as a walk of both ends uses it: an ssh session, or the server's
 * part of a recording (record.ts) that replays what ssh said then.
 */
export interface ServerLink {
  readonly settings: { readonly batchMode: boolean; readonly target: { readonly server: string; readonly user?: string | undefined } };
  /** The server as the report names it. */
  readonly label: string;
  open(): Promise<unknown>;
  /** What the server said of itself once connected. */
  readonly facts: { identity: { hostname: string }; user: string | undefined } | undefined;
  /** Remote commands run so far, and each as run. */
  readonly commands: number;
  readonly log: readonly string[];
  close(): Promise<void>;
  closeSync(): void;
}

/** The server end of a diagnosis: one ssh connection, and the Host that reads the server through it. */
export interface ServerEnd {
  session: ServerLink;
  host: Host;
  /** A Host of its own for one walk: its /proc snapshot is that walk's (a re-check reads afresh). */
  walkHost(): Host;
}

/** Opens nothing yet: the connection starts with the first walk (so it overlaps the client's probe). */
export function serverEnd(opts: DiagnoseOptions, playbook: Playbook, signal?: AbortSignal): ServerEnd {
  const ssh = opts.ssh!;
  const session = new SshSession(
    { target: ssh.target, options: ssh.options, sudo: ssh.sudo, batchMode: ssh.batchMode, connectTimeoutMs: Math.max(5_000, opts.timeoutMs), ...(signal ? { signal } : {}) },
    execaRunner,
  );
  // What the server walk's first steps read goes with the first round trip, while the client probes
  // (the socket table, the nat rules, the stat that says how a well-known port's program starts:
  // engine/first-reads.ts), and the /proc snapshot every batched scan reads.
  const target = { host: opts.host, port: opts.port, ...(opts.portName ? { portName: opts.portName } : {}), protocol: opts.protocol };
  const first = playbook.server ? firstReads(playbook, playbook.server.start, { target, timeoutMs: opts.timeoutMs }, checks) : [];
  const calls = first.filter((c) => !c.onlyOnThisMachine).flatMap((c) => c.reader.calls?.(c.key) ?? []);
  session.settings.preload = [...calls.map((c) => ('run' in c ? c.run : statArgv(c.stat))), procSnapshotArgv(session.bootBoundary)];
  return { session, host: sshHost(session), walkHost: () => sshHost(session) };
}

/** The playbook can be walked from both ends: it says where the server's side starts. */
export function checkBothEnds(playbook: Playbook): void {
  if (!playbook.server) {
    throw new UsageError(`playbook ${playbook.name} has no server side for --ssh`, "add `server: { start: STEP }` naming its first server step (see playbooks/default.yaml)");
  }
}

type WalkBase = Omit<WalkOptions, 'ctx' | 'vantages' | 'start' | 'before' | 'stopAtServer'>;

/**
 * Walks the playbook from both ends: the client's steps here, then — over ssh — the server's from
 * `server.start`, with the client's records as the past its steps may read (`after:
 * probe-remote.filtered`). The server decides, except for the client's verdicts the playbook keeps
 * (the port answers; the name does not resolve). When ssh fails, the client's verdict stands and
 * `vantages.server.error` says why.
 */
export async function walkBothEnds(
  playbook: Playbook,
  opts: DiagnoseOptions,
  end: ServerEnd,
  base: WalkBase,
  clientCtx: CheckContext,
): Promise<{ result: WalkResult; vantages: Vantages }> {
  const { session } = end;
  // Connect while the client probes; the server's socket table is read as soon as it is up. On a
  // terminal ssh may ask for a password or a host key: connect first then, before any spinner.
  const opening = session.open();
  if (!session.settings.batchMode) await opening.catch(() => undefined);
  const connected = opening.then(
    () => null,
    (err: unknown) => (err instanceof SshError ? err.message : `ssh: ${(err as Error).message}`),
  );
  const serverCtx: CheckContext = { ...makeContext(opts, end.walkHost(), base.signal), client: clientCtx };
  prefetch(playbook, serverCtx, playbook.server?.start);
  const vantages: Vantages = {
    client: { host: (await clientCtx.facts.identity()).hostname },
    server: { host: session.settings.target.server, via: 'ssh', user: session.settings.target.user ?? null, error: null },
  };
  const both = { client: clientCtx, server: serverCtx };
  const client = await walk({ ...base, ctx: clientCtx, vantages: { ...both, at: 'client' }, stopAtServer: true });
  if (client.diagnosisId) vantages.client.diagnosis = { code: client.diagnosis.code, title: client.diagnosis.title };
  if (client.interrupted) return { result: client, vantages };

  const error = await connected;
  const facts = session.facts;
  if (facts) {
    vantages.server.hostname = facts.identity.hostname;
    if (facts.user) {
      vantages.server.user ??= facts.user;
      vantages.server.as = facts.user;
    }
  }
  if (error !== null) {
    vantages.server.error = error;
    // The target was this machine after all: its server side runs here.
    const result = client.pending ? await walk({ ...base, ctx: clientCtx, start: client.pending, before: client }) : client;
    return { result: { ...result, steps: result.steps.map((s) => (s.where ? s : { ...s, where: 'client' as const })) }, vantages };
  }
  const start = client.pending ?? playbook.server!.start;
  const server = await walk({ ...base, ctx: serverCtx, vantages: { ...both, at: 'server' }, start, before: client });
  vantages.server.commands = session.commands;
  vantages.server.ran = [...session.log];
  if (server.diagnosisId && !server.interrupted) vantages.server.diagnosis = { code: server.diagnosis.code, title: server.diagnosis.title };
  const keep = client.diagnosisId !== undefined && playbook.server!.keep.includes(client.diagnosisId);
  const result = keep ? { ...server, diagnosis: client.diagnosis, fixArgv: client.fixArgv, diagnosisId: client.diagnosisId } : server;
  return { result, vantages };
}
