/**
 * Step 3: one FFmpeg run. Spawned through sandboxedSpawn (argv, no shell, empty env,
 * workspace cwd, ffmpeg user, bwrap + rlimits where available); stdout carries `-progress`
 * blocks; stderr is kept only as a bounded tail for the error message; at the deadline
 * SIGTERM, then SIGKILL after a grace.
 *
 * While it runs, a watchdog enforces the workspace quota (bytes and files added since the
 * baseline, polled every WATCH_DISK_MS; RLIMIT_FSIZE bounds a single file in between) and the
 * memory limit (resident memory of the whole process tree from /proc, every WATCH_MEMORY_MS,
 * the tree re-walked every WATCH_TREE_MS after the first second; RLIMIT_AS is the backstop in
 * between). Over a limit, FFmpeg is killed at once: its output
 * is discarded anyway.
 */
import { spawn } from 'node:child_process';
import { lstat, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
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

export const WATCH_DISK_MS = 250;
export const WATCH_MEMORY_MS = 100;
/**
 * How often the watchdog walks the run's process tree again (one read per FFmpeg thread);
 * between walks it reads only the resident memory of the processes it knows. A process born in
 * between is seen at the next walk; RLIMIT_AS bounds each process meanwhile.
 */
export const WATCH_TREE_MS = 1_000;

export interface WorkspaceUsage {
  bytes: number;
  files: number;
}

/** Apparent size and file count of a workspace (recursively; symlinks are not followed). */
export async function measureWorkspace(dir: string): Promise<WorkspaceUsage> {
  const usage: WorkspaceUsage = { bytes: 0, files: 0 };
  const pending = [dir];
  while (pending.length > 0) {
    const current = pending.pop()!;
    const entries = await readdir(current, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const p = path.join(current, e.name);
      usage.files++;
      if (e.isDirectory()) pending.push(p);
      else {
        const st = await lstat(p).catch(() => null);
        if (st) usage.bytes += st.size;
      }
    }
  }
  return usage;
}

/** Resident memory (bytes) of `pid` and all its descendants, from /proc; 0 where /proc is absent. */
export async function treeResidentBytes(pid: number): Promise<number> {
  return residentBytesOf(await processTree(pid));
}

/** `pid` and its descendants (at most 256), from /proc/<p>/task/<t>/children. */
export async function processTree(pid: number): Promise<number[]> {
  const seen = new Set<number>();
  const pending = [pid];
  while (pending.length > 0 && seen.size < 256) {
    const p = pending.pop()!;
    if (seen.has(p)) continue;
    seen.add(p);
    const tasks = await readdir(`/proc/${p}/task`).catch(() => [] as string[]);
    for (const t of tasks) {
      const children = await readFile(`/proc/${p}/task/${t}/children`, 'utf8').catch(() => '');
      for (const c of children.split(' ')) if (c.trim()) pending.push(Number(c));
    }
  }
  return [...seen];
}

/** Resident bytes of the given processes (VmRSS); gone ones count 0. */
export async function residentBytesOf(pids: readonly number[]): Promise<number> {
  let total = 0;
  for (const p of pids) {
    const status = await readFile(`/proc/${p}/status`, 'utf8').catch(() => '');
    const rss = /^VmRSS:\s+(\d+) kB/m.exec(status);
    if (rss) total += Number(rss[1]) * 1024;
  }
  return total;
}

export interface RunLimits {
  /** Bytes and files FFmpeg may add to the workspace beyond `baseline`. */
  workspace?: { maxBytes: number; maxFiles: number; baseline: WorkspaceUsage };
  /** Resident memory of the run's process tree. */
  memoryBytes?: number;
}

/** The limits of every run of a command, from the worker's configuration. */
export function runLimits(
  config: { workspaceMaxBytes?: number; workspaceMaxFiles?: number; ffmpegMemoryBytes?: number },
  baseline: WorkspaceUsage,
): RunLimits {
  const limits: RunLimits = {};
  if (config.workspaceMaxBytes !== undefined) {
    limits.workspace = {
      maxBytes: config.workspaceMaxBytes,
      maxFiles: config.workspaceMaxFiles ?? Number.MAX_SAFE_INTEGER,
      baseline,
    };
  }
  if (config.ffmpegMemoryBytes !== undefined) limits.memoryBytes = config.ffmpegMemoryBytes;
  return limits;
}

export interface LimitExceeded {
  kind: 'workspace_bytes' | 'workspace_files' | 'memory';
  limit: number;
  /** What was seen when it was stopped (null: the kernel stopped it, e.g. RLIMIT_FSIZE). */
  observed: number | null;
}

const mib = (n: number) => `${Math.round((n / 1024 ** 2) * 10) / 10} MiB`;

/** The user-facing sentence for a limit FFmpeg ran into. */
export function describeLimit(e: LimitExceeded): string {
  switch (e.kind) {
    case 'workspace_bytes':
      return `FFmpeg was stopped: it wrote more than the workspace quota of ${e.limit} bytes (${mib(e.limit)})`;
    case 'workspace_files':
      return `FFmpeg was stopped: it created more than the workspace quota of ${e.limit} files`;
    case 'memory':
      return `FFmpeg was stopped: it used more than the memory limit of ${e.limit} bytes (${mib(e.limit)}) per run`;
  }
}

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
  limits?: RunLimits;
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
  /** Set when the watchdog or an rlimit stopped the run. */
  limitExceeded?: LimitExceeded;
}

export function ffmpegSpawnSpec(
  opts: Pick<FfmpegRunOptions, 'ffmpegPath' | 'argv' | 'cwd' | 'uid' | 'gid' | 'isolation'>,
): SpawnSpec {
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
    const deadline = setTimeout(
      () => {
        timedOut = true;
        stop();
      },
      Math.max(0, opts.timeoutMs),
    );
    const onAbort = () => {
      aborted = true;
      stop();
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (opts.signal?.aborted) onAbort();

    if (child.pid !== undefined) opts.onSpawn?.(child.pid);
    let limitExceeded: LimitExceeded | undefined;
    const overLimit = (e: LimitExceeded) => {
      limitExceeded ??= e;
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    };
    const watchdog = startWatchdog(child.pid, opts.cwd, opts.limits, overLimit);
    child.stdout!.on('data', (chunk: Buffer) => {
      for (const update of parser.push(chunk)) opts.onProgress?.(update);
    });
    child.stderr!.on('data', (chunk: Buffer) => tail.push(chunk));
    child.on('error', (err: NodeJS.ErrnoException) => {
      spawnError = err.code ?? err.name;
    });
    child.on('close', async (exitCode, signal) => {
      watchdog.stop();
      // A fast run can finish between two polls: the quota holds for what it left behind too.
      const ws = opts.limits?.workspace;
      if (ws && !limitExceeded) {
        const now = await measureWorkspace(opts.cwd);
        if (now.bytes - ws.baseline.bytes > ws.maxBytes)
          limitExceeded = { kind: 'workspace_bytes', limit: ws.maxBytes, observed: now.bytes - ws.baseline.bytes };
        else if (now.files - ws.baseline.files > ws.maxFiles)
          limitExceeded = { kind: 'workspace_files', limit: ws.maxFiles, observed: now.files - ws.baseline.files };
      }
      clearTimeout(deadline);
      const stderrTail = tail.text();
      // The kernel's own stop: RLIMIT_FSIZE sends SIGXFSZ (bwrap reports it as exit 128+25).
      const bwrapped = opts.isolation?.bwrapPath !== undefined;
      if (
        !limitExceeded &&
        opts.limits?.workspace &&
        (signal === 'SIGXFSZ' || (bwrapped && exitCode === 153) || /File too large/.test(stderrTail))
      ) {
        limitExceeded = { kind: 'workspace_bytes', limit: opts.limits.workspace.maxBytes, observed: null };
      }
      // RLIMIT_AS refused an allocation before the watchdog saw the growth.
      if (!limitExceeded && opts.limits?.memoryBytes !== undefined && /Cannot allocate memory/.test(stderrTail)) {
        limitExceeded = { kind: 'memory', limit: opts.limits.memoryBytes, observed: null };
      }
      if (killTimer) clearTimeout(killTimer);
      opts.signal?.removeEventListener('abort', onAbort);
      resolve({
        exitCode,
        signal,
        timedOut,
        aborted,
        seconds: (performance.now() - started) / 1000,
        stderrTail,
        spawnError,
        limitExceeded,
      });
    });
  });
}

/** Polls the workspace and the process tree; calls `over` once a limit is passed. */
function startWatchdog(
  pid: number | undefined,
  workspace: string,
  limits: RunLimits | undefined,
  over: (e: LimitExceeded) => void,
): { stop(): void } {
  if (pid === undefined || !limits || (!limits.workspace && limits.memoryBytes === undefined)) return { stop() {} };
  let stopped = false;
  let busy = false;
  let lastDisk = 0;
  let tree: number[] = [];
  let lastTree = Number.NEGATIVE_INFINITY;
  const started = performance.now();
  const tick = async () => {
    if (busy || stopped) return;
    busy = true;
    try {
      if (limits.memoryBytes !== undefined) {
        // The tree walk reads every thread's children: ~20 reads for x264, 10 times a second,
        // on the cores FFmpeg is using (docs/PERFORMANCE.md). Re-walk it every tick while the
        // run starts (bwrap forks FFmpeg), then once a second.
        const now = performance.now();
        if (now - started < WATCH_TREE_MS || now - lastTree >= WATCH_TREE_MS) {
          lastTree = now;
          tree = await processTree(pid);
        }
        const rss = await residentBytesOf(tree);
        if (!stopped && rss > limits.memoryBytes)
          return over({ kind: 'memory', limit: limits.memoryBytes, observed: rss });
      }
      const ws = limits.workspace;
      if (ws && performance.now() - lastDisk >= WATCH_DISK_MS) {
        lastDisk = performance.now();
        const now = await measureWorkspace(workspace);
        if (stopped) return;
        if (now.bytes - ws.baseline.bytes > ws.maxBytes)
          return over({ kind: 'workspace_bytes', limit: ws.maxBytes, observed: now.bytes - ws.baseline.bytes });
        if (now.files - ws.baseline.files > ws.maxFiles)
          return over({ kind: 'workspace_files', limit: ws.maxFiles, observed: now.files - ws.baseline.files });
      }
    } finally {
      busy = false;
    }
  };
  const interval = limits.memoryBytes !== undefined ? WATCH_MEMORY_MS : WATCH_DISK_MS;
  const timer = setInterval(() => void tick(), interval);
  timer.unref();
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
