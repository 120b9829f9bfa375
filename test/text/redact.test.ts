import { describe, expect, it } from 'vitest';
import { REDACTED, redactText, redactValue, redactionSummary, uniqueRedactions, type Redaction } from '../../src/text/redact.js';
import { readFileSync } from 'node:fs';

const fixture = (path: string) => readFileSync(new URL(`../fixtures/${path}`, import.meta.url), 'utf8');

describe('redactText', () => {
  it('keeps the directives of redis.conf and hides their passwords (requirepass, masterauth, ACL >pass)', () => {
    const r = redactText(fixture('redact/redis.conf'), '/etc/redis/redis.conf');
    expect(r.text).not.toMatch(/secret123|replica pass 9|apppass99/);
    expect(r.text).toContain(`requirepass ${REDACTED}`);
    expect(r.text).toContain(`masterauth ${REDACTED}`);
    expect(r.text).toContain(`user app on >${REDACTED} ~cached:* +get`);
    expect(r.text).toContain('port 6379');
    expect(r.kinds).toEqual(['config-secret']);
  });

  it('keeps the names of a process environment and drops every value', () => {
    const r = redactText(fixture('redact/environ'), '/proc/4242/environ');
    expect(r.text).toBe(`LANG=${REDACTED}\0HOME=${REDACTED}\0DATABASE_URL=${REDACTED}\0EMPTY=\0`);
    expect(r.kinds).toContain('environment');
  });

  it('hides passwords on command lines: --password=, --password WORD, mysql -pSECRET, PGPASSWORD=, URLs', () => {
    const lines = [
      '812 /usr/bin/myapp --listen 0.0.0.0:7071 --password=hunter2 --db-token="tok en"',
      '813 mysql -u root -pS3cret -h db',
      '814 mysqldump --password s3cr3t app',
      '815 env PGPASSWORD=pgpw psql -h db',
      '816 redis-cli -u redis://default:rpass@127.0.0.1:6379/0',
      '817 mkdir -p /run/myapp',
    ].join('\n');
    const r = redactText(lines);
    expect(r.text).not.toMatch(/hunter2|tok en|S3cret|s3cr3t|pgpw|rpass/);
    expect(r.text).toContain(`--password=${REDACTED}`);
    expect(r.text).toContain(`-p${REDACTED} -h db`);
    expect(r.text).toContain(`PGPASSWORD=${REDACTED} psql`);
    expect(r.text).toContain(`redis://default:${REDACTED}@127.0.0.1:6379/0`);
    // -p of other programs is an option, not a password.
    expect(r.text).toContain('mkdir -p /run/myapp');
    expect(r.text).toContain('--listen 0.0.0.0:7071');
    expect(r.kinds.sort()).toEqual(['password', 'url-credentials']);
  });

  it('reads a NUL-separated command line (/proc/PID/cmdline) word by word', () => {
    const r = redactText('mysql\0-pS3cret\0--password\0hunter2\0', '/proc/9/cmdline');
    expect(r.text).toBe(`mysql\0-p${REDACTED}\0--password\0${REDACTED}\0`);
  });

  it('hides password keys of config files, leaving keys that hold no secret', () => {
    const cnf = redactText(fixture('redact/my.cnf'));
    expect(cnf.text).toContain(`password = "${REDACTED}"`);
    expect(cnf.text).toContain('bind-address = 127.0.0.1');
    const pg = redactText(fixture('redact/postgresql.conf'));
    expect(pg.text).toBe(fixture('redact/postgresql.conf'));
    expect(pg.kinds).toEqual([]);
    const json = redactText('{\n  "password": "x1",\n  "port": 7071\n}');
    expect(json.text).toBe(`{\n  "password": "${REDACTED}",\n  "port": 7071\n}`);
  });

  it('hides the body of private keys, keeping certificates', () => {
    const r = redactText(fixture('redact/key.pem'));
    expect(r.text).not.toMatch(/SECRETKEYBODY|SSHSECRET/);
    expect(r.text).toContain('MIIBszCCAVmgAwIBAgIUKEEP');
    expect(r.text).toContain(`-----BEGIN PRIVATE KEY-----\n${REDACTED}\n-----END PRIVATE KEY-----`);
    expect(r.text).toContain('-----BEGIN OPENSSH PRIVATE KEY-----');
    expect(r.kinds).toEqual(['private-key']);
  });

  it('hides a private key cut off by a bounded read (no END line)', () => {
    const r = redactText('log line\n-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAsecret\nmore');
    expect(r.text).toBe(`log line\n-----BEGIN RSA PRIVATE KEY-----\n${REDACTED}\n`);
  });

  it('is idempotent: a redacted text is left as it is', () => {
    for (const f of ['redact/redis.conf', 'redact/my.cnf', 'redact/key.pem']) {
      const once = redactText(fixture(f)).text;
      const twice = redactText(once);
      expect(twice.text).toBe(once);
      expect(twice.kinds).toEqual([]);
    }
  });

  it('leaves ordinary output alone (ss, systemd unit text, sshd_config)', () => {
    const text = 'LISTEN 0 4096 0.0.0.0:22 0.0.0.0:* users:(("sshd",pid=1,fd=3))\nPasswordAuthentication no\nExecStart=/usr/sbin/sshd -D\nLoadCredential=tls.key:/etc/ssl/private/x.key\n';
    expect(redactText(text)).toEqual({ text, kinds: [] });
  });
});

describe('redactValue', () => {
  it('redacts every string of a value and says where', () => {
    const found: Redaction[] = [];
    const v = redactValue({ stdout: 'requirepass abc', argv: ['cat', '/etc/redis/redis.conf'], exitCode: 0 }, 'run cat /etc/redis/redis.conf', found);
    expect(v).toEqual({ stdout: `requirepass ${REDACTED}`, argv: ['cat', '/etc/redis/redis.conf'], exitCode: 0 });
    expect(found).toEqual([{ kind: 'config-secret', where: 'run cat /etc/redis/redis.conf' }]);
    expect(uniqueRedactions([...found, ...found])).toEqual(found);
    expect(redactionSummary(found)).toBe('secrets in config files (1 place)');
    expect(redactionSummary([])).toBeUndefined();
  });
});
