import type { Report, StepRecord } from '../../src/report/model.js';

// Hand-built reports shaped like real whyport runs: the steps, commands and journal lines are what
// the built-in playbook produces on a Debian 12 host for each situation.

const playbook = { name: 'default', source: 'playbooks/default.yaml' };

/** Which whyport ran, where and when: pinned, as diagnose() pins them from its clock and hostname. */
export const run = { version: '0.1.0', host: 'app1', startedAt: '2026-03-14T09:26:53Z' };

const localTarget = (port: number, portName?: string) => ({
  host: '10.0.0.5',
  address: '10.0.0.5',
  port,
  protocol: 'tcp' as const,
  local: true,
  ...(portName ? { portName } : {}),
});

const isLocal: StepRecord = {
  id: 'target',
  check: 'local-address',
  outcome: 'local',
  summary: '10.0.0.5 is an address of this machine',
  command: 'ip -br addr',
  durationMs: 2,
  evidence: { address: '10.0.0.5', interface: 'eth0' },
  status: 'info',
};

/** The seed scenario: myapp crashed on start because its config file is missing. */
export const serviceFailed: Report = {
  version: 1,
  whyport: run,
  target: localTarget(7071),
  playbook,
  steps: [
    isLocal,
    {
      id: 'sockets',
      check: 'sockets',
      outcome: 'none',
      summary: 'no socket on port 7071 in any state',
      command: "ss -Htan '( sport = :7071 or dport = :7071 )'",
      durationMs: 9,
      evidence: { port: 7071, sockets: [] },
      status: 'fail',
    },
    {
      id: 'listening',
      check: 'listeners',
      outcome: 'none',
      summary: 'nothing listens on port 7071',
      command: "ss -Htlnp 'sport = :7071'",
      durationMs: 14,
      evidence: { port: 7071, listeners: [] },
      status: 'fail',
    },
    {
      id: 'which-process',
      check: 'ask',
      outcome: 'answered',
      summary: 'you named the process: myapp',
      command: '',
      durationMs: 4210,
      evidence: { answer: 'myapp' },
      status: 'info',
    },
    {
      id: 'process',
      check: 'process',
      outcome: 'not-running',
      summary: 'myapp is not running',
      command: 'pgrep -a myapp',
      durationMs: 6,
      evidence: { name: 'myapp', pids: [] },
      status: 'fail',
    },
    {
      id: 'unit',
      check: 'unit',
      outcome: 'failed',
      summary: 'myapp.service has failed (exit status 1)',
      command: 'systemctl status myapp',
      durationMs: 37,
      evidence: {
        unit: 'myapp.service',
        activeState: 'failed',
        subState: 'failed',
        result: 'exit-code',
        execMainStatus: 1,
        journal: [
          'Main process exited, code=exited, status=1/FAILURE',
          'myapp[44]: myapp: cannot open /etc/myapp/myapp.conf',
        ],
      },
      status: 'fail',
    },
  ],
  diagnosis: {
    code: 'SERVICE_FAILED',
    title: 'myapp.service has failed',
    explanation:
      'Nothing listens on port 7071 because myapp is not running. The service manager started ' +
      'myapp.service and the process exited with status 1, so systemd marked the unit failed and ' +
      'will not start it again by itself. The journal lines below say why it exited.',
    evidence: [
      'Main process exited, code=exited, status=1/FAILURE',
      'myapp[44]: myapp: cannot open /etc/myapp/myapp.conf',
    ],
    fix: { summary: 'Fix the cause shown in the journal, then start the service again', commands: ['systemctl start myapp'] },
    applied: null,
  },
  durationMs: 4291,
};

/** Seen from a client: the database answers, so the trouble is above TCP. */
export const reachable: Report = {
  version: 1,
  whyport: run,
  target: { host: 'db.example', address: '10.0.0.5', port: 5432, protocol: 'tcp', local: false, portName: 'postgresql', addresses: ['10.0.0.5'] },
  playbook,
  steps: [
    {
      id: 'resolve',
      check: 'dns',
      outcome: 'resolved',
      summary: 'db.example resolves to 10.0.0.5',
      command: 'getent ahosts db.example',
      durationMs: 3,
      evidence: { addresses: ['10.0.0.5'] },
      status: 'pass',
    },
    {
      id: 'target',
      check: 'local-address',
      outcome: 'remote',
      summary: '10.0.0.5 is not an address of this machine',
      command: 'ip -br addr',
      durationMs: 1,
      evidence: { address: '10.0.0.5' },
      status: 'info',
    },
    {
      id: 'connect',
      check: 'connect',
      outcome: 'connected',
      summary: 'connected to 10.0.0.5:5432 in 1 ms',
      command: 'nc -vz -w 3 10.0.0.5 5432',
      durationMs: 2,
      evidence: { address: '10.0.0.5', port: 5432, result: 'connected', rttMs: 1 },
      status: 'pass',
    },
  ],
  diagnosis: {
    code: 'REACHABLE',
    title: 'db.example:5432 accepts connections',
    explanation:
      'A TCP connection to 10.0.0.5 on port 5432 succeeds from this machine. If your program still ' +
      'cannot connect, the problem is above TCP: check the host name and port it really uses, TLS, ' +
      'authentication (pg_hba.conf), or a proxy setting in its environment.',
    fix: null,
    applied: null,
  },
  durationMs: 12,
};

/** python3 -m http.server --bind 127.0.0.1: listening, but only for this machine. */
export const boundToLoopback: Report = {
  version: 1,
  whyport: run,
  target: localTarget(8080, 'http-alt'),
  playbook,
  steps: [
    isLocal,
    {
      id: 'listening',
      check: 'listeners',
      outcome: 'found',
      summary: 'python3 (pid 812) listens on 127.0.0.1:8080',
      command: "ss -Htlnp 'sport = :8080'",
      durationMs: 11,
      evidence: { listeners: [{ address: '127.0.0.1', port: 8080, process: 'python3', pid: 812 }] },
      status: 'pass',
    },
    {
      id: 'bind-address',
      check: 'bind',
      outcome: 'loopback-only',
      summary: 'it listens on loopback only, and 10.0.0.5 is not a loopback address',
      command: "ss -Htln 'sport = :8080'",
      durationMs: 1,
      evidence: { bound: ['127.0.0.1'], target: '10.0.0.5' },
      status: 'fail',
    },
  ],
  diagnosis: {
    code: 'BOUND_TO_LOOPBACK',
    title: 'python3 listens on 127.0.0.1:8080 only',
    explanation:
      'python3 (pid 812) accepts connections on the loopback address 127.0.0.1 only, so programs on ' +
      'this machine reach it and nothing else does: connections to 10.0.0.5:8080 are refused. ' +
      'Make it listen on 0.0.0.0 (every address) or on 10.0.0.5: the option is usually called ' +
      'bind, listen or host in its configuration or command line.',
    evidence: ['LISTEN 0      5          127.0.0.1:8080      0.0.0.0:*    users:(("python3",pid=812,fd=3))'],
    fix: {
      summary: 'Restart it listening on every address (python3 -m http.server takes --bind)',
      commands: ['kill 812', 'python3 -m http.server 8080 --bind 0.0.0.0'],
    },
    applied: null,
  },
  durationMs: 58,
};

/** A client behind a silent network: timeouts and no tool to tell a dead host from a filter. */
export const inconclusive: Report = {
  version: 1,
  whyport: run,
  target: { host: 'api.internal', address: '10.2.3.4', port: 443, protocol: 'tcp', local: false, portName: 'https', addresses: ['10.2.3.4', 'fd00:2::4'] },
  playbook,
  steps: [
    {
      id: 'resolve',
      check: 'dns',
      outcome: 'resolved',
      summary: 'api.internal resolves to 10.2.3.4 and fd00:2::4',
      command: 'getent ahosts api.internal',
      durationMs: 18,
      evidence: { addresses: ['10.2.3.4', 'fd00:2::4'] },
      status: 'pass',
    },
    {
      id: 'connect',
      check: 'connect',
      outcome: 'timeout',
      summary: 'no answer from 10.2.3.4:443 within 3 s',
      command: 'nc -vz -w 3 10.2.3.4 443',
      durationMs: 3004,
      evidence: { address: '10.2.3.4', port: 443, result: 'timeout', timeoutMs: 3000 },
      status: 'fail',
    },
    {
      id: 'ping',
      check: 'ping',
      outcome: 'missing-tool',
      summary: 'ping is not installed, so whether the host is up cannot be told',
      command: 'ping -c 3 -W 1 10.2.3.4',
      durationMs: 4,
      evidence: { tool: 'ping', error: 'ENOENT' },
      status: 'info',
    },
    {
      id: 'route',
      check: 'route',
      outcome: 'via-gateway',
      summary: 'packets to 10.2.3.4 leave through eth0 via 10.0.0.1',
      command: 'ip route get 10.2.3.4',
      durationMs: 3,
      evidence: { dev: 'eth0', via: '10.0.0.1', src: '10.0.0.7' },
      status: 'info',
    },
  ],
  diagnosis: {
    code: 'INCONCLUSIVE',
    title: 'Cannot tell a down host from a filtered port',
    explanation:
      'Connections to 10.2.3.4:443 get no answer at all, which is what both a host that is down and ' +
      'a firewall that drops packets look like. Without ping there is no second probe to tell them ' +
      'apart. Install it (apt-get install iputils-ping) and run whyport again, or run whyport on ' +
      'api.internal itself.',
    evidence: ['connect 10.2.3.4:443: no answer within 3000 ms', 'ping: command not found'],
    fix: null,
    applied: null,
  },
  durationMs: 3031,
};

/** nginx was stopped; the user let whyport start it, and the re-check found port 80 open. */
export const appliedVerified: Report = {
  version: 1,
  whyport: run,
  target: localTarget(80, 'http'),
  playbook,
  steps: [
    isLocal,
    {
      id: 'listening',
      check: 'listeners',
      outcome: 'none',
      summary: 'nothing listens on port 80',
      command: "ss -Htlnp 'sport = :80'",
      durationMs: 12,
      evidence: { port: 80, listeners: [] },
      status: 'fail',
    },
    {
      id: 'guess-process',
      check: 'port-owner',
      outcome: 'guessed',
      summary: 'port 80 is http; nginx.service is installed and usually serves it',
      command: 'systemctl list-unit-files nginx.service',
      durationMs: 29,
      evidence: { candidates: ['nginx.service'] },
      status: 'info',
    },
    {
      id: 'unit',
      check: 'unit',
      outcome: 'inactive',
      summary: 'nginx.service is inactive (dead) and disabled',
      command: 'systemctl status nginx',
      durationMs: 31,
      evidence: { unit: 'nginx.service', activeState: 'inactive', subState: 'dead', unitFileState: 'disabled' },
      status: 'fail',
    },
  ],
  diagnosis: {
    code: 'SERVICE_INACTIVE',
    title: 'nginx.service is stopped',
    explanation:
      'nginx.service is installed but stopped, and it is disabled, so it does not start at boot ' +
      'either. Nothing else holds port 80.',
    evidence: ['Active: inactive (dead)', 'Loaded: loaded (/lib/systemd/system/nginx.service; disabled; preset: enabled)'],
    fix: { summary: 'Start it now and enable it at boot', commands: ['systemctl enable --now nginx'] },
    applied: {
      command: 'systemctl enable --now nginx',
      exitCode: 0,
      verified: true,
      output:
        'Synchronizing state of nginx.service with SysV service script with /lib/systemd/systemd-sysv-install.\n' +
        'Executing: /lib/systemd/systemd-sysv-install enable nginx\n' +
        'Created symlink /etc/systemd/system/multi-user.target.wants/nginx.service → /lib/systemd/system/nginx.service.\n',
      after: 'REACHABLE',
    },
  },
  durationMs: 1840,
};

/** The user pressed Ctrl-C while the connection probe was waiting out its timeout. */
export const interrupted: Report = {
  version: 1,
  whyport: run,
  target: { host: 'cache.internal', address: '10.0.4.20', port: 6379, protocol: 'tcp', local: false, portName: 'redis' },
  playbook,
  steps: [
    {
      id: 'resolve',
      check: 'dns',
      outcome: 'resolved',
      summary: 'cache.internal resolves to 10.0.4.20',
      command: 'getent ahosts cache.internal',
      durationMs: 21,
      evidence: { addresses: ['10.0.4.20'] },
      status: 'pass',
    },
    {
      id: 'target',
      check: 'local-address',
      outcome: 'remote',
      summary: '10.0.4.20 is not an address of this machine',
      command: 'ip -br addr',
      durationMs: 1,
      evidence: { address: '10.0.4.20' },
      status: 'info',
    },
  ],
  diagnosis: {
    code: 'INCONCLUSIVE',
    title: 'Interrupted before the checks could decide',
    explanation:
      'whyport was stopped (Ctrl-C) while it waited for 10.0.4.20:6379 to answer. The steps that ' +
      'finished are below; run it again to get a diagnosis.',
    fix: null,
    applied: null,
  },
  durationMs: 1377,
  interrupted: true,
};

/** A local nftables rule drops PostgreSQL; two unrelated problems turned up on the way. */
export const firewallWithFindings: Report = {
  version: 1,
  whyport: run,
  target: localTarget(5432, 'postgresql'),
  playbook,
  steps: [
    isLocal,
    {
      id: 'listening',
      check: 'listeners',
      outcome: 'found',
      summary: 'postgres (pid 901) listens on 0.0.0.0:5432 and [::]:5432',
      command: "ss -Htlnp 'sport = :5432'",
      durationMs: 13,
      evidence: {
        listeners: [
          { address: '0.0.0.0', port: 5432, process: 'postgres', pid: 901 },
          { address: '::', port: 5432, process: 'postgres', pid: 901 },
        ],
      },
      status: 'pass',
    },
    {
      id: 'firewall',
      check: 'firewall',
      outcome: 'drops',
      summary: 'an nftables rule drops tcp port 5432 (table inet filter, chain input)',
      command: 'nft -a list chain inet filter input',
      durationMs: 22,
      evidence: { backend: 'nftables', table: 'inet filter', chain: 'input', handle: 17, verdict: 'drop' },
      status: 'fail',
    },
  ],
  diagnosis: {
    code: 'FIREWALL_BLOCKS',
    title: 'A local nftables rule drops port 5432',
    explanation:
      'postgres listens on every address, but the input chain of table inet filter drops new ' +
      'connections to tcp port 5432 before they reach it, so clients wait until they time out.',
    evidence: ['table inet filter chain input: tcp dport 5432 counter packets 118 bytes 7080 drop # handle 17'],
    fix: {
      summary: 'Delete the rule (or add an accept rule for the clients that need it before it)',
      commands: ['nft delete rule inet filter input handle 17'],
    },
    applied: null,
  },
  findings: [
    { code: 'CLOSE_WAIT_LEAK', summary: '37 connections on port 5432 sit in CLOSE_WAIT (postgres, pid 901)', step: 'listening' },
    { code: 'FIREWALL_SECOND_TOOL', summary: 'ufw is installed but inactive; the rules that apply are the nftables ones' },
  ],
  durationMs: 96,
};

/** The ugly case: unicode everywhere, a huge command, a fix that ran and failed, no explanation. */
export const ugly: Report = {
  version: 1,
  whyport: run,
  target: {
    host: 'bücher-服务器.例え.example',
    address: 'fd00:dead:beef::15',
    port: 9443,
    protocol: 'tcp',
    local: true,
  },
  playbook: { name: 'team-ops', source: '/etc/whyport/playbooks/team-ops.yaml' },
  steps: [
    {
      id: 'listening',
      check: 'listeners',
      outcome: 'none',
      summary: 'nothing listens on port 9443 — not even 「服务器 (Dienst) 🚀」, which the playbook expected to own it after the deploy script finished',
      command:
        "ss -Htlnp '( sport = :9443 or sport = :9444 or sport = :9445 or sport = :9446 or sport = :9447 )' | grep -E 'users:\\(\\(\"(服务器|java|node)\"' | awk '{print $4, $6}'",
      durationMs: 17,
      evidence: { listeners: [] },
      status: 'fail',
    },
    {
      id: 'blob',
      check: 'custom',
      outcome: 'odd',
      summary: 'a|b`c`',
      command: 'curl -sS https://internal.example/v1/health/aVeryLongTokenThatCannotBeBrokenAtASpaceBecauseItHasNoneAtAllXXXXXXXXXXXXXXXX',
      durationMs: 65_432,
      evidence: {},
    },
  ],
  diagnosis: {
    code: 'PROCESS_NOT_RUNNING',
    title: '服务器 (Dienst) is not running, and no service manager knows it',
    explanation: '',
    evidence: ['\x1b[31mFATAL\x1b[0m\tbind: address already in use', 'a line with a bell\x07 in it'],
    fix: { summary: 'Start it', commands: ['/opt/服务器/bin/start --config /etc/服务器/config.yaml --listen [fd00:dead:beef::15]:9443 --log-level debug'] },
    applied: {
      command: '/opt/服务器/bin/start --config /etc/服务器/config.yaml --listen [fd00:dead:beef::15]:9443 --log-level debug',
      exitCode: 2,
      verified: false,
      output: Array.from({ length: 12 }, (_, i) => `line ${i + 1} of output`).join('\n'),
      after: 'PROCESS_NOT_RUNNING',
    },
  },
  durationMs: 65_470,
};

/** A python3 server that listen(1)s and never accepts: its queue is full, clients time out. */
export const acceptQueueFull: Report = {
  version: 1,
  whyport: run,
  target: localTarget(7077),
  playbook,
  steps: [
    isLocal,
    {
      id: 'sockets',
      check: 'sockets',
      outcome: 'accept-queue-full',
      summary: 'port 7077: the accept queue of 127.0.0.1:7077 is full (2 waiting, backlog 1); 1 LISTEN, 64 SYN_RECV, 4 ESTABLISHED, 1 CLOSE_WAIT',
      command: "ss -Htanp '( sport = :7077 or dport = :7077 )'",
      durationMs: 341,
      evidence: {
        source: 'ss',
        counts: { LISTEN: 1, SYN_RECV: 64, ESTABLISHED: 4, CLOSE_WAIT: 1 },
        states: {
          LISTEN:
            'A server socket waiting for new connections; connections that completed the handshake wait in its accept queue (Recv-Q in ss, the backlog in Send-Q) until the program calls accept().',
          ESTABLISHED:
            'The handshake is done and data flows both ways: a live connection (on a server it may still sit in the accept queue until the program accepts it).',
          SYN_RECV:
            "A server answered a SYN with SYN-ACK and waits for the client's final ACK (a half-open connection); many of them mean a SYN flood, lost packets, or a server too slow to complete handshakes.",
          CLOSE_WAIT:
            "The peer closed its side and this side's program was told so (read() returned 0), but it has not called close() yet; these never time out, so many of them mean the program forgets to close sockets (a leak).",
        },
        acceptQueue: { listener: '127.0.0.1:7077', owner: 'python3 (pid 812)', pid: 812, queue: 2, backlog: 1 },
      },
      status: 'fail',
    },
    {
      id: 'service',
      check: 'ask',
      outcome: 'unknown',
      summary: 'service is not known (not given, nothing likely found)',
      command: '',
      durationMs: 12,
      evidence: { input: 'service', source: 'none', guesses: [] },
      status: 'info',
    },
  ],
  diagnosis: {
    code: 'ACCEPT_QUEUE_FULL',
    title: 'It listens on port 7077, but has stopped accepting connections',
    explanation:
      'python3 (pid 812) listens on 127.0.0.1:7077, but its accept queue is full. The kernel completes each TCP ' +
      "handshake on the program's behalf and parks the new connection in that queue until the program calls " +
      'accept(). A full queue means the program has stopped taking connections out: it is hung or far too slow. ' +
      'The kernel now drops new connection attempts, so clients time out instead of being refused.',
    evidence: [
      '127.0.0.1:7077 held by python3 (pid 812): 2 connections wait for accept(), backlog 1',
      'the kernel dropped 2 more connections for a full accept queue within 312 ms (nstat TcpExtListenOverflows: 6 → 8; the counter covers every listener on this host)',
    ],
    fix: {
      summary: 'Restart python3 (pid 812) once you know why it stopped; until then, watch its queue (Recv-Q) against the backlog (Send-Q)',
      commands: ["ss -Htlnp 'sport = :7077'", 'nstat -az TcpExtListenOverflows'],
      manual: true,
    },
    applied: null,
  },
  findings: [
    {
      code: 'SYN_RECV_MANY',
      summary:
        '64 half-open connections (SYN_RECV) on port 7077 (threshold 50): clients sent SYN and never completed the handshake — a SYN flood, lost packets on the way back, or a server too slow to keep up.',
      step: 'sockets',
    },
  ],
  durationMs: 402,
};

/** Every fixture, by the name of its golden files. */
/** Both ends (--ssh): the client's probe, then the server's steps over ssh. */
export const bothEnds: Report = {
  ...boundToLoopback,
  target: { host: '10.0.0.5', address: '10.0.0.5', port: 8080, protocol: 'tcp', local: false, portName: 'http-alt', addresses: ['10.0.0.5'] },
  steps: [
    {
      id: 'probe-remote',
      check: 'probe',
      outcome: 'closed',
      summary: 'port 8080 (http-alt): closed — 10.0.0.5:8080 refuses the connection (ECONNREFUSED): the host is up and answered',
      command: 'nc -vz -w 3 10.0.0.5 8080',
      durationMs: 4,
      evidence: {},
      status: 'fail',
      where: 'client',
    },
    ...boundToLoopback.steps.slice(1).map((s) => ({ ...s, where: 'server' as const })),
  ],
  vantages: {
    client: { host: 'laptop', diagnosis: { code: 'PORT_CLOSED', title: '10.0.0.5 answers, but port 8080 refuses connections' } },
    server: { host: '10.0.0.5', via: 'ssh', user: 'ops', as: 'root', error: null, hostname: 'web1', commands: 5 },
  },
};

/** --ssh where the server could not be reached: the client's verdict, and the one line why. */
export const serverUnreachable: Report = {
  ...bothEnds,
  steps: bothEnds.steps.slice(0, 1),
  diagnosis: { code: 'PORT_CLOSED', title: '10.0.0.5 answers, but port 8080 refuses connections', explanation: 'The host answered, but the port refused the connection.', fix: null, applied: null },
  vantages: {
    client: { host: 'laptop' },
    server: { host: '10.0.0.5', via: 'ssh', user: null, error: 'ssh to 10.0.0.5: authentication failed (the server takes: publickey) — is your key loaded (ssh-add -l)? try ssh -i KEY root@10.0.0.5, then --ssh-option IdentityFile=KEY' },
  },
};

/** PostgreSQL turns the client away, and the pg_hba.conf that decides is read on the server. */
export const refusedBySetting: Report = {
  version: 1,
  whyport: run,
  target: localTarget(5432, 'postgresql'),
  playbook,
  steps: [isLocal],
  diagnosis: {
    code: 'SERVICE_REFUSES_CLIENT',
    title: 'PostgreSQL turns 10.0.0.7 away: no pg_hba.conf line admits it',
    explanation: 'The port accepts the connection, and PostgreSQL answers the startup message with FATAL: no pg_hba.conf entry for host "10.0.0.7".',
    evidence: ['FATAL: no pg_hba.conf entry for host "10.0.0.7", user "app", database "app", no encryption'],
    service: { protocol: 'postgresql', product: 'PostgreSQL', said: 'FATAL: no pg_hba.conf entry for host "10.0.0.7", user "app", database "app", no encryption' },
    setting: { file: '/etc/postgresql/15/main/pg_hba.conf', line: 128, text: 'host    replication     all             ::1/128                 scram-sha-256' },
    fix: {
      summary: 'Add a line for the client after line 128 of /etc/postgresql/15/main/pg_hba.conf, then reload',
      commands: ['pg_ctlcluster 15 main reload'],
      manual: true,
    },
    applied: null,
  },
  durationMs: 61,
};

/** Port 80 answers (nginx), and the upstream it forwards to is a crashed unit: the diagnosis is the upstream's own, through a follow step. */
export const followed: Report = {
  version: 1,
  whyport: run,
  target: localTarget(80, 'http'),
  playbook,
  steps: [
    isLocal,
    {
      id: 'listening',
      check: 'listeners',
      outcome: 'listening',
      summary: 'nginx (pid 812) listens on 0.0.0.0:80',
      command: "ss -Htlnp 'sport = :80'",
      durationMs: 11,
      evidence: { port: 80, listeners: ['0.0.0.0:80'] },
      status: 'pass',
    },
    {
      id: 'upstream-chain',
      check: 'follow',
      outcome: 'service-failed',
      summary: '127.0.0.1:7071: SERVICE_FAILED — myapp.service has failed',
      command: 'whyport 127.0.0.1 7071 --set process=myapp',
      durationMs: 71,
      evidence: { code: 'SERVICE_FAILED', title: 'myapp.service has failed', explanation: 'myapp is not running.', host: '127.0.0.1', port: 7071, address: '127.0.0.1' },
      status: 'fail',
      follow: {
        target: { host: '127.0.0.1', address: '127.0.0.1', port: 7071, protocol: 'tcp', local: true, addresses: ['127.0.0.1'] },
        steps: [
          { id: 'listening', check: 'listeners', outcome: 'none', summary: 'nothing listens on port 7071', command: "ss -Htlnp 'sport = :7071'", durationMs: 9, evidence: { port: 7071, listeners: [] }, status: 'fail' },
          { id: 'which-process', check: 'ask', outcome: 'given', summary: 'process: myapp (given on the command line)', command: '', durationMs: 0, evidence: { input: 'process', value: 'myapp', source: 'flag' }, status: 'info' },
          { id: 'unit', check: 'unit', outcome: 'failed', summary: 'myapp.service has failed (exit status 1)', command: 'systemctl status myapp', durationMs: 37, evidence: { unit: 'myapp.service', activeState: 'failed' }, status: 'fail' },
        ],
        diagnosis: {
          code: 'SERVICE_FAILED',
          title: 'myapp.service has failed',
          explanation: 'myapp is not running.',
          fix: { summary: 'Start the service again', commands: ['systemctl start myapp'] },
          applied: null,
        },
        diagnosisId: 'SERVICE_FAILED',
      },
    },
  ],
  diagnosis: {
    code: 'SERVICE_FAILED',
    title: 'port 80 answers (nginx), but its upstream 127.0.0.1:7071 does not: myapp.service has failed',
    explanation:
      'nginx takes the connections on port 80 and forwards them to 127.0.0.1:7071, where nothing listens: ' +
      'myapp.service has failed, so every request gets 502 Bad Gateway.',
    evidence: [
      'nginx: connect() failed (111: Connection refused) while connecting to upstream',
      'Main process exited, code=exited, status=1/FAILURE',
    ],
    fix: { summary: 'Start the service again', commands: ['systemctl start myapp'] },
    applied: null,
    proxy: { program: 'nginx', config: '/etc/nginx/sites-enabled/default:4', upstream: '127.0.0.1:7071', status: 502 },
  },
  findings: [{ code: 'RESTART_LOOP', summary: '127.0.0.1:7071: myapp.service restarted 5 times in the last hour', step: 'upstream-chain › unit' }],
  durationMs: 312,
};

export const reports = {
  followed,
  'both-ends': bothEnds,
  'server-unreachable': serverUnreachable,
  'service-failed': serviceFailed,
  reachable,
  'bound-to-loopback': boundToLoopback,
  'refused-by-setting': refusedBySetting,
  inconclusive,
  'applied-verified': appliedVerified,
  interrupted,
  'firewall-findings': firewallWithFindings,
  'accept-queue-full': acceptQueueFull,
  ugly,
} satisfies Record<string, Report>;
