/** One verdict of a diagnosis, as --watch compares them. */
export interface WatchVerdict {
  code: string;
  title: string;
  exitStatus: number;
}

export interface WatchOptions {
  /** The pause between the end of one try and the start of the next. */
  intervalMs: number;
  /** Give up after this many tries; unlimited when absent. */
  max?: number;
  out(text: string): void;
  /** Ctrl-C: ends the watch at once, even in the middle of a try or a pause. */
  signal: AbortSignal;
  now?: () => Date;
}

/** The verdict code that ends a watch successfully. */
export const REACHABLE = 'REACHABLE';

/** The exit status of a watch stopped by the user (128 + SIGINT), as shells report Ctrl-C. */
export const WATCH_INTERRUPTED = 130;

/**
 * `--watch`: runs the diagnosis again and again and prints a timestamped line only when the
 * verdict changes (the first one included), so a quiet terminal means "still the same".
 * Returns 0 as soon as the verdict is REACHABLE; after `max` tries, the last verdict's exit
 * status; 130 when aborted. Errors from runOnce propagate.
 */
export async function watch(runOnce: () => Promise<WatchVerdict>, opts: WatchOptions): Promise<number> {
  const now = opts.now ?? (() => new Date());
  const stamp = () => now().toISOString().replace(/\.\d{3}Z$/, 'Z');
  let last: WatchVerdict | undefined;
  let tries = 0;
  const stopped = () => {
    opts.out(`${stamp()}  stopped after ${tries} ${tries === 1 ? 'try' : 'tries'}${last ? ` (still ${last.code})` : ''}\n`);
    return WATCH_INTERRUPTED;
  };
  if (opts.signal.aborted) return stopped();

  for (;;) {
    const verdict = await untilAborted(runOnce(), opts.signal);
    if (verdict === ABORTED) return stopped();
    tries++;
    if (!last || verdict.code !== last.code) {
      opts.out(`${stamp()}  ${verdict.code}  ${verdict.title}${tries > 1 ? ` (try ${tries})` : ''}\n`);
    }
    last = verdict;
    if (verdict.code === REACHABLE) return 0;
    if (opts.max !== undefined && tries >= opts.max) {
      opts.out(`${stamp()}  gave up after ${tries} ${tries === 1 ? 'try' : 'tries'}: still ${verdict.code}\n`);
      return verdict.exitStatus;
    }
    if (!(await pause(opts.intervalMs, opts.signal))) return stopped();
  }
}

const ABORTED = Symbol('aborted');

/**
 * The promise's value, or ABORTED as soon as the signal fires. A try that does not listen to the
 * signal is left to finish in the background: the caller is about to exit anyway.
 */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | typeof ABORTED> {
  if (signal.aborted) return Promise.resolve(ABORTED);
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve(ABORTED);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

/** Waits ms; false when aborted first. The timer is cleared so it does not hold the process open. */
function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
