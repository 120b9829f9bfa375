import { existsSync } from 'node:fs';
import { expect, it } from 'vitest';
import { execaRunner } from '../../../src/host/runner.js';
import { SshSession } from '../../../src/host/ssh/session.js';
import { turnBatchingRunner } from '../../../src/host/ssh/turns.js';
import { HOSTILE_MARKER, hostileWords } from '../../helpers/hostile.js';
import { describeWithLoopbackSshd, sshdAvailable } from '../../helpers/ssh.js';

// The sshd counts the sessions (one per remote command) it opened: the round trips.
const HOSTILE = hostileWords();

describeWithLoopbackSshd('the commands of one turn over ssh, against a real sshd on loopback', await sshdAvailable(), (ssh) => {
  it('commands asked for in one turn go in one round trip, each with its own output and exit status', async () => {
    const host = turnBatchingRunner(ssh.session);
    const before = await ssh.sshd.sessionCount();
    const [a, b, c] = await Promise.all([
      host.run(['printf', '%s', ...HOSTILE.slice(0, 3)]),
      host.run(['sh', '-c', 'echo out; echo err >&2; exit 3']),
      host.run(['no-such-program-here']),
    ]);
    expect(await ssh.sshd.sessionCount()).toBe(before + 1);
    expect(a).toMatchObject({ exitCode: 0, stdout: HOSTILE.slice(0, 3).join(''), stderr: '' });
    expect(b).toMatchObject({ exitCode: 3, stdout: 'out\n', stderr: 'err\n', missing: false });
    expect(c).toMatchObject({ exitCode: 127, missing: true });
    expect(existsSync(HOSTILE_MARKER)).toBe(false);
  });

  it('a command the first round trip already ran (the preload) is taken from there, once', async () => {
    const preloading = new SshSession({ ...ssh.session.settings, preload: [['uname', '-n']] }, execaRunner);
    try {
      const facts = await preloading.open();
      const before = await ssh.sshd.sessionCount();
      const { run } = turnBatchingRunner(preloading);
      expect(await run(['uname', '-n'])).toMatchObject({ exitCode: 0, stdout: `${facts.identity.hostname}\n` });
      expect(await ssh.sshd.sessionCount()).toBe(before);
      expect(await run(['uname', '-n'])).toMatchObject({ exitCode: 0, stdout: `${facts.identity.hostname}\n` });
      expect(await ssh.sshd.sessionCount()).toBe(before + 1);
    } finally {
      await preloading.close();
    }
  });
});
