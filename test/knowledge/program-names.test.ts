import { describe, expect, it } from 'vitest';
import { isProgram, programNames, scriptNames, scriptOf } from '../../src/knowledge/program-names.js';

// The one matcher every step uses to find a program by the name a person gives it.

describe('scriptOf: the program an interpreter runs', () => {
  it.each([
    ['python3', ['python3', '/srv/myapp.py', '0.0.0.0', '7072'], '/srv/myapp.py'],
    ['python3', ['/usr/bin/python3', '-u', '-W', 'ignore', '/srv/myapp.py'], '/srv/myapp.py'],
    ['python3', ['python3', '-m', 'http.server', '8000'], 'http.server'],
    ['python3', ['python3', '-mmyapp'], 'myapp'],
    ['node', ['node', '--enable-source-maps', '-r', './tracing.js', '/srv/api/server.js'], '/srv/api/server.js'],
    ['java', ['java', '-Xmx512m', '-jar', '/opt/shop/shop.jar', '--port', '8080'], '/opt/shop/shop.jar'],
    ['java', ['/usr/lib/jvm/java-17/bin/java', '-cp', '/opt/app/lib/*', 'com.example.Main'], 'com.example.Main'],
    ['java', ['java', '-m', 'com.example/com.example.Main'], 'com.example.Main'],
    ['ruby', ['ruby', '-I', 'lib', 'bin/worker.rb'], 'bin/worker.rb'],
    ['perl', ['perl', '-w', '/usr/local/bin/feeder.pl'], '/usr/local/bin/feeder.pl'],
    ['php', ['php', '-d', 'memory_limit=1G', '-f', '/srv/queue.php'], '/srv/queue.php'],
    ['bash', ['bash', '-e', '/srv/backup.sh'], '/srv/backup.sh'],
    ['sh', ['/bin/sh', '--', 'run.sh'], 'run.sh'],
  ])('%s %j runs %s', (comm, argv, script) => {
    expect(scriptOf(comm, argv)).toBe(script);
  });

  it.each([
    ['python3', ['python3', '-c', 'import time; time.sleep(9)']],
    ['node', ['node', '-e', 'setTimeout(()=>{}, 1e6)']],
    ['bash', ['bash', '-c', 'sleep 100']],
    ['python3', ['python3']],
    ['python3', ['python3', '-', 'arg']],
    ['sshd', ['/usr/sbin/sshd', '-D']],
    // A kernel thread: no command line.
    ['kworker/0:1', []],
  ])('%s %j runs no named script', (comm, argv) => {
    expect(scriptOf(comm, argv)).toBeUndefined();
  });

  it('knows the interpreter by argv[0] when the process name is another (exec -a java …)', () => {
    expect(scriptOf('python3', ['java', '-', '-jar', '/srv/app.jar'])).toBe('/srv/app.jar');
  });
});

describe('scriptNames', () => {
  it('names a script with and without its extension, a dotted class or module by its last part', () => {
    expect(scriptNames('/srv/myapp.py')).toEqual(['myapp.py', 'myapp']);
    expect(scriptNames('/opt/shop/shop.jar')).toEqual(['shop.jar', 'shop']);
    expect(scriptNames('com.example.Main')).toEqual(['com.example.Main', 'Main']);
    expect(scriptNames('/srv/run')).toEqual(['run']);
  });
});

describe('isProgram', () => {
  it('matches the process name, argv[0] and the script an interpreter runs', () => {
    expect(isProgram('myapp', 'python3', ['python3', '/srv/myapp.py', '0.0.0.0', '7072'])).toBe(true);
    expect(isProgram('myapp.py', 'python3', ['python3', '/srv/myapp.py'])).toBe(true);
    expect(isProgram('python3', 'python3', ['python3', '/srv/myapp.py'])).toBe(true);
    expect(isProgram('shop', 'java', ['java', '-jar', '/opt/shop.jar'])).toBe(true);
    expect(isProgram('backup', 'bash', ['bash', '/srv/backup.sh'])).toBe(true);
    expect(isProgram('sshd', 'sshd', ['sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups'])).toBe(true);
  });

  it('does not take an argument for the program', () => {
    // 0.0.0.0 and 7072 are arguments of myapp, not programs; -c code names no program.
    expect(isProgram('7072', 'python3', ['python3', '/srv/myapp.py', '0.0.0.0', '7072'])).toBe(false);
    expect(isProgram('sleep', 'bash', ['bash', '-c', 'sleep 100'])).toBe(false);
    expect(isProgram('myapp', 'myapp-worker', ['myapp-worker'])).toBe(false);
  });

  it('a name longer than 15 characters matches the kernel-truncated process name', () => {
    expect(isProgram('systemd-resolved', 'systemd-resolve', ['/lib/systemd/systemd-resolved'])).toBe(true);
  });

  it("programNames lists what a did-you-mean may offer, not nginx's rewritten argv[0]", () => {
    expect(programNames('nginx', ['nginx: master process /usr/sbin/nginx'])).toEqual(['nginx']);
    expect(programNames('python3', ['/usr/bin/python3', '/srv/myapp.py'])).toEqual(['python3', 'myapp.py', 'myapp']);
  });
});
