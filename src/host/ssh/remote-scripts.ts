import { SYSTEMD_MARKER } from '../../system/systemd/units.js';
import { quoteWord } from '../shell-quote.js';

/**
 * Paths the preflight stats, so that a reader's stat of them costs no round trip (the ssh host's
 * stat answers from the preflight): systemd's marker, which the server's walk reads first
 * (systemdRunning).
 */
export const PREFLIGHT_STAT_PATHS: readonly string[] = [SYSTEMD_MARKER];

/**
 * The body of a loop over paths in $p: `KIND SIZE MTIME RAWMODE UID GID LINK` (f, d or o; the raw
 * mode in hex, type bits and all; `l` when the path itself is a symbolic link, else `-`), `-` where
 * it cannot be stat'ed.
 */
const STAT_PATH = [
  '  if [ -f "$p" ]; then k=f; elif [ -d "$p" ]; then k=d; elif [ -e "$p" ]; then k=o; else echo -; continue; fi',
  '  if [ -L "$p" ]; then l=l; else l=-; fi',
  `  echo "$k $(stat -L -c '%s %Y %f %u %g' -- "$p" 2>/dev/null || echo '0 0') $l"`,
];

/**
 * The POSIX sh scripts whyport runs on a server over ssh, each as `sh -c SCRIPT sh ARGS…`: the
 * script is a constant and every value arrives as a positional parameter, quoted once with the
 * rest of argv (shell-quote.ts), so nothing a user or a host gives is ever part of shell syntax
 * (the preflight's PREFLIGHT_STAT_PATHS are whyport's own constants, quoted the same way).
 * They use only what a stock Linux server has: sh, coreutils, grep, findutils, iproute2.
 *
 * Scripts that return many files frame them with NULs: `\0BOUNDARY NAME\0` starts a section, and
 * `grep -H -a -z '' FILE…` prints each file as one NUL-terminated `PATH:TEXT` record, so no text in
 * a file (a process name, a command line) can pass for a frame.
 */
export const REMOTE_SCRIPTS = {
  /** Who and what the server is, in one round trip (see preflight.ts). */
  preflight: [
    'echo "uid=$(id -u)"',
    'echo "user=$(id -un)"',
    'echo "hostname=$(uname -n)"',
    `printf 'order=%s\\n' "$(printf ab | od -An -tx2 | tr -d ' \\n')"`,
    `for p in ${PREFLIGHT_STAT_PATHS.map(quoteWord).join(' ')}; do`,
    '  printf stat=',
    ...STAT_PATH,
    'done',
    'for t in ss netstat ip nft iptables iptables-save ufw firewall-cmd tcpdump systemctl journalctl bash getent; do command -v "$t" >/dev/null 2>&1 && echo "tool=$t"; done',
    'echo "uptime=$(cat /proc/uptime)"',
    'echo --ip',
    'ip -o addr show 2>/dev/null',
    'exit 0',
  ].join('\n'),

  /**
   * /proc for the batched scans. $1 boundary, $2 the parts wanted (comm cmdline children fd
   * cgroup), then pids for fd and cgroup (all processes when none). `self` is this shell's pid.
   */
  proc: [
    'b=$1; parts=$2; shift 2; pids=$*',
    `sec() { printf '\\0%s %s\\0' "$b" "$1"; }`,
    'dirs() { if [ -z "$pids" ]; then for d in /proc/[0-9]*; do printf "%s/$1 " "$d"; done; else for p in $pids; do printf "/proc/%s/$1 " "$p"; done; fi; }',
    `sec self; printf '%s\\0' "$$"`,
    'for part in $parts; do',
    '  case $part in',
    `    comm|cmdline|children) sec "$part"; [ "$part" = children ] && f='task/*/children' || f=$part`,
    `      grep -H -a -z '' $(dirs "$f") 2>/dev/null ;;`,
    `    cgroup) sec cgroup; grep -H -a -z '' $(dirs cgroup) 2>/dev/null ;;`,
    `    fd) sec fd; find $(dirs fd) -maxdepth 1 -lname 'socket:*' -printf '%h/%f %l\\0' 2>&1 ;;`,
    `    netns) sec netns; find $(dirs ns) -maxdepth 1 -name net -printf '%h/%f %l\\0' 2>/dev/null`,
    `      sec netnames; for f in /run/netns/*; do [ -e "$f" ] && printf '%s %s\\0' "$(stat -L -c %i -- "$f")" "$f"; done ;;`,
    '  esac',
    'done',
    'exit 0',
  ].join('\n'),

  /** Unit files. $1 boundary, $2 the largest size read, then the directories in order. */
  units: [
    'b=$1; max=$2; shift 2',
    `sec() { printf '\\0%s %s\\0' "$b" "$1"; }`,
    `sec real; for d; do r=$(readlink -f -- "$d" 2>/dev/null) && [ -d "$r" ] && printf '%s\\0%s\\0' "$d" "$r"; done`,
    'sec files',
    `for d; do [ -d "$d" ] && find -L "$d" -mindepth 1 -maxdepth 2 -type f -size -"$((max + 1))"c \\( -path "$d/*.d/*.conf" -o ! -path "$d/*/*" \\) -print0; done 2>/dev/null | xargs -0 -r grep -H -a -z '' 2>/dev/null`,
    'exit 0',
  ].join('\n'),

  /** The end of a regular file: its size on the first line, then its last $2 bytes; exit 3 for anything but a regular file. */
  tail: ['[ -e "$1" ] && [ ! -f "$1" ] && exit 3', 'size=$(stat -L -c %s -- "$1") || exit 1', 'echo "$size"', 'exec tail -c "$2" -- "$1"'].join('\n'),

  /** Writes $2 into the existing file $1 (a tracefs control file): never creates one. */
  write: ['[ -e "$1" ] || { echo "$1: No such file or directory" >&2; exit 1; }', 'printf %s "$2" > "$1"'].join('\n'),

  /** `KIND SIZE MTIME RAWMODE UID GID LINK` per path (see STAT_PATH), `-` where it cannot be stat'ed. */
  stat: ['for p; do', ...STAT_PATH, 'done'].join('\n'),

  /**
   * One TCP connect from the server: $1 address, $2 port, $3 seconds. bash's /dev/tcp is the one
   * connect a stock server always has (nc and socat are not); exit 9 when there is no bash.
   */
  connect: ['command -v bash >/dev/null 2>&1 || exit 9', `exec timeout "$3" bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2"`].join('\n'),

  /**
   * One UDP probe from the server: $1 address, $2 port, $3 seconds in all, $4 the payload in hex,
   * $5 how long to wait for a reply after each try (udp-probe.ts udpSendTimes). bash's /dev/udp is
   * a connected socket, so an ICMP error comes back as the next read's error ("Connection refused",
   * "No route to host"). Prints `sent` per try and `reply` for a reply; exit 2 when the socket
   * cannot be connected, 3 when a write fails, 4 when a read fails (the error on stderr), 5 or 124
   * for silence, 9 without bash.
   */
  udp: [
    'command -v bash >/dev/null 2>&1 || exit 9',
    `exec timeout "$3" bash -c '`,
    'exec 3<>"/dev/udp/$0/$1" || exit 2',
    'p=; h=$2; while [ -n "$h" ]; do p="$p\\x${h:0:2}"; h=${h:2}; done',
    'for w in $3; do',
    '  printf "$p" >&3 || exit 3',
    '  echo sent',
    '  IFS= read -r -d "" -N 1 -t "$w" x <&3; s=$?',
    '  [ "$s" -eq 0 ] && { echo reply; exit 0; }',
    '  [ "$s" -le 128 ] && exit 4',
    'done',
    `exit 5' "$1" "$2" "$4" "$5"`,
  ].join('\n'),

  /** Prints $SSH_CONNECTION (which sudo would drop), then runs the rest. */
  connection: `printf 'ssh=%s\\n' "$SSH_CONNECTION"; exec "$@"`,
} as const;
