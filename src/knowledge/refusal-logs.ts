/**
 * What each program writes to its log when it turns a client away, so that the line matching the
 * refusal can be quoted as evidence. `{client}` stands for the client's address as the program
 * prints it. Each from the program's own source: PostgreSQL's hba.c (ClientAuthentication), sshd's
 * sshd.c (drop_connection), libwrap's refuse.c (refuse → syslog), Redis and MariaDB log nothing by
 * default for these refusals (protected mode; error 1130 below log_warnings=4), so none is listed.
 */
export interface RefusalLog {
  /** The refusal, as the analyses name it. */
  refusal: 'pg-hba-none' | 'pg-hba-reject' | 'sshd-maxstartups' | 'tcp-wrappers';
  /** The program's words, `{client}` where it prints the client's address. */
  pattern: string;
  /** Where Debian's package sends it (the journal unit, or a file). */
  where: string;
}

export const REFUSAL_LOGS: readonly RefusalLog[] = [
  { refusal: 'pg-hba-none', pattern: 'no pg_hba.conf entry for host "{client}"', where: '/var/log/postgresql/postgresql-VERSION-CLUSTER.log' },
  { refusal: 'pg-hba-reject', pattern: 'pg_hba.conf rejects connection for host "{client}"', where: '/var/log/postgresql/postgresql-VERSION-CLUSTER.log' },
  { refusal: 'sshd-maxstartups', pattern: 'drop connection #* from [{client}]:* on *past MaxStartups', where: 'journal of ssh.service, /var/log/auth.log' },
  { refusal: 'tcp-wrappers', pattern: 'refused connect from {client}', where: 'journal of ssh.service, /var/log/auth.log' },
];
