/**
 * Which program a process is, as a person names it. `python3 /srv/myapp.py` is myapp to its
 * owner, not python3; `java -jar /opt/shop.jar` is shop. This is the one place that reads a
 * command line for the program an interpreter runs: the process scan (pgrep's semantics, plus
 * this), the owner of a socket and the guesses all ask it, so every step finds a program by the
 * same name.
 */

/** Interpreters whose first argument that is not an option is the script they run. */
const SCRIPT_RUNNER = /^(python[\d.]*|pypy[\d.]*|node|nodejs|bun|deno|ruby[\d.]*|perl[\d.]*|php[\d.]*(-cli)?|bash|sh|dash|zsh|ksh|mksh|ash|busybox)$/;
const JAVA = /^java$/;

/**
 * Per interpreter: the options that take the next word as their value (`-W ignore`, `-r ./x.js`),
 * and those after which there is no script, the program being given inline (`python3 -c CODE`).
 */
const OPTIONS: readonly [RegExp, { values: ReadonlySet<string>; inline: ReadonlySet<string> }][] = [
  [/^(python|pypy)/, { values: new Set(['-W', '-X', '--check-hash-based-pycs']), inline: new Set(['-c']) }],
  [/^(node|nodejs|bun|deno)$/, { values: new Set(['-r', '--require', '--import', '--loader', '--experimental-loader', '-C', '--conditions', '--title', '--env-file']), inline: new Set(['-e', '--eval', '-p', '--print']) }],
  [/^ruby/, { values: new Set(['-I', '-r', '-C', '-E', '-F']), inline: new Set(['-e']) }],
  [/^perl/, { values: new Set(['-I', '-M', '-m']), inline: new Set(['-e', '-E']) }],
  [/^php/, { values: new Set(['-c', '-d', '-z', '-t']), inline: new Set(['-r']) }],
  [/^(bash|sh|dash|zsh|ksh|mksh|ash)$/, { values: new Set(['-o', '+o', '-O', '+O']), inline: new Set(['-c']) }],
];
/** Java's options that take the next word as their value. */
const JAVA_VALUE_OPTIONS = new Set(['-cp', '-classpath', '--class-path', '-p', '--module-path', '--upgrade-module-path', '--add-modules', '--add-opens', '--add-exports', '--add-reads', '--patch-module', '--limit-modules', '--enable-native-access']);

/** Extensions a script or jar is named with; the program is also its name without one. */
const SCRIPT_EXTENSION = /\.(js|mjs|cjs|ts|py|pyc|pyz|rb|pl|pm|php|sh|bash|jar|war|java|lua|tcl)$/;

const base = (word: string) => word.slice(word.lastIndexOf('/') + 1);

/** A word that can name a program: no blanks (nginx's rewritten argv[0] `nginx: master process` is no name). */
const nameLike = (word: string) => word !== '' && !/\s/.test(word);

/** Kernel threads and processes whose command line is gone run no script. */
function interpreterOf(comm: string, argv: readonly string[]): string | undefined {
  for (const name of [base(argv[0] ?? ''), comm]) if (SCRIPT_RUNNER.test(name) || JAVA.test(name)) return name;
  return undefined;
}

/**
 * The script (or jar, or main class, or module) an interpreter runs, as its command line names it
 * (`/srv/myapp.py`, `/opt/shop.jar`, `com.example.Main`); undefined when the process is not an
 * interpreter running a named program (`python3 -c …`, a plain binary, a kernel thread).
 */
export function scriptOf(comm: string, argv: readonly string[]): string | undefined {
  const runner = interpreterOf(comm, argv);
  if (!runner || argv.length < 2) return undefined;
  if (JAVA.test(runner)) return javaProgram(argv);
  // busybox sh script.sh: the applet is the runner.
  const words = base(argv[0]!) === 'busybox' ? argv.slice(1) : argv;
  const { values, inline } = OPTIONS.find(([r]) => r.test(runner))?.[1] ?? { values: new Set<string>(), inline: new Set<string>() };
  const python = /^(python|pypy)/.test(runner);
  const php = /^php/.test(runner);
  for (let i = 1; i < words.length; i++) {
    const w = words[i]!;
    if (w === '--') return words[i + 1];
    if (python && w === '-m') return words[i + 1];
    if (python && w.startsWith('-m') && w.length > 2 && !w.startsWith('--')) return w.slice(2);
    if (php && w === '-f') return words[i + 1];
    if (values.has(w)) {
      i++;
      continue;
    }
    if (inline.has(w)) return undefined;
    // `-` reads the program from stdin: nothing names it.
    if (w === '-') return undefined;
    if (w.startsWith('-') || w.startsWith('+')) continue;
    return w;
  }
  return undefined;
}

/** `java [options] -jar X.jar | -m module/Main | MainClass | Source.java`. */
function javaProgram(argv: readonly string[]): string | undefined {
  for (let i = 1; i < argv.length; i++) {
    const w = argv[i]!;
    if (w === '-jar') return argv[i + 1];
    if (w === '-m' || w === '--module') return argv[i + 1]?.split('/').pop();
    if (JAVA_VALUE_OPTIONS.has(w)) {
      i++;
      continue;
    }
    if (w.startsWith('-')) continue;
    return w;
  }
  return undefined;
}

/**
 * The names a script answers to: its base name, that without its extension, and for a dotted
 * module or class the last part (`http.server` → server, `com.example.Main` → Main).
 */
export function scriptNames(script: string): string[] {
  const b = base(script);
  if (b === '') return [];
  const names = [b, b.replace(SCRIPT_EXTENSION, '')];
  if (!script.includes('/') && !SCRIPT_EXTENSION.test(b) && b.includes('.')) names.push(b.split('.').pop()!);
  return [...new Set(names.filter(nameLike))];
}

/**
 * Every name a process answers to: its process name (comm), the base name of its argv[0], and the
 * names of the script an interpreter runs. What a did-you-mean offers and a name is matched against.
 */
export function programNames(comm: string, argv: readonly string[]): string[] {
  const script = scriptOf(comm, argv);
  const argv0 = base(argv[0] ?? '');
  return [...new Set([comm, ...(nameLike(argv0) ? [argv0] : []), ...(script ? scriptNames(script) : [])].filter(nameLike))];
}

/**
 * Whether a process is the program `name`: its process name (which the kernel cuts to 15
 * characters, so a longer name matches its first 15), the base name of argv[0], or the script,
 * jar or module an interpreter runs, with or without its extension (`myapp` is
 * `python3 /srv/myapp.py`, `shop` is `java -jar shop.jar`).
 */
export function isProgram(name: string, comm: string, argv: readonly string[]): boolean {
  if (name === '') return false;
  if (comm === name || (name.length > 15 && comm === name.slice(0, 15))) return true;
  return programNames(comm, argv).includes(name);
}

/** Whether the process name is an interpreter's, so its command line must be read to know the program. */
export function mayRunScript(comm: string): boolean {
  return SCRIPT_RUNNER.test(comm) || JAVA.test(comm);
}
