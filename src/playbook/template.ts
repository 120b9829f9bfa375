/**
 * Placeholders in playbook text: `{{ path }}` with optional filters, e.g.
 * `{{ steps.unit.evidence.journal | join(", ") }}` or `{{ inputs.process | default("the program") }}`.
 * Paths only — no expressions — so a playbook cannot run code.
 */

export interface Placeholder {
  /** Offset of `{{` in the text. */
  offset: number;
  raw: string;
  path: string[];
  filters: Filter[];
}

export interface Filter {
  name: string;
  arg?: string;
}

export const FILTERS = ['join', 'first', 'default', 'count', 'upper'] as const;

const PLACEHOLDER = /\{\{\s*(.*?)\s*\}\}/g;
const PATH = /^[A-Za-z_][\w-]*(\.[A-Za-z0-9_-]+)*$/;
const FILTER = /^([a-z]+)(?:\(\s*"((?:[^"\\]|\\.)*)"\s*\))?$/;

export class TemplateSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

/** Splits a template into its placeholders; throws TemplateSyntaxError on a malformed one. */
export function parsePlaceholders(text: string): Placeholder[] {
  const out: Placeholder[] = [];
  for (const m of text.matchAll(PLACEHOLDER)) {
    const [pathText, ...filterTexts] = m[1]!.split('|').map((s) => s.trim());
    if (!pathText || !PATH.test(pathText)) {
      throw new TemplateSyntaxError(`'${m[0]}' is not a placeholder: expected a dotted path like {{ inputs.process }}`, m.index);
    }
    const filters: Filter[] = filterTexts.map((f) => {
      const fm = FILTER.exec(f);
      if (!fm || !(FILTERS as readonly string[]).includes(fm[1]!)) {
        throw new TemplateSyntaxError(`unknown filter '${f}' in '${m[0]}'; filters: ${FILTERS.join(', ')}`, m.index);
      }
      return fm[2] === undefined ? { name: fm[1]! } : { name: fm[1]!, arg: fm[2].replace(/\\(.)/g, '$1') };
    });
    out.push({ offset: m.index, raw: m[0], path: pathText.split('.'), filters });
  }
  if (/\{\{(?![^]*?\}\})/.test(text.replace(PLACEHOLDER, ''))) {
    throw new TemplateSyntaxError(`an opening '{{' has no closing '}}'`, text.indexOf('{{'));
  }
  return out;
}

/** Looks a dotted path up in the scope; undefined when any part is missing. */
export function lookupPath(scope: unknown, path: readonly string[]): unknown {
  let cur: unknown = scope;
  for (const key of path) {
    if (cur === null || cur === undefined || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

function applyFilters(value: unknown, filters: readonly Filter[]): unknown {
  let v = value;
  for (const f of filters) {
    switch (f.name) {
      case 'join':
        v = Array.isArray(v) ? v.map(toText).join(f.arg ?? ', ') : v;
        break;
      case 'first':
        v = Array.isArray(v) ? v[0] : v;
        break;
      case 'count':
        v = Array.isArray(v) ? v.length : v === undefined || v === null ? 0 : 1;
        break;
      case 'upper':
        v = toText(v).toUpperCase();
        break;
      case 'default':
        v = v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0) ? (f.arg ?? '') : v;
        break;
    }
  }
  return v;
}

function toText(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (Array.isArray(v)) return v.map(toText).join(', ');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** Renders every placeholder as text; missing values render as ''. */
export function renderTemplate(text: string, scope: unknown): string {
  const holders = parsePlaceholders(text);
  if (holders.length === 0) return text;
  let out = '';
  let at = 0;
  for (const h of holders) {
    out += text.slice(at, h.offset) + toText(applyFilters(lookupPath(scope, h.path), h.filters));
    at = h.offset + h.raw.length;
  }
  return out + text.slice(at);
}

/**
 * Renders a value for a check parameter: a string that is exactly one placeholder keeps the value's
 * type (a list stays a list); anything else becomes text. In a list (a `command`'s argv) each item
 * stays one item, never split on spaces, and an item that is one placeholder holding a list gives
 * one item per element, as a fix command's words do (renderCommand).
 */
export function renderValue(value: unknown, scope: unknown): unknown {
  if (typeof value === 'string') {
    const holders = parsePlaceholders(value);
    if (holders.length === 1 && holders[0]!.raw === value.trim()) {
      const v = applyFilters(lookupPath(scope, holders[0]!.path), holders[0]!.filters);
      return v === undefined || v === null ? '' : v;
    }
    return renderTemplate(value, scope);
  }
  if (Array.isArray(value)) return value.flatMap((v) => {
    const r = renderValue(v, scope);
    return Array.isArray(r) ? r : [r];
  });
  return value;
}

/**
 * Renders a fix command to argv. A string is split into words on spaces BEFORE templating, so a
 * value can never add shell syntax; an empty word after templating is dropped. A word that is a
 * single placeholder holding a list becomes one word per item (each still one argv word).
 */
export function renderCommand(command: string | readonly string[], scope: unknown): string[] {
  const words = typeof command === 'string' ? splitWords(command) : command;
  return words.flatMap((w) => {
    // A word that is one placeholder holding a list is that many words (a tool's own argv).
    const holders = parsePlaceholders(w);
    if (holders.length === 1 && holders[0]!.raw === w.trim()) {
      const v = applyFilters(lookupPath(scope, holders[0]!.path), holders[0]!.filters);
      if (Array.isArray(v)) return v.map(toText);
    }
    return [renderTemplate(w, scope)];
  }).filter((w) => w !== '');
}

/** Splits a command on spaces outside placeholders: `ss sport = :{{ target.port }}` is four words. */
export function splitWords(command: string): string[] {
  return command.match(/(?:\{\{.*?\}\}|\S)+/g) ?? [];
}
