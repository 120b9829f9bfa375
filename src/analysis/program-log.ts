import type { ProgramLogTail } from '../system/program-log.js';
import { filterLogLines, mentionsTrouble, type LineSelectionOptions } from './journal-lines.js';

/** What a program's own log says of why it stopped. */
export type ProgramLogReason =
  /** `lines` are the informative last lines; none when no line of its end says anything went wrong. */
  | { path: string; lines: string[] }
  /** The file is there but could not be read (permission denied, not a regular file…). */
  | { path: string; lines: []; error: string };

/** The informative lines of a program log's end (filterLogLines), or none when no line says anything went wrong. */
export function programLogReason(tail: ProgramLogTail | undefined, opts: LineSelectionOptions = {}): ProgramLogReason | undefined {
  if (!tail || 'error' in tail) return tail;
  const lines = filterLogLines(tail.lines, opts);
  // Only context lines ("resuming normal operations") would read as the reason: say nothing.
  return { path: tail.path, lines: lines.some(mentionsTrouble) ? lines : [] };
}
