import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { afterAll, describe, expect, it } from 'vitest';
import type { AnyCheck, CheckCatalog, CheckContext } from '../../src/checks/check.js';
import { checkCatalog } from '../../src/checks/index.js';
import { PlaybookError, formatLintError } from '../../src/errors.js';
import { walk, type WalkUI } from '../../src/engine/walk.js';
import { parsePlaybook, playbookRefs } from '../../src/playbook/load.js';
import { openPlaybook } from '../../src/playbook/source.js';
import { playbookGraph } from '../../src/playbook/graph.js';
import { codesOfPlaybook } from '../../src/playbook/follow.js';
import { outcomesOfStep } from '../../src/commands/playbook.js';
import { localHost } from '../../src/host/local.js';
import { Facts } from '../../src/system/facts.js';
import { noGuesses } from '../helpers/guessers.js';

// `check: endpoint` is a follow step spelled as a check, and either spelling may walk another
// playbook (`playbook:`): myapp's own playbook diagnoses its database with the database's. The
// checks here read nothing: each decides from a table of what this made-up machine has on a port.

const ports: Record<number, { open: boolean; refuses?: boolean }> = {};

function check(name: string, outcomes: string[], decide: (port: number) => { outcome: string; summary: string }): AnyCheck {
  return {
    description: name,
    outcomes,
    params: z.record(z.string(), z.unknown()),
    evidence: z.record(z.string(), z.unknown()),
    describe: () => `${name} …`,
    read: async (_p: unknown, ctx: CheckContext) => ctx.target.port,
    decide: (port: number) => ({ ...decide(port), evidence: {}, command: `${name} ${port}`, status: 'info' as const }),
  };
}
const checks: Record<string, AnyCheck> = {
  connect: check('connect', ['connected', 'refused'], (p) => (ports[p]?.open ? { outcome: 'connected', summary: `${p} accepts` } : { outcome: 'refused', summary: `${p} refuses` })),
  hello: check('hello', ['answered', 'refuses-client'], (p) => (ports[p]?.refuses ? { outcome: 'refuses-client', summary: `${p} says no` } : { outcome: 'answered', summary: `${p} says hello` })),
};
const catalog: CheckCatalog = Object.fromEntries(Object.entries(checks).map(([n, c]) => [n, { outcomes: c.outcomes, params: ['host', 'port'], required: [] }]));

/** The database's playbook: what a walk of db:5432 may end in. */
const DB = `
version: 2
name: db
inputs:
  user:
    prompt: "As whom?"
steps:
  port:
    check: connect
    on: { connected: hello, refused: PORT_CLOSED }
  hello:
    check: hello
    on: { answered: REACHABLE, refuses-client: SERVICE_REFUSES_CLIENT }
diagnoses:
  REACHABLE: { title: "{{ target.port }} answers", explanation: "Fine." }
  PORT_CLOSED: { title: "{{ target.port }} is closed", explanation: "Start it.", fix: { summary: "Start the database", commands: ["systemctl start postgresql"] } }
  SERVICE_REFUSES_CLIENT: { title: "{{ target.port }} refuses this client", explanation: "Add a pg_hba.conf line." }
`;

const MYAPP = (db = 'db.yaml') => `
version: 2
name: myapp
steps:
  app:
    check: connect
    with: { host: 127.0.0.1, port: 7071 }
    on: { connected: db, else: MYAPP_DOWN }
  db:
    check: endpoint
    with: { host: 127.0.0.1, port: 5432, playbook: ${db}, inputs: { user: app } }
    on:
      reachable: REACHABLE
      else: DEPENDENCY_DOWN
diagnoses:
  REACHABLE: { title: "myapp and its database answer", explanation: "Fine." }
  MYAPP_DOWN: { title: "myapp is down", explanation: "Start it." }
  DEPENDENCY_DOWN:
    from: db
    title: "myapp is up, but cannot reach PostgreSQL at {{ steps.db.evidence.host }}:{{ steps.db.evidence.port }}: {{ steps.db.evidence.title }}"
`;

const problemsOf = (text: string, others = {}) => {
  try {
    parsePlaybook(text, 'myapp.yaml', catalog, others);
    return [];
  } catch (e) {
    if (!(e instanceof PlaybookError)) throw e;
    return e.problems.map(formatLintError);
  }
};

function run(text: string, others: Record<string, ReturnType<typeof parsePlaybook>>) {
  const pb = parsePlaybook(text, 'myapp.yaml', catalog, others);
  const finished: string[] = [];
  const ui: WalkUI = { stepStarted: () => {}, stepFinished: (r) => void finished.push(`${r.id}=${r.outcome}`), ask: async () => '' };
  const ctx: CheckContext = { target: { host: '127.0.0.1', port: 7071, protocol: 'tcp' }, host: localHost, facts: new Facts(localHost), timeoutMs: 100 };
  return { pb, finished, result: walk({ playbook: pb, ctx, checks, guessers: noGuesses, answers: {}, interactive: false, ui }) };
}

describe('check: endpoint', () => {
  const db = parsePlaybook(DB, 'db.yaml', catalog);

  it('is a follow step: its outcomes are the codes the other playbook may end in, and the graph draws that playbook', () => {
    expect(codesOfPlaybook(db, db.start)).toEqual(['inconclusive', 'port-closed', 'reachable', 'service-refuses-client']);
    const pb = parsePlaybook(MYAPP(), 'myapp.yaml', catalog, { 'db.yaml': db });
    expect(pb.steps.db).toMatchObject({ check: 'endpoint', follow: { host: '127.0.0.1', port: 5432, playbook: 'db.yaml', start: 'port', inputs: { user: 'app' }, possible: ['inconclusive', 'port-closed', 'reachable', 'service-refuses-client'] } });
    expect(pb.steps.db!.with).toBeUndefined();
    expect(pb.playbooks).toEqual({ 'db.yaml': db });
    const graph = playbookGraph(pb, 'mermaid', (id) => outcomesOfStep(pb, id));
    expect(graph).toContain('p_db_yaml[["playbook db.yaml"]]');
    expect(graph).toContain('s_db -.->|"walks, from port"| p_db_yaml');
    expect(graph).toContain('s_db["db<br/><i>endpoint</i>"]');
  });

  it('walks the other playbook for the dependency; a failing one is the diagnosis, under the parent\'s title', async () => {
    Object.assign(ports, { 7071: { open: true }, 5432: { open: true, refuses: true } });
    const { result, finished } = run(MYAPP(), { 'db.yaml': db });
    const r = await result;
    expect(finished).toEqual(['app=connected', 'db › port=connected', 'db › hello=refuses-client', 'db=service-refuses-client']);
    const step = r.steps[1]!;
    expect(step).toMatchObject({ check: 'endpoint', outcome: 'service-refuses-client', status: 'fail', command: 'whyport 127.0.0.1 5432 --playbook db.yaml --set user=app' });
    expect(step.follow?.steps.map((s) => s.id)).toEqual(['port', 'hello']);
    expect(r.diagnosis).toMatchObject({ code: 'SERVICE_REFUSES_CLIENT', title: 'myapp is up, but cannot reach PostgreSQL at 127.0.0.1:5432: 5432 refuses this client', explanation: 'Add a pg_hba.conf line.' });
  });

  it('takes the nested fix with the nested diagnosis; a reachable dependency leaves myapp REACHABLE', async () => {
    Object.assign(ports, { 7071: { open: true }, 5432: { open: false } });
    const down = await run(MYAPP(), { 'db.yaml': db }).result;
    expect(down.diagnosis).toMatchObject({ code: 'PORT_CLOSED', fix: { commands: ['systemctl start postgresql'] } });
    expect(down.fixArgv).toEqual([['systemctl', 'start', 'postgresql']]);
    Object.assign(ports, { 5432: { open: true } });
    const up = await run(MYAPP(), { 'db.yaml': db }).result;
    expect(up.steps[1]).toMatchObject({ outcome: 'reachable', status: 'pass' });
    expect(up.diagnosis.code).toBe('REACHABLE');
  });

  it('finds the playbooks a playbook names, either spelling', () => {
    expect(playbookRefs(MYAPP())).toEqual(['db.yaml']);
    expect(playbookRefs('version: 2\nsteps:\n  a: { follow: { host: x, port: 1, playbook: default } }\n  b: { check: endpoint, with: { playbook: ./db.yaml } }\n')).toEqual(['default', './db.yaml']);
    expect(playbookRefs('not: [a playbook')).toEqual([]);
  });
});

describe("the validator's words for check: endpoint", () => {
  const db = parsePlaybook(DB, 'db.yaml', catalog);

  it('an outcome its playbook cannot end in, an input or start it does not have, bad parameters', () => {
    const text = MYAPP().replace('reachable: REACHABLE', 'reachable: REACHABLE\n      service-failed: MYAPP_DOWN').replace('inputs: { user: app }', 'inputs: { usr: app }, start: prot, port2: 1');
    expect(problemsOf(text, { 'db.yaml': db })).toEqual([
      "myapp.yaml:11:71: error: steps.db.with.inputs.usr: unknown input 'usr' of playbook 'db.yaml' — did you mean 'user'?",
      "myapp.yaml:11:90: error: steps.db.with.start: unknown step 'prot' of playbook 'db.yaml' — did you mean 'port'?",
      "myapp.yaml:11:96: error: steps.db.with.port2: check 'endpoint' has no parameter 'port2' — did you mean 'port'?",
    ]);
    const outcome = MYAPP().replace('reachable: REACHABLE', 'reachable: REACHABLE\n      service-failed: MYAPP_DOWN');
    expect(problemsOf(outcome, { 'db.yaml': db })).toEqual([
      "myapp.yaml:14:7: error: steps.db.on.service-failed: 'service-failed' is not an outcome of endpoint step 'db' (the codes its walk may end in) — its outcomes: inconclusive, port-closed, reachable, service-refuses-client",
    ]);
  });

  it('host and port are required, each of its type; a case cannot change them', () => {
    const text = MYAPP().replace('with: { host: 127.0.0.1, port: 5432, playbook: db.yaml, inputs: { user: app } }', 'with: { host: [a, b], inputs: app }\n    after:\n      app.connected: { with: { port: 1 }, on: { reachable: REACHABLE } }');
    expect(problemsOf(text, { 'db.yaml': db })).toEqual([
      "myapp.yaml:10:12: error: steps.db.check: check 'endpoint' needs the parameter 'port' — add 'with: { port: … }'",
      "myapp.yaml:11:19: error: steps.db.with.host: 'host' of check 'endpoint' is a text, not a list",
      "myapp.yaml:11:35: error: steps.db.with.inputs: 'inputs' of check 'endpoint' is a mapping: the answers its walk starts with — write `inputs: { NAME: value, … }` (inputs of the playbook it walks)",
      "myapp.yaml:13:24: error: steps.db.after.app.connected.with: a case cannot change what an endpoint step follows — write another endpoint step for the other target",
    ]);
  });

  it('a playbook that did not load is a problem at the step\'s playbook:', () => {
    expect(problemsOf(MYAPP(), { 'db.yaml': { error: "playbook 'db.yaml' cannot be walked: db.yaml:3:1: error: x", hint: 'see whyport playbook validate db.yaml' } })).toEqual([
      "myapp.yaml:11:52: error: steps.db.with.playbook: playbook 'db.yaml' cannot be walked: db.yaml:3:1: error: x — see whyport playbook validate db.yaml",
    ]);
  });

  it('a mapping is no value of an ordinary check\'s parameter', () => {
    const text = MYAPP().replace('with: { host: 127.0.0.1, port: 7071 }', 'with: { host: { a: b }, port: 7071 }');
    expect(problemsOf(text, { 'db.yaml': db })).toEqual(["myapp.yaml:7:19: error: steps.app.with.host: 'host' of check 'connect' is one value (a text, a number or a list), not a mapping"]);
  });
});

describe('openPlaybook loads the playbooks a playbook walks, before anything runs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'whyport-endpoint-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  /** myapp's playbook with the real checks, walking `db` (no inputs: the default has none named user). */
  const myapp = (db: string) => MYAPP(db).replace(', inputs: { user: app }', '');
  const DB_FILE = `
version: 2
name: db
steps:
  port:
    check: connect
    with: { host: "{{ target.host }}", port: "{{ target.port }}" }
    on: { connected: REACHABLE, else: PORT_CLOSED }
diagnoses:
  REACHABLE: { title: "{{ target.port }} answers", explanation: "Fine." }
  PORT_CLOSED: { title: "{{ target.port }} does not answer", explanation: "Start it." }
`;

  it("the built-in default by name: its codes are the step's outcomes", async () => {
    writeFileSync(join(dir, 'myapp.yaml'), myapp('default'));
    const pb = await openPlaybook(join(dir, 'myapp.yaml'));
    const def = await openPlaybook('default');
    expect(pb.playbooks?.default?.name).toBe('default');
    expect(pb.steps.db!.follow!.possible).toEqual(codesOfPlaybook(def, def.start));
    expect(pb.steps.db!.follow!.possible).toEqual(expect.arrayContaining(['reachable', 'service-refuses-client', 'port-closed', 'inconclusive']));
  });

  it("a file, relative to the playbook that names it; one that does not validate, or walks back, is this one's problem", async () => {
    const sub = join(dir, 'sub');
    mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, 'myapp.yaml'), myapp('db.yaml'));
    writeFileSync(join(sub, 'db.yaml'), DB_FILE);
    const pb = await openPlaybook(join(sub, 'myapp.yaml'));
    expect(Object.keys(pb.playbooks ?? {})).toEqual(['db.yaml']);
    expect(pb.playbooks!['db.yaml']!.source).toBe(join(sub, 'db.yaml'));
    expect(pb.steps.db!.follow!.possible).toEqual(['inconclusive', 'port-closed', 'reachable']);

    writeFileSync(join(sub, 'db.yaml'), DB_FILE.replace('check: connect', 'check: conect'));
    const broken = await openPlaybook(join(sub, 'myapp.yaml')).catch((e: PlaybookError) => e.problems.map(formatLintError));
    expect(broken).toEqual([expect.stringMatching(/myapp\.yaml:11:\d+: error: steps\.db\.with\.playbook: playbook 'db\.yaml' cannot be walked: .*db\.yaml:\d+:\d+: error: steps\.port\.check: unknown check 'conect'.* — see whyport playbook validate .*db\.yaml$/)]);

    writeFileSync(join(sub, 'db.yaml'), myapp('myapp.yaml').replace('name: myapp', 'name: db'));
    const circle = await openPlaybook(join(sub, 'myapp.yaml')).catch((e: PlaybookError) => e.problems.map(formatLintError));
    expect((circle as string[]).join('\n')).toMatch(/walks this playbook in turn \(.*myapp\.yaml → .*db\.yaml → .*myapp\.yaml\) — playbooks may not walk each other in a circle/);

    writeFileSync(join(sub, 'self.yaml'), myapp('self.yaml'));
    const self = await openPlaybook(join(sub, 'self.yaml')).catch((e: PlaybookError) => e.problems.map(formatLintError));
    expect(self).toEqual([expect.stringContaining("steps.db.with.playbook: 'self.yaml' is this same playbook — leave out `playbook:` to walk this same playbook")]);
  });

  it('the real checks know endpoint only as this spelling: the catalog has no such check', () => {
    expect(checkCatalog().endpoint).toBeUndefined();
  });
});
