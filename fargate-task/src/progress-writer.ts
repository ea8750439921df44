/**
 * Progress on the command item, throttled: a write only when the value changed and at least
 * `intervalMs` after the previous one (a trailing write catches the last value), the first one
 * only `firstWriteAfterMs` after the start: a command that ends sooner writes none, its last
 * value goes with the outputs (storeOutputs), which saves a short command two writes. The write is
 * the store's `writeProgress` step, conditional on status = PROCESSING so a late write never
 * touches a finished command; once it is refused the writer stops. Failures are logged, never
 * fatal: progress is a courtesy, the result is what matters.
 */
import type { Progress } from '../../core/types.ts';
import type { Logger } from './log.ts';

export interface ProgressWriter {
  update(progress: Progress): void;
  /** Write the pending value now (if any) and wait for writes in flight. */
  flush(): Promise<void>;
  /** No more writes (a pending value is not written); waits for those in flight. Returns the last value given. */
  stop(): Promise<Progress | null>;
}

export function createProgressWriter(opts: {
  /** The conditional write (CommandRepository.writeProgress); false: no longer PROCESSING. */
  write: (progress: Progress) => Promise<boolean>;
  intervalMs: number;
  /** @default 0 (the first value is written at once) */
  firstWriteAfterMs?: number;
  log: Logger;
  now?: () => number;
}): ProgressWriter {
  const now = opts.now ?? Date.now;
  let lastWritten: string | undefined;
  // As if a write had happened, so the first one waits firstWriteAfterMs.
  let lastAt = opts.firstWriteAfterMs ? now() - opts.intervalMs + opts.firstWriteAfterMs : -Infinity;
  let latest: Progress | null = null;
  let pending: Progress | undefined;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> = Promise.resolve();
  let stopped = false;

  const write = (p: Progress) => {
    const json = JSON.stringify(p);
    if (json === lastWritten) return;
    lastWritten = json;
    lastAt = now();
    inFlight = inFlight.then(() =>
      opts
        .write(p)
        .then((written) => {
          if (written) return;
          opts.log.warn('progress not written: command is no longer PROCESSING');
          stopped = true;
        })
        .catch((err: { name?: string }) => opts.log.warn('progress write failed', { error: err?.name ?? 'Error' })),
    );
  };

  const fire = () => {
    timer = undefined;
    if (pending && !stopped) write(pending);
    pending = undefined;
  };

  return {
    update(p) {
      if (stopped) return;
      latest = p;
      const wait = lastAt + opts.intervalMs - now();
      if (wait <= 0 && !timer) {
        pending = undefined;
        write(p);
      } else {
        pending = p;
        timer ??= setTimeout(fire, Math.max(0, wait));
      }
    },
    async flush() {
      if (timer) clearTimeout(timer);
      fire();
      await inFlight;
    },
    async stop() {
      if (timer) clearTimeout(timer);
      timer = undefined;
      pending = undefined;
      stopped = true;
      await inFlight;
      return latest;
    },
  };
}
