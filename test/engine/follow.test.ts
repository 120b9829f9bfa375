import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import type { AnyCheck, CheckCatalog, CheckContext } from '../../src/checks/check.js';
import { PlaybookError, formatLintError } from '../../src/errors.js';
import { walk, type Question, type WalkUI } from '../../src/engine/walk.js';
import { parsePlaybook } from '../../src/playbook/load.js';
import { playbookGraph } from '../../src/playbook/graph.js';
import { outcomesOfStep } from '../../src/commands/playbook.js';
import { localHost } from '../../src/host/local.js';
import { Facts } from '../../src/system/facts.js';
import { noGuesses } from '../helpers/guessers.js';

// A follow step walks another HOST:PORT with the same playbook (a reverse proxy's upstream, a
// dependency), and a diagnosis may take the one that walk ended in (`from:`). The checks here read
// nothing: each decides from a table of what this made-up machine has on each port.

interface PortFacts {
  open: boolean;
  /** What a reverse proxy on the port forwards to. */
  upstream?: { host: string; port: number; program: string };
  /** The state of the unit of the program that should listen. */
  unit?: 'failed' | 'inactive';
}

function machine(ports: Record<number, PortFacts>, hooks: { onProbe?: (ctx: CheckContext) => Promise<void> | void } = {}) {
  const seen: { check: string; port: number; facts: Facts; client: boolean }[] = [];
  const check = (name: string, outcomes: string[], decide: (f: PortFacts, p: Record<string, unknown>, port: number) => { outcome: string; summary: string; evidence: Record<string, unknown> }): AnyCheck => ({
    description: name,
    outcomes,
    params: z.record(z.string(), z.unknown()),
    evidence: z.record(z.string(), z.unknown()),
    describe: () => `${name} …`,
    read: async (_p: unknown, ctx: CheckContext) => {
      seen.push({ check: name, port: ctx.target.port, facts: ctx.facts, client: ctx.client !== undefined });
      if (name === 'probe') await hooks.onProbe?.(ctx);
      return ctx.target.port;
    },
    decide: (port: number, p: Record<string, unknown>) => ({ ...decide(ports[port] ?? { open: false }, p, port), command: `${name} ${port}`, status: 'info' as const }),
  });
  const checks: Record<string, AnyCheck> = {
    probe: check('probe', ['open', 'closed'], (f, _p, port) => ({ outcome: f.open ? 'open' : 'closed', summary: `port ${port} ${f.open ? 'answers' : 'refuses'}`, evidence: {} })),
    proxy: check('proxy', ['proxy', 'none'], (f) =>
      f.upstream
        ? { outcome: 'proxy', summary: `a proxy to ${f.upstream.host}:${f.upstream.port}`, evidence: { ...f.upstream, route: { program: 'nginx', config: '/etc/nginx/sites-enabled/default:4', upstream: `${f.upstream.host}:${f.upstream.port}`, status: 502 } } }
        : { outcome: 'none', summary: 'no proxy', evidence: {} },
    ),
    unit: check('unit', ['failed', 'inactive', 'other'], (f, p) => ({ outcome: f.unit ?? 'other', summary: `${String(p.name)}.service is ${f.unit ?? 'fine'}`, evidence: { unit: `${String(p.name)}.service`, journal: [`${String(p.name)}: config missing`] } })),
  };
  const catalog: CheckCatalog = Object.fromEntries(Object.entries(checks).map(([n, c]) => [n, { outcomes: c.outcomes, params: ['name'], required: [] }]));
  return { checks, catalog, seen };
}

const PLAYBOOK = `
version: 2
name: follow-test
inputs:
  process:
    prompt: "Which program should listen on port {{ target.port }}?"
steps:
  probe:
    check: probe
    on: { open: proxy, closed: who }
  proxy:
    check: proxy
    on: { proxy: upstream, none: REACHABLE }
  upstream:
    follow:
      host: "{{ steps.proxy.evidence.host }}"
      port: "{{ steps.proxy.evidence.port }}"
      inputs: { process: "{{ steps.proxy.evidence.program }}" }
    on:
      reachable: REACHABLE
      else: UPSTREAM_FAILS
  who:
    ask: process
    on: { given: unit, unknown: NOT_LISTENING }
  unit:
    check: unit
    with: { name: "{{ inputs.process }}" }
    on: { failed: SERVICE_FAILED, else: NOT_LISTENING }
diagnoses:
  REACHABLE:
    title: "port {{ target.port }} answers"
    explanation: "Nothing is wrong."
  NOT_LISTENING:
    title: "nothing listens on port {{ target.port }}"
    explanation: "Start the program that should."
  SERVICE_FAILED:
    title: "{{ steps.unit.evidence.unit }} has failed"
    explanation: "It crashed."
    evidence: ["{{ steps.unit.evidence.journal }}"]
    fix:
      summary: "Start it again"
      commands: ["systemctl start {{ inputs.process }}"]
  UPSTREAM_FAILS:
    from: upstream
    title: "port {{ target.port }} answers ({{ steps.proxy.evidence.route.program }}), but its upstream {{ steps.upstream.evidence.host }}:{{ steps.upstream.evidence.port }} does not: {{ steps.upstream.evidence.title }}"
    evidence: ["{{ steps.proxy.evidence.route.program }} forwards port {{ target.port }} to {{ steps.proxy.evidence.route.upstream }}"]
    proxy: "{{ steps.proxy.evidence.route }}"
`;

function setup(ports: Record<number, PortFacts>, opts: { playbook?: string; answers?: Record<string, string>; interactive?: boolean; signal?: AbortSignal; onProbe?: (ctx: CheckContext) => Promise<void> | void; client?: boolean } = {}) {
  const m = machine(ports, opts.onProbe ? { onProbe: opts.onProbe } : {});
  const pb = parsePlaybook(opts.playbook ?? PLAYBOOK, 'follow.yaml', m.catalog);
  const started: string[] = [];
  const finished: string[] = [];
  const asked: Question[] = [];
  const ui: WalkUI = {
    stepStarted: (_id, text) => void started.push(text),
    stepFinished: (r) => void finished.push(`${r.id}: ${r.summary}`),
    ask: async (q) => (asked.push(q), ''),
  };
  const facts = new Facts(localHost);
  const ctx: CheckContext = { target: { host: '127.0.0.1', port: 80, protocol: 'tcp' }, host: localHost, facts, timeoutMs: 100 };
  if (opts.client) ctx.client = { ...ctx };
  const run = () => walk({ playbook: pb, ctx, checks: m.checks, guessers: noGuesses, answers: opts.answers ?? { process: 'nginx' }, interactive: opts.interactive ?? true, ui, ...(opts.signal ? { signal: opts.signal } : {}) });
  return { pb, run, started, finished, asked, seen: m.seen, facts, catalog: m.catalog };
}

const proxyTo = (port: number, program = 'myapp'): PortFacts => ({ open: true, upstream: { host: '127.0.0.1', port, program } });

describe('a follow step', () => {
  it('walks the upstream with the same playbook, and from: takes its diagnosis (code, fix, evidence, placed fields; its own title)', async () => {
    const { run, seen, facts } = setup({ 80: proxyTo(7071), 7071: { open: false, unit: 'failed' } });
    const r = await run();
    expect(r.steps.map((s) => `${s.id}=${s.outcome}`)).toEqual(['probe=open', 'proxy=proxy', 'upstream=service-failed']);
    const up = r.steps[2]!;
    expect(up.check).toBe('follow');
    expect(up.summary).toBe('127.0.0.1:7071: SERVICE_FAILED — myapp.service has failed');
    expect(up.command).toBe("whyport 127.0.0.1 7071 --playbook follow.yaml --set process=myapp");
    expect(up.status).toBe('fail');
    expect(up.follow?.steps.map((s) => `${s.id}=${s.outcome}`)).toEqual(['probe=closed', 'who=given', 'unit=failed']);
    expect(up.follow?.target).toMatchObject({ host: '127.0.0.1', address: '127.0.0.1', port: 7071, protocol: 'tcp' });
    expect(up.follow?.diagnosisId).toBe('SERVICE_FAILED');
    expect(up.evidence).toMatchObject({ code: 'SERVICE_FAILED', title: 'myapp.service has failed', explanation: 'It crashed.', host: '127.0.0.1', port: 7071, address: '127.0.0.1' });
    expect((up.evidence.diagnosis as { code: string }).code).toBe('SERVICE_FAILED');
    // The nested walk's answer came from follow.inputs, not from the parent's --process nginx.
    expect(up.follow?.steps[1]!.summary).toBe('process: myapp (given on the command line)');

    expect(r.diagnosisId).toBe('UPSTREAM_FAILS');
    expect(r.diagnosis).toEqual({
      code: 'SERVICE_FAILED',
      title: 'port 80 answers (nginx), but its upstream 127.0.0.1:7071 does not: myapp.service has failed',
      explanation: 'It crashed.',
      fix: { summary: 'Start it again', commands: ['systemctl start myapp'] },
      applied: null,
      evidence: ['nginx forwards port 80 to 127.0.0.1:7071', 'myapp: config missing'],
      proxy: { program: 'nginx', config: '/etc/nginx/sites-enabled/default:4', upstream: '127.0.0.1:7071', status: 502 },
    });
    expect(r.fixArgv).toEqual([['systemctl', 'start', 'myapp']]);
    // Same Facts (the host's scans are shared), the upstream's port for its checks.
    expect(seen.map((s) => `${s.check}:${s.port}`)).toEqual(['probe:80', 'proxy:80', 'probe:7071', 'unit:7071']);
    expect(seen.every((s) => s.facts === facts)).toBe(true);
  });

  it('branches on reachable: an upstream that answers leaves the port REACHABLE', async () => {
    const { run } = setup({ 80: proxyTo(7071), 7071: { open: true } });
    const r = await run();
    expect(r.steps.at(-1)).toMatchObject({ id: 'upstream', outcome: 'reachable', status: 'pass', summary: '127.0.0.1:7071: REACHABLE — port 7071 answers' });
    expect(r.diagnosis.code).toBe('REACHABLE');
    expect(r.diagnosis.title).toBe('port 80 answers');
  });

  it('shows the nested steps on the same UI, prefixed with the step id, and asks as any walk does', async () => {
    // The proxy does not name the program: the nested walk asks the user, under the prefix.
    const { run, started, finished, asked } = setup({ 80: proxyTo(7071, ''), 7071: { open: false, unit: 'failed' } });
    const r = await run();
    expect(asked.map((q) => q.message)).toEqual(['upstream › Which program should listen on port 7071?']);
    expect(finished).toEqual([
      'probe: port 80 answers',
      'proxy: a proxy to 127.0.0.1:7071',
      'upstream › probe: upstream › port 7071 refuses',
      'upstream › who: upstream › process: you did not know',
      'upstream: 127.0.0.1:7071: NOT_LISTENING — nothing listens on port 7071',
    ]);
    expect(started[2]).toBe('following 127.0.0.1:7071: the same checks, as if you had asked for it');
    expect(r.diagnosis.code).toBe('NOT_LISTENING');
    expect(r.diagnosis.explanation).toBe('Start the program that should.');
    expect(r.fixArgv).toEqual([]);
    expect(r.diagnosis.fix).toBeNull();
  });

  it('without a TTY the nested walk does not prompt', async () => {
    const { run, asked } = setup({ 80: proxyTo(7071, ''), 7071: { open: false, unit: 'failed' } }, { interactive: false });
    const r = await run();
    expect(asked).toEqual([]);
    expect(r.steps.at(-1)!.follow!.steps[1]).toMatchObject({ id: 'who', outcome: 'unknown' });
  });

  it('with --ssh the nested walk has no client end (every nested step runs where the follow step runs)', async () => {
    const { run, seen } = setup({ 80: proxyTo(7071), 7071: { open: false, unit: 'failed' } }, { client: true });
    await run();
    expect(seen.map((s) => `${s.check}:${s.port}:${s.client}`)).toEqual(['probe:80:true', 'proxy:80:true', 'probe:7071:false', 'unit:7071:false']);
  });

  it('does not walk a target already walked up the chain (a loop): inconclusive, and the summary says why', async () => {
    const { run } = setup({ 80: proxyTo(80) });
    const r = await run();
    const up = r.steps.at(-1)!;
    expect(up).toMatchObject({ id: 'upstream', outcome: 'inconclusive', status: 'info' });
    expect(up.summary).toBe('127.0.0.1:80: not followed — 127.0.0.1:80 is already being diagnosed further up (a loop)');
    expect(up.follow?.steps).toEqual([]);
    expect(r.diagnosis.code).toBe('INCONCLUSIVE');
    expect(r.diagnosis.explanation).toBe('127.0.0.1:80 was not diagnosed: 127.0.0.1:80 is already being diagnosed further up (a loop).');
  });

  it('follows at most 3 walks deep', async () => {
    const { run } = setup({ 80: proxyTo(81), 81: proxyTo(82), 82: proxyTo(83), 83: proxyTo(84), 84: { open: true } });
    const r = await run();
    let s = r.steps.at(-1)!;
    const chain: string[] = [];
    while (s.follow) {
      chain.push(`${s.follow.target.port}:${s.outcome}`);
      const inner = s.follow.steps.at(-1);
      if (!inner) break;
      s = inner;
    }
    expect(chain).toEqual(['81:inconclusive', '82:inconclusive', '83:inconclusive', '84:inconclusive']);
    expect(s.summary).toMatch(/^127\.0\.0\.1:84: not followed — it would be walk 5 inside one another, and at most 3 are followed$/);
  });

  it('Ctrl-C during the nested walk: the walk is interrupted, and the nested steps that ran are in the partial report', async () => {
    const ac = new AbortController();
    const { run } = setup(
      { 80: proxyTo(7071), 7071: { open: false, unit: 'failed' } },
      { signal: ac.signal, onProbe: (ctx) => (ctx.target.port === 7071 ? (ac.abort(), new Promise<void>(() => {})) : undefined) },
    );
    const r = await run();
    expect(r.interrupted).toBe(true);
    expect(r.diagnosis.code).toBe('INCONCLUSIVE');
    const up = r.steps.at(-1)!;
    expect(up).toMatchObject({ id: 'upstream', outcome: 'inconclusive', summary: '127.0.0.1:7071: interrupted while it was being diagnosed' });
    expect(up.follow?.interrupted).toBe(true);
  });

  it('findings of the nested walk are merged, marked with the step', async () => {
    const m = machine({ 80: proxyTo(7071), 7071: { open: false, unit: 'failed' } });
    const unit = m.checks.unit!;
    const checks = { ...m.checks, unit: { ...unit, decide: (port: number, p: Record<string, unknown>) => ({ ...unit.decide(port, p, { target: { host: '', port, protocol: 'tcp' }, timeoutMs: 1 }), findings: [{ code: 'CORE_DUMPS', summary: 'myapp dumped core twice today' }] }) } };
    const pb = parsePlaybook(PLAYBOOK, 'follow.yaml', m.catalog);
    const ctx: CheckContext = { target: { host: '127.0.0.1', port: 80, protocol: 'tcp' }, host: localHost, facts: new Facts(localHost), timeoutMs: 100 };
    const r = await walk({ playbook: pb, ctx, checks, guessers: noGuesses, answers: {}, interactive: false, ui: { stepStarted() {}, stepFinished() {}, ask: async () => '' } });
    expect(r.findings).toEqual([{ code: 'CORE_DUMPS', summary: '127.0.0.1:7071: myapp dumped core twice today', step: 'upstream › unit' }]);
  });
});

describe('validating follow: and from:', () => {
  const problems = (text: string): string[] => {
    const { catalog } = machine({});
    try {
      parsePlaybook(text, 'follow.yaml', catalog);
      return [];
    } catch (err) {
      if (!(err instanceof PlaybookError)) throw err;
      return err.problems.filter((p) => p.severity === 'error').map(formatLintError);
    }
  };

  it('the test playbook is valid, and a follow step may have the codes of every diagnosis its walk can end in', () => {
    const { pb } = setup({});
    expect(pb.steps.upstream!.follow).toEqual({
      host: '{{ steps.proxy.evidence.host }}',
      port: '{{ steps.proxy.evidence.port }}',
      start: 'probe',
      inputs: { process: '{{ steps.proxy.evidence.program }}' },
      possible: ['inconclusive', 'not-listening', 'reachable', 'service-failed'],
    });
    expect(outcomesOfStep(pb, 'upstream')).toEqual(['inconclusive', 'not-listening', 'reachable', 'service-failed']);
  });

  it('rejects a follow step whose outcomes are not all handled', () => {
    const out = problems(PLAYBOOK.replace('      else: UPSTREAM_FAILS\n', '      service-failed: UPSTREAM_FAILS\n'));
    expect(out).toEqual([expect.stringMatching(/^follow\.yaml:\d+:\d+: error: steps\.upstream\.on: outcomes not handled: inconclusive, not-listening — /)]);
  });

  it('rejects an outcome a follow step cannot have', () => {
    const out = problems(PLAYBOOK.replace('      reachable: REACHABLE\n', '      reachable: REACHABLE\n      port-closed: NOT_LISTENING\n'));
    expect(out).toEqual([expect.stringMatching(/steps\.upstream\.on\.port-closed: 'port-closed' is not an outcome of follow step 'upstream' \(the codes its walk may end in\)/)]);
  });

  it('rejects from: naming a step that is not a follow step', () => {
    const out = problems(PLAYBOOK.replace('    from: upstream\n', '    from: proxy\n'));
    expect(out).toEqual([expect.stringMatching(/diagnoses\.UPSTREAM_FAILS\.from: step 'proxy' is not a follow step/)]);
  });

  it('rejects from: when a road to the diagnosis does not pass the follow step', () => {
    const out = problems(PLAYBOOK.replace('on: { failed: SERVICE_FAILED, else: NOT_LISTENING }', 'on: { failed: SERVICE_FAILED, inactive: UPSTREAM_FAILS, else: NOT_LISTENING }'));
    expect(out).toEqual([expect.stringMatching(/diagnoses\.UPSTREAM_FAILS\.from: not every road to UPSTREAM_FAILS passes step 'upstream': probe → who → unit → UPSTREAM_FAILS does not/)]);
  });

  it('rejects a step with follow: and check: both', () => {
    const out = problems(PLAYBOOK.replace('  upstream:\n    follow:', '  upstream:\n    check: probe\n    follow:'));
    expect(out[0]).toMatch(/steps\.upstream: a step has one of 'check', 'ask' or 'follow', not 'check' and 'follow'/);
  });

  it('rejects an unknown start, an unknown input, with:, and a missing explanation without from:', () => {
    const out = problems(
      PLAYBOOK.replace('      inputs: { process:', '      start: prob\n      inputs: { proces:')
        .replace('    from: upstream\n', '')
        .replace('    on:\n      reachable', '    with: { name: x }\n    on:\n      reachable'),
    );
    expect(out.join('\n')).toMatch(/steps\.upstream\.follow\.start: unknown step 'prob' — did you mean 'probe'\?/);
    expect(out.join('\n')).toMatch(/steps\.upstream\.follow\.inputs\.proces: unknown input 'proces' — did you mean 'process'\?/);
    expect(out.join('\n')).toMatch(/steps\.upstream\.with: 'with' gives a check its parameters: a follow step has none/);
    expect(out.join('\n')).toMatch(/diagnoses\.UPSTREAM_FAILS: missing required field 'explanation'/);
  });

  it('checks the placeholders of follow: and the follow evidence a diagnosis names', () => {
    const out = problems(PLAYBOOK.replace('port: "{{ steps.proxy.evidence.port }}"', 'port: "{{ step.proxy.evidence.port }}"').replace('{{ steps.upstream.evidence.title }}', '{{ steps.upstream.evidence.titel }}'));
    expect(out.join('\n')).toMatch(/steps\.upstream\.follow\.port: '\{\{ step\.proxy\.evidence\.port \}\}' starts with 'step'/);
    expect(out.join('\n')).toMatch(/diagnoses\.UPSTREAM_FAILS\.title: '\{\{ steps\.upstream\.evidence\.titel \}\}': steps\.upstream\.evidence \(a follow step\) has no field 'titel' — did you mean 'title'\?/);
  });
});

describe('playbook graph', () => {
  it('draws a follow step with its outcomes, and a dotted arrow to where its walk starts', () => {
    const { pb } = setup({});
    const mermaid = playbookGraph(pb, 'mermaid', (id) => outcomesOfStep(pb, id));
    expect(mermaid).toContain('s_upstream["upstream<br/><i>follow</i>"]');
    expect(mermaid).toContain('s_upstream -.->|"follows"| s_probe');
    expect(mermaid).toContain('s_upstream -->|"reachable"| d_REACHABLE');
    expect(mermaid).toContain('s_upstream -->|"inconclusive, not-listening, service-failed"| d_UPSTREAM_FAILS');
    const dot = playbookGraph(pb, 'dot', (id) => outcomesOfStep(pb, id));
    expect(dot).toContain('"upstream" -> "probe" [label="follows", style=dotted];');
  });
});
