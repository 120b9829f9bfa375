import type { AnyCheck, CheckContext, CheckFinding } from '../checks/check.js';
import type { Guess, GuessProviders } from '../checks/guesses.js';
import type { Playbook, Step } from '../playbook/schema.js';
import type { Diagnosis, Finding, ReportTarget, StepRecord } from '../report/model.js';

/*
 * The shapes of a walk: what it is given, what it returns, the I/O it needs. Apart from walk.ts so
 * that a follow step (follow.ts), which walks again, and the walk share them without a cycle.
 */

/** A question for the user; answering '' means "I don't know". */
export interface Question {
  input: string;
  message: string;
  guesses: Guess[];
  choices: string[];
  default?: string;
  validate(answer: string): true | string;
}

/** The I/O the walk needs from the outside: spinners and prompts (ui/), or nothing in tests. */
export interface WalkUI {
  stepStarted(id: string, text: string): void;
  stepFinished(record: StepRecord): void;
  /** Throws InterruptedError on Ctrl-C. */
  ask(question: Question): Promise<string>;
}


export interface WalkOptions {
  playbook: Playbook;
  ctx: CheckContext;
  /** The checks by name (the registry; tests give checks that replay outcomes). */
  checks: Readonly<Record<string, AnyCheck>>;
  guessers: GuessProviders;
  /** Answers known before the walk (--process, --service, --set); the walk adds the user's. */
  answers: Record<string, string>;
  /** May prompt. False with --yes or without a TTY: flags, likely guesses and defaults only. */
  interactive: boolean;
  ui: WalkUI;
  signal?: AbortSignal;
  /**
   * A walk over both ends (--ssh): the context of each vantage. A step marked `vantage:` runs in
   * that one; others run where the walk is. Each record then says where it ran.
   */
  vantages?: { client: CheckContext; server: CheckContext; at: 'client' | 'server' };
  /** Start at this step instead of the playbook's start (the server's side of a two-ended walk). */
  start?: string;
  /** What ran before this walk (the client's side): its records and outcomes are the new walk's past. */
  before?: WalkResult;
  /** Stop before the first `vantage: server` step (the client's side of --ssh); WalkResult.pending names it. */
  stopAtServer?: boolean;
  /** A nested walk (a `follow:` step's): the targets walked above it and how deep it is, against loops. */
  outer?: Outer;
  /** How a follow step runs: engine/follow.ts unless a test replays its outcomes, as it replays checks. */
  followStep?: FollowStepRunner;
  /**
   * --fix's consent for a step that changes the host (a `command` with `changes: true`), asked
   * with the command as typed and where the step runs (over --ssh); absent, such a step does not run.
   */
  mayChange?(command: string, where: 'client' | 'server' | undefined): Promise<boolean>;
}

export interface WalkResult {
  target: ReportTarget;
  steps: StepRecord[];
  diagnosis: Diagnosis;
  /** The fix commands as argv, for --fix. */
  fixArgv: string[][];
  findings: Finding[];
  /** What the user said (flags and answers), without guesses: a re-check must guess afresh. */
  answers: Record<string, string>;
  interrupted: boolean;
  /** The key of the diagnosis in the playbook (several keys may share a code). */
  diagnosisId?: string;
  /** With stopAtServer: the server step the walk stopped before (the diagnosis is then a placeholder). */
  pending?: string;
  /** The walks of the follow steps that ran, by step id: what a diagnosis with `from:` takes. */
  followed?: Record<string, WalkResult>;
}


/** Where a nested walk stands: the targets walked above it (HOST:PORT and ADDRESS:PORT), and how deep it is. */
export interface Outer {
  targets: readonly string[];
  depth: number;
}

/** What a follow step did: its record, what its walk noticed, and the walk itself (for `from:`). */
export interface FollowOutcome {
  record: StepRecord;
  findings: (CheckFinding & { step?: string })[];
  /** The nested walk's result; when it did not run (a loop, too deep, no address), an INCONCLUSIVE one that says why. */
  nested?: WalkResult;
  /** The nested walk was interrupted (Ctrl-C): the parent's ends too. */
  interrupted: boolean;
}

/** Runs a follow step (engine/follow.ts's followStep): `walkOf` is the walk to nest. */
export type FollowStepRunner = (id: string, step: Step, opts: WalkOptions, scope: { target: ReportTarget }, walkOf: (opts: WalkOptions) => Promise<WalkResult>) => Promise<FollowOutcome>;
