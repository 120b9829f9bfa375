import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';

/**
 * Network namespaces for tests that need an address that is this machine's but not loopback
 * (TESTBED.md). Each namespace gets a unique name per run (`wpt-it-<pid>-<n>`), lo up, and a veth
 * pair whose both ends stay inside it, so its addresses are real interface addresses and nothing
 * leaves the namespace. Optional files under /etc/netns/NAME/ (e.g. a private `hosts`) replace
 * /etc/… for what runs inside it.
 */

export interface NamespaceOptions {
  /** Addresses with their prefix, put on the namespace's veth, e.g. ['10.213.9.2/24']. */
  addresses?: string[];
  /** Files for /etc/netns/NAME/, e.g. { hosts: '127.0.0.1 localhost\n::1 localhost\n' }. */
  etc?: Record<string, string>;
}

export interface Namespace {
  readonly name: string;
  /** argv prefix that runs a command inside it. */
  readonly exec: readonly string[];
  /** Deletes the namespace and its /etc/netns files. Safe to call twice. */
  remove(): void;
}

let counter = 0;
const created = new Set<Namespace>();

// If the test process ends without its afterAll, still delete what it created (exit handlers are synchronous).
process.once('exit', () => removeAllNamespaces());

function ip(args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 5000 });
}

/**
 * Why namespaces cannot be used here, or undefined when they can: not root, no `ip`, or the
 * kernel refuses (tried for real with a throw-away namespace).
 */
export function netnsSkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'network namespaces need root (run the tests as root, e.g. in .ci/run)';
  const which = spawnSync('ip', ['-V'], { stdio: 'ignore' });
  if (which.error) return "the 'ip' command (iproute2) is missing: apt-get install -y iproute2";
  let ns: Namespace | undefined;
  try {
    ns = createNamespace({ addresses: ['10.213.9.2/24'] });
    return undefined;
  } catch (err) {
    return `cannot create a network namespace with a veth pair here: ${(err as Error).message.split('\n')[0]}`;
  } finally {
    ns?.remove();
  }
}

/** Creates a namespace with lo up and, when addresses are given, a veth pair carrying them. */
export function createNamespace(opts: NamespaceOptions = {}): Namespace {
  const n = counter++;
  const name = `wpt-it-${process.pid}-${n}`;
  const etcDir = `/etc/netns/${name}`;
  const ns: Namespace = {
    name,
    exec: ['ip', 'netns', 'exec', name],
    remove() {
      if (!created.delete(ns)) return;
      try {
        ip(['netns', 'del', name]);
      } catch {
        // already gone
      }
      rmSync(etcDir, { recursive: true, force: true });
    },
  };
  ip(['netns', 'add', name]);
  created.add(ns);
  try {
    ip(['-n', name, 'link', 'set', 'lo', 'up']);
    if (opts.addresses?.length) {
      // Both ends live in the namespace: the addresses are local, and nothing reaches the host.
      ip(['-n', name, 'link', 'add', 'wpt0', 'type', 'veth', 'peer', 'name', 'wpt1']);
      for (const a of opts.addresses) ip(['-n', name, 'addr', 'add', a, 'dev', 'wpt0']);
      ip(['-n', name, 'link', 'set', 'wpt0', 'up']);
      ip(['-n', name, 'link', 'set', 'wpt1', 'up']);
    }
    if (opts.etc) {
      mkdirSync(etcDir, { recursive: true });
      for (const [file, text] of Object.entries(opts.etc)) writeFileSync(`${etcDir}/${file}`, text);
    }
  } catch (err) {
    ns.remove();
    throw err;
  }
  return ns;
}

/** Removes every namespace this process created and has not removed yet. */
export function removeAllNamespaces(): void {
  for (const ns of [...created]) ns.remove();
}
