/**
 * Keeps the worker's memory flat while it moves bytes. A download hands the worker a fresh
 * 64 KiB buffer per socket read; they are garbage as soon as they are on disk, but V8 frees them
 * only when a young-generation collection runs, which it does after ~1 MiB of JS objects (with
 * WORKER_NODE_OPTIONS' semi-space), i.e. every ~8 MiB of body: ~17 MiB of dead buffers at any
 * time on a fast link. A minor collection every TRANSFER_GC_BYTES caps that; it costs well under
 * a millisecond each (the young generation is small).
 *
 * `gc` comes from V8's own flag, set at run time (v8.setFlagsFromString, as Node's docs show for
 * --expose-gc), so the image and local mode need no extra command-line option.
 */
import { Transform } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * undici parses HTTP with llhttp compiled to WebAssembly. After a few requests V8 compiles those
 * functions again with its optimizing tier in the background, and that compile holds 10-15 MiB
 * for a fraction of a second: the worker's high-water mark, reached on its third or fourth
 * download whatever the input's size. Kept at the baseline tier (Liftoff) the parser moves a
 * 1 GB body as fast (bodies pass through as spans; headers are a few hundred bytes). Called
 * before the first request: the flag applies to what is compiled after it.
 */
export function keepWasmAtBaselineTier(): void {
  setFlagsFromString('--liftoff-only');
}

/** Bytes moved between two young-generation collections during a transfer. */
export const TRANSFER_GC_BYTES = 2 * 1024 * 1024;

type GcFunction = (options?: { type?: 'major' | 'minor'; execution?: 'sync' | 'async' }) => void;

let collector: GcFunction | null | undefined;

function gcFunction(): GcFunction | null {
  if (collector === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      collector = runInNewContext('gc') as GcFunction;
    } catch {
      collector = null;
    }
  }
  return collector;
}

/** Frees the dead short-lived objects (and the buffers they hold) now: a minor collection. */
export function collectYoungGarbage(): void {
  gcFunction()?.({ type: 'minor' });
}

/**
 * A full collection: what a transfer promoted to the old generation (request objects that
 * outlived a few minor collections) grows the heap slowly over a long upload; one of these
 * every MAJOR_GC_BYTES keeps it level (~10 ms on the worker's ~20 MiB heap).
 */
export function collectAllGarbage(): void {
  gcFunction()?.({ type: 'major' });
}

/** Bytes moved between two full collections during a transfer. */
export const MAJOR_GC_BYTES = 128 * 1024 * 1024;

/** For safeFetchToFile's onBytes (core/net/fetch.ts). */
export const transferGc = { every: TRANSFER_GC_BYTES, run: collectYoungGarbage };

/** A pass-through stream that runs collectYoungGarbage every TRANSFER_GC_BYTES (S3 reads). */
export function transferGcStream(): Transform {
  let since = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      since += chunk.length;
      if (since >= TRANSFER_GC_BYTES) {
        since = 0;
        collectYoungGarbage();
      }
      cb(null, chunk);
    },
  });
}
