import type { $ZodType, output } from 'zod/v4/core';
import type { ReadCall } from '../system/reader.js';
import type { Facts } from '../system/facts.js';
import type { Host } from '../host/host.js';

/** The target as the command line gave it; resolution and locality are facts found by checks. */
export interface Target {
  host: string;
  port: number;
  /** The service name of the port ("https"), from /etc/services or the built-in table. */
  portName?: string;
  /** UDP when PORT was written 53/udp, --udp was given, or the service name is UDP's only. */
  protocol: 'tcp' | 'udp';
}

export interface CheckContext {
  target: Target;
  /** The machine diagnosed: every command, file and lookup of a check goes through it. */
  host: Host;
  /** Host scans memoised for this diagnosis (socket table, resolution, who whyport runs as, …). */
  facts: Facts;
  /** Per probe timeout (--timeout). */
  timeoutMs: number;
  /** On the server's side of a two-ended walk (--ssh): the client's context, for checks that need both ends at once. */
  client?: CheckContext;
  /**
   * Whether a step may change the host, asked before a playbook's command that says it does
   * (`command` with `changes: true`): --fix's consent (with --yes, or a yes at the prompt). Without
   * it, nothing that changes the host runs.
   */
  mayChange?(command: string): Promise<boolean>;
}

/** What one check found: one outcome of a closed set, and the facts it rests on. */
export interface CheckResult<O extends string = string> {
  outcome: O;
  /** One line a person reads: "nothing listens on port 7071". */
  summary: string;
  /** What a person would type to see the same thing. */
  command: string;
  evidence: Record<string, unknown>;
  /** ✔ or ✖ in the chain of steps; 'info' for neutral facts. */
  status: 'pass' | 'fail' | 'info';
  /** Secondary observations for the "Also noticed" section. */
  findings?: CheckFinding[];
}

/** A secondary observation of a check; the walk adds the step it came from. */
export interface CheckFinding {
  code: string;
  summary: string;
}

/** What a check's pure parts see: the target, never the host. */
export interface DecideContext {
  target: Target;
  /** Per probe timeout (--timeout): some verdicts say how long they waited. */
  timeoutMs: number;
}

/** What a check decided: a CheckResult whose evidence has the type its schema declares. */
export type Decision<O extends string, E> = Omit<CheckResult<O>, 'evidence'> & { evidence: E };

/**
 * A check asks one question of the host, in two parts: `read` gathers what it needs through the
 * diagnosis's memoised readers (ctx.facts.read, src/system/<noun>.ts) and interprets nothing, and
 * `decide` maps those readings to one outcome and its evidence, with no I/O, so its tests are plain
 * objects. `params` validates what the playbook passes (after templating, so every value arrives
 * as a string or a list of strings and numbers are coerced); `evidence` is the schema of what
 * `decide` returns, so a field the schema lacks does not compile.
 */
export interface Check<P = Record<string, unknown>, O extends string = string, S extends $ZodType = $ZodType, R = unknown> {
  description: string;
  outcomes: readonly O[];
  /**
   * Outcomes added after playbooks were written, each a finer case of an older one (UDP's
   * `no-reply` of `timeout`): a playbook that does not name one takes the branch of the outcome it
   * refines, so playbooks written before it still validate and walk as they did.
   */
  refines?: Readonly<Partial<Record<O, O>>>;
  params: $ZodType<P>;
  /**
   * The shape of `evidence` (src/checks/evidence.ts): what a playbook may name in
   * `{{ steps.ID.evidence.PATH }}`, checked by the validator and listed for editors.
   */
  evidence: S;
  /** What the spinner shows while it runs, e.g. "ss -Htan 'sport = :7071'". */
  describe(params: P, at: DecideContext): string;
  /** Reads the host through ctx.facts's readers; what it returns is all `decide` sees. */
  read(params: P, ctx: CheckContext): Promise<R>;
  /** The pure decision: readings and parameters to one outcome, its words and its evidence. */
  decide(readings: R, params: P, at: DecideContext): Decision<O, output<S>>;
  /**
   * Problems with the parameters as the playbook writes them, found before anything runs (a
   * regular expression that could hang, two ways to say one thing): `written` holds the values
   * without placeholders, `given` names every parameter written. Pure.
   */
  lint?(written: Readonly<Record<string, unknown>>, given: readonly string[]): ParamProblem[];
  /**
   * The reads that follow from the parameters alone: started before the walk reaches the step
   * when it is among the playbook's first (the prefetch, the ssh preload, the early start).
   */
  prefetch?(params: P, at: DecideContext): ReadCall[];
}

/** A problem with a check's parameters as written: the parameter it is about (none: the step's `check:`). */
export interface ParamProblem {
  param?: string;
  message: string;
  hint?: string;
}

/** Runs a check: its reads, then its decision. */
export async function runCheck<P, O extends string>(check: Check<P, O, $ZodType, unknown>, params: P, ctx: CheckContext): Promise<CheckResult<O>> {
  const readings = await check.read(params, ctx);
  return check.decide(readings, params, { target: ctx.target, timeoutMs: ctx.timeoutMs }) as CheckResult<O>;
}

/** Helps a check file declare itself with its params and outcomes inferred. */
export function defineCheck<P, const O extends string, S extends $ZodType, R>(check: Check<P, O, S, R>): Check<P, O, S, R> {
  return check;
}

/** Any check, for registries (parameters are checked per entry by `defineCheck`). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyCheck = Check<any, string, $ZodType, any>;

/** What the playbook validator needs to know of each check: its outcomes and parameters. */
export interface CheckInfo {
  outcomes: readonly string[];
  /** Outcome → the older outcome it refines (Check.refines). */
  refines?: Readonly<Record<string, string>>;
  /** The shape of its evidence (zod/mini), for `steps.ID.evidence.PATH` placeholders. */
  evidence?: $ZodType;
  params: readonly string[];
  required: readonly string[];
  /** Each parameter's own schema: a value written without placeholders is checked against it before anything runs. */
  paramSchemas?: Readonly<Record<string, $ZodType>>;
  /** Check.lint: problems with the parameters as written. */
  lint?: (written: Readonly<Record<string, unknown>>, given: readonly string[]) => ParamProblem[];
}
export type CheckCatalog = Readonly<Record<string, CheckInfo>>;

/** Where an input's guesses can come from; the names playbooks write under `guesses:`. */
export const GUESS_SOURCES = ['programs-for-port', 'units-for-port', 'unit-for-process', 'running-programs'] as const;
export type GuessSource = (typeof GUESS_SOURCES)[number];
