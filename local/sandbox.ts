/**
 * Local mode's FFmpeg sandbox, decided once at start (docs/SECURITY-POLICY.md, "Process layer"):
 *
 * - bubblewrap works (Linux, as root or as a normal user with user namespaces): every worker
 *   runs FFmpeg inside it (FFAAS_SANDBOX=required for the workers, so a later failure is loud,
 *   never a silent downgrade): no network, only the system read-only and its own workspace.
 * - no bubblewrap, started as root: FFmpeg runs as `nobody` (65534), which cannot write the
 *   data dir (root's, mode 0755) — it can still read what is world-readable. Logged as a warning.
 * - no bubblewrap, a normal user: FFmpeg would run as that user, with write access to the data
 *   dir and the worker bundle. Refused unless FFAAS_SANDBOX=off says so explicitly.
 * - FFAAS_SANDBOX=required: bubblewrap or no start. FFAAS_SANDBOX=off: no bubblewrap, logged.
 *
 * It also sets the per-run memory limit (default: 3/4 of the machine shared by the concurrent
 * workers) and passes the workspace quota on; both can be set by the environment.
 */
import { statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ENV } from '../core/constants.ts';
import { DEFAULTS, findExecutable, WORKER_ENV } from '../fargate-task/src/config.ts';
import { checkBwrap, SANDBOX_MODES, type SandboxMode } from '../fargate-task/src/sandbox.ts';

export const NOBODY = 65534;
/** Niceness of FFmpeg in local mode (FFAAS_FFMPEG_NICE overrides). */
export const LOCAL_FFMPEG_NICE = 10;
/** Smallest default memory limit per run, whatever the machine and concurrency. */
const MIN_DEFAULT_MEMORY_BYTES = 512 * 1024 ** 2;

export interface LocalSandbox {
  /** Variables added to every worker's environment. */
  workerEnv: Record<string, string>;
  /** Lines for the start banner / log. */
  summary: string[];
  /** Set when FFmpeg runs without namespaces. */
  warning?: string;
}

export class SandboxRefused extends Error {
  override name = 'SandboxRefused';
}

function readMode(value: string | undefined): SandboxMode {
  const v = (value ?? '').trim().toLowerCase() || 'auto';
  if (!(SANDBOX_MODES as readonly string[]).includes(v))
    throw new SandboxRefused(`${WORKER_ENV.SANDBOX} must be one of ${SANDBOX_MODES.join(', ')}, got "${value}"`);
  return v as SandboxMode;
}

function bytesFromEnv(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const v = env[name];
  if (v === undefined || v.trim() === '') return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n <= 0)
    throw new SandboxRefused(`${name} must be a positive integer (bytes), got "${v}"`);
  return n;
}

const gib = (n: number) => `${Math.round((n / 1024 ** 3) * 100) / 100} GiB`;

/** Whether `uid` (not the owner, not in the group) can reach `dir`: o+x on every ancestor. */
function othersCanTraverse(dir: string): boolean {
  let current = path.resolve(dir);
  for (;;) {
    try {
      if ((statSync(current).mode & 0o001) === 0) return false;
    } catch {
      return false;
    }
    const parent = path.dirname(current);
    if (parent === current) return true;
    current = parent;
  }
}

export async function decideLocalSandbox(opts: {
  workDir: string;
  maxConcurrency: number;
  env?: NodeJS.ProcessEnv;
  /** Test hooks: bwrap's path (null: not installed) and the uid local mode runs as. */
  bwrapPath?: string | null;
  uid?: number;
}): Promise<LocalSandbox> {
  const env = opts.env ?? process.env;
  const mode = readMode(env[WORKER_ENV.SANDBOX]);
  const memory =
    bytesFromEnv(env, WORKER_ENV.FFMPEG_MEMORY_BYTES) ??
    Math.max(MIN_DEFAULT_MEMORY_BYTES, Math.floor((os.totalmem() * 3) / 4 / Math.max(1, opts.maxConcurrency)));
  const quota = bytesFromEnv(env, WORKER_ENV.WORKSPACE_MAX_BYTES) ?? DEFAULTS.workspaceMaxBytes;
  const workerEnv: Record<string, string> = {
    [WORKER_ENV.FFMPEG_MEMORY_BYTES]: String(memory),
    [WORKER_ENV.WORKSPACE_MAX_BYTES]: String(quota),
  };
  // FFmpeg below the API and the workers in priority: this machine also answers the API, and
  // FFmpeg fills every core (docs/PERFORMANCE.md). 0 turns it off.
  workerEnv[WORKER_ENV.FFMPEG_NICE] = env[WORKER_ENV.FFMPEG_NICE]?.trim() || String(LOCAL_FFMPEG_NICE);
  // An operator's own FFmpeg user (root only: the worker must be able to switch to it).
  for (const name of [WORKER_ENV.FFMPEG_UID, WORKER_ENV.FFMPEG_GID])
    if (env[name]?.trim()) workerEnv[name] = env[name]!.trim();
  const limits = `limits per run: memory ${gib(memory)} (${WORKER_ENV.FFMPEG_MEMORY_BYTES}), workspace ${gib(quota)} (${WORKER_ENV.WORKSPACE_MAX_BYTES})`;
  const prlimit = findExecutable('prlimit', env.PATH);
  const limitNote = prlimit ? limits : `${limits}; prlimit not found: watched only, no rlimit backstop`;
  const ffmpegPath = findExecutable(env[ENV.FFMPEG_PATH] || 'ffmpeg', env.PATH) ?? 'ffmpeg';
  const uid = opts.uid ?? process.getuid?.();
  const root = uid === 0;

  const bwrap =
    mode === 'off' ? null : opts.bwrapPath !== undefined ? opts.bwrapPath : findExecutable('bwrap', env.PATH);
  let bwrapProblem = mode === 'off' ? `${WORKER_ENV.SANDBOX}=off` : 'bubblewrap (bwrap) is not installed';
  if (bwrap) {
    const check = await checkBwrap({ bwrapPath: bwrap, ffmpegPath, probeDir: opts.workDir });
    if (check.ok) {
      return {
        workerEnv: { ...workerEnv, [WORKER_ENV.SANDBOX]: 'required' },
        summary: [`sandbox:   bubblewrap: FFmpeg has no network and sees only its workspace; ${limitNote}`],
      };
    }
    bwrapProblem = `bubblewrap does not work here (${check.detail})`;
  }
  if (mode === 'required') throw new SandboxRefused(`${WORKER_ENV.SANDBOX}=required: ${bwrapProblem}`);
  if (mode === 'off') {
    const warning = `${WORKER_ENV.SANDBOX}=off: FFmpeg runs without namespaces, with network access, as ${root ? 'root' : 'your user'} unless ${WORKER_ENV.FFMPEG_UID} is set`;
    return {
      workerEnv: { ...workerEnv, [WORKER_ENV.SANDBOX]: 'off' },
      summary: [`sandbox:   OFF; ${limitNote}`],
      warning,
    };
  }
  // auto without bubblewrap.
  if (root) {
    if (!othersCanTraverse(opts.workDir)) {
      throw new SandboxRefused(
        `${bwrapProblem}, and FFmpeg's fallback user (nobody) cannot reach ${opts.workDir}: install bubblewrap (apt-get install bubblewrap), ` +
          `put ${ENV.DATA_DIR} under a directory others can traverse, or set ${WORKER_ENV.SANDBOX}=off`,
      );
    }
    const ids = {
      [WORKER_ENV.FFMPEG_UID]: env[WORKER_ENV.FFMPEG_UID] || String(NOBODY),
      [WORKER_ENV.FFMPEG_GID]: env[WORKER_ENV.FFMPEG_GID] || String(NOBODY),
    };
    return {
      workerEnv: { ...workerEnv, ...ids, [WORKER_ENV.SANDBOX]: 'off' },
      summary: [
        `sandbox:   no namespaces (${bwrapProblem}); FFmpeg runs as uid ${ids[WORKER_ENV.FFMPEG_UID]}; ${limitNote}`,
      ],
      warning: `${bwrapProblem}: FFmpeg runs as uid ${ids[WORKER_ENV.FFMPEG_UID]} without namespaces: it cannot write the data dir but has network access and can read world-readable files; install bubblewrap`,
    };
  }
  throw new SandboxRefused(
    `${bwrapProblem}: FFmpeg would run as your user, able to write the data dir and reach the network. ` +
      `Install bubblewrap (Debian/Ubuntu: sudo apt-get install -y bubblewrap), or set ${WORKER_ENV.SANDBOX}=off to run without isolation`,
  );
}
