// What a recording (whyport record) must not carry: secrets a diagnosis happens to read — a
// process's environment, a password on a command line, a `requirepass` in redis.conf, a private
// key in a config directory. Each is replaced by REDACTED in place, so the text keeps its shape
// (the directive, the option, the key stay; a parser reading the replay sees a password is set)
// and the recording lists what was redacted and where, never the value.

/** What stands in for a secret: one word, so the line still parses as it did. */
export const REDACTED = 'REDACTED';

export type RedactionKind = 'environment' | 'password' | 'url-credentials' | 'config-secret' | 'private-key';

/** One kind of secret found in one place (a call of the recording: `readFile /etc/redis/redis.conf`). */
export interface Redaction {
  kind: RedactionKind;
  where: string;
}

export interface Redacted {
  text: string;
  kinds: RedactionKind[];
}

/** Words that name a secret in an option, an environment variable or a config key. */
const SECRET_WORD = '(?:password|passwd|passphrase|secret|token|api[-_]?key|access[-_]?key|private[-_]?key|credentials?)';
/** Keys that contain a secret word but hold no secret (postgresql.conf's password_encryption). */
const NOT_SECRET_KEY = /(?:encryption|loadcredential|importcredential|_file|_path|_command|authentication|min_length|expir)/i;

const PEM_PRIVATE = /(-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----)[\s\S]*?(-----END \2PRIVATE KEY-----)/g;
// A PEM block cut off by a bounded read (a log tail, a file read partly): everything after its BEGIN line.
const PEM_PRIVATE_OPEN = /(-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----)(?![\s\S]*-----END [A-Z0-9 ]*PRIVATE KEY-----)[\s\S]+$/;
const PUTTY_PRIVATE = /(PuTTY-User-Key-File-\d+:[^\n]*\n)[\s\S]*?(Private-MAC:)[^\n]*/g;
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/[^\s/:@'"]*):([^\s/@'"]+)@/gi;
const OPTION_EQ = new RegExp(`(--?[a-z0-9-]*${SECRET_WORD}[a-z0-9-]*=)("[^"]*"|'[^']*'|[^\\s\\0]+)`, 'gi');
// `--password hunter2`: only the plain spellings, where the next word is the password for sure.
const OPTION_SPACE = /(--(?:password|passwd|pass)[ \0]+)(?!-)([^\s\0]+)/gi;
const ENV_ASSIGN = new RegExp(`(\\b[A-Z0-9_]*(?:PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|_PWD|MYSQL_PWD|PGPASS)[A-Z0-9_]*=)("[^"]*"|'[^']*'|[^\\s\\0"']+)`, 'g');
const MYSQL_LINE = /\b(?:mysql|mysqldump|mysqladmin|mysqlimport|mysqlshow|mysqlcheck|mariadb[a-z-]*)\b/;
const MYSQL_P = /((?:^|[\s\0])-p)([^\s\0]+)/g;
const REDIS_DIRECTIVE = /^([ \t]*(?:requirepass|masterauth|masteruser-password)[ \t]+)(\S.*?)[ \t]*$/gim;
const REDIS_ACL = /^([ \t]*user[ \t].*)$/gim;
const CONFIG_KEY = new RegExp(`^([ \\t]*["']?([a-z0-9_.-]*${SECRET_WORD}[a-z0-9_.-]*)["']?[ \\t]*[=:][ \\t]*)(\\S.*?)(,?)[ \\t]*$`, 'gim');

/**
 * The text with its secrets replaced by REDACTED, and the kinds found. `path` is the file the text
 * came from, when it did: a process's environment (/proc/PID/environ) keeps its names only.
 */
export function redactText(text: string, path?: string): Redacted {
  const kinds = new Set<RedactionKind>();
  const replace = (re: RegExp, kind: RedactionKind, by: (...m: string[]) => string) => {
    text = text.replace(re, (...m: string[]) => {
      const out = by(...m);
      if (out !== m[0]) kinds.add(kind);
      return out;
    });
  };
  if (path !== undefined && /^\/proc\/(?:\d+|self)(?:\/task\/\d+)?\/environ$/.test(path)) {
    replace(/([^\0=]+=)[^\0]*/g, 'environment', (m, name: string) => (m === name || m === `${name}${REDACTED}` ? m : `${name}${REDACTED}`));
  }
  replace(PEM_PRIVATE, 'private-key', (_, begin: string, _type: string, end: string) => `${begin}\n${REDACTED}\n${end}`);
  replace(PEM_PRIVATE_OPEN, 'private-key', (_, begin: string) => `${begin}\n${REDACTED}\n`);
  replace(PUTTY_PRIVATE, 'private-key', (_, head: string, mac: string) => `${head}${REDACTED}\n${mac} ${REDACTED}`);
  replace(URL_CREDENTIALS, 'url-credentials', (_, user: string) => `${user}:${REDACTED}@`);
  replace(OPTION_EQ, 'password', (_, option: string, value: string) => (value === REDACTED || NOT_SECRET_KEY.test(option) ? _ : `${option}${REDACTED}`));
  replace(OPTION_SPACE, 'password', (_, option: string, value: string) => (value === REDACTED ? _ : `${option}${REDACTED}`));
  replace(ENV_ASSIGN, 'password', (_, name: string, value: string) => (value === REDACTED || value === '' ? _ : `${name}${REDACTED}`));
  // mysql -pSECRET: -p glued to its value, on a line (or a NUL-separated command line) that runs a mysql client.
  text = text
    .split('\n')
    .map((line) => {
      if (!MYSQL_LINE.test(line)) return line;
      return line.replace(MYSQL_P, (m, option: string, value: string) => {
        if (value === REDACTED) return m;
        kinds.add('password');
        return `${option}${REDACTED}`;
      });
    })
    .join('\n');
  replace(REDIS_DIRECTIVE, 'config-secret', (_, directive: string, value: string) => (value === REDACTED ? _ : `${directive}${REDACTED}`));
  // redis ACL: `user app on >password ~* +@all`: each >password (and its #hash) is a secret.
  replace(REDIS_ACL, 'config-secret', (line: string) => line.replace(/(\s)([>#<!])(?!REDACTED\b)\S+/g, (m, space: string, sigil: string) => (sigil === '>' || sigil === '#' ? `${space}${sigil}${REDACTED}` : m)));
  replace(CONFIG_KEY, 'config-secret', (_, lead: string, key: string, value: string, comma: string) => {
    if (NOT_SECRET_KEY.test(key)) return _;
    const quoted = /^(["'])(.*)\1$/.exec(value);
    if ((quoted ? quoted[2] : value) === REDACTED || value === '' || value === '""' || value === "''") return _;
    return `${lead}${quoted ? `${quoted[1]}${REDACTED}${quoted[1]}` : REDACTED}${comma}`;
  });
  return { text, kinds: [...kinds] };
}

/**
 * A JSON-able value with every string in it redacted (a command's stdout, a file's text, the
 * command lines of processes); `where` names the call in what `found` collects.
 */
export function redactValue<T>(value: T, where: string, found: Redaction[], path?: string): T {
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') {
      const r = redactText(v, path);
      for (const kind of r.kinds) found.push({ kind, where });
      return r.text;
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as T;
}

/** One entry per kind and place, in the order first found. */
export function uniqueRedactions(list: readonly Redaction[]): Redaction[] {
  const seen = new Set<string>();
  return list.filter((r) => {
    const k = `${r.kind} ${r.where}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** One line for stderr: what a recording left out (kinds and how many places), or undefined when nothing. */
export function redactionSummary(list: readonly Redaction[]): string | undefined {
  if (list.length === 0) return undefined;
  const byKind = new Map<RedactionKind, number>();
  for (const r of list) byKind.set(r.kind, (byKind.get(r.kind) ?? 0) + 1);
  const words: Record<RedactionKind, string> = {
    environment: 'environment values',
    password: 'passwords on command lines',
    'url-credentials': 'passwords in URLs',
    'config-secret': 'secrets in config files',
    'private-key': 'private keys',
  };
  return [...byKind].map(([kind, n]) => `${words[kind]} (${n} place${n === 1 ? '' : 's'})`).join(', ');
}
