import { describe, expect, it } from 'vitest';
import { sshFailure } from '../../../src/host/ssh/failure.js';

describe('why ssh failed, in one line', () => {
  const result = (stderr: string, exitCode = 255) => ({ argv: [], exitCode, stdout: '', stderr, missing: false, timedOut: false, durationMs: 10 });
  it.each([
    ['ssh: connect to host 10.0.0.5 port 22: Connection refused', /connection refused — nothing listens for ssh there/],
    ['root@10.0.0.5: Permission denied (publickey,password).', /authentication failed \(the server takes: publickey,password\)/],
    ['Host key verification failed.', /not known here, and whyport does not accept keys on its own/],
    ['@@@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n@@@@@\nHost key verification failed.', /has changed since it was last seen/],
    ['ssh: connect to host 10.0.0.5 port 22: Connection timed out', /no answer \(timed out/],
    ['ssh: Could not resolve hostname db1: Name or service not known', /does not resolve here/],
    ['ssh: connect to host 10.0.0.5 port 22: No route to host', /no route to host/],
  ])('%s', (stderr, expected) => {
    const line = sshFailure('root@10.0.0.5', result(stderr), 5_000);
    expect(line).toMatch(expected);
    expect(line).not.toContain('\n');
  });
  // Each says what to try, with the real host and port in the command (issue 19).
  it.each([
    ['root@10.0.0.5:2222', 'root@10.0.0.5: Permission denied (publickey).', 'try ssh -i KEY -p 2222 root@10.0.0.5, then --ssh-option IdentityFile=KEY'],
    ['root@10.0.0.5', 'root@10.0.0.5: Permission denied (publickey).', 'try ssh -i KEY root@10.0.0.5, then --ssh-option IdentityFile=KEY'],
    ['root@10.0.0.5', '@@@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\nHost key verification failed.', 'remove the old one: ssh-keygen -R 10.0.0.5'],
    ['root@db1:2222', '@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @', "remove the old one: ssh-keygen -R '[db1]:2222'"],
    ['root@10.0.0.5:2222', 'ssh: connect to host 10.0.0.5 port 2222: Connection refused', 'is sshd running, on port 2222? (another port: --ssh root@10.0.0.5:PORT)'],
    ['root@10.0.0.5', 'ssh: connect to host 10.0.0.5 port 22: Connection refused', 'is sshd running, on port 22?'],
    ['root@2001:db8::5', 'ssh: connect to host 2001:db8::5 port 22: Connection refused', 'is sshd running, on port 22? (another port: --ssh root@[2001:db8::5]:PORT)'],
    ['root@10.0.0.5', 'ssh: connect to host 10.0.0.5 port 22: No route to host', 'ip route get 10.0.0.5 shows the way out'],
    ['root@10.0.0.5', 'ssh: connect to host 10.0.0.5 port 22: Connection timed out', 'try ssh -v root@10.0.0.5'],
  ])('%s, %s: says what to try', (server, stderr, hint) => {
    const line = sshFailure(server, result(stderr), 5_000);
    expect(line).toContain(hint);
    expect(line).not.toContain('\n');
  });
  it('sudo that wants a password', () => {
    expect(sshFailure('db1', result('sudo: a password is required\n', 1), 0, { sudo: true, preflight: true })).toMatch(/sudo on db1 wants a password/);
  });
});
