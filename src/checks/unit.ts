import { text, z } from './params.js';
import { statusCommand, unitStatus, type UnitStatus } from '../system/systemd.js';
import { defineCheck } from './check.js';

const JOURNAL_LINES = 10;

/** The systemd unit of the service: active, stopped, crashed (and why), or unknown. */
export const unit = defineCheck({
  description: "The systemd unit's state, result, main process exit status and last journal lines",
  outcomes: ['active', 'activating', 'inactive', 'failed', 'not-found', 'no-systemd', 'error'],
  params: z.object({ unit: text() }),
  describe: (p) => statusCommand(p.unit),
  async run(p, ctx) {
    const s: UnitStatus = await unitStatus(ctx.runner, p.unit, { timeoutMs: ctx.timeoutMs, journalLines: JOURNAL_LINES });
    const command = statusCommand(p.unit);
    switch (s.state) {
      case 'no-systemd':
        return { outcome: 'no-systemd', status: 'info', summary: `no systemd on this machine (${s.message})`, command, evidence: { ...s } };
      case 'not-found':
        return { outcome: 'not-found', status: 'fail', summary: `there is no unit ${s.unit}`, command, evidence: { ...s } };
      case 'error':
        return { outcome: 'error', status: 'fail', summary: `could not ask systemd about ${p.unit}: ${s.message}`, command, evidence: { ...s } };
      case 'failed':
        return { outcome: 'failed', status: 'fail', summary: `${s.unit} has failed (${exitText(s)})`, command, evidence: { ...s, exit: exitText(s) } };
      case 'inactive':
        return { outcome: 'inactive', status: 'fail', summary: `${s.unit} is stopped (inactive${s.result && s.result !== 'success' ? `, result ${s.result}` : ''})`, command, evidence: { ...s, exit: exitText(s) } };
      case 'activating':
      case 'reloading':
        return { outcome: 'activating', status: 'info', summary: `${s.unit} is still starting (${s.subState})`, command, evidence: { ...s } };
      case 'deactivating':
        return { outcome: 'inactive', status: 'fail', summary: `${s.unit} is stopping (${s.subState})`, command, evidence: { ...s, exit: exitText(s) } };
      case 'active':
        return { outcome: 'active', status: 'pass', summary: `${s.unit} is active (${s.subState}${s.mainPid ? `, main pid ${s.mainPid}` : ''})`, command, evidence: { ...s } };
    }
  },
});

/** "exit status 1", "killed by signal SEGV", or the unit's result. */
function exitText(s: Extract<UnitStatus, { mainPid?: number }>): string {
  if (s.execMainCode === 'exited' && s.execMainStatus !== undefined) return `exit status ${s.execMainStatus}`;
  if ((s.execMainCode === 'killed' || s.execMainCode === 'dumped') && s.execMainStatus !== undefined) return `killed by signal ${s.execMainStatus}`;
  return s.result ? `result ${s.result}` : 'no exit status recorded';
}
