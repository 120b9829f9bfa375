// A program on another host reports a failed system call in strerror(3)'s words on its stderr
// (the C locale: whyport runs every remote command under LC_ALL=C); these give the errno name a
// local call would have given, so callers word "refused" or "no such file" the same on every host.

/** strerror's words for a socket error (bash's /dev/tcp and /dev/udp, ssh's own connect), as the errno. */
const SOCKET_ERRORS: readonly (readonly [RegExp, string])[] = [
  [/Connection refused/, 'ECONNREFUSED'],
  [/No route to host/, 'EHOSTUNREACH'],
  [/Network is unreachable/, 'ENETUNREACH'],
  [/Cannot assign requested address/, 'EADDRNOTAVAIL'],
];

/** The errno of the first socket error `stderr` names, or undefined. */
export function socketErrno(stderr: string): string | undefined {
  return SOCKET_ERRORS.find(([words]) => words.test(stderr))?.[1];
}

/**
 * The errno name of a failed read of a file by cat, ls, readlink or stat (coreutils), as node:fs
 * would give it: ENOENT, EACCES, EISDIR, ENOTDIR, ETIMEDOUT (the command was stopped), else EIO.
 */
export function fileErrno(stderr: string, timedOut: boolean): string {
  if (/No such file|not found/i.test(stderr)) return 'ENOENT';
  if (/Permission denied/i.test(stderr)) return 'EACCES';
  if (/Is a directory/i.test(stderr)) return 'EISDIR';
  if (/Not a directory/i.test(stderr)) return 'ENOTDIR';
  return timedOut ? 'ETIMEDOUT' : 'EIO';
}
