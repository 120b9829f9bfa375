/**
 * Start-up, inside the busy case: `whyport --help` against `node -e 0` (and, for reference, node's
 * ESM loader, `--version`, and a subcommand that loads the bundle from its code cache). Short
 * commands, so more rounds and two warm-ups.
 */
import { measureGroup, NODE_NOOP, whyportCmd, type CaseResult } from './shared/timing.js';

export function measureStartup(runs: number): Promise<CaseResult[]> {
  const node = process.execPath;
  return measureGroup(
    'start-up',
    [
      { id: 'help', label: 'whyport --help', cmds: [whyportCmd(['--help'])] },
      { id: 'node', label: 'node -e 0', cmds: [NODE_NOOP] },
      { id: 'node-esm', label: 'node --input-type=module -e 0', cmds: [{ label: 'node --input-type=module -e 0', argv: [node, '--input-type=module', '-e', '0'] }] },
      { id: 'version', label: 'whyport --version', cmds: [whyportCmd(['--version'])] },
      { id: 'explain', label: 'whyport explain 22 (the bundle, from its code cache)', cmds: [whyportCmd(['explain', '22'])] },
    ],
    Math.max(runs * 2 + 1, 11),
    2,
  );
}
