/**
 * How ffmpeg and ffprobe are started (docs/SECURITY-POLICY.md layers 1 and 9,
 * "Process layer"): an argv array and no shell, an EMPTY environment (the worker's
 * AWS_CONTAINER_CREDENTIALS_RELATIVE_URI, task token and everything else stay out of the
 * child), the workspace as cwd, no stdin, and — in the image — the unprivileged `ffmpeg` user,
 * so it can neither read the worker's /proc/<pid>/environ nor write outside the workspace.
 *
 * Where bubblewrap works (local mode on Linux, as root or as a normal user) the process also
 * runs in its own namespaces: no network (a private loopback only), its own PID namespace and
 * /proc, and a filesystem made of the system read-only plus its workspace read-write — the data
 * dir, the worker bundle, the repository and other workspaces do not exist for it.
 * `prlimit` adds per-run resource limits: address space (memory), largest file it may write
 * (the workspace quota's per-file bound) and no core dumps.
 *
 * The spawn spec is pure, so tests can assert the exact options.
 */
import { spawn, type SpawnOptions } from 'node:child_process';
import { lstatSync, readlinkSync } from 'node:fs';
import type { WorkerConfig } from './config.ts';
import type { Logger } from './log.ts';

/** `FFAAS_SANDBOX`: off = never bwrap; auto = bwrap when it works; required = bwrap or fail. */
export const SANDBOX_MODES = ['off', 'auto', 'required'] as const;
export type SandboxMode = (typeof SANDBOX_MODES)[number];

/** Where the workspace appears inside the bwrap sandbox (its host path stays hidden). */
export const SANDBOX_WORKSPACE = '/workspace';

export interface ProcessLimits {
  /** RLIMIT_AS of the process (bytes of address space). */
  addressSpaceBytes?: number;
  /** RLIMIT_FSIZE: no single file can be written past this many bytes. */
  fileSizeBytes?: number;
}

export interface Isolation {
  /** Absolute path of bwrap; unset: no namespaces (own uid only, where configured). */
  bwrapPath?: string;
  /** Absolute path of prlimit; unset: no rlimits. */
  prlimitPath?: string;
  limits?: ProcessLimits;
  /** `nice` and the niceness the tool runs at (inherited by its threads); unset or 0: the worker's. */
  nice?: { path: string; niceness: number };
}

export interface SandboxIdentity {
  cwd: string;
  uid?: number;
  gid?: number;
  isolation?: Isolation;
}

export interface SpawnSpec {
  file: string;
  args: string[];
  options: SpawnOptions & { env: Record<string, string>; shell: false };
}

/** Top-level system paths: symlinks (merged /usr) are recreated, directories bound read-only. */
const SYSTEM_TOP = ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'] as const;
/** The few /etc pieces FFmpeg and its libraries read: the loader cache, Debian's alternatives
 * (libblas, liblapack), fontconfig for drawtext/subtitles, the time zone. */
const ETC_READ_ONLY = [
  '/etc/ld.so.cache',
  '/etc/ld.so.conf',
  '/etc/ld.so.conf.d',
  '/etc/alternatives',
  '/etc/fonts',
  '/etc/localtime',
  '/var/cache/fontconfig',
] as const;

export type SystemLayout = Record<string, { symlink: string } | 'dir' | 'absent'>;

/** How /bin, /lib, … look on this host (read once; the argv builder stays pure). */
export function readSystemLayout(): SystemLayout {
  const layout: SystemLayout = {};
  for (const p of SYSTEM_TOP) {
    try {
      const st = lstatSync(p);
      layout[p] = st.isSymbolicLink() ? { symlink: readlinkSync(p) } : st.isDirectory() ? 'dir' : 'absent';
    } catch {
      layout[p] = 'absent';
    }
  }
  return layout;
}

let cachedLayout: SystemLayout | undefined;

/**
 * bwrap's arguments for running `file` with its workspace `cwd`: every namespace unshared (user
 * where possible, ipc, pid, net, uts, cgroup), no capabilities, the system read-only, the
 * workspace read-write at /workspace, a fresh /proc and a minimal /dev, the root read-only.
 */
export function bwrapArgs(
  file: string,
  cwd: string,
  layout: SystemLayout = (cachedLayout ??=
    readSystemLayout()),
): string[] {
  const args = [
    '--unshare-all',
    '--die-with-parent',
    '--new-session',
    '--cap-drop',
    'ALL',
    '--ro-bind',
    '/usr',
    '/usr',
  ];
  for (const p of SYSTEM_TOP) {
    const entry = layout[p];
    if (entry === 'dir') args.push('--ro-bind', p, p);
    else if (entry && entry !== 'absent') args.push('--symlink', entry.symlink, p);
  }
  for (const p of ETC_READ_ONLY) args.push('--ro-bind-try', p, p);
  // An executable outside the system dirs (an operator's build, a test wrapper): just that file.
  if (!file.startsWith('/usr/') && !SYSTEM_TOP.some((p) => file.startsWith(`${p}/`)))
    args.push('--ro-bind', file, file);
  args.push(
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    '--bind',
    cwd,
    SANDBOX_WORKSPACE,
    '--chdir',
    SANDBOX_WORKSPACE,
    '--remount-ro',
    '/',
    '--',
  );
  return args;
}

/** `prlimit` arguments (in front of the command) for the given limits; [] when there are none. */
export function prlimitArgs(limits: ProcessLimits | undefined): string[] {
  if (!limits) return [];
  const args = ['--core=0'];
  if (limits.addressSpaceBytes !== undefined) args.push(`--as=${limits.addressSpaceBytes}`);
  if (limits.fileSizeBytes !== undefined) args.push(`--fsize=${limits.fileSizeBytes}`);
  return [...args, '--'];
}

export function sandboxedSpawn(file: string, args: readonly string[], id: SandboxIdentity): SpawnSpec {
  const options: SpawnSpec['options'] = {
    cwd: id.cwd,
    env: {},
    shell: false,
    stdio: ['ignore', 'pipe', 'pipe'],
    windowsHide: true,
  };
  // Node's spawn runs setgroups(0)+setgid+setuid in the child: the tool gets no supplementary
  // groups (the worker's membership of the ffmpeg group does not leak into it). With bwrap,
  // bwrap itself starts as that user and sets up its namespaces unprivileged.
  if (id.gid !== undefined) options.gid = id.gid;
  if (id.uid !== undefined) options.uid = id.uid;
  let argv: string[] = [file, ...args];
  const iso = id.isolation;
  if (iso?.bwrapPath) argv = [iso.bwrapPath, ...bwrapArgs(file, id.cwd), ...argv];
  if (iso?.prlimitPath && iso.limits) argv = [iso.prlimitPath, ...prlimitArgs(iso.limits), ...argv];
  if (iso?.nice && iso.nice.niceness > 0) argv = [iso.nice.path, '-n', String(iso.nice.niceness), ...argv];
  return { file: argv[0]!, args: argv.slice(1), options };
}

/** The worker's own options, in front of every user argv (API contract: -progress pipe:1). */
export const FFMPEG_LEADING_ARGS = ['-nostdin', '-hide_banner', '-nostats', '-progress', 'pipe:1', '-y'] as const;

export interface SandboxCheck {
  ok: boolean;
  /** What failed, for the logs (bwrap's own stderr, trimmed). */
  detail?: string;
}

/**
 * Whether bwrap can run `ffmpegPath -version` here as this identity (user namespaces allowed,
 * the libraries FFmpeg needs visible). `probeDir` stands in for a workspace.
 */
export function checkBwrap(opts: {
  bwrapPath: string;
  ffmpegPath: string;
  probeDir: string;
  uid?: number;
  gid?: number;
  timeoutMs?: number;
}): Promise<SandboxCheck> {
  const spec = sandboxedSpawn(opts.ffmpegPath, ['-hide_banner', '-version'], {
    cwd: opts.probeDir,
    uid: opts.uid,
    gid: opts.gid,
    isolation: { bwrapPath: opts.bwrapPath },
  });
  return new Promise((resolve) => {
    let stderr = '';
    const child = spawn(spec.file, spec.args, spec.options);
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 10_000);
    child.stdout!.resume();
    child.stderr!.on('data', (c: Buffer) => {
      if (stderr.length < 2000) stderr += c.toString('utf8');
    });
    child.on('error', (err: NodeJS.ErrnoException) => {
      stderr ||= err.code ?? err.message;
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve(code === 0 ? { ok: true } : { ok: false, detail: stderr.trim().slice(0, 500) || `exit ${code}` });
    });
  });
}

export interface IsolationChoice {
  isolation: Isolation;
  /** One line for the logs: what FFmpeg runs under. */
  description: string;
  /** Set when `auto` could not get namespaces (bwrap missing or refused). */
  degraded?: string;
}

/**
 * What FFmpeg runs under for this command: `off` never uses bwrap; `auto` uses it when
 * `checkBwrap` passes; `required` uses it without a check (a failure then shows in FFmpeg's
 * error). prlimit is used whenever it is installed (util-linux; Debian always has it).
 */
export async function chooseIsolation(opts: {
  mode: SandboxMode;
  bwrapPath: string | null;
  prlimitPath: string | null;
  limits: ProcessLimits;
  ffmpegPath: string;
  probeDir: string;
  uid?: number;
  gid?: number;
}): Promise<IsolationChoice> {
  const isolation: Isolation = opts.prlimitPath ? { prlimitPath: opts.prlimitPath, limits: opts.limits } : {};
  const limits = opts.prlimitPath ? 'rlimits' : 'no rlimits (prlimit not found)';
  const who = opts.uid !== undefined ? `uid ${opts.uid}` : "the worker's uid";
  if (opts.mode === 'required') {
    return {
      isolation: { ...isolation, bwrapPath: opts.bwrapPath ?? 'bwrap' },
      description: `bwrap (no network, workspace-only filesystem), ${limits}, ${who}`,
    };
  }
  if (opts.mode === 'auto' && opts.bwrapPath) {
    const check = await checkBwrap({
      bwrapPath: opts.bwrapPath,
      ffmpegPath: opts.ffmpegPath,
      probeDir: opts.probeDir,
      uid: opts.uid,
      gid: opts.gid,
    });
    if (check.ok)
      return {
        isolation: { ...isolation, bwrapPath: opts.bwrapPath },
        description: `bwrap (no network, workspace-only filesystem), ${limits}, ${who}`,
      };
    return {
      isolation,
      description: `no namespaces, ${limits}, ${who}`,
      degraded: `bwrap does not work here: ${check.detail}`,
    };
  }
  return {
    isolation,
    description: `no namespaces, ${limits}, ${who}`,
    degraded: opts.mode === 'off' ? 'FFAAS_SANDBOX=off' : 'bwrap (bubblewrap) is not installed',
  };
}

/** Address space allowed on top of the memory limit: libraries, thread stacks, malloc arenas. */
export const ADDRESS_SPACE_HEADROOM_BYTES = 1024 ** 3;

/** The worker's choice for one command, logged once (what FFmpeg runs under, and why not more). */
export async function isolationFor(
  config: Pick<
    WorkerConfig,
    | 'sandboxMode'
    | 'bwrapPath'
    | 'prlimitPath'
    | 'workspaceMaxBytes'
    | 'ffmpegMemoryBytes'
    | 'ffmpegPath'
    | 'ffmpegUid'
    | 'ffmpegGid'
    | 'ffmpegNice'
    | 'nicePath'
  >,
  probeDir: string,
  log: Logger,
  opts: { gpu?: boolean } = {},
): Promise<Isolation> {
  const limits: ProcessLimits = {};
  // CUDA reserves far more address space than it uses: no RLIMIT_AS on GPU runs (the resident
  // memory watchdog still applies).
  if (config.ffmpegMemoryBytes !== undefined && !opts.gpu)
    limits.addressSpaceBytes = config.ffmpegMemoryBytes + ADDRESS_SPACE_HEADROOM_BYTES;
  if (config.workspaceMaxBytes !== undefined) limits.fileSizeBytes = config.workspaceMaxBytes;
  const choice = await chooseIsolation({
    mode: config.sandboxMode ?? 'off',
    bwrapPath: config.bwrapPath ?? null,
    prlimitPath: Object.keys(limits).length > 0 ? (config.prlimitPath ?? null) : null,
    limits,
    ffmpegPath: config.ffmpegPath,
    probeDir,
    uid: config.ffmpegUid,
    gid: config.ffmpegGid,
  });
  const nice =
    config.ffmpegNice && config.nicePath ? { path: config.nicePath, niceness: config.ffmpegNice } : undefined;
  log.info('ffmpeg isolation', {
    isolation: choice.description + (nice ? `, niceness ${nice.niceness}` : ''),
  });
  // An explicit `off` (the AWS image, where namespaces cannot be created) is not worth a warning per command.
  if (choice.degraded && config.sandboxMode === 'auto')
    log.warn('ffmpeg runs without namespaces', { reason: choice.degraded });
  return nice ? { ...choice.isolation, nice } : choice.isolation;
}
