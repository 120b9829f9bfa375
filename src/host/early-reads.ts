import type { CommandResult } from './runner.js';

/**
 * What the start-up entry began reading before the bundle loaded (src/bin/early.ts), as the local
 * host takes it: a command with exactly that argv and timeout, or exactly that file, once.
 */
export interface EarlyReads {
  /** The early result for exactly this command and timeout, once; undefined otherwise. */
  take(argv: readonly string[], options: { timeoutMs?: number; input?: string; env?: Record<string, string>; signal?: AbortSignal }, defaultTimeoutMs: number): Promise<CommandResult> | undefined;
  /** The early read of exactly this file, once; undefined otherwise. */
  takeFile(path: string): Promise<string> | undefined;
  /** Kills every early command still running that the walk has not taken (Ctrl-C before it asked). */
  stop(): void;
}
