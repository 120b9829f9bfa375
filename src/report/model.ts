/**
 * The JSON report, exactly as docs/json-contract.md fixes it (version 1; the project's copy of the
 * shared contract, with the fields added since), plus free extra fields.
 */

/** Where the JSON report's contract ships, relative to whyport's package directory. */
export const JSON_CONTRACT_DOC = 'docs/json-contract.md';

export interface ReportTarget {
  host: string;
  /** The address probed; null when the name did not resolve. */
  address: string | null;
  port: number;
  protocol: 'tcp' | 'udp';
  /** The address belongs to this machine. */
  local: boolean;
  /** Extra: the service name of the port, e.g. "https" for 443. */
  portName?: string;
  /** Extra: every address the name resolved to. */
  addresses?: string[];
}

export interface StepRecord {
  id: string;
  check: string;
  outcome: string;
  summary: string;
  /** What a person would type to see the same; "" for questions put to the user. */
  command: string;
  durationMs: number;
  evidence: Record<string, unknown>;
  /** Extra: how the step reads in the chain: ✔ pass, ✖ fail, • info (a question, a neutral fact). */
  status?: StepStatus;
  /** With --ssh: the machine the step ran on. */
  where?: 'client' | 'server';
  /** Extra: a `follow:` step's nested walk — another target diagnosed with the same playbook. */
  follow?: FollowedWalk;
}

/**
 * The walk a `follow:` step made of another target (a reverse proxy's upstream, a dependency): its
 * steps and its diagnosis, as the report of that target would give them.
 */
export interface FollowedWalk {
  target: ReportTarget;
  steps: StepRecord[];
  diagnosis: Diagnosis;
  /** The key of its diagnosis in the playbook. */
  diagnosisId?: string;
  /** It was interrupted (Ctrl-C): its steps are the ones that ran. */
  interrupted?: boolean;
}

/** With --ssh: both ends of the diagnosis (CONTRACT, "Additions within version 1"). */
export interface Vantages {
  client: { host: string; diagnosis?: { code: string; title: string } };
  server: {
    host: string;
    via: 'ssh';
    user: string | null;
    /** Why the server could not be diagnosed, in one line; null when it was. */
    error: string | null;
    /** Extra: the server's name for itself, the user its commands ran as (root with --sudo), its own verdict, and how many remote commands it took. */
    hostname?: string;
    as?: string;
    diagnosis?: { code: string; title: string };
    commands?: number;
    /** Extra: each remote command, as run (whyport's own scripts by name). */
    ran?: string[];
  };
}

export type StepStatus = 'pass' | 'fail' | 'info';

export interface FixSpec {
  summary: string;
  commands: string[];
  /** Extra: the commands are a next step for a person, not something --fix runs. */
  manual?: boolean;
}

export interface AppliedFix {
  command: string;
  exitCode: number | null;
  /** The diagnosis run again after the fix says the port is reachable. */
  verified: boolean;
  /** Extra: the output of the fix commands and the verdict after. */
  output?: string;
  after?: string;
}

export interface Diagnosis {
  code: string;
  title: string;
  explanation: string;
  fix: FixSpec | null;
  applied: AppliedFix | null;
  /** Extra: the facts the diagnosis rests on, one line each. */
  evidence?: string[];
  /** Found inside another network namespace (CONTRACT, "Additions within version 1"). */
  namespace?: { kind: 'netns' | 'container'; name: string; pid: number };
  /** Through a forward: a DNAT rule or a proxy, and where it sends the port. */
  forward?: { via: 'dnat' | 'proxy'; to: string; rule: string };
  /** The configuration line that decides, where whyport could read it (CONTRACT, "Beyond the handshake"). */
  setting?: { file: string; line: number; text: string };
  /** Why the server's kernel drops the packets, by its own name for the reason (CONTRACT, "drop"). */
  drop?: { reason: string; counter: string; grew: number };
  /** A ban list that blocks the client (CONTRACT, "ban"): fail2ban or sshguard, its jail, the address; extra: since when, as fail2ban says it. */
  ban?: { by: string; jail?: string; address: string; since?: string };
  /** What answered after the TCP handshake, in its own words when it said any (CONTRACT, "Beyond the handshake"). */
  service?: { protocol: string; product?: string; said?: string };
  /** Every problem a TLS client would reject the connection for, and the certificate (CONTRACT, "Beyond the handshake"). */
  tls?: { problems: string[]; subject?: string; names?: string[]; issuer?: string; notBefore?: string; notAfter?: string };
  /** The reverse proxy the diagnosis follows: its program, the configuration line (file:line), the upstream and the HTTP status it answered (CONTRACT). */
  proxy?: { program: string; config: string; upstream: string; status?: number | null };
  /** Where the packets die on the way, from a traceroute to the port: the hops that answered, in order, and the last of them (CONTRACT, "path"). */
  path?: { hops: string[]; lastHop: string };
}

/**
 * The path of a diagnosis in one line: "the SYNs pass 10.0.1.1 and are lost after 10.0.2.1", or,
 * when the last hop is the target itself, "… and reach 10.0.3.2".
 */
export function pathText(path: NonNullable<Diagnosis['path']>, target: Pick<ReportTarget, 'address' | 'protocol'>): string {
  const packets = target.protocol === 'udp' ? 'datagrams' : 'SYNs';
  const before = path.hops.filter((h) => h !== path.lastHop);
  const listed = before.length <= 1 ? (before[0] ?? '') : `${before.slice(0, -1).join(', ')} and ${before.at(-1)}`;
  const pass = before.length ? `pass ${listed} and ` : '';
  return path.lastHop === target.address ? `the ${packets} ${pass}reach ${path.lastHop}` : `the ${packets} ${pass}are lost after ${path.lastHop}`;
}

/** Extra: secondary observations that are not the diagnosis ("Also noticed"). */
export interface Finding {
  code: string;
  summary: string;
  step?: string;
}

/**
 * Which whyport made the report, on which machine and when (CONTRACT additions within version 1;
 * docs/json-contract.md): what a ticket needs to tell one run from another.
 */
export interface RunInfo {
  /** whyport's own version, e.g. "0.1.0". */
  version: string;
  /** The name of the machine whyport ran on (its host name); with --ssh, the client. */
  host: string;
  /** When the run started (whyport's process start), ISO 8601 in UTC to the second. */
  startedAt: string;
}

export interface Report {
  version: 1;
  target: ReportTarget;
  playbook: { name: string; source: string };
  steps: StepRecord[];
  diagnosis: Diagnosis;
  /** The whole run as its user lived it: from whyport's start to the report, prompts and --fix included. */
  durationMs: number;
  whyport?: RunInfo;
  findings?: Finding[];
  /** Extra: the walk was interrupted (Ctrl-C); the report is partial. */
  interrupted?: boolean;
  vantages?: Vantages;
}

/** Exit statuses of ../shared/CONTRACT.md. */
export const EXIT = { ok: 0, diagnosed: 1, usage: 2, inconclusive: 3, interrupted: 130 } as const;

/** The exit status a diagnosis code maps to. */
export function exitStatusFor(code: string): number {
  if (code === 'REACHABLE') return EXIT.ok;
  // A silent UDP port: open and filtered cannot be told apart from where whyport ran.
  if (code === 'INCONCLUSIVE' || code === 'OPEN_OR_FILTERED') return EXIT.inconclusive;
  return EXIT.diagnosed;
}

/**
 * The TCP states the steps saw, each with its one-sentence explanation: a step puts them in
 * `evidence.states` as { CLOSE_WAIT: "…" }. Each state once, in the order first seen.
 */
export function statesSeen(steps: readonly StepRecord[]): [string, string][] {
  const out = new Map<string, string>();
  for (const step of steps) {
    const states = step.evidence.states;
    if (!states || typeof states !== 'object' || Array.isArray(states)) continue;
    for (const [name, sentence] of Object.entries(states)) {
      if (typeof sentence === 'string' && !out.has(name)) out.set(name, sentence);
    }
  }
  return [...out];
}

/**
 * The states a reader of this report needs explained: those the verdict or a finding names (its
 * title, explanation, evidence, an "Also noticed" line), as CLOSE_WAIT or CLOSE-WAIT. A state that
 * only a step's tally lists (1 LISTEN, 2 ESTABLISHED) is a fact for the expert, not a word to
 * learn; `all` (--verbose) explains every state seen.
 */
export function statesToExplain(report: Pick<Report, 'steps' | 'diagnosis' | 'findings'>, all = false): [string, string][] {
  const seen = statesSeen(report.steps);
  if (all) return seen;
  const { title, explanation, evidence = [] } = report.diagnosis;
  const prose = [title, explanation, ...evidence, ...(report.findings ?? []).map((f) => f.summary)].join('\n');
  return seen.filter(([name]) => new RegExp(`(?<![\\w-])${name.replace(/[_-]/g, '[_-]')}(?![\\w-])`).test(prose));
}
