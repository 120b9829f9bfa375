// The subcommands build their commander programs inside the functions that run them, so what they
// accept is known here only from the help they print. Reading that help (commander's own layout)
// keeps the completion in step with them without a second list of their options to maintain.

/** One option as a help text lists it. */
export interface HelpOption {
  short?: string;
  long?: string;
  /** The value's placeholder (`path` of `--file <path>`); undefined for a flag. */
  value?: string;
  /** `[value]`: the value may be left out. */
  optional: boolean;
  /** `<value...>`: every following word up to the next option. */
  variadic: boolean;
  description: string;
  /** commander's `(choices: "a", "b")`. */
  choices?: string[];
}

/** What commander's help for one command says: its description, options and subcommands. */
export interface HelpText {
  description: string;
  options: HelpOption[];
  commands: { name: string; description: string }[];
}

/**
 * Reads a help text in commander's layout: `Usage:`, the description, then sections (`Options:`,
 * `Commands:`, …) of two-space-indented terms whose descriptions may wrap onto deeper-indented
 * lines. Text after the last section (examples, exit statuses) is not read.
 */
export function parseHelpText(text: string): HelpText {
  const lines = text.split('\n');
  const description: string[] = [];
  const sections = new Map<string, { term: string; description: string }[]>();
  let section: { term: string; description: string }[] | undefined;
  let inDescription = false;
  for (const line of lines) {
    if (/^Usage:/.test(line)) {
      inDescription = true;
      continue;
    }
    const header = /^([A-Z][\w ]*):$/.exec(line);
    if (header) {
      inDescription = false;
      section = [];
      sections.set(header[1]!, section);
      continue;
    }
    if (inDescription) {
      if (line.trim()) description.push(line.trim());
      continue;
    }
    if (!section) continue;
    const item = /^ {2}(\S.*?)(?: {2,}(.*))?$/.exec(line);
    if (item) {
      section.push({ term: item[1]!, description: item[2]?.trim() ?? '' });
    } else if (/^ {3,}\S/.test(line) && section.length) {
      const last = section[section.length - 1]!;
      last.description = `${last.description} ${line.trim()}`.trim();
    } else if (!line.trim()) {
      // A blank line ends the section: what follows is free text (examples, exit statuses).
      section = undefined;
    }
  }
  return {
    description: description.join(' '),
    options: (sections.get('Options') ?? []).map((o) => helpOption(o.term, o.description)).filter((o) => o !== undefined),
    commands: (sections.get('Commands') ?? []).map((c) => ({ name: c.term.split(' ')[0]!, description: c.description })),
  };
}

function helpOption(term: string, description: string): HelpOption | undefined {
  const m = /^(?:(-[A-Za-z0-9]),\s*)?(--[\w-]+|-[A-Za-z0-9])(?:\s+([<[])([^>\]]*?)(\.\.\.)?[>\]])?$/.exec(term);
  if (!m) return undefined;
  const [, first, name, bracket, value, dots] = m;
  const choices = /\(choices: ((?:"[^"]*"(?:, )?)+)/.exec(description)?.[1]?.match(/"[^"]*"/g)?.map((c) => c.slice(1, -1));
  const short = first ?? (name!.startsWith('--') ? undefined : name);
  const long = name!.startsWith('--') ? name : undefined;
  return {
    ...(short ? { short } : {}),
    ...(long ? { long } : {}),
    ...(value !== undefined ? { value } : {}),
    optional: bracket === '[',
    variadic: dots !== undefined,
    description,
    ...(choices?.length ? { choices } : {}),
  };
}
