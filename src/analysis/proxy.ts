// Userland forwarders: programs that listen on a port and copy each connection elsewhere. Unlike a
// DNAT rule they hold the port themselves, so ss shows them as its owner (docker-proxy for a
// published Docker port, rootlessport for rootless Podman, socat or `ssh -L` set up by hand); only
// their command line says where the connections go.

/** Where a userland forwarder sends the connections it accepts on a port. */
export interface ProxyForward {
  via: 'proxy';
  /** The program, as its command line names it (`docker-proxy`, `socat`, `rootlessport`, `ssh`…). */
  program: string;
  /** Where it connects to; undefined when the command line does not say (rootlessport, slirp4netns, socat to a Unix socket…). */
  to: { address: string; port: number } | undefined;
  /** What it listens on, when the command line says (docker-proxy's -host-ip, socat's bind=, ssh's bind_address). */
  listen?: { address: string; port: number };
  /** The command line, words separated by spaces. */
  rule: string;
  /** The transport forwarded, when the command line says. */
  protocol?: 'tcp' | 'udp' | 'sctp';
  /** Why `to` is missing, or what else the caller should know, in words for a report. */
  note?: string;
}

/**
 * What a forwarding program's command line says about `port`: docker-proxy (and rootless Docker's
 * rootlesskit-docker-proxy), socat, `ssh -L`/`-D`, rootlessport and slirp4netns. `commandLine`
 * is either `pgrep -a`'s words joined by spaces (without the pid) or /proc/PID/cmdline as read
 * (NUL-separated). docker-proxy, socat and ssh count only when the port they listen on is `port`;
 * rootlessport and slirp4netns take their ports from stdin or an API socket, so their command line
 * can never be matched to a port and they always answer, with `to: undefined`. Any other program:
 * undefined.
 */
export function proxyForward(commandLine: string, port: number): ProxyForward | undefined {
  const argv = commandLine.includes('\0') ? commandLine.split('\0').filter((w) => w !== '') : commandLine.trim().split(/\s+/);
  if (argv.length === 0 || argv[0] === '') return undefined;
  const rule = argv.join(' ');
  const program = argv[0]!.split('/').pop()!;
  const args = argv.slice(1);
  switch (program) {
    case 'docker-proxy':
    case 'rootlesskit-docker-proxy':
      return dockerProxy(program, args, port, rule);
    case 'socat':
      return socat(args, port, rule);
    case 'ssh':
      return sshForward(args, port, rule);
    case 'rootlessport':
      return { via: 'proxy', program, to: undefined, rule, note: 'rootlessport reads its port mappings from stdin; `podman port CONTAINER` lists them' };
    case 'slirp4netns':
      return { via: 'proxy', program, to: undefined, rule, note: "slirp4netns forwards the ports added through its API socket (Podman's port_handler=slirp4netns); `podman port CONTAINER` lists them" };
    default:
      return undefined;
  }
}

/** Go's flag package: `-name value`, `-name=value`, `--name value`; booleans take no value. */
function goFlags(args: readonly string[], booleans: ReadonlySet<string>): Map<string, string> {
  const flags = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const m = /^--?([^=]+)(?:=(.*))?$/.exec(args[i]!);
    if (!m) continue;
    const name = m[1]!;
    if (m[2] !== undefined) flags.set(name, m[2]);
    else if (booleans.has(name)) flags.set(name, 'true');
    else if (i + 1 < args.length) flags.set(name, args[++i]!);
  }
  return flags;
}

function dockerProxy(program: string, args: readonly string[], port: number, rule: string): ProxyForward | undefined {
  const f = goFlags(args, new Set(['use-listen-fd', 'v', 'version']));
  const hostPort = Number(f.get('host-port'));
  if (hostPort !== port) return undefined;
  const proto = f.get('proto') ?? 'tcp';
  const out: ProxyForward = { via: 'proxy', program, to: undefined, listen: { address: f.get('host-ip') ?? '0.0.0.0', port: hostPort }, rule };
  if (proto === 'tcp' || proto === 'udp' || proto === 'sctp') out.protocol = proto;
  const containerIp = f.get('container-ip');
  const containerPort = Number(f.get('container-port'));
  if (containerIp !== undefined && Number.isInteger(containerPort) && containerPort > 0) out.to = { address: containerIp, port: containerPort };
  return out;
}

// socat addresses are TYPE:params,options, TYPE case-insensitive, with abbreviations (TCP-L).
const SOCAT_LISTEN = /^(tcp|tcp4|tcp6|udp|udp4|udp6|sctp|sctp4|sctp6)-(?:listen|l|recvfrom|recv):(\d+)((?:,.*)?)$/i;
const SOCAT_CONNECT = /^(tcp|tcp4|tcp6|udp|udp4|udp6|sctp|sctp4|sctp6)(?:-(?:connect|sendto|datagram))?:(\[[^\]]+\]|[^:,]+):(\d+)(?:,.*)?$/i;

function socat(args: readonly string[], port: number, rule: string): ProxyForward | undefined {
  // Options come first and start with '-' (a lone '-' is stdio, an address); the two addresses
  // are told apart by their type, not their position, so an option's argument cannot pass for one.
  const addresses = args.filter((a) => !a.startsWith('-') || a === '-');
  const listenAt = addresses.findIndex((a) => SOCAT_LISTEN.test(a));
  if (listenAt < 0) return undefined;
  const l = SOCAT_LISTEN.exec(addresses[listenAt]!)!;
  if (Number(l[2]) !== port) return undefined;
  const family6 = l[1]!.endsWith('6') || /,pf=ip6\b/i.test(l[3]!);
  const bind = /,bind=(\[[^\]]+\]|[^,]+)/i.exec(l[3]!)?.[1];
  const out: ProxyForward = { via: 'proxy', program: 'socat', to: undefined, listen: { address: bind ? unbracket(bind) : family6 ? '::' : '0.0.0.0', port }, rule };
  const type = l[1]!.toLowerCase();
  out.protocol = type.startsWith('udp') ? 'udp' : type.startsWith('sctp') ? 'sctp' : 'tcp';
  const other = addresses.find((_, i) => i !== listenAt);
  const c = other === undefined ? null : SOCAT_CONNECT.exec(other);
  if (c) out.to = { address: unbracket(c[2]!), port: Number(c[3]) };
  else out.note = other === undefined ? 'socat names no second address' : `socat sends the connections to ${other}, not to a network address`;
  return out;
}

/** `ssh -L [bind:]port:host:hostport` (also attached, `-L8080:…`) and `-D [bind:]port`. */
function sshForward(args: readonly string[], port: number, rule: string): ProxyForward | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const flag = /^-([LD])(.*)$/.exec(a);
    if (!flag) continue;
    const spec = flag[2] !== '' ? flag[2]! : (args[++i] ?? '');
    const parts = splitColons(spec);
    if (flag[1] === 'L' && (parts.length === 3 || parts.length === 4)) {
      const [bind, listenPort, host, hostPort] = parts.length === 4 ? parts : [undefined, ...parts];
      if (Number(listenPort) !== port || !/^\d+$/.test(hostPort!)) continue;
      // Without a bind address ssh listens on loopback only (GatewayPorts no, the default).
      const listen = bind === undefined || bind === '' || bind === 'localhost' ? '127.0.0.1' : bind === '*' ? '0.0.0.0' : bind;
      return { via: 'proxy', program: 'ssh', to: { address: host!, port: Number(hostPort) }, listen: { address: listen, port }, rule, protocol: 'tcp', note: 'ssh forwards to that address as seen from the far end of the ssh connection' };
    }
    if (flag[1] === 'D' && (parts.length === 1 || parts.length === 2)) {
      const [bind, listenPort] = parts.length === 2 ? parts : [undefined, parts[0]];
      if (Number(listenPort) !== port) continue;
      const listen = bind === undefined || bind === '' || bind === 'localhost' ? '127.0.0.1' : bind === '*' ? '0.0.0.0' : bind;
      return { via: 'proxy', program: 'ssh', to: undefined, listen: { address: listen, port }, rule, protocol: 'tcp', note: 'ssh -D is a SOCKS proxy: each client names its own destination' };
    }
  }
  return undefined;
}

/** Splits on colons outside brackets, dropping the brackets: `127.0.0.1:8087:[fd00::7]:443` → 4 parts. */
function splitColons(spec: string): string[] {
  const parts: string[] = [];
  let cur = '';
  let depth = 0;
  for (const ch of spec) {
    if (ch === '[') depth++;
    else if (ch === ']') depth--;
    else if (ch === ':' && depth === 0) {
      parts.push(cur);
      cur = '';
      continue;
    }
    if (ch !== '[' && ch !== ']') cur += ch;
  }
  parts.push(cur);
  return parts;
}

function unbracket(a: string): string {
  return a.replace(/^\[(.*)\]$/, '$1');
}
