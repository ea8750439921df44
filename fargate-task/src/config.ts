/**
 * The worker's environment contract. Names shared with the stack and local mode come from
 * ENV (core/constants.ts); the few only the worker image reads are in WORKER_ENV.
 */
import { accessSync, constants as fsConstants } from 'node:fs';
import { tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { ENV, HEARTBEAT_INTERVAL_SECONDS, LIMITS } from '../../core/constants.ts';
import { envFlag } from '../../core/env.ts';
import { SANDBOX_MODES, type SandboxMode } from './sandbox.ts';

/** Variables only the worker reads (set by its Dockerfile, or by operators and tests). */
export const WORKER_ENV = {
  /** uid/gid ffmpeg and ffprobe run as (the image's `ffmpeg` user); unset = the worker's own. */
  FFMPEG_UID: 'FFAAS_FFMPEG_UID',
  FFMPEG_GID: 'FFAAS_FFMPEG_GID',
  /** Per-input download cap in bytes (default LIMITS.maxInputBytes). */
  MAX_INPUT_BYTES: 'FFAAS_MAX_INPUT_BYTES',
  /** off | auto | required: whether FFmpeg runs inside bubblewrap (sandbox.ts). @default auto */
  SANDBOX: 'FFAAS_SANDBOX',
  /** Bytes FFmpeg may add to its workspace during a command (all runs together). @default 10 GiB */
  WORKSPACE_MAX_BYTES: ENV.WORKSPACE_MAX_BYTES,
  /** Resident memory one FFmpeg run may use. @default 3/4 of the machine's memory */
  FFMPEG_MEMORY_BYTES: 'FFAAS_FFMPEG_MEMORY_BYTES',
  /**
   * Overall time for one input's download, all attempts included; only lower than the limit.
   * @default LIMITS.downloadTimeoutSeconds (600)
   */
  DOWNLOAD_TIMEOUT_SECONDS: 'FFAAS_DOWNLOAD_TIMEOUT_SECONDS',
  /**
   * Niceness (0-19) FFmpeg and ffprobe run at (`nice -n`), below the worker and, in local mode,
   * the API in the same machine: requests are answered first when FFmpeg fills every core.
   * @default 0 (local mode sets 10: local/sandbox.ts)
   */
  FFMPEG_NICE: 'FFAAS_FFMPEG_NICE',
} as const;

/**
 * V8 options of the worker process: the image sets them as NODE_OPTIONS (fargate-task/Dockerfile)
 * and local mode's supervisor gives its workers the same. A 1 MiB semi-space makes V8 collect
 * the young generation after every ~1 MiB of short-lived objects, so the chunk buffers a
 * download drops are freed within milliseconds instead of piling up: a 500 MiB download peaked
 * at +42 MiB of RSS without it, +21 MiB with it (bench/worker-focus.ts); an idle worker saves
 * ~2.5 MiB.
 */
export const WORKER_NODE_OPTIONS = '--max-semi-space-size=1';

/**
 * glibc malloc setting of the worker process (the image's ENV, local mode's supervisor): a
 * fixed mmap threshold. By default glibc raises it after a large block is freed, so the next
 * transfer's buffers come from the heap arena and stay resident after they are freed; fixed at
 * 128 KiB, every large buffer (upload parts, big chunks) is its own mapping, returned on free.
 * On a 2 GB remux the worker's peak went from 101.5 to 97.8 MiB, its idle RSS from 85 to 82 MiB
 * (bench/worker-focus.ts memory). FFmpeg never sees it (it runs with an empty environment).
 */
export const WORKER_MALLOC_ENV = { MALLOC_MMAP_THRESHOLD_: '131072' } as const;

export interface DownloadSettings {
  maxBytes: number;
  timeoutMs: number;
  maxRedirects: number;
  retries: number;
  retryDelayMs: number;
  /** Test hook only (never from the environment): origins exempt from the address check. */
  trustedOrigins?: readonly string[];
}

export interface WorkerConfig {
  commandsTable: string;
  bucket: string;
  accountId: string;
  commandId: string;
  taskToken: string;
  /** Parent of the per-command workspace. */
  workDir: string;
  allowPrivateUrls: boolean;
  ffmpegPath: string;
  ffprobePath: string;
  ffmpegUid?: number;
  ffmpegGid?: number;
  heartbeatIntervalMs: number;
  /** ECS task metadata endpoint v4 (task-metadata.ts); absent outside ECS. */
  ecsMetadataUri?: string;
  /** Minimum spacing of progress writes. */
  progressIntervalMs: number;
  /**
   * FFmpeg's time before the first progress write: a command that ends sooner writes none (its
   * last progress goes with the outputs). @default DEFAULTS.progressFirstWriteMs
   */
  progressFirstWriteMs?: number;
  /** SIGTERM → SIGKILL grace at the time limit. */
  killGraceMs: number;
  /** ffprobe's own time limit per file. */
  probeTimeoutMs: number;
  maxOutputBytes: number;
  download: DownloadSettings;
  /**
   * How FFmpeg is isolated (sandbox.ts chooseIsolation). readWorkerConfig sets all of these;
   * a hand-built config without them (tests) runs FFmpeg as before: no bwrap, no limits.
   * @default 'off'
   */
  sandboxMode?: SandboxMode;
  /** bwrap and prlimit found on PATH (null: not installed). */
  bwrapPath?: string | null;
  prlimitPath?: string | null;
  /** Workspace quota while FFmpeg runs: bytes and files it may add (all runs together). */
  workspaceMaxBytes?: number;
  workspaceMaxFiles?: number;
  /** Resident memory of one FFmpeg run (watched), plus an address-space backstop (rlimit). */
  ffmpegMemoryBytes?: number;
  /** Niceness of FFmpeg and ffprobe (WORKER_ENV.FFMPEG_NICE) and the `nice` found on PATH. @default 0 */
  ffmpegNice?: number;
  nicePath?: string | null;
}

export const DEFAULTS = {
  progressIntervalMs: 2_000,
  progressFirstWriteMs: 1_000,
  killGraceMs: 5_000,
  probeTimeoutMs: 60_000,
  downloadRetries: 3,
  downloadRetryDelayMs: 1_000,
  workspaceMaxBytes: 10 * 1024 ** 3,
  workspaceMaxFiles: 10_000,
} as const;

/** Default memory of one FFmpeg run: 3/4 of the machine (the worker and the OS keep the rest). */
export function defaultFfmpegMemoryBytes(total = totalmem()): number {
  return Math.floor((total * 3) / 4);
}

function niceness(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return 0;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 19)
    throw new Error(`${WORKER_ENV.FFMPEG_NICE} must be an integer from 0 to 19`);
  return n;
}

function id(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer`);
  return n;
}

/** Executables found along a PATH, by PATH and name (resolveExecutable). */
const resolved = new Map<string, string>();

/**
 * Absolute path of an executable found on PATH. ffmpeg is spawned with an EMPTY environment,
 * so it must not depend on the child's PATH lookup.
 */
export function resolveExecutable(name: string, searchPath = process.env.PATH ?? ''): string {
  if (name.includes('/')) return name;
  // A warm worker reads its config for every command: the walk along PATH (five tools, a stat
  // per directory) is done once per PATH.
  const key = `${searchPath}\0${name}`;
  const known = resolved.get(key);
  if (known) return known;
  for (const dir of [...searchPath.split(path.delimiter).filter(Boolean), '/usr/local/bin', '/usr/bin', '/bin']) {
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, fsConstants.X_OK);
      resolved.set(key, candidate);
      return candidate;
    } catch {
      /* next */
    }
  }
  return name;
}

/** Absolute path of an executable on PATH (or the usual system dirs), or null. */
export function findExecutable(name: string, searchPath = process.env.PATH ?? ''): string | null {
  const found = resolveExecutable(name, searchPath);
  if (!found.includes('/')) return null;
  try {
    accessSync(found, fsConstants.X_OK);
    return found;
  } catch {
    return null;
  }
}

function positive(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined || value.trim() === '') return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer (bytes)`);
  return n;
}

function sandboxMode(value: string | undefined): SandboxMode {
  const v = (value ?? '').trim().toLowerCase() || 'auto';
  if (!(SANDBOX_MODES as readonly string[]).includes(v))
    throw new Error(`${WORKER_ENV.SANDBOX} must be one of ${SANDBOX_MODES.join(', ')}`);
  return v as SandboxMode;
}

export type ConfigResult = { ok: true; config: WorkerConfig } | { ok: false; missing: string[]; message: string };

/** Read the worker's environment. Required: table, bucket, command id, account id, task token. */
export function readWorkerConfig(env: NodeJS.ProcessEnv = process.env): ConfigResult {
  const required = [ENV.COMMANDS_TABLE, ENV.BUCKET, ENV.COMMAND_ID, ENV.ACCOUNT_ID, ENV.TASK_TOKEN] as const;
  const missing = required.filter((k) => !env[k]?.trim());
  if (missing.length) return { ok: false, missing, message: `missing environment: ${missing.join(', ')}` };
  try {
    const maxInput = env[WORKER_ENV.MAX_INPUT_BYTES] ? Number(env[WORKER_ENV.MAX_INPUT_BYTES]) : LIMITS.maxInputBytes;
    if (!Number.isSafeInteger(maxInput) || maxInput <= 0)
      throw new Error(`${WORKER_ENV.MAX_INPUT_BYTES} must be a positive integer`);
    return {
      ok: true,
      config: {
        commandsTable: env[ENV.COMMANDS_TABLE]!,
        bucket: env[ENV.BUCKET]!,
        accountId: env[ENV.ACCOUNT_ID]!,
        commandId: env[ENV.COMMAND_ID]!,
        taskToken: env[ENV.TASK_TOKEN]!,
        workDir: env[ENV.WORK_DIR] || tmpdir(),
        allowPrivateUrls: envFlag(env[ENV.ALLOW_PRIVATE_URLS]),
        ffmpegPath: resolveExecutable(env[ENV.FFMPEG_PATH] || 'ffmpeg', env.PATH),
        ffprobePath: resolveExecutable(env[ENV.FFPROBE_PATH] || 'ffprobe', env.PATH),
        ffmpegUid: id(env[WORKER_ENV.FFMPEG_UID], WORKER_ENV.FFMPEG_UID),
        ffmpegGid: id(env[WORKER_ENV.FFMPEG_GID], WORKER_ENV.FFMPEG_GID),
        heartbeatIntervalMs: HEARTBEAT_INTERVAL_SECONDS * 1000,
        ecsMetadataUri: env.ECS_CONTAINER_METADATA_URI_V4 || undefined,
        progressIntervalMs: DEFAULTS.progressIntervalMs,
        killGraceMs: DEFAULTS.killGraceMs,
        probeTimeoutMs: DEFAULTS.probeTimeoutMs,
        maxOutputBytes: LIMITS.maxOutputBytes,
        download: {
          maxBytes: maxInput,
          timeoutMs:
            Math.min(
              positive(
                env[WORKER_ENV.DOWNLOAD_TIMEOUT_SECONDS],
                WORKER_ENV.DOWNLOAD_TIMEOUT_SECONDS,
                LIMITS.downloadTimeoutSeconds,
              ),
              LIMITS.downloadTimeoutSeconds,
            ) * 1000,
          maxRedirects: LIMITS.maxRedirects,
          retries: DEFAULTS.downloadRetries,
          retryDelayMs: DEFAULTS.downloadRetryDelayMs,
        },
        sandboxMode: sandboxMode(env[WORKER_ENV.SANDBOX]),
        bwrapPath: findExecutable('bwrap', env.PATH),
        prlimitPath: findExecutable('prlimit', env.PATH),
        workspaceMaxBytes: positive(
          env[WORKER_ENV.WORKSPACE_MAX_BYTES],
          WORKER_ENV.WORKSPACE_MAX_BYTES,
          DEFAULTS.workspaceMaxBytes,
        ),
        workspaceMaxFiles: DEFAULTS.workspaceMaxFiles,
        ffmpegMemoryBytes: positive(
          env[WORKER_ENV.FFMPEG_MEMORY_BYTES],
          WORKER_ENV.FFMPEG_MEMORY_BYTES,
          defaultFfmpegMemoryBytes(),
        ),
        ffmpegNice: niceness(env[WORKER_ENV.FFMPEG_NICE]),
        nicePath: findExecutable('nice', env.PATH),
      },
    };
  } catch (err) {
    return { ok: false, missing: [], message: (err as Error).message };
  }
}
