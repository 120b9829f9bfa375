// Which container a process runs in, told by the cgroup path the runtime put it in. That path is
// the one thing every runtime leaves readable in /proc without its CLI (docker, podman, crictl may
// be missing, or refuse a non-root user), and it names the runtime and usually the container id.

/** The container a process belongs to, as far as its cgroup tells. */
export interface ContainerRef {
  /** Who made the container; a Kubernetes pod's container is `kubernetes` whatever engine runs it (see `engine`). */
  runtime: 'docker' | 'podman' | 'containerd' | 'cri-o' | 'kubernetes' | 'nspawn' | 'lxc';
  /** The container id (64 hex digits for Docker, Podman, containerd and CRI-O), when the path has one. */
  id?: string;
  /** For Kubernetes: the pod's UID, with its dashes (`0125ec2f-b64a-4868-8f5b-94b56cbab864`). */
  pod?: string;
  /** For nspawn and LXC: the machine or container name (Docker and Podman names are not in the cgroup). */
  name?: string;
  /** For Kubernetes: the engine under the kubelet, when the path says (`cri-containerd-…`, `crio-…`, `docker-…`). */
  engine?: 'docker' | 'containerd' | 'cri-o';
  /** The cgroup path the answer was read from, e.g. `/system.slice/docker-<id>.scope`. */
  cgroup: string;
}

const ID = /^[0-9a-f]{64}$/;
/** Old Docker versions and some tools shorten ids; under a `/docker/` parent any hex name is one. */
const SHORT_ID = /^[0-9a-f]{12,64}$/;

/** What one path segment says. */
type Segment =
  | { kind: 'container'; ref: Omit<ContainerRef, 'cgroup'> }
  /** A runtime's own process watching a container (conmon, lxc monitor, nspawn's supervisor): not inside it. */
  | { kind: 'monitor' }
  /** A Kubernetes pod's slice or directory, with its UID when the segment has one. */
  | { kind: 'pod'; uid?: string }
  | { kind: 'other' };

/**
 * The container a process runs in, from the text of its /proc/PID/cgroup: cgroup v2
 * (`0::/system.slice/docker-<id>.scope`), v1 (`12:pids:/docker/<id>`) or both (hybrid hosts,
 * where the v2 line may name containerd.service while the v1 lines name the container). Docker,
 * Podman, containerd, CRI-O, Kubernetes pods (systemd and cgroupfs drivers, containerd's
 * `slice:cri-containerd:id` form), systemd-nspawn and LXC are recognised. Nested containers (a
 * kind node's pods, an nspawn machine inside another) give the innermost one. A runtime's monitor
 * (Podman's and CRI-O's conmon, `lxc.monitor`, nspawn's `supervisor`) is not its container: such a
 * process is where the monitor itself runs, usually on the host. Undefined for a host process, and
 * when a cgroup namespace hides the path (`0::/`, `0::/..` as seen from inside a container).
 */
export function containerOfCgroup(text: string): ContainerRef | undefined {
  const lines: { controllers: string; path: string }[] = [];
  for (const raw of text.split('\n')) {
    // hierarchy-ID:controller-list:path — the path itself may hold colons (containerd's form).
    const m = /^(\d+):([^:]*):(.*)$/.exec(raw.trim());
    if (m) lines.push({ controllers: m[2]!, path: m[3]! });
  }
  // The unified hierarchy is the one the runtime manages on v2 hosts; on v1 name=systemd is where
  // systemd-based runtimes put the unit; then the other controllers in file order.
  const rank = (l: { controllers: string }) => (l.controllers === '' ? 0 : l.controllers === 'name=systemd' ? 1 : 2);
  const ordered = lines.map((l, i) => ({ l, i })).sort((a, b) => rank(a.l) - rank(b.l) || a.i - b.i);
  for (const { l } of ordered) {
    const ref = containerOfPath(l.path);
    if (ref) return { ...ref, cgroup: l.path };
  }
  return undefined;
}

/** The innermost container of one cgroup path. */
function containerOfPath(path: string): Omit<ContainerRef, 'cgroup'> | undefined {
  const parts = path.split('/').filter((p) => p !== '');
  // Each container found is nested in the one before it; `at` is the segment that named it.
  const stack: { ref: Omit<ContainerRef, 'cgroup'>; at: number }[] = [];
  let pod: { uid?: string } | undefined;
  for (let i = 0; i < parts.length; i++) {
    const seg = segment(parts, i);
    if (seg.kind === 'pod') {
      if (seg.uid !== undefined) pod = { uid: seg.uid };
      else pod ??= {};
      continue;
    }
    if (seg.kind === 'monitor') {
      // A monitor sits beside its container (conmon's scope) or right under it (nspawn's
      // supervisor, podman's cgroupfs `conmon`): the process is in whatever holds the monitor.
      if (stack.length > 0 && stack[stack.length - 1]!.at === i - 1) stack.pop();
      return stack[stack.length - 1]?.ref;
    }
    if (seg.kind !== 'container') continue;
    // nspawn's `payload` right under its unit is that same container, not one nested in it.
    if (parts[i] === 'payload' && i > 0 && isNspawnUnit(parts[i - 1]!)) continue;
    let ref = seg.ref;
    if (pod && (ref.runtime === 'docker' || ref.runtime === 'containerd' || ref.runtime === 'cri-o' || ref.runtime === 'kubernetes')) {
      const engine = ref.runtime === 'kubernetes' ? ref.engine : ref.runtime;
      ref = { runtime: 'kubernetes', ...(ref.id !== undefined ? { id: ref.id } : {}), ...(pod.uid !== undefined ? { pod: pod.uid } : {}), ...(engine ? { engine } : {}) };
      pod = undefined;
    }
    stack.push({ ref, at: i });
  }
  return stack[stack.length - 1]?.ref;
}

/** A `supervisor` under an nspawn unit (or at the root, for an nspawn that made no unit) ends that container. */
function isNspawnMonitorOf(parts: readonly string[], i: number): boolean {
  return parts[i] === 'supervisor' && (i === 0 || isNspawnUnit(parts[i - 1]!));
}

function isNspawnUnit(part: string): boolean {
  return nspawnName(part) !== undefined;
}

/** The machine name of an nspawn unit (`machine-<name>.scope`, `systemd-nspawn@<name>.service`). */
function nspawnName(part: string): string | undefined {
  const svc = /^systemd-nspawn@(.+)\.service$/.exec(part);
  if (svc) return unescapeUnit(svc[1]!);
  const scope = /^machine-(.+)\.scope$/.exec(part);
  if (!scope) return undefined;
  const name = unescapeUnit(scope[1]!);
  // machined also registers libvirt's guests (machine-qemu\x2d1\x2dvm.scope): those are VMs.
  if (/^(qemu|lxc|libvirt)-\d+-/.test(name)) return undefined;
  return name;
}

/** systemd writes `-` and other characters in unit names as `\xNN`. */
function unescapeUnit(s: string): string {
  return s.replace(/\\x([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

/** A pod UID as the kubelet writes it in systemd slice names (`_` for `-`) or cgroupfs directories. */
function podUid(raw: string): string {
  return raw.replace(/_/g, '-');
}

function segment(parts: readonly string[], i: number): Segment {
  const part = parts[i]!;
  const prev = i > 0 ? parts[i - 1]! : undefined;
  let m: RegExpExecArray | null;

  // containerd with the systemd driver on cgroup v1: `kubepods-besteffort-pod<uid>.slice:cri-containerd:<id>`.
  if ((m = /^([^:]+\.slice):(cri-containerd|crio|docker):([0-9a-f]+)$/.exec(part))) {
    const uid = /-pod([0-9a-f_-]+)\.slice$/.exec(m[1]!)?.[1];
    const engine = m[2] === 'cri-containerd' ? 'containerd' : m[2] === 'crio' ? 'cri-o' : 'docker';
    if (/^(?:kubelet-)?kubepods\b/.test(m[1]!)) {
      return { kind: 'container', ref: { runtime: 'kubernetes', id: m[3]!, ...(uid ? { pod: podUid(uid) } : {}), engine } };
    }
    return { kind: 'container', ref: { runtime: engine, id: m[3]! } };
  }

  // Kubernetes pods: systemd slices and cgroupfs directories (kind nests them under kubelet.slice).
  if ((m = /^(?:kubelet-)?kubepods(?:-(?:besteffort|burstable|guaranteed))?-pod([0-9a-f_-]+)\.slice$/.exec(part))) return { kind: 'pod', uid: podUid(m[1]!) };
  if (/^(?:kubelet-)?kubepods(?:-(?:besteffort|burstable|guaranteed))?\.slice$/.test(part) || part === 'kubepods') return { kind: 'pod' };
  if ((m = /^pod([0-9a-f][0-9a-f-]{7,})$/.exec(part)) && parts.slice(0, i).some((p) => p === 'kubepods' || p.startsWith('kubepods'))) return { kind: 'pod', uid: m[1]! };

  // Monitors first: their names start like the containers they watch.
  if (/^libpod-conmon-[0-9a-f]+\.scope$/.test(part) || /^crio-conmon-[0-9a-f]+\.scope$/.test(part)) return { kind: 'monitor' };
  if (part === 'conmon' && prev !== undefined && /^libpod-[0-9a-f]+$/.test(prev)) return { kind: 'monitor' };
  if (/^lxc\.monitor(\..+)?$/.test(part)) return { kind: 'monitor' };
  if (isNspawnMonitorOf(parts, i)) return { kind: 'monitor' };

  if ((m = /^docker-([0-9a-f]{64})\.scope$/.exec(part))) return { kind: 'container', ref: { runtime: 'docker', id: m[1]! } };
  if (prev === 'docker' && SHORT_ID.test(part)) return { kind: 'container', ref: { runtime: 'docker', id: part } };
  if ((m = /^libpod-([0-9a-f]{64})(?:\.scope)?$/.exec(part))) return { kind: 'container', ref: { runtime: 'podman', id: m[1]! } };
  if ((m = /^cri-containerd-([0-9a-f]{64})\.scope$/.exec(part))) return { kind: 'container', ref: { runtime: 'containerd', id: m[1]! } };
  if ((m = /^crio-([0-9a-f]{64})(?:\.scope)?$/.exec(part))) return { kind: 'container', ref: { runtime: 'cri-o', id: m[1]! } };
  // cgroupfs driver: the container id is a bare directory under the pod's.
  if (ID.test(part) && prev !== undefined && /^pod[0-9a-f]/.test(prev)) return { kind: 'container', ref: { runtime: 'kubernetes', id: part } };

  const nspawn = nspawnName(part);
  if (nspawn !== undefined) return { kind: 'container', ref: { runtime: 'nspawn', name: nspawn } };
  // An nspawn that made no unit of its own (--keep-unit, no systemd on the host) still splits its
  // cgroup into payload and supervisor; at the root of the hierarchy that is the whole container.
  if (part === 'payload' && (i === 0 || (prev !== undefined && isNspawnUnit(prev)))) return { kind: 'container', ref: { runtime: 'nspawn' } };

  if ((m = /^lxc\.payload\.(.+)$/.exec(part))) return { kind: 'container', ref: { runtime: 'lxc', name: m[1]! } };
  if ((prev === 'lxc.payload' || prev === 'lxc') && i === 1) return { kind: 'container', ref: { runtime: 'lxc', name: part } };
  return { kind: 'other' };
}
