import { execFileSync } from 'node:child_process';
import { createNamespace, type Namespace } from './netns.js';

/**
 * Docker's bridge networking, rebuilt by hand (TESTBED.md): a "host" namespace with a bridge, a
 * "container" namespace on a veth behind it (default route via the bridge), and the nat table
 * Docker writes — PREROUTING and OUTPUT jump to a DOCKER chain (`-m addrtype --dst-type LOCAL`),
 * which holds one DNAT rule per published port, and MASQUERADE for the bridge's subnet. A client
 * namespace reaches the host on a veth of its own. Every rule lives in these namespaces only.
 */
export interface DockerLikeHost {
  readonly host: Namespace;
  readonly container: Namespace;
  readonly client: Namespace;
  /** The host's address as the client sees it. */
  readonly hostAddress: string;
  readonly clientAddress: string;
  /** The container's address on the bridge. */
  readonly containerAddress: string;
  readonly bridge: string;
  /** `-p hostPort:containerPort`: the DNAT rule Docker adds to its DOCKER chain. */
  publish(hostPort: number, containerPort: number): void;
  unpublish(hostPort: number, containerPort: number): void;
  /** The nat table as iptables-save prints it in the host namespace. */
  natTable(): string;
  remove(): void;
}

let counter = 0;

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 5_000 });
}

function inNs(ns: Namespace, argv: string[]): string {
  return execFileSync(ns.exec[0]!, [...ns.exec.slice(1), ...argv], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 5_000, encoding: 'utf8' });
}

export function dockerLikeHost(): DockerLikeHost {
  const n = (process.pid % 200) + 20 + (counter++ % 30);
  const host = createNamespace();
  const container = createNamespace();
  const client = createNamespace();
  const tag = `${process.pid % 1000}${counter}`;
  const bridge = `wpb${tag}`;
  const remove = () => {
    for (const ns of [client, container, host]) ns.remove();
  };
  try {
    const containerAddress = `172.30.${n}.2`;
    const hostAddress = `10.214.${n}.2`;
    const clientAddress = `10.214.${n}.1`;
    // The bridge and the container's veth.
    ip('-n', host.name, 'link', 'add', bridge, 'type', 'bridge');
    ip('-n', host.name, 'addr', 'add', `172.30.${n}.1/24`, 'dev', bridge);
    ip('-n', host.name, 'link', 'set', bridge, 'up');
    ip('link', 'add', `wph${tag}`, 'type', 'veth', 'peer', 'name', `wpk${tag}`);
    ip('link', 'set', `wph${tag}`, 'netns', host.name);
    ip('link', 'set', `wpk${tag}`, 'netns', container.name);
    ip('-n', host.name, 'link', 'set', `wph${tag}`, 'master', bridge, 'up');
    ip('-n', container.name, 'addr', 'add', `${containerAddress}/24`, 'dev', `wpk${tag}`);
    ip('-n', container.name, 'link', 'set', `wpk${tag}`, 'up');
    ip('-n', container.name, 'link', 'set', 'lo', 'up');
    ip('-n', container.name, 'route', 'add', 'default', 'via', `172.30.${n}.1`);
    // The client's veth to the host.
    ip('link', 'add', `wpc${tag}`, 'type', 'veth', 'peer', 'name', `wps${tag}`);
    ip('link', 'set', `wpc${tag}`, 'netns', client.name);
    ip('link', 'set', `wps${tag}`, 'netns', host.name);
    ip('-n', client.name, 'addr', 'add', `${clientAddress}/24`, 'dev', `wpc${tag}`);
    ip('-n', host.name, 'addr', 'add', `${hostAddress}/24`, 'dev', `wps${tag}`);
    ip('-n', client.name, 'link', 'set', `wpc${tag}`, 'up');
    ip('-n', host.name, 'link', 'set', `wps${tag}`, 'up');
    for (const ns of [host, client]) ip('-n', ns.name, 'link', 'set', 'lo', 'up');
    inNs(host, ['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    // What dockerd writes (moby's iptables setup for the default bridge).
    const nat = (...rule: string[]) => inNs(host, ['iptables', '-t', 'nat', ...rule]);
    nat('-N', 'DOCKER');
    nat('-A', 'PREROUTING', '-m', 'addrtype', '--dst-type', 'LOCAL', '-j', 'DOCKER');
    nat('-A', 'OUTPUT', '!', '-d', '127.0.0.0/8', '-m', 'addrtype', '--dst-type', 'LOCAL', '-j', 'DOCKER');
    nat('-A', 'POSTROUTING', '-s', `172.30.${n}.0/24`, '!', '-o', bridge, '-j', 'MASQUERADE');
    nat('-A', 'DOCKER', '-i', bridge, '-j', 'RETURN');
    const rule = (hostPort: number, containerPort: number) => ['DOCKER', '!', '-i', bridge, '-p', 'tcp', '-m', 'tcp', '--dport', String(hostPort), '-j', 'DNAT', '--to-destination', `${containerAddress}:${containerPort}`];
    return {
      host,
      container,
      client,
      hostAddress,
      clientAddress,
      containerAddress,
      bridge,
      publish: (h, c) => void nat('-A', ...rule(h, c)),
      unpublish: (h, c) => void nat('-D', ...rule(h, c)),
      natTable: () => inNs(host, ['iptables-save', '-t', 'nat']),
      remove,
    };
  } catch (err) {
    remove();
    throw err;
  }
}
