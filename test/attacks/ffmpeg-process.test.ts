/**
 * The process layer on its own: the worker's FFmpeg runner (run-ffmpeg.ts) with the isolation
 * local mode uses, given argv that NO policy checked. Each attack is run twice: without the
 * sandbox (the control: it works, so the test can fail) and inside it (it must not).
 * Writes outside the workspace, reads of host files and of other processes' /proc, requests to
 * a loopback listener; the workspace quota and the memory limit stop runs while they run.
 */
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findExecutable, resolveExecutable } from '../../fargate-task/src/config.ts';
import {
  measureWorkspace,
  runFfmpeg,
  type FfmpegRunOptions,
  type RunLimits,
} from '../../fargate-task/src/run-ffmpeg.ts';
import {
  bwrapArgs,
  checkBwrap,
  sandboxedSpawn,
  SANDBOX_WORKSPACE,
  type Isolation,
} from '../../fargate-task/src/sandbox.ts';
import { closeServer, listenLocal } from '../helpers/index.ts';

const run = promisify(execFile);
const ffmpeg = resolveExecutable('ffmpeg');
const bwrap = findExecutable('bwrap');
const prlimit = findExecutable('prlimit');
const isRoot = process.getuid?.() === 0;

let root: string;
let outside: string;
let hostWav: string;
let hostAcv: string;
let listener: Server;
let listenerPort: number;
const listenerHits: string[] = [];
let sandboxWorks = false;

/** A Photoshop curves file (.acv) curves=psfile= accepts: version 4, one curve, two points. */
function acvFile(): Buffer {
  const words = [4, 1, 2, 0, 0, 255, 255];
  const buf = Buffer.alloc(words.length * 2);
  words.forEach((w, i) => {
    buf.writeUInt16BE(w, i * 2);
  });
  return buf;
}

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'ffaas-process-'));
  await chmod(root, 0o755);
  outside = path.join(root, 'outside');
  await mkdir(outside, { mode: 0o777 });
  await chmod(outside, 0o777); // writable by anyone: only the sandbox stands in the way
  hostWav = path.join(outside, 'secret.wav');
  await run(ffmpeg, ['-v', 'error', '-f', 'lavfi', '-i', 'sine=duration=1', hostWav]);
  hostAcv = path.join(outside, 'secret.acv');
  await writeFile(hostAcv, acvFile());
  await chmod(hostWav, 0o644);
  listener = createServer((req, res) => {
    listenerHits.push(req.url ?? '');
    readFile(hostWav).then((b) => res.writeHead(200, { 'content-type': 'audio/wav' }).end(b));
  });
  listenerPort = await listenLocal(listener);
  if (bwrap) {
    const probe = await newWorkspace();
    sandboxWorks = (await checkBwrap({ bwrapPath: bwrap, ffmpegPath: ffmpeg, probeDir: probe })).ok;
  }
});

afterAll(async () => {
  if (listener) await closeServer(listener);
  await rm(root, { recursive: true, force: true });
});

let seq = 0;
async function newWorkspace(): Promise<string> {
  const dir = path.join(root, `ws-${++seq}`);
  await mkdir(dir);
  await chmod(dir, 0o777);
  return dir;
}

const sandbox = (limits?: Isolation['limits']): Isolation => ({
  bwrapPath: bwrap!,
  ...(prlimit && limits ? { prlimitPath: prlimit, limits } : {}),
});

async function ffmpegRun(
  argv: string[],
  opts: { isolation?: Isolation; limits?: RunLimits; cwd?: string; uid?: number; gid?: number } = {},
) {
  const cwd = opts.cwd ?? (await newWorkspace());
  const run: FfmpegRunOptions = {
    ffmpegPath: ffmpeg,
    argv,
    cwd,
    timeoutMs: 60_000,
    killGraceMs: 1_000,
    totalSeconds: null,
    isolation: opts.isolation,
    limits: opts.limits,
    uid: opts.uid,
    gid: opts.gid,
  };
  return { cwd, res: await runFfmpeg(run) };
}

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

describe('spawn spec', () => {
  it('puts prlimit, then bwrap in front of ffmpeg; binds only the workspace read-write', () => {
    const spec = sandboxedSpawn('/usr/bin/ffmpeg', ['-version'], {
      cwd: '/data/.ffaas/work/ffaas-x',
      isolation: {
        bwrapPath: '/usr/bin/bwrap',
        prlimitPath: '/usr/bin/prlimit',
        limits: { addressSpaceBytes: 1000, fileSizeBytes: 2000 },
      },
    });
    expect(spec.file).toBe('/usr/bin/prlimit');
    expect(spec.args.slice(0, 5)).toEqual(['--core=0', '--as=1000', '--fsize=2000', '--', '/usr/bin/bwrap']);
    expect(spec.args).toContain('--unshare-all');
    expect(spec.args.slice(-3)).toEqual(['--', '/usr/bin/ffmpeg', '-version']);
    expect(spec.options.env).toEqual({});
    // The only read-write bind is the workspace; nothing else of the data dir appears.
    const rw = spec.args.flatMap((a, i) => (a === '--bind' ? [spec.args.slice(i + 1, i + 3)] : []));
    expect(rw).toEqual([['/data/.ffaas/work/ffaas-x', SANDBOX_WORKSPACE]]);
    expect(spec.args.filter((a) => a.includes('.ffaas')).length).toBe(1);
  });

  it('binds an executable outside the system directories by itself, read-only', () => {
    const args = bwrapArgs('/opt/tools/ffmpeg', '/ws', { '/bin': { symlink: 'usr/bin' }, '/lib': 'dir' });
    expect(args).toEqual(expect.arrayContaining(['--symlink', 'usr/bin', '/bin']));
    const i = args.indexOf('/opt/tools/ffmpeg');
    expect(args.slice(i - 1, i + 2)).toEqual(['--ro-bind', '/opt/tools/ffmpeg', '/opt/tools/ffmpeg']);
  });
});

describe.runIf(Boolean(bwrap))('FFmpeg inside bubblewrap, with no policy in front', () => {
  it('bwrap works on this machine (else local mode would refuse or fall back)', () => {
    expect(sandboxWorks).toBe(true);
  });

  it('cannot write outside its workspace (output path, curves=plot=)', async () => {
    const attacks = (tag: string) => [
      ['-f', 'lavfi', '-i', 'testsrc2=d=0.2', '-frames:v', '1', path.join(outside, `${tag}-escape.png`)],
      ['-f', 'lavfi', '-i', `testsrc2=d=0.2,curves=plot=${path.join(outside, `${tag}-plot.txt`)}`, '-f', 'null', '-'],
    ];
    for (const argv of attacks('control')) expect((await ffmpegRun(argv)).res.exitCode).toBe(0);
    expect(await exists(path.join(outside, 'control-escape.png'))).toBe(true);
    expect(await exists(path.join(outside, 'control-plot.txt'))).toBe(true);

    for (const argv of attacks('boxed')) await ffmpegRun(argv, { isolation: sandbox() });
    expect(await exists(path.join(outside, 'boxed-escape.png'))).toBe(false);
    expect(await exists(path.join(outside, 'boxed-plot.txt'))).toBe(false);
  });

  it('cannot read a host file (as an input, through curves=psfile=)', async () => {
    const asInput = ['-i', hostWav, 'copy.wav'];
    const control = await ffmpegRun(asInput);
    expect(control.res.exitCode).toBe(0);
    expect(await exists(path.join(control.cwd, 'copy.wav'))).toBe(true);
    const boxed = await ffmpegRun(asInput, { isolation: sandbox() });
    expect(boxed.res.exitCode).not.toBe(0);
    expect(await exists(path.join(boxed.cwd, 'copy.wav'))).toBe(false);

    const viaFilter = ['-f', 'lavfi', '-i', `testsrc2=d=0.2,curves=psfile=${hostAcv}`, '-f', 'null', '-'];
    expect((await ffmpegRun(viaFilter)).res.exitCode).toBe(0);
    const filtered = await ffmpegRun(viaFilter, { isolation: sandbox() });
    expect(filtered.res.exitCode).not.toBe(0);
  });

  it('cannot read another process through /proc', async () => {
    const argv = [
      '-f',
      'data',
      '-i',
      `/proc/${process.pid}/cmdline`,
      '-map',
      '0',
      '-c',
      'copy',
      '-f',
      'data',
      'cmdline.bin',
    ];
    const control = await ffmpegRun(argv);
    expect(control.res.exitCode).toBe(0);
    expect((await readFile(path.join(control.cwd, 'cmdline.bin'))).length).toBeGreaterThan(0);
    const boxed = await ffmpegRun(argv, { isolation: sandbox() });
    expect(boxed.res.exitCode).not.toBe(0);
    expect(await exists(path.join(boxed.cwd, 'cmdline.bin'))).toBe(false);
  });

  it('cannot reach a loopback listener (no network namespace access)', async () => {
    const url = `http://127.0.0.1:${listenerPort}/stolen.wav`;
    const control = await ffmpegRun(['-i', url, 'stolen.wav']);
    expect(control.res.exitCode).toBe(0);
    expect(listenerHits).toContain('/stolen.wav');
    listenerHits.length = 0;

    const boxed = await ffmpegRun(['-i', url, 'stolen.wav'], { isolation: sandbox() });
    expect(boxed.res.exitCode).not.toBe(0);
    expect(await exists(path.join(boxed.cwd, 'stolen.wav'))).toBe(false);
    expect(listenerHits).toEqual([]);
  });

  it('still does its job: writes outputs into the workspace', async () => {
    const { cwd, res } = await ffmpegRun(
      ['-f', 'lavfi', '-i', 'testsrc2=d=0.5', '-c:v', 'libx264', '-preset', 'ultrafast', 'ok.mp4'],
      { isolation: sandbox({ addressSpaceBytes: 2 * 1024 ** 3, fileSizeBytes: 50 * 1024 ** 2 }) },
    );
    expect(res.exitCode, res.stderrTail).toBe(0);
    expect((await stat(path.join(cwd, 'ok.mp4'))).size).toBeGreaterThan(1000);
  });

  it.runIf(isRoot)('runs as the configured unprivileged user inside the sandbox (root only)', async () => {
    const { cwd, res } = await ffmpegRun(['-f', 'lavfi', '-i', 'testsrc2=d=0.2', '-frames:v', '1', 'frame.png'], {
      isolation: sandbox(),
      uid: 65534,
      gid: 65534,
    });
    expect(res.exitCode, res.stderrTail).toBe(0);
    const st = await stat(path.join(cwd, 'frame.png'));
    expect(st.uid).toBe(65534);
  });
});

describe('limits while FFmpeg runs', () => {
  const quota = async (cwd: string, maxBytes: number, maxFiles = 1000): Promise<RunLimits> => ({
    workspace: { maxBytes, maxFiles, baseline: await measureWorkspace(cwd) },
  });

  it('the workspace quota stops a run that writes too much (many files: the watchdog)', async () => {
    const cwd = await newWorkspace();
    // 60 one-second WAV segments of 96 KB each: ~5.8 MB against a 1 MB quota.
    const argv = [
      '-f',
      'lavfi',
      '-i',
      'sine=duration=60:sample_rate=48000',
      '-f',
      'segment',
      '-segment_time',
      '1',
      'seg%03d.wav',
    ];
    const { res } = await ffmpegRun(argv, {
      cwd,
      limits: await quota(cwd, 1_000_000),
      isolation: bwrap ? sandbox() : undefined,
    });
    expect(res.limitExceeded).toMatchObject({ kind: 'workspace_bytes', limit: 1_000_000 });
  });

  it('the workspace quota caps one file with RLIMIT_FSIZE before any poll', async () => {
    if (!prlimit) return;
    const cwd = await newWorkspace();
    const argv = ['-f', 'lavfi', '-i', 'testsrc2=duration=20:size=640x360', '-c:v', 'rawvideo', '-f', 'nut', 'big.nut'];
    const { res } = await ffmpegRun(argv, {
      cwd,
      limits: await quota(cwd, 2_000_000),
      isolation: { ...(bwrap ? { bwrapPath: bwrap } : {}), prlimitPath: prlimit, limits: { fileSizeBytes: 2_000_000 } },
    });
    expect(res.limitExceeded).toMatchObject({ kind: 'workspace_bytes', limit: 2_000_000 });
    expect((await stat(path.join(cwd, 'big.nut'))).size).toBeLessThanOrEqual(2_000_000);
  });

  it('the memory limit stops a run that buffers frames (reverse), and a modest run passes under it', async () => {
    const limit = 256 * 1024 ** 2;
    const iso: Isolation | undefined = prlimit
      ? {
          ...(bwrap ? { bwrapPath: bwrap } : {}),
          prlimitPath: prlimit,
          limits: { addressSpaceBytes: limit + 1024 ** 3 },
        }
      : undefined;
    const hog = await ffmpegRun(
      ['-f', 'lavfi', '-i', 'testsrc2=duration=30:size=1280x720', '-vf', 'reverse', '-f', 'null', '-'],
      { limits: { memoryBytes: limit }, isolation: iso },
    );
    expect(hog.res.limitExceeded).toMatchObject({ kind: 'memory', limit });
    expect(hog.res.exitCode === 0 && !hog.res.limitExceeded).toBe(false);

    const modest = await ffmpegRun(
      ['-f', 'lavfi', '-i', 'testsrc2=duration=1:size=320x240', '-c:v', 'libx264', '-preset', 'ultrafast', 'small.mp4'],
      { limits: { memoryBytes: limit }, isolation: iso },
    );
    expect(modest.res.limitExceeded).toBeUndefined();
    expect(modest.res.exitCode, modest.res.stderrTail).toBe(0);
  });
});

describe('worker settings (readWorkerConfig)', () => {
  const required = {
    FFAAS_COMMANDS_TABLE: 't',
    FFAAS_BUCKET: 'b',
    FFAAS_COMMAND_ID: 'c',
    FFAAS_ACCOUNT_ID: 'a',
    FFAAS_TASK_TOKEN: 'tok',
  };

  it('defaults: sandbox auto, 10 GiB workspace quota, 3/4 of the memory per run', async () => {
    const { readWorkerConfig, defaultFfmpegMemoryBytes } = await import('../../fargate-task/src/config.ts');
    const r = readWorkerConfig({ ...required, PATH: process.env.PATH });
    expect(r).toMatchObject({
      ok: true,
      config: { sandboxMode: 'auto', workspaceMaxBytes: 10 * 1024 ** 3, ffmpegMemoryBytes: defaultFfmpegMemoryBytes() },
    });
  });

  it('reads FFAAS_SANDBOX, FFAAS_WORKSPACE_MAX_BYTES and FFAAS_FFMPEG_MEMORY_BYTES, and names a bad one', async () => {
    const { readWorkerConfig, WORKER_ENV } = await import('../../fargate-task/src/config.ts');
    const r = readWorkerConfig({
      ...required,
      [WORKER_ENV.SANDBOX]: 'Required',
      [WORKER_ENV.WORKSPACE_MAX_BYTES]: '1000',
      [WORKER_ENV.FFMPEG_MEMORY_BYTES]: '2000',
    });
    expect(r).toMatchObject({
      ok: true,
      config: { sandboxMode: 'required', workspaceMaxBytes: 1000, ffmpegMemoryBytes: 2000 },
    });
    expect(readWorkerConfig({ ...required, [WORKER_ENV.SANDBOX]: 'yes' })).toMatchObject({
      ok: false,
      message: expect.stringContaining(WORKER_ENV.SANDBOX),
    });
    expect(readWorkerConfig({ ...required, [WORKER_ENV.WORKSPACE_MAX_BYTES]: '10GB' })).toMatchObject({
      ok: false,
      message: expect.stringContaining(WORKER_ENV.WORKSPACE_MAX_BYTES),
    });
  });
});
