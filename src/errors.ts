/** Bad usage or bad input: a one-line message on stderr and exit status 2, never a stack trace. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** One problem in a playbook, placed so an editor can jump to it (troubleshoot's LintError). */
export interface LintError {
  file: string;
  line: number;
  col: number;
  /** The field path, e.g. steps.listening.outcomes[0].next */
  field: string;
  message: string;
  hint?: string;
  severity: 'error' | 'warning';
}

/** A playbook that cannot run; carries every problem found, not just the first. */
export class PlaybookError extends Error {
  constructor(readonly problems: LintError[]) {
    super(problems.map(formatLintError).join('\n'));
    this.name = 'PlaybookError';
  }
}

/** `file:line:col: error: field: message (hint)` — the shape compilers use, so editors can link it. */
export function formatLintError(e: LintError): string {
  const where = `${e.file}:${e.line}:${e.col}`;
  const field = e.field ? `${e.field}: ` : '';
  return `${where}: ${e.severity}: ${field}${e.message}${e.hint ? ` — ${e.hint}` : ''}`;
}
