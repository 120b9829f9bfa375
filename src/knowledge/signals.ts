/**
 * Linux signal numbers and their names (x86, arm and most others; the numbers systemd records for
 * a killed process). A table rather than node's os.constants: the signal came from the diagnosed
 * host's kernel, which need not be the machine whyport runs on. Where two names share a number
 * (SIGIOT, SIGPOLL), the one `kill -l` prints first.
 */
const SIGNALS: Readonly<Record<number, string>> = {
  1: 'SIGHUP', 2: 'SIGINT', 3: 'SIGQUIT', 4: 'SIGILL', 5: 'SIGTRAP', 6: 'SIGABRT', 7: 'SIGBUS', 8: 'SIGFPE',
  9: 'SIGKILL', 10: 'SIGUSR1', 11: 'SIGSEGV', 12: 'SIGUSR2', 13: 'SIGPIPE', 14: 'SIGALRM', 15: 'SIGTERM',
  16: 'SIGSTKFLT', 17: 'SIGCHLD', 18: 'SIGCONT', 19: 'SIGSTOP', 20: 'SIGTSTP', 21: 'SIGTTIN', 22: 'SIGTTOU',
  23: 'SIGURG', 24: 'SIGXCPU', 25: 'SIGXFSZ', 26: 'SIGVTALRM', 27: 'SIGPROF', 28: 'SIGWINCH', 29: 'SIGIO',
  30: 'SIGPWR', 31: 'SIGSYS',
};

/** `SIGKILL` for 9; undefined for a number Linux gives no name (real-time signals). */
export function signalName(n: number): string | undefined {
  return SIGNALS[n];
}
