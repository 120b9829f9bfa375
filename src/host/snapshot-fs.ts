import type { FileInfo } from './host.js';
import type { ScanFs } from './scan.js';

class FsError extends Error {
  constructor(
    path: string,
    readonly code: string,
  ) {
    super(`${path}: ${code}`);
  }
}

/**
 * The files a remote scan script printed, served as the ScanFs the local scans read (scan.ts): so
 * the very same code decides who owns a socket or which process matches, on any host. Only what the
 * script sent exists; a directory it could not read says EACCES, as node:fs would.
 */
export class SnapshotFs implements ScanFs {
  readonly #files = new Map<string, string>();
  readonly #links = new Map<string, string>();
  readonly #dirs = new Map<string, Set<string>>();
  readonly #denied = new Set<string>();
  readonly #real = new Map<string, string>();
  readonly #inos = new Map<string, number>();
  /** The pid of the remote shell that printed the snapshot (its namespace is the own one). */
  self: number | undefined;

  private addEntry(path: string): void {
    const slash = path.lastIndexOf('/');
    const dir = path.slice(0, slash) || '/';
    const name = path.slice(slash + 1);
    let set = this.#dirs.get(dir);
    if (!set) {
      set = new Set();
      this.#dirs.set(dir, set);
      if (dir !== '/') this.addEntry(dir);
    }
    set.add(name);
  }

  file(path: string, text: string): void {
    this.#files.set(path, text);
    this.addEntry(path);
  }

  link(path: string, target: string): void {
    this.#links.set(path, target);
    this.addEntry(path);
  }

  dir(path: string): void {
    if (!this.#dirs.has(path)) {
      this.#dirs.set(path, new Set());
      this.addEntry(path);
    }
  }

  deny(path: string): void {
    this.#denied.add(path);
    this.addEntry(path);
  }

  readdir(path: string): string[] {
    if (this.#denied.has(path)) throw new FsError(path, 'EACCES');
    const set = this.#dirs.get(path);
    if (!set) throw new FsError(path, 'ENOENT');
    return [...set];
  }

  readFile(path: string): string {
    const text = this.#files.get(path);
    if (text === undefined) throw new FsError(path, 'ENOENT');
    return text;
  }

  readlink(path: string): string {
    const target = this.#links.get(path);
    if (target === undefined) throw new FsError(path, 'ENOENT');
    return target;
  }

  stat(path: string): FileInfo {
    const ino = this.#inos.get(path);
    if (ino !== undefined) return { kind: 'other', size: 0, mtimeMs: 0, ino };
    const text = this.#files.get(path);
    if (text !== undefined) return { kind: 'file', size: Buffer.byteLength(text), mtimeMs: 0 };
    if (this.#dirs.has(path)) return { kind: 'directory', size: 0, mtimeMs: 0 };
    throw new FsError(path, 'ENOENT');
  }

  realpath(path: string): string {
    const real = this.#real.get(path);
    if (real !== undefined) return real;
    if (this.#dirs.has(path)) return path;
    throw new FsError(path, 'ENOENT');
  }

  /** From the `proc` script: comm, cmdline, children and cgroup files, socket descriptors, and the script's own processes left out. */
  static fromProc(sections: Map<string, string[]>, boundary: string, pids: readonly number[] = []): SnapshotFs {
    const fs = new SnapshotFs();
    const self = sections.get('self')?.[0];
    fs.self = self ? Number(self) : undefined;
    const own = new Set<string>(self ? [self] : []);
    const cmdlines = sections.get('cmdline') ?? [];
    for (const rec of cmdlines) {
      const m = /^\/proc\/(\d+)\/cmdline:/.exec(rec);
      // The shell running the script, and timeout/sudo above it, carry the boundary in their argv;
      // its grep and find children are known by their own words.
      if (m && (rec.includes(boundary) || /^\/proc\/\d+\/cmdline:(grep -H -a -z|find \/proc\/)/.test(rec.replaceAll('\x00', ' ')))) own.add(m[1]!);
    }
    const pidOf = (path: string) => /^\/proc\/(\d+)\//.exec(path)?.[1];
    const files = (name: string, each: (path: string, text: string) => void) => {
      for (const rec of sections.get(name) ?? []) {
        const colon = rec.indexOf(':');
        if (colon < 0) continue;
        const path = rec.slice(0, colon);
        const pid = pidOf(path);
        if (pid && own.has(pid)) continue;
        each(path, rec.slice(colon + 1));
      }
    };
    // grep -z splits a file at its NULs: the records of one cmdline are its argv words.
    const argv = new Map<string, string[]>();
    files('cmdline', (path, word) => argv.set(path, [...(argv.get(path) ?? []), word]));
    for (const [path, words] of argv) fs.file(path, words.map((w) => `${w}\0`).join(''));
    files('comm', (path, text) => {
      fs.file(path, text);
      const dir = path.slice(0, path.lastIndexOf('/'));
      // A process is there when its comm is; kernel threads have an empty cmdline.
      if (!argv.has(`${dir}/cmdline`)) fs.file(`${dir}/cmdline`, '');
    });
    files('children', (path, text) => fs.file(path, text));
    files('cgroup', (path, text) => fs.file(path, text));
    for (const rec of (sections.get('fd') ?? []).flatMap((r) => r.split('\n'))) {
      const link = /^(\/proc\/(\d+)\/fd)\/(\d+) (socket:\[\d+\])$/.exec(rec);
      if (link) {
        if (!own.has(link[2]!)) fs.link(`${link[1]}/${link[3]}`, link[4]!);
        continue;
      }
      const denied = /^find: .(\/proc\/\d+\/fd).: Permission denied/.exec(rec);
      if (denied) fs.deny(denied[1]!);
      const gone = /^find: .\/proc\/(\d+)\/fd.: No such file/.exec(rec);
      if (gone) own.add(gone[1]!);
    }
    for (const pid of pids) if (!own.has(String(pid)) && !fs.#denied.has(`/proc/${pid}/fd`)) fs.dir(`/proc/${pid}/fd`);
    for (const rec of sections.get('netns') ?? []) {
      const m = /^(\/proc\/(\d+)\/ns\/net) (net:\[\d+\])$/.exec(rec);
      // The script's own shell stays: its namespace is the one whyport looks from.
      if (m) fs.link(m[1]!, m[3]!);
    }
    for (const rec of sections.get('netnames') ?? []) {
      const m = /^(\d+) (\/run\/netns\/.+)$/.exec(rec);
      if (m) {
        fs.#inos.set(m[2]!, Number(m[1]));
        fs.addEntry(m[2]!);
      }
    }
    // Every process seen has an fd directory (empty when it holds no sockets).
    for (const pid of fs.#dirs.get('/proc') ?? []) if (!own.has(pid) && !fs.#denied.has(`/proc/${pid}/fd`)) fs.dir(`/proc/${pid}/fd`);
    return fs;
  }

  /** From the `units` script: each directory's real path, and the unit files and drop-ins under it. */
  static fromUnitFiles(sections: Map<string, string[]>): SnapshotFs {
    const fs = new SnapshotFs();
    const real = sections.get('real') ?? [];
    for (let i = 0; i + 1 < real.length; i += 2) {
      fs.dir(real[i]!);
      fs.#real.set(real[i]!, real[i + 1]!);
    }
    for (const rec of sections.get('files') ?? []) {
      const colon = rec.indexOf(':');
      if (colon > 0) fs.file(rec.slice(0, colon), rec.slice(colon + 1));
    }
    return fs;
  }
}
