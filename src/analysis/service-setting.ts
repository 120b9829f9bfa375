import type { SourceLine } from '../system/config-tree.js';

export type { SourceLine } from '../system/config-tree.js';

/** What the server's own settings say about one client: the shape every settings analysis returns. */
export interface SettingVerdict {
  /**
   * `refuses`: a setting turns this client away (it is `setting`, or no line admits it);
   * `admits`: the settings let this client in; `undecided`: a line depends on what whyport
   * cannot see (a host name's reverse lookup, a group's members) — `undecided` says which.
   */
  outcome: 'refuses' | 'admits' | 'undecided';
  /** The line that decides, as `diagnosis.setting` (CONTRACT): absent when the refusal is that no line admits the client. */
  setting?: SourceLine;
  /** One sentence: why, in the server's own terms. */
  explanation: string;
  /** What to change, in the server's own words; never a password (placeholders the user fills in). */
  fix?: SettingFix;
  /** Lines that might decide but whyport cannot tell (with why), in reading order. */
  undecided?: { line: SourceLine; why: string }[];
  /** The facts read, one line each (which file, which account, which value). */
  evidence: string[];
}

/** A change of one configuration line, and the commands that make the server read it. */
export interface SettingFix {
  summary: string;
  /** The line to write, and where: before or after a line, in place of one, at the end of a file, or a line to delete. */
  edit?: { file: string; at: 'before' | 'after' | 'replace' | 'append' | 'delete'; line?: number; text: string };
  /** Statements or commands, as argv (a statement for a client is one word after `-e`). */
  commands: string[][];
}
