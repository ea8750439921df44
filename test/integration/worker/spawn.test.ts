/**
 * The worker's process boundary without services: spawn options (argv, no shell, EMPTY env,
 * cwd, uid/gid), the bounded stderr tail, kill at the deadline, config from the environment,
 * and the progress throttle.
 */
import { execFileSync } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { ENV, HEARTBEAT_INTERVAL_SECONDS, LIMITS } from '../../../core/constants.ts';
import { findExecutable, readWorkerConfig, WORKER_ENV } from '../../../fargate-task/src/config.ts';
import { clampMessage, MAX_CAUSE_CHARS } from '../../../fargate-task/src/errors.ts';
import { silentLogger } from '../../../fargate-task/src/log.ts';
import { ffprobeArgs } from '../../../fargate-task/src/probe.ts';
import { createProgressWriter } from '../../../fargate-task/src/progress-writer.ts';
import type { Progress } from '../../../core/types.ts';
import { ffmpegSpawnSpec, runFfmpeg, TailBuffer } from '../../../fargate-task/src/run-ffmpeg.ts';
import { FFMPEG_LEADING_ARGS, sandboxedSpawn } from '../../../fargate-task/src/sandbox.ts';

describe('spawn options', () => {
  it('ffmpeg: leading options, argv untouched, no shell, empty env, workspace cwd, uid/gid', () => {
    const argv = ['-i', 'in; rm -rf / #.mp4', '-vf', "drawtext=text='$(id)'", 'out.webm'];
    const spec = ffmpegSpawnSpec({ ffmpegPath: '/usr/bin/ffmpeg', argv, cwd: '/work/ws', uid: 10001, gid: 10001 });
    expect(spec.file).toBe('/usr/bin/ffmpeg');
    expect(spec.args).toEqual(['-nostdin', '-hide_banner', '-nostats', '-progress', 'pipe:1', '-y', ...argv]);
    expect(spec.options).toMatchObject({
      cwd: '/work/ws',
      env: {},
      shell: false,
      uid: 10001,
      gid: 10001,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(Object.keys(spec.options.env)).toHaveLength(0);
  });

  it('without a configured user the child keeps the worker identity (local mode), env still empty', () => {
    const spec = sandboxedSpawn('ffprobe', ffprobeArgs('out.mp4'), { cwd: '/tmp/x' });
    expect(spec.options).not.toHaveProperty('uid');
    expect(spec.options).not.toHaveProperty('gid');
    expect(spec.options.env).toEqual({});
    expect(spec.args).toEqual([
      '-v',
      'error',
      '-protocol_whitelist',
      'file',
      '-print_format',
      'json',
      '-show_format',
      '-show_streams',
      'file:out.mp4',
    ]);
  });

  it('niceness: `nice -n N` in front of everything (prlimit, bwrap), and the tool really runs at it; none at 0', async () => {
    const iso = {
      bwrapPath: '/usr/bin/bwrap',
      prlimitPath: '/usr/bin/prlimit',
      limits: { fileSizeBytes: 1000 },
      nice: { path: '/usr/bin/nice', niceness: 10 },
    };
    const spec = sandboxedSpawn('/usr/bin/ffmpeg', ['-version'], { cwd: '/tmp/x', isolation: iso });
    expect([spec.file, ...spec.args.slice(0, 4)]).toEqual([
      '/usr/bin/nice',
      '-n',
      '10',
      '/usr/bin/prlimit',
      '--core=0',
    ]);
    expect(spec.args.at(-2)).toBe('/usr/bin/ffmpeg');
    const plain = sandboxedSpawn('/usr/bin/ffmpeg', ['-version'], {
      cwd: '/tmp/x',
      isolation: { ...iso, nice: { path: '/usr/bin/nice', niceness: 0 } },
    });
    expect(plain.file).toBe('/usr/bin/prlimit');

    const nicePath = findExecutable('nice');
    if (!nicePath) return;
    const run = sandboxedSpawn('/bin/cat', ['/proc/self/stat'], {
      cwd: tmpdir(),
      isolation: { nice: { path: nicePath, niceness: 7 } },
    });
    const out = execFileSync(run.file, run.args, { cwd: run.options.cwd, env: run.options.env }).toString();
    // Field 19 of stat is the niceness; fields after the ")" start at 3.
    const fields = out.slice(out.lastIndexOf(')') + 2).split(' ');
    expect(Number(fields[19 - 3])).toBe(7 + os.getPriority());
  });

  it('the leading options are the API contract', () => {
    expect(FFMPEG_LEADING_ARGS).toEqual(['-nostdin', '-hide_banner', '-nostats', '-progress', 'pipe:1', '-y']);
  });
});

describe('TailBuffer', () => {
  it('keeps only the last bytes, whatever the chunk sizes', () => {
    const t = new TailBuffer(16);
    for (const c of ['aaaa', 'bbbbbbbbbbbb', 'cc', 'dddddddddddddddddddddddd', 'e']) t.push(Buffer.from(c));
    expect(t.length).toBe(16);
    expect(t.text()).toBe('ddddddddddddddde');
  });

  it('holds at most its capacity for a huge stream', () => {
    const t = new TailBuffer(2048);
    for (let i = 0; i < 10_000; i++) t.push(Buffer.from(`line ${i}: ${'x'.repeat(50)}\n`));
    expect(t.length).toBeLessThanOrEqual(2048);
    expect(t.text()).toMatch(/line 9999: x+$/);
    expect(t.text().startsWith('line ')).toBe(true); // starts at a line boundary
  });

  it('does not start with a broken UTF-8 sequence', () => {
    const t = new TailBuffer(5);
    t.push(Buffer.from('ééééé'));
    expect(t.text()).not.toContain('\uFFFD');
  });
});

describe('runFfmpeg', () => {
  it('kills at the deadline: SIGTERM, then SIGKILL after the grace', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'ffaas-run-'));
    try {
      // A stand-in for a stuck ffmpeg that ignores SIGTERM: only the SIGKILL ends it.
      const stubborn = path.join(dir, 'stubborn.mjs');
      await writeFile(
        stubborn,
        `#!${process.execPath}\nprocess.on('SIGTERM', () => {});\nsetInterval(() => {}, 1000);\n`,
      );
      await chmod(stubborn, 0o755);
      let pid = 0;
      const started = Date.now();
      const res = await runFfmpeg({
        ffmpegPath: stubborn,
        argv: [],
        cwd: dir,
        timeoutMs: 300,
        killGraceMs: 300,
        totalSeconds: null,
        onSpawn: (p) => (pid = p),
      });
      expect(res).toMatchObject({ timedOut: true, signal: 'SIGKILL', exitCode: null });
      expect(Date.now() - started).toBeGreaterThanOrEqual(550);
      expect(Date.now() - started).toBeLessThan(5000);
      expect(() => process.kill(pid, 0)).toThrow();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reports timedOut and leaves no process behind', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'ffaas-run-'));
    try {
      let pid = 0;
      const res = await runFfmpeg({
        ffmpegPath: 'ffmpeg',
        argv: ['-f', 'lavfi', '-re', '-i', 'testsrc2=duration=30:size=160x120:rate=25', '-f', 'null', '-'],
        cwd: dir,
        timeoutMs: 500,
        killGraceMs: 500,
        totalSeconds: 30,
        onSpawn: (p) => (pid = p),
      });
      expect(res.timedOut).toBe(true);
      expect(res.seconds).toBeLessThan(3);
      expect(() => process.kill(pid, 0)).toThrow();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reports progress blocks and a missing binary', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'ffaas-run-'));
    try {
      const updates: unknown[] = [];
      const ok = await runFfmpeg({
        ffmpegPath: 'ffmpeg',
        argv: ['-f', 'lavfi', '-i', 'testsrc2=duration=1:size=160x120:rate=25', '-f', 'null', '-'],
        cwd: dir,
        timeoutMs: 20_000,
        killGraceMs: 500,
        totalSeconds: 1,
        onProgress: (u) => updates.push(u),
      });
      expect(ok.exitCode).toBe(0);
      expect(updates.at(-1)).toMatchObject({ end: true, progress: { percent: 100 } });
      const missing = await runFfmpeg({
        ffmpegPath: '/nonexistent/ffmpeg',
        argv: [],
        cwd: dir,
        timeoutMs: 1000,
        killGraceMs: 100,
        totalSeconds: null,
      });
      expect(missing.spawnError).toBe('ENOENT');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('readWorkerConfig', () => {
  const env = {
    [ENV.COMMANDS_TABLE]: 't',
    [ENV.BUCKET]: 'b',
    [ENV.COMMAND_ID]: 'c',
    [ENV.ACCOUNT_ID]: 'a',
    [ENV.TASK_TOKEN]: 'tok',
    PATH: process.env.PATH,
  };

  it('reads the contract with defaults', () => {
    const r = readWorkerConfig(env);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config).toMatchObject({
      commandsTable: 't',
      bucket: 'b',
      commandId: 'c',
      accountId: 'a',
      taskToken: 'tok',
      allowPrivateUrls: false,
      heartbeatIntervalMs: HEARTBEAT_INTERVAL_SECONDS * 1000,
      download: { maxBytes: LIMITS.maxInputBytes, maxRedirects: LIMITS.maxRedirects },
    });
    expect(r.config.ffmpegPath).toMatch(/\/ffmpeg$/); // absolute: the child has no PATH
    expect(r.config.ffmpegUid).toBeUndefined();
  });

  it('optional variables', () => {
    const r = readWorkerConfig({
      ...env,
      [ENV.ALLOW_PRIVATE_URLS]: '1',
      [ENV.WORK_DIR]: '/work',
      [WORKER_ENV.FFMPEG_UID]: '10001',
      [WORKER_ENV.FFMPEG_GID]: '10002',
      [WORKER_ENV.MAX_INPUT_BYTES]: '1000',
      [ENV.FFMPEG_PATH]: '/opt/ffmpeg',
    });
    expect(r).toMatchObject({
      ok: true,
      config: {
        allowPrivateUrls: true,
        workDir: '/work',
        ffmpegUid: 10001,
        ffmpegGid: 10002,
        ffmpegPath: '/opt/ffmpeg',
        download: { maxBytes: 1000 },
      },
    });
  });

  it('names what is missing or malformed', () => {
    expect(readWorkerConfig({})).toMatchObject({
      ok: false,
      missing: [ENV.COMMANDS_TABLE, ENV.BUCKET, ENV.COMMAND_ID, ENV.ACCOUNT_ID, ENV.TASK_TOKEN],
    });
    expect(readWorkerConfig({ ...env, [WORKER_ENV.FFMPEG_UID]: 'root' })).toMatchObject({
      ok: false,
      message: expect.stringContaining(WORKER_ENV.FFMPEG_UID),
    });
    for (const bad of ['20', '-1', 'low'])
      expect(readWorkerConfig({ ...env, [WORKER_ENV.FFMPEG_NICE]: bad })).toMatchObject({
        ok: false,
        message: expect.stringContaining(WORKER_ENV.FFMPEG_NICE),
      });
  });

  it('FFmpeg niceness: 0 unless FFAAS_FFMPEG_NICE says', () => {
    expect(readWorkerConfig(env)).toMatchObject({ ok: true, config: { ffmpegNice: 0 } });
    expect(readWorkerConfig({ ...env, [WORKER_ENV.FFMPEG_NICE]: '10' })).toMatchObject({
      ok: true,
      config: { ffmpegNice: 10 },
    });
  });
});

describe('clampMessage', () => {
  it('keeps SendTaskFailure causes within 32 KB, both ends kept', () => {
    const long = 'HEAD' + 'x'.repeat(100_000) + 'TAIL';
    const c = clampMessage(long);
    expect(c.length).toBeLessThanOrEqual(MAX_CAUSE_CHARS);
    expect(c.startsWith('HEAD')).toBe(true);
    expect(c.endsWith('TAIL')).toBe(true);
    expect(clampMessage('short')).toBe('short');
  });
});

describe('progress writer', () => {
  it('writes on change, at most once per interval, trailing value kept, nothing after stop', async () => {
    vi.useFakeTimers();
    try {
      let clock = 0;
      const sent: Progress[] = [];
      const w = createProgressWriter({
        write: async (p) => (sent.push(p), true),
        intervalMs: 2000,
        log: silentLogger,
        now: () => clock,
      });
      const p = (s: number) => ({ percent: s * 10, out_time_seconds: s, speed: 1, fps: 25 });
      w.update(p(1)); // written
      w.update(p(1)); // same: skipped
      clock = 500;
      w.update(p(2)); // too soon: pending
      clock = 1000;
      w.update(p(3)); // replaces pending
      await vi.advanceTimersByTimeAsync(0);
      expect(sent).toHaveLength(1);
      clock = 2000;
      await vi.advanceTimersByTimeAsync(2000);
      expect(sent).toEqual([p(1), p(3)]);
      clock = 2100;
      w.update(p(4));
      await w.flush();
      expect(sent).toHaveLength(3);
      await w.stop();
      w.update(p(5));
      expect(sent).toHaveLength(3);
    } finally {
      vi.useRealTimers();
    }
  });

  it('waits firstWriteAfterMs before the first write: a short run writes nothing and stop() hands back its last value', async () => {
    vi.useFakeTimers();
    try {
      let clock = 10_000;
      const sent: Progress[] = [];
      const make = () =>
        createProgressWriter({
          write: async (p) => (sent.push(p), true),
          intervalMs: 2000,
          firstWriteAfterMs: 1000,
          log: silentLogger,
          now: () => clock,
        });
      const p = (s: number) => ({ percent: s * 10, out_time_seconds: s, speed: 1, fps: 25 });

      const short = make();
      clock += 300;
      short.update(p(1));
      clock += 300;
      short.update(p(2));
      expect(await short.stop()).toEqual(p(2));
      await vi.advanceTimersByTimeAsync(5000);
      expect(sent).toEqual([]);

      const long = make();
      clock += 500;
      long.update(p(1)); // 0.5 s in: held
      await vi.advanceTimersByTimeAsync(0);
      expect(sent).toEqual([]);
      clock += 500;
      await vi.advanceTimersByTimeAsync(500); // 1 s in: the held value goes
      expect(sent).toEqual([p(1)]);
      clock += 2000;
      long.update(p(3)); // an interval later: at once
      await vi.advanceTimersByTimeAsync(0);
      expect(sent).toEqual([p(1), p(3)]);
      expect(await long.stop()).toEqual(p(3));
    } finally {
      vi.useRealTimers();
    }
  });

  it('stops writing once the store refuses (the command is no longer PROCESSING); errors are not fatal', async () => {
    let calls = 0;
    let answer: () => Promise<boolean> = async () => {
      throw Object.assign(new Error('throttled'), { name: 'ThrottlingException' });
    };
    const w = createProgressWriter({ write: () => (calls++, answer()), intervalMs: 0, log: silentLogger });
    const p = (s: number) => ({ percent: s, out_time_seconds: s, speed: 1, fps: 25 });
    w.update(p(1));
    await w.flush();
    answer = async () => false;
    w.update(p(2));
    await w.flush();
    w.update(p(3));
    await w.flush();
    expect(calls).toBe(2);
  });
});
