import { describe, expect, it } from 'vitest';
import { decideProcess, type ProcessReadings } from '../../src/checks/process.js';
import { assertOutcome } from '../helpers/narrow.js';

// The process step's decision, from what it read: the kernel's log and the start command are
// worded for the host as found.

/** What the process step read: pgrep's matches and the host's init, the command as the reader words it. */
const read = (r: Omit<ProcessReadings, 'command'>, name: string): ProcessReadings => ({ command: `pgrep -af ${name}`, ...r });

const sshInit = { name: 'ssh', path: '/etc/init.d/ssh', start: ['service', 'ssh', 'start'] };

describe('decideProcess', () => {
  it('running: the pids', () => {
    const d = decideProcess(read({ processes: [{ pid: 7, commandLine: 'python3 /srv/myapp.py' }], systemd: false, initScripts: [] }, 'myapp'), { name: 'myapp' });
    expect(d).toMatchObject({ outcome: 'running', summary: 'myapp is running: pid 7', evidence: { pids: [7] } });
  });

  it('where systemd runs, the kernel log is the journal', () => {
    const d = decideProcess(read({ processes: [], systemd: true, initScripts: [] }, 'myapp'), { name: 'myapp' });
    assertOutcome(d, 'not-running');
    expect(d.evidence.kernelLog).toEqual(['journalctl', '-k', '--grep', 'myapp', '-n', '20', '--no-pager']);
  });

  it('without systemd there is no journal: dmesg', () => {
    const d = decideProcess(read({ processes: [], systemd: false, initScripts: [] }, 'myapp'), { name: 'myapp' });
    assertOutcome(d, 'not-running');
    expect(d.evidence.kernelLog).toEqual(['dmesg', '--ctime', '--level=err,warn']);
    expect(d.evidence.kernelLog).not.toContain('journalctl');
  });

  it('without systemd, an init script that starts it: init-script, started with `service`', () => {
    const d = decideProcess(read({ processes: [], systemd: false, initScripts: [sshInit] }, 'sshd'), { name: 'sshd' });
    expect(d).toMatchObject({ outcome: 'init-script', evidence: { initScript: 'ssh', start: ['service', 'ssh', 'start'] } });
    expect(d.summary).toBe("no process named sshd is running; /etc/init.d/ssh starts it (this host's init is not systemd)");
  });

  it('a name that is neither running nor installed: did you mean what runs?', () => {
    const d = decideProcess(read({ processes: [], systemd: false, initScripts: [], suggestion: 'myapp' }, 'myap'), { name: 'myap' });
    assertOutcome(d, 'not-running');
    expect(d.summary).toBe('no process named myap is running — did you mean myapp? (it runs; no program named myap is installed)');
    expect(d.evidence.suggestion).toBe('myapp');
  });
});
