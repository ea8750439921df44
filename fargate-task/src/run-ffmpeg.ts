/**
 * Step 3: one FFmpeg run. Spawned through sandboxedSpawn (argv, no shell, empty env,
 * workspace cwd, ffmpeg user); stdout carries `-progress` blocks; stderr is kept only as a
 * bounded tail for the error message; at the deadline SIGTERM, then SIGKILL after a grace.
 */
import { spawn } from 'node:child_process';
import { createProgressParser, type ProgressUpdate } from '../../core/media/index.ts';
import { FFMPEG_LEADING_ARGS, sandboxedSpawn, type SandboxIdentity, type SpawnSpec } from './sandbox.ts';

/** Keeps the last `capacity` bytes written to it, never more (plus nothing: chunks are trimmed). */
export class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  constructor(readonly capacity: number) {}

  push(chunk: Buffer): void {
    const c = chunk.length > this.capacity ? chunk.subarray(chunk.length - this.capacity) : chunk;
    this.chunks.push(Buffer.from(c));
    this.size += c.length;
    while (this.size - this.chunks[0]!.length >= this.capacity) this.size -= this.chunks.shift()!.length;
    if (this.size > this.capacity) {
      const first = this.chunks[0]!;
      this.chunks[0] = first.subarray(this.size - this.capacity);
      this.size = this.capacity;
    }
  }

  /** Bytes held (≤ capacity). */
  get length(): number {
    return this.size;
  }

  /** The tail as text, starting at a line boundary when one is near, without a broken UTF-8 lead. */
  text(): string {
    let buf = Buffer.concat(this.chunks);
    // Skip continuation bytes a cut may have left at the start.
    let start = 0;
    while (start < buf.length && start < 4 && (buf[start]! & 0xc0) === 0x80) start++;
    buf = buf.subarray(start);
    let s = buf.toString('utf8');
    if (this.size >= this.capacity) {
      const nl = s.indexOf('\n');
      if (nl !== -1 && nl < 200) s = s.slice(nl + 1);
    }
    return s.trimEnd();
  }
}

export const STDERR_TAIL_BYTES = 2048;

export interface FfmpegRunOptions extends SandboxIdentity {
  ffmpegPath: string;
  /** The plan's argv (no program name, no leading worker options). */
  argv: readonly string[];
  /** Time left for this run; SIGTERM when it is used up. */
  timeoutMs: number;
  killGraceMs: number;
  /** Expected output duration for percent (null: unknown). */
  totalSeconds: number | null;
  signal?: AbortSignal;
  onProgress?: (update: ProgressUpdate) => void;
  onSpawn?: (pid: number) => void;
}

export interface FfmpegRunResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  aborted: boolean;
  seconds: number;
  stderrTail: string;
  /** Set when the process could not be started at all. */
  spawnError?: string;
}

export function ffmpegSpawnSpec(opts: Pick<FfmpegRunOptions, 'ffmpegPath' | 'argv' | 'cwd' | 'uid' | 'gid'>): SpawnSpec {
  return sandboxedSpawn(opts.ffmpegPath, [...FFMPEG_LEADING_ARGS, ...opts.argv], opts);
}

export function runFfmpeg(opts: FfmpegRunOptions): Promise<FfmpegRunResult> {
  const spec = ffmpegSpawnSpec(opts);
  const started = performance.now();
  const tail = new TailBuffer(STDERR_TAIL_BYTES);
  const parser = createProgressParser(opts.totalSeconds);

  return new Promise((resolve) => {
    let timedOut = false;
    let aborted = false;
    let spawnError: string | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    const child = spawn(spec.file, spec.args, spec.options);

    const stop = () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      killTimer ??= setTimeout(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }, opts.killGraceMs);
    };
    const deadline = setTimeout(() => {
      timedOut = true;
      stop();
    }, Math.max(0, opts.timeoutMs));
    const onAbort = () => {
      aborted = true;
      stop();
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (opts.signal?.aborted) onAbort();

    if (child.pid !== undefined) opts.onSpawn?.(child.pid);
    child.stdout!.on('data', (chunk: Buffer) => {
      for (const update of parser.push(chunk)) opts.onProgress?.(update);
    });
    child.stderr!.on('data', (chunk: Buffer) => tail.push(chunk));
    child.on('error', (err: NodeJS.ErrnoException) => {
      spawnError = err.code ?? err.name;
    });
    child.on('close', (exitCode, signal) => {
      clearTimeout(deadline);
      if (killTimer) clearTimeout(killTimer);
      opts.signal?.removeEventListener('abort', onAbort);
      resolve({
        exitCode,
        signal,
        timedOut,
        aborted,
        seconds: (performance.now() - started) / 1000,
        stderrTail: tail.text(),
        spawnError,
      });
    });
  });
}
