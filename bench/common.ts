/** What the bench scripts share: statistics, the machine's load, timed processes. */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export const MiB = 1024 * 1024;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
};

/** The 1/5/15-minute load averages: every recorded figure names the load it was taken at. */
export const load = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

/** A logger to stderr whose lines start with `[name HH:MM:SS]`. */
export const logger =
  (name: string) =>
  (...a: unknown[]) =>
    console.error(`[${name} ${new Date().toISOString().slice(11, 19)}]`, ...a);

/** Runs a process to its end; its wall time in seconds (rejects with its stderr's tail). */
export function run(cmd: string, args: string[], cwd: string): Promise<number> {
  const start = performance.now();
  const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => (err = (err + d).slice(-2000)));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve((performance.now() - start) / 1000) : reject(new Error(`${cmd} exited ${code}: ${err}`)),
    );
  });
}

/** Bare FFmpeg, as the bench compares it: quiet, overwriting. */
export const ffmpeg = (args: string[], cwd: string) =>
  run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args], cwd);

/** Runs `jobs` with at most `parallel` at once; the makespan in seconds. */
export async function pool(jobs: (() => Promise<unknown>)[], parallel: number): Promise<number> {
  const start = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < jobs.length) await jobs[next++]!();
    }),
  );
  return (performance.now() - start) / 1000;
}

/**
 * Local mode's environment for a bench (a fresh data dir, any free port, loopback inputs).
 * One bench account sends 200 commands at once and 150 submits at 50/s: the per-account queue
 * cap (100) and request rate (docs/CONTROL.md) would refuse them, and a bench measures the
 * service's own cost, not its tenant limits (those have their own tests).
 */
export function benchServiceEnv(dataDir: string): Record<string, string> {
  return {
    PORT: '0',
    FFAAS_DATA_DIR: dataDir,
    FFAAS_ALLOW_PRIVATE_URLS: '1',
    FFAAS_ACCOUNT_MAX_QUEUED: '100000',
    FFAAS_RATE_LIMIT_PER_SECOND: '10000',
    FFAAS_RATE_LIMIT_BURST: '10000',
  };
}

/**
 * A large input of about `mib` MiB in `dir`: 10 s of 720p MPEG-2 at a high bitrate, repeated by
 * stream copy. Returns its size in bytes.
 */
export async function makeBigInput(dir: string, mib: number, name: string): Promise<number> {
  await ffmpeg(
    [
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=1280x720:rate=30:duration=10',
      '-c:v',
      'mpeg2video',
      '-b:v',
      '40M',
      '-maxrate',
      '40M',
      '-bufsize',
      '20M',
      'chunk.ts',
    ],
    dir,
  );
  const chunk = (await stat(path.join(dir, 'chunk.ts'))).size;
  const loops = Math.max(0, Math.ceil((mib * MiB) / chunk) - 1);
  await ffmpeg(['-stream_loop', String(loops), '-i', 'chunk.ts', '-c', 'copy', name], dir);
  await rm(path.join(dir, 'chunk.ts'));
  return (await stat(path.join(dir, name))).size;
}

/**
 * Stops a service started in its own process group (`detached`): SIGTERM to the group (its
 * graceful stop), SIGKILL after 15 s.
 */
export async function stopProcessGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = once(child, 'exit');
  process.kill(-child.pid!, 'SIGTERM');
  const timer = setTimeout(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }, 15_000);
  await exited;
  clearTimeout(timer);
}

/**
 * A started local mode's output (everything it printed, as it comes) and, once it prints its
 * "listening on" line, its URL. Rejects when it exits first or stays silent `timeoutMs`.
 */
export async function untilListening(
  child: ChildProcess,
  timeoutMs = 120_000,
): Promise<{ url: string; output: () => string }> {
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no listening line in ${timeoutMs / 1000} s:\n${output}`)),
      timeoutMs,
    );
    child.stdout!.on('data', () => {
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code}:\n${output}`));
    });
  });
  return { url, output: () => output };
}

/** Machine-wide busy CPU seconds (all cores) from /proc/stat. */
export async function busyCpuSeconds(): Promise<number> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!;
  const [user, nice, system, , , irq, softirq, steal] = line.split(/\s+/).slice(1).map(Number) as number[];
  return (user! + nice! + system! + irq! + softirq! + steal!) / 100;
}

/** A test clip: `seconds` of lavfi's testsrc2 at `size` (H.264 veryfast) with a sine (AAC). */
export const makeClip = (dir: string, size: string, seconds: number, name: string, extra: string[] = []) =>
  ffmpeg(
    [
      '-f',
      'lavfi',
      '-i',
      `testsrc2=size=${size}:rate=30:duration=${seconds}`,
      '-f',
      'lavfi',
      '-i',
      `sine=frequency=440:sample_rate=48000:duration=${seconds}`,
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      '-pix_fmt',
      'yuv420p',
      ...extra,
      '-c:a',
      'aac',
      '-shortest',
      name,
    ],
    dir,
  );

/** The small input of the thumbnail and one-frame cases: 3 s of 320x240 (kept if there). */
export async function makeSmallInput(dir: string): Promise<void> {
  if (await stat(path.join(dir, 'in240.mp4')).catch(() => null)) return;
  await makeClip(dir, '320x240', 3, 'in240.mp4');
}
