/**
 * How a unit's death is put into words: what a signal usually means, and which commands are a
 * program's own configuration test (a failed `ExecStartPre=nginx -t` is a bad configuration, not
 * a crash). Kept as data, like the rest of src/knowledge/.
 */

/** What a signal that killed a service usually means, after its name. */
export const SIGNAL_MEANINGS: Readonly<Record<string, string>> = {
  SIGKILL: 'the OOM killer, or someone',
  SIGSEGV: 'a crash: a segmentation fault in the program',
  SIGBUS: 'a crash: a bus error (often a truncated file it had mapped)',
  SIGABRT: 'it aborted itself: a failed assertion or a fatal error it detected',
  SIGILL: 'a crash: an illegal instruction (a binary built for another CPU?)',
  SIGFPE: 'a crash: an arithmetic error such as a division by zero',
  SIGTERM: 'something asked it to stop',
  SIGINT: 'something interrupted it',
  SIGHUP: 'it does not handle a reload by signal',
  SIGPIPE: 'it wrote to a pipe or socket nobody reads',
  SIGSYS: 'a forbidden system call (SystemCallFilter= of the unit?)',
  SIGXCPU: 'it ran past its CPU time limit',
  SIGXFSZ: 'it wrote past its file size limit',
};

/** Commands that check a program's configuration and change nothing: the program, and the argument that makes it a test. */
export const CONFIG_TESTS: readonly { program: string; test: RegExp }[] = [
  { program: 'nginx', test: /(?:^|\s)-t(?:\s|$)|(?:^|\s)-T(?:\s|$)/ },
  { program: 'sshd', test: /(?:^|\s)-t(?:\s|$)|(?:^|\s)-T(?:\s|$)/ },
  { program: 'apache2ctl', test: /\b(?:configtest|-t)\b/ },
  { program: 'apachectl', test: /\b(?:configtest|-t)\b/ },
  { program: 'apache2', test: /(?:^|\s)-t(?:\s|$)/ },
  { program: 'httpd', test: /(?:^|\s)-t(?:\s|$)/ },
  { program: 'haproxy', test: /(?:^|\s)-c(?:\s|$)/ },
  { program: 'named-checkconf', test: /^/ },
  { program: 'unbound-checkconf', test: /^/ },
  { program: 'dnsmasq', test: /--test\b/ },
  { program: 'postfix', test: /\bcheck\b/ },
  { program: 'squid', test: /-k\s+parse\b/ },
  { program: 'varnishd', test: /(?:^|\s)-C(?:\s|$)/ },
  { program: 'caddy', test: /\bvalidate\b/ },
  { program: 'traefik', test: /--check/ },
  { program: 'dovecot', test: /(?:^|\s)-n(?:\s|$)|doveconf/ },
];

/** True when the command line (`/usr/sbin/nginx -t -q -g …`) is its program's configuration test. */
export function isConfigTest(argv: string): boolean {
  const [first = '', ...rest] = argv.trim().split(/\s+/);
  const program = first.split('/').pop() ?? '';
  const args = rest.join(' ');
  return CONFIG_TESTS.some((t) => t.program === program && t.test.test(args));
}
