import { hintFor } from '../suggest.js';
import type { Semantics } from './context.js';

/** The ways into the walk name steps that exist (`start:`, `server.start:`), and `server.keep:` diagnoses that do. */
export function checkEntries({ pb, at, stepIds, diagnosisIds }: Semantics): void {
  if (pb.start !== undefined && !pb.steps[pb.start]) at(['start'], `unknown step '${pb.start}'`, hintFor(pb.start, stepIds, 'steps'));
  const serverStart = pb.server?.start;
  if (serverStart !== undefined && !pb.steps[serverStart]) at(['server', 'start'], `unknown step '${serverStart}'`, hintFor(serverStart, stepIds, 'steps'));
  pb.server?.keep?.forEach((code, i) => {
    if (!pb.diagnoses[code]) at(['server', 'keep', i], `unknown diagnosis '${code}'`, hintFor(code, diagnosisIds, 'diagnoses'));
  });
}
