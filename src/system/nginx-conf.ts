import { posix } from 'node:path';
import type { Host } from '../host/host.js';
import { NGINX } from '../knowledge/service-settings.js';
import { pathInclusion, readConfigTree, type ConfigSnapshot, type FlatConfig, type IncludeRule, type SourceLine } from './config-tree.js';

/** One directive of nginx's configuration: its name, its arguments, its block when it has one, the line it starts on. */
export interface NginxDirective {
  name: string;
  args: string[];
  block?: NginxDirective[];
  source: SourceLine;
}

/** `include PATH;` alone on its line (as every packaged file writes it), relative to the prefix. */
export function nginxIncludeRule(prefix: string = NGINX.prefix): IncludeRule {
  return (text) => {
    const m = /^include\s+("([^"]*)"|'([^']*)'|[^\s;]+)\s*;\s*(#.*)?$/.exec(text);
    if (!m) return undefined;
    const path = m[2] ?? m[3] ?? m[1]!;
    return pathInclusion(posix.resolve(prefix, path));
  };
}

/**
 * Parses laid-out nginx configuration lines into directives and blocks (pure): words, quotes
 * with escapes, `#` comments, `;`, `{` and `}`; the include lines stay as directives (their
 * files' lines follow them in the layout). An unbalanced brace is in `errors`; parsing goes on.
 */
export function parseNginx(lines: readonly SourceLine[]): { directives: NginxDirective[]; errors: string[] } {
  const root: NginxDirective[] = [];
  const stack: NginxDirective[][] = [root];
  const errors: string[] = [];
  let words: string[] = [];
  let start: SourceLine | undefined;
  const end = (block: boolean, at: SourceLine) => {
    const [name, ...args] = words;
    words = [];
    const source = start ?? at;
    start = undefined;
    if (name === undefined) {
      if (block) errors.push(`${at.file}:${at.line}: a block without a name`);
      return;
    }
    const d: NginxDirective = { name, args, source, ...(block ? { block: [] } : {}) };
    stack.at(-1)!.push(d);
    if (block) stack.push(d.block!);
  };
  for (const l of lines) {
    const t = l.text;
    let i = 0;
    while (i < t.length) {
      const c = t[i]!;
      if (/\s/.test(c)) i++;
      else if (c === '#') break;
      else if (c === ';') {
        end(false, l);
        i++;
      } else if (c === '{') {
        end(true, l);
        i++;
      } else if (c === '}') {
        if (words.length > 0) end(false, l);
        if (stack.length > 1) stack.pop();
        else errors.push(`${l.file}:${l.line}: unexpected "}"`);
        i++;
      } else {
        let w = '';
        if (c === '"' || c === "'") {
          i++;
          while (i < t.length && t[i] !== c) {
            if (t[i] === '\\' && i + 1 < t.length) i++;
            w += t[i++];
          }
          i++;
        } else {
          while (i < t.length && !/[\s;{}]/.test(t[i]!) && !(t[i] === '#' && w === '')) w += t[i++];
        }
        if (words.length === 0) start = l;
        words.push(w);
      }
    }
  }
  if (stack.length > 1) errors.push('unexpected end of file, expecting "}"');
  return { directives: root, errors };
}

export interface NginxConfReading {
  path: string;
  flat: FlatConfig;
  directives: NginxDirective[];
  problems: string[];
}

/** Reads nginx.conf and everything it includes through the Host seam, and parses it. */
export async function readNginxConf(host: Host, path: string = NGINX.conf, opts: { prefix?: string; snapshot?: ConfigSnapshot } = {}): Promise<NginxConfReading> {
  const flat = await readConfigTree(host, path, nginxIncludeRule(opts.prefix ?? posix.dirname(path)), opts.snapshot);
  const parsed = parseNginx(flat.lines);
  return { path, flat, directives: parsed.directives, problems: [...flat.problems, ...parsed.errors] };
}
