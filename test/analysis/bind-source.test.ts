import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findBindArgument, findBindSetting } from '../../src/analysis/bind-source.js';
import { bindSettingOf } from '../../src/knowledge/bind-settings.js';

// Configuration files as the Debian packages install them, copied from this machine
// (mariadb-server's from its .deb): test/fixtures/config/.
const config = (name: string) => readFileSync(join(import.meta.dirname, '../fixtures/config', name), 'utf8');
const spec = (program: string) => bindSettingOf(program)!;

describe('findBindSetting on the packages\' own files', () => {
  it('redis-server: `bind 127.0.0.1 -::1`, line 87 of /etc/redis/redis.conf, for 127.0.0.1 and ::1 alike', () => {
    const files = [{ path: '/etc/redis/redis.conf', text: config('redis.conf') }];
    expect(findBindSetting(spec('redis-server'), files, { address: '127.0.0.1', port: 6379 })).toEqual({ file: '/etc/redis/redis.conf', line: 87, text: 'bind 127.0.0.1 -::1', commented: false, replacement: 'bind 0.0.0.0 -::1' });
    expect(findBindSetting(spec('redis-server'), files, { address: '::1', port: 6379 })).toMatchObject({ line: 87, replacement: 'bind 127.0.0.1 -::' });
  });

  it('postgres: no line sets listen_addresses, so the commented-out default (localhost) is the answer', () => {
    const files = [{ path: '/etc/postgresql/15/main/postgresql.conf', text: config('postgresql.conf') }];
    expect(findBindSetting(spec('postgres'), files, { address: '127.0.0.1', port: 5432 })).toEqual({
      file: '/etc/postgresql/15/main/postgresql.conf',
      line: 60,
      text: "#listen_addresses = 'localhost'\t\t# what IP address(es) to listen on;",
      commented: true,
      replacement: "listen_addresses = '*'",
    });
    // Set in the file: that line, whatever the comment beside it.
    const set = config('postgresql.conf').replace("#listen_addresses = 'localhost'", "listen_addresses = 'localhost'");
    expect(findBindSetting(spec('postgres'), [{ path: 'p.conf', text: set }], { address: '::1', port: 5432 })).toMatchObject({ line: 60, commented: false, replacement: "listen_addresses = '*'" });
  });

  it('mariadbd: `bind-address = 127.0.0.1` in mariadb.conf.d/50-server.cnf', () => {
    const files = [{ path: '/etc/mysql/mariadb.conf.d/50-server.cnf', text: config('mariadb-50-server.cnf') }];
    expect(findBindSetting(spec('mariadbd'), files, { address: '127.0.0.1', port: 3306 })).toEqual({ file: '/etc/mysql/mariadb.conf.d/50-server.cnf', line: 27, text: 'bind-address            = 127.0.0.1', commented: false, replacement: 'bind-address = 0.0.0.0' });
  });

  it('memcached: `-l 127.0.0.1` in /etc/memcached.conf', () => {
    expect(findBindSetting(spec('memcached'), [{ path: '/etc/memcached.conf', text: config('memcached.conf') }], { address: '127.0.0.1', port: 11211 })).toMatchObject({ line: 35, text: '-l 127.0.0.1', replacement: '-l 0.0.0.0' });
  });

  it('sshd: the stock file listens everywhere (its ListenAddress lines are comments); an admin\'s ListenAddress 127.0.0.1 is found', () => {
    const stock = config('sshd_config');
    expect(findBindSetting(spec('sshd'), [{ path: '/etc/ssh/sshd_config', text: stock }], { address: '127.0.0.1', port: 22 })).toBeUndefined();
    const edited = stock.replace('#ListenAddress 0.0.0.0', 'ListenAddress 127.0.0.1');
    expect(findBindSetting(spec('sshd'), [{ path: '/etc/ssh/sshd_config', text: edited }], { address: '127.0.0.1', port: 22 })).toMatchObject({ line: 16, text: 'ListenAddress 127.0.0.1', replacement: 'ListenAddress 0.0.0.0' });
  });

  it('nginx and apache2: only a listen line with this address and this port counts; the address is left out to listen everywhere', () => {
    const site = config('nginx-sites-default').replace('listen 80 default_server;', 'listen 127.0.0.1:8080 default_server;');
    const nginx = [{ path: '/etc/nginx/sites-enabled/default', text: site }];
    expect(findBindSetting(spec('nginx'), nginx, { address: '127.0.0.1', port: 8080 })).toMatchObject({ line: 22, text: 'listen 127.0.0.1:8080 default_server;', replacement: 'listen 8080 default_server;' });
    expect(findBindSetting(spec('nginx'), nginx, { address: '127.0.0.1', port: 80 })).toBeUndefined();
    const ports = config('apache2-ports.conf').replace('Listen 80', 'Listen 127.0.0.1:80');
    expect(findBindSetting(spec('apache2'), [{ path: '/etc/apache2/ports.conf', text: ports }], { address: '127.0.0.1', port: 80 })).toMatchObject({ line: 5, text: 'Listen 127.0.0.1:80', replacement: 'Listen 80' });
  });
});

describe('findBindArgument', () => {
  const at = { address: '127.0.0.1', port: 7071 };
  it.each([
    [['python3', 'app.py', '127.0.0.1', '7071'], '127.0.0.1', ['python3', 'app.py', '0.0.0.0', '7071']],
    [['python3', '-m', 'http.server', '--bind', '127.0.0.1', '7071'], '--bind 127.0.0.1', ['python3', '-m', 'http.server', '--bind', '0.0.0.0', '7071']],
    [['/usr/bin/memcached', '-u', 'nobody', '-l', '127.0.0.1', '-p', '7071'], '-l 127.0.0.1', ['/usr/bin/memcached', '-u', 'nobody', '-l', '0.0.0.0', '-p', '7071']],
    [['node', 'server.js', '--host=localhost'], '--host=localhost', ['node', 'server.js', '--host=0.0.0.0']],
    [['gunicorn', '-b', '127.0.0.1:7071', 'app:app'], '-b 127.0.0.1:7071', ['gunicorn', '-b', '0.0.0.0:7071', 'app:app']],
    [['caddy', 'run', '--listen', 'http://127.0.0.1:7071/'], '--listen http://127.0.0.1:7071/', ['caddy', 'run', '--listen', 'http://0.0.0.0:7071/']],
  ])('%j names it as %s', (argv, text, replaced) => {
    expect(findBindArgument(argv, at)).toMatchObject({ text, replaced });
  });
  it('an address for another port, the program path, or a script\'s code are not the bind argument', () => {
    expect(findBindArgument(['gunicorn', '-b', '127.0.0.1:9000'], at)).toBeUndefined();
    expect(findBindArgument(['127.0.0.1'], at)).toBeUndefined();
    expect(findBindArgument(['python3', '-c', 'import socket; s.bind(("127.0.0.1", 7071))'], at)).toBeUndefined();
    expect(findBindArgument(['app', '[::1]:7071'], { address: '::1', port: 7071 })).toMatchObject({ text: '[::1]:7071', replaced: ['app', '[::]:7071'] });
  });
});
