import { isIPv6 } from 'node:net';
import { isLoopback, normalizeAddress } from '../net/address.js';
import type { BindSetting } from '../knowledge/bind-settings.js';

/** Where a listener is bound. */
export interface BoundAt {
  address: string;
  port: number;
}

/** The line of a configuration file that decides the address, and the same line listening on every address. */
export interface SettingLine {
  file: string;
  /** 1-based. */
  line: number;
  /** The line as written (trimmed). */
  text: string;
  /** No line sets it: this commented-out line shows the default, which is loopback. */
  commented: boolean;
  /** The line that listens on every address instead. */
  replacement: string;
}

/** An argument of the command line that names the address, and the command line with every address in its place. */
export interface ArgumentFound {
  index: number;
  /** The word as a person sees it, with its option: `--bind 127.0.0.1`, `--host=127.0.0.1`, `127.0.0.1`. */
  text: string;
  /** argv with the address replaced by the wildcard of its family (0.0.0.0, ::). */
  replaced: string[];
}

/** The words that name this address: itself, and `localhost` for a loopback one. */
function namesOf(address: string): Set<string> {
  const bare = normalizeAddress(address);
  const names = new Set([bare.toLowerCase()]);
  if (isLoopback(bare)) names.add('localhost');
  return names;
}

const wildcardOf = (address: string) => (isIPv6(normalizeAddress(address)) ? '::' : '0.0.0.0');

/**
 * A host word split from its port: `127.0.0.1:80`, `[::1]:80`, `localhost:80`, `127.0.0.1`, `::1`.
 * `host` is what names the address as written (brackets included), `bare` the address itself.
 */
function hostPort(word: string): { host: string; bare: string; port?: number } {
  const v6 = /^(\[[^\]]+\])(?::(\d+))?$/.exec(word);
  if (v6) return { host: v6[1]!, bare: v6[1]!.slice(1, -1), ...(v6[2] ? { port: Number(v6[2]) } : {}) };
  const v4 = /^([^:]+):(\d+)$/.exec(word);
  if (v4) return { host: v4[1]!, bare: v4[1]!, port: Number(v4[2]) };
  return { host: word, bare: word };
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Finds the line of a program's configuration that makes it listen at `at` (a redis `bind`, a
 * PostgreSQL `listen_addresses`, nginx's `listen 127.0.0.1:80;` for this port…), in the files in the
 * order the program reads them. Where no line sets it and the program's default is loopback
 * (PostgreSQL), the commented-out line that shows the default is the answer.
 */
export function findBindSetting(spec: BindSetting, files: readonly { path: string; text: string }[], at: BoundAt): SettingLine | undefined {
  const names = namesOf(at.address);
  const keys = [spec.key, ...(spec.aliases ?? [])].map((k) => (spec.caseless ? k.toLowerCase() : k));
  const comment = new RegExp(`^[${escapeRegExp(spec.comments)}]`);
  let commentedDefault: SettingLine | undefined;
  for (const { path, text } of files) {
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const raw = lines[i]!.trim();
      const commented = comment.test(raw);
      const body = commented ? raw.replace(/^[#;\s]+/, '') : raw;
      const parsed = splitSetting(body, spec);
      if (!parsed || !keys.includes(spec.caseless ? parsed.key.toLowerCase() : parsed.key)) continue;
      if (commented) {
        if (spec.loopbackByDefault && !commentedDefault) commentedDefault = { file: path, line: i + 1, text: raw, commented: true, replacement: `${spec.key} = ${spec.anyAddress}` };
        continue;
      }
      const word = valueWords(parsed.value).find((w) => {
        const hp = hostPort(w.replace(/^-/, ''));
        if (spec.withPort) return hp.port === at.port && names.has(hp.bare.toLowerCase());
        return names.has(hp.bare.toLowerCase());
      });
      if (word === undefined) continue;
      return { file: path, line: i + 1, text: raw, commented: false, replacement: replaceIn(raw, parsed.keyEnd, word, spec, at) };
    }
  }
  return commentedDefault;
}

/** `KEY VALUE`, `KEY = VALUE` or `-l VALUE`: the key, the value (its trailing comment left out), and where the key ends. */
function splitSetting(line: string, spec: BindSetting): { key: string; value: string; keyEnd: number } | undefined {
  const m = spec.syntax === 'equals' ? /^([\w.-]+)\s*=\s*(.*)$/.exec(line) : /^(\S+)\s+(.*)$/.exec(line);
  if (!m) return undefined;
  const value = m[2]!.replace(/\s+#.*$/, '').replace(/;\s*$/, '').trim();
  return { key: m[1]!, value, keyEnd: m[1]!.length };
}

/** The words of a value: quotes and commas are separators (`'localhost,10.0.0.5'`, `-l 127.0.0.1,::1`). */
function valueWords(value: string): string[] {
  return value.split(/[\s,'"]+/).filter(Boolean);
}

function replaceIn(line: string, keyEnd: number, word: string, spec: BindSetting, at: BoundAt): string {
  if (spec.syntax === 'equals') return `${line.slice(0, keyEnd)} = ${spec.anyAddress}`;
  const bare = word.replace(/^-/, '');
  const hp = hostPort(bare);
  let replacement: string;
  if (spec.withPort) {
    // nginx and Apache listen on every address when the address is left out (`listen 80`); IPv6 as [::]:80.
    replacement = isIPv6(normalizeAddress(at.address)) ? `[::]:${hp.port}` : String(hp.port);
  } else {
    const any = isIPv6(normalizeAddress(at.address)) && spec.anyAddress === '0.0.0.0' ? '::' : spec.anyAddress;
    replacement = bare.replace(hp.host, hp.host.startsWith('[') ? `[${any}]` : any);
  }
  const head = line.slice(0, keyEnd);
  return head + line.slice(keyEnd).replace(bare, replacement);
}

/**
 * Finds the argument of a command line that names the address it listens on: a positional
 * (`app.py 127.0.0.1 7071`), an option's value (`--bind 127.0.0.1`, `-b 127.0.0.1:8000`,
 * `--host=localhost`, `--listen tcp://127.0.0.1:80`). The program's own path (argv[0]) is not one.
 */
export function findBindArgument(argv: readonly string[], at: BoundAt): ArgumentFound | undefined {
  const names = namesOf(at.address);
  for (let i = 1; i < argv.length; i++) {
    const word = argv[i]!;
    const eq = /^(-{1,2}[\w.-]+=)(.*)$/.exec(word);
    const value = eq ? eq[2]! : word;
    const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(value)?.[0] ?? '';
    const rest = value.slice(scheme.length).replace(/\/.*$/, '');
    const hp = hostPort(rest);
    if (!names.has(hp.bare.toLowerCase())) continue;
    if (hp.port !== undefined && hp.port !== at.port) continue;
    const any = wildcardOf(at.address);
    const newHost = hp.host.startsWith('[') ? `[${any}]` : any;
    const replacedWord = (eq ? eq[1]! : '') + scheme + rest.replace(hp.host, newHost) + value.slice(scheme.length + rest.length);
    const prev = argv[i - 1];
    const withOption = !eq && i > 1 && prev !== undefined && /^-{1,2}[A-Za-z][\w-]*$/.test(prev);
    return { index: i, text: withOption ? `${prev} ${word}` : word, replaced: argv.map((w, n) => (n === i ? replacedWord : w)) };
  }
  return undefined;
}

/** Where the address a program listens on comes from, as far as whyport can see it. */
export type BindSource =
  | ({ kind: 'setting'; program: string; pid: number; argument?: string } & SettingLine)
  | { kind: 'argument'; program: string; pid: number; text: string; argv: string[]; replaced: string[] };

/**
 * Decides where the address comes from: for a program whose configuration whyport knows, the line
 * of its files that sets it (an options file that becomes the service's command line, memcached's,
 * also names the argument: a copy started by hand has only that); else the argument of its
 * command line that names the address. Undefined when neither shows it.
 */
export function bindSourceOf(inputs: { program: string; pid: number; argv: string[]; spec?: BindSetting; files: readonly { path: string; text: string }[] }, at: BoundAt): BindSource | undefined {
  const { program, pid, argv, spec } = inputs;
  if (spec) {
    const setting = findBindSetting(spec, inputs.files, at);
    const arg = spec.syntax === 'flag' ? findBindArgument(argv, at) : undefined;
    if (setting) return { kind: 'setting', program, pid, ...setting, ...(arg ? { argument: arg.text } : {}) };
  }
  const arg = findBindArgument(argv, at);
  return arg ? { kind: 'argument', program, pid, text: arg.text, argv: [...argv], replaced: arg.replaced } : undefined;
}
