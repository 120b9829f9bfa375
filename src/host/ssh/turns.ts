import type { CommandResult, Runner, RunOptions } from '../runner.js';
import type { SshSession } from './session.js';

/**
 * A Runner on the session that sends the commands asked for in the same turn of the event loop (a
 * check's Promise.all) together, in one round trip (SshSession.execBatch); a command the first
 * round trip already ran (the preload) is taken from there, and one with stdin or bounded output
 * goes alone.
 */
export function turnBatchingRunner(session: SshSession): Runner {
  let queue: { argv: readonly string[]; options: RunOptions; resolve: (r: CommandResult) => void; reject: (e: unknown) => void }[] = [];
  const flush = () => {
    const items = queue;
    queue = [];
    if (items.length === 1) {
      const [one] = items;
      session.exec(one!.argv, one!.options).then(one!.resolve, one!.reject);
      return;
    }
    session.execBatch(items).then(
      (results) => items.forEach((it, i) => it.resolve(results[i]!)),
      (err: unknown) => items.forEach((it) => it.reject(err)),
    );
  };
  return {
    async run(argv, options = {}) {
      // With stdin, or with its output bounded (a batch shares one output stream), a command goes alone.
      if (options.input !== undefined || options.maxBytes !== undefined) return session.exec(argv, options);
      await session.open();
      const preloaded = session.takePreloaded(argv);
      if (preloaded) return preloaded;
      return new Promise((resolve, reject) => {
        if (queue.length === 0) setImmediate(flush);
        queue.push({ argv, options, resolve, reject });
      });
    },
  };
}
