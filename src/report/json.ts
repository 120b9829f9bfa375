import type { Report } from './model.js';

/**
 * The report as the one JSON document `--json` prints (../shared/CONTRACT.md): two-space indents
 * and a final newline, so it diffs well and `jq` reads it straight from a pipe.
 */
export function renderJson(report: Report): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
