import { posix } from 'node:path';
import type { Host } from '../host/host.js';
import { REDIS } from '../knowledge/service-settings.js';
import { pathInclusion, readConfigTree, type ConfigSnapshot, type FlatConfig, type IncludeRule, type SourceLine } from './config-tree.js';

/**
 * The words of a redis.conf line as Redis's sdssplitargs splits them: blanks separate, "double
 * quotes" with \n \t \xHH escapes and 'single quotes' with \' group; a quote must be followed by
 * a blank. Undefined for a line Redis would refuse (unbalanced quotes).
 */
export function redisWords(line: string): string[] | undefined {
  const words: string[] = [];
  let i = 0;
  const n = line.length;
  for (;;) {
    while (i < n && /\s/.test(line[i]!)) i++;
    if (i >= n) return words;
    let word = '';
    if (line[i] === '"' || line[i] === "'") {
      const q = line[i++]!;
      let closed = false;
      while (i < n) {
        const c = line[i]!;
        if (q === '"' && c === '\\' && i + 1 < n) {
          const e = line[i + 1]!;
          const hex = /^x([0-9a-fA-F]{2})/.exec(line.slice(i + 1, i + 4));
          if (hex) {
            word += String.fromCharCode(parseInt(hex[1]!, 16));
            i += 4;
            continue;
          }
          word += ({ n: '\n', r: '\r', t: '\t', b: '\b', a: '\x07' } as Record<string, string>)[e] ?? e;
          i += 2;
        } else if (q === "'" && c === '\\' && line[i + 1] === "'") {
          word += "'";
          i += 2;
        } else if (c === q) {
          i++;
          closed = true;
          break;
        } else {
          word += c;
          i++;
        }
      }
      if (!closed || (i < n && !/\s/.test(line[i]!))) return undefined;
    } else {
      while (i < n && !/\s/.test(line[i]!)) word += line[i++];
    }
    words.push(word);
  }
}

/** One directive of redis.conf: its name lower-cased, its arguments, where it is. */
export interface RedisDirective {
  name: string;
  args: string[];
  source: SourceLine;
}

/** `include PATH` (a glob in Redis 7), as written: relative paths are the server's working folder, Debian writes absolute ones. */
export const redisIncludeRule: IncludeRule = (text) => {
  if (text.startsWith('#')) return undefined;
  const words = redisWords(text);
  if (!words || words.length !== 2 || words[0]!.toLowerCase() !== 'include') return undefined;
  return pathInclusion(posix.resolve('/', words[1]!));
};

/** The directives of a laid-out redis.conf, in order (includes too; a broken line is in `errors`). Pure. */
export function parseRedisConf(lines: readonly SourceLine[]): { directives: RedisDirective[]; errors: SourceLine[] } {
  const directives: RedisDirective[] = [];
  const errors: SourceLine[] = [];
  for (const source of lines) {
    if (source.text === '' || source.text.startsWith('#')) continue;
    const words = redisWords(source.text);
    if (!words) {
      errors.push(source);
      continue;
    }
    if (words.length === 0) continue;
    directives.push({ name: words[0]!.toLowerCase(), args: words.slice(1), source });
  }
  return { directives, errors };
}

/** `--name value…` options after the configuration file on the command line (the unit's ExecStart), as directives. */
export function redisArgvDirectives(argv: readonly string[]): RedisDirective[] {
  const out: RedisDirective[] = [];
  const text = argv.join(' ');
  for (let i = 0; i < argv.length; i++) {
    const w = argv[i]!;
    if (!w.startsWith('--') || w.length < 3) continue;
    const args: string[] = [];
    while (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) args.push(argv[++i]!);
    out.push({ name: w.slice(2).toLowerCase(), args, source: { file: 'command line', line: 0, text } });
  }
  return out;
}

/** What decides whether Redis turns a remote client away in protected mode: the last line of each, where it is. */
export interface RedisAccess {
  bind?: RedisDirective;
  protectedMode?: RedisDirective;
  requirepass?: RedisDirective;
  aclfile?: RedisDirective;
  /** The last `user default …` rule of redis.conf (it resets the default user: it wins over requirepass). */
  defaultUser?: RedisDirective;
  port?: RedisDirective;
}

/** The directives that decide access, the last of each (Redis applies them in order; the command line last). Pure. */
export function redisAccess(directives: readonly RedisDirective[]): RedisAccess {
  const out: RedisAccess = {};
  for (const d of directives) {
    if (d.name === 'bind') out.bind = d;
    else if (d.name === 'protected-mode') out.protectedMode = d;
    else if (d.name === 'requirepass') out.requirepass = d;
    else if (d.name === 'aclfile') out.aclfile = d;
    else if (d.name === 'port') out.port = d;
    else if (d.name === 'user' && d.args[0] === 'default') out.defaultUser = d;
  }
  return out;
}

/** The `user default …` line of an ACL file (its lines are `user NAME RULES…`), the last one. Pure. */
export function aclDefaultUser(lines: readonly SourceLine[]): RedisDirective | undefined {
  return parseRedisConf(lines).directives.filter((d) => d.name === 'user' && d.args[0] === 'default').at(-1);
}

/**
 * The configuration file the running redis-server read: the one its command line names (the
 * unit's ExecStart, or a process title that still shows it), an instance unit's
 * /etc/redis/redis-NAME.conf, else Debian's /etc/redis/redis.conf. Pure.
 */
export function redisConfigPath(argv: readonly string[], unit?: string): string {
  // Redis takes its file as the first argument only; a process title in its place reads `127.0.0.1:6379` or `*:6379`.
  const first = argv[1];
  if (first !== undefined && !first.startsWith('-') && !/^[^/]*:\d+$/.test(first)) return first;
  const instance = unit && /^redis-server@(.+?)(\.service)?$/.exec(unit)?.[1];
  return instance ? REDIS.instanceConf(instance) : REDIS.conf;
}

export interface RedisConfReading {
  path: string;
  flat: FlatConfig;
  directives: RedisDirective[];
  access: RedisAccess;
  /** The ACL file named by `aclfile`, laid out, when there is one. */
  acl?: { path: string; defaultUser?: RedisDirective; problems: string[] };
  problems: string[];
}

/**
 * Reads the redis.conf the running server read (see redisConfigPath) with its includes, the
 * command line's `--name value` options after it, and the ACL file it names, through the Host seam.
 */
export async function readRedisConf(host: Host, argv: readonly string[], opts: { unit?: string; snapshot?: ConfigSnapshot } = {}): Promise<RedisConfReading> {
  const path = redisConfigPath(argv, opts.unit);
  const flat = await readConfigTree(host, path, redisIncludeRule, opts.snapshot);
  const parsed = parseRedisConf(flat.lines);
  const directives = [...parsed.directives, ...redisArgvDirectives(argv.slice(argv.indexOf(path) + 1))];
  const access = redisAccess(directives);
  const problems = [...flat.problems, ...parsed.errors.map((e) => `${e.file}:${e.line}: unbalanced quotes (Redis refuses this line)`)];
  const aclPath = access.aclfile?.args[0];
  if (!aclPath) return { path, flat, directives, access, problems };
  const aclFlat = await readConfigTree(host, aclPath, () => undefined);
  const defaultUser = aclDefaultUser(aclFlat.lines);
  return { path, flat, directives, access, acl: { path: aclPath, ...(defaultUser ? { defaultUser } : {}), problems: aclFlat.problems }, problems };
}
