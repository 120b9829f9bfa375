/**
 * The settings of a private sshd as TESTBED.md runs one (its own keys, key login only, no PAM,
 * every session in its log at DEBUG1, no pid file): shared by the ssh tests' sshd
 * (test/helpers/ssh.ts) and the bench's (bench/sshd.ts). One keyword a line, in sshd_config order.
 */
export function privateSshdConfig(o: { port: number; listenAddress: string; hostKeyPath: string; authorizedKeysPath: string }): string[] {
  return [
    `Port ${o.port}`,
    `ListenAddress ${o.listenAddress}`,
    `HostKey ${o.hostKeyPath}`,
    `AuthorizedKeysFile ${o.authorizedKeysPath}`,
    'PermitRootLogin prohibit-password',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'StrictModes no',
    'LogLevel DEBUG1',
    'PidFile none',
  ];
}
