import { readFileSync, readlinkSync } from 'node:fs';

/** Whether this process has a mount namespace of its own (an ancestor's differs): mounts here never reach the machine. */
export function privateMounts(): boolean {
  const mine = readlinkSync('/proc/self/ns/mnt');
  let pid = process.ppid;
  for (let i = 0; i < 64 && pid > 1; i++) {
    try {
      if (readlinkSync(`/proc/${pid}/ns/mnt`) !== mine) return true;
      pid = Number(/^\d+ \(.*\) \S (\d+)/s.exec(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.[1] ?? 0);
    } catch {
      return false;
    }
  }
  return false;
}
