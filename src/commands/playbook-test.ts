import type { DiagnoseOptions } from '../cli/diagnose-args.js';
import type { CommandIO } from '../cli/io.js';
import { PlaybookError, UsageError, formatLintError } from '../errors.js';
import type { Report } from '../report/model.js';
import { EXIT } from '../report/model.js';
import { diagnose } from './diagnose.js';
import { loadRecording } from './record.js';

/**
 * `whyport playbook test RECORDING…`: each recording walked as `whyport HOST PORT --replay FILE`
 * walks it, its diagnosis compared with the one it was recorded with (`expect.code`). One line per
 * recording; 0 when all pass, 1 when one fails, 2 when one cannot be used (not a recording, a bad
 * playbook).
 */
export async function testRecordings(files: readonly string[], playbook: string | undefined, io: CommandIO): Promise<number> {
  let failed = 0;
  let unusable = 0;
  for (const file of files) {
    try {
      const recording = await loadRecording(file);
      if (!recording.expect) throw new UsageError(`${file} has no expected diagnosis (it was recorded while interrupted)`, 'record it again, or write "expect": { "code": "…" } into it');
      const t = recording.target;
      const opts: DiagnoseOptions = {
        host: t.host,
        port: t.port,
        protocol: t.protocol,
        answers: {},
        playbook: playbook ?? recording.options.playbook,
        format: 'json',
        yes: true,
        fix: false,
        timeoutMs: recording.options.timeoutMs,
        color: false,
        interactive: false,
        verbose: false,
        brief: false,
        replay: { file, ownPlaybook: playbook !== undefined },
      };
      let json = '';
      await diagnose(opts, { stdout: (text) => void (json += text), stderr: () => {}, replay: recording, columns: 80 });
      const report = JSON.parse(json) as Report;
      const got = report.diagnosis.code;
      const trail = report.steps.map((s) => `${s.id}.${s.outcome}`).join(' → ');
      if (got === recording.expect.code) io.stdout(`pass  ${file}: ${got}\n`);
      else {
        failed++;
        io.stdout(`FAIL  ${file}: expected ${recording.expect.code}, got ${got} (${trail})\n`);
      }
    } catch (err) {
      if (err instanceof UsageError) io.stderr(`error ${file}: ${err.message}${err.hint ? `\n  hint: ${err.hint}` : ''}\n`);
      else if (err instanceof PlaybookError) io.stderr(`error ${file}: the playbook has problems:\n${err.problems.map((p) => `  ${formatLintError(p)}`).join('\n')}\n`);
      else throw err;
      unusable++;
    }
  }
  const passed = files.length - failed - unusable;
  io.stdout(`${passed} of ${files.length} recording${files.length === 1 ? '' : 's'} passed\n`);
  return unusable ? EXIT.usage : failed ? EXIT.diagnosed : EXIT.ok;
}
