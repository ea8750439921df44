/**
 * Local mode's warm workers (local/worker-supervisor.ts with the worker bundle, as `npm start`
 * runs it) against the real synthesized state machine, real ffmpeg, dynalite and s3rver: a
 * warm process serves command after command; one killed mid-run ends in the re-run path (the
 * command succeeds with attempts 2) and is replaced.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WORKER_MALLOC_ENV, WORKER_NODE_OPTIONS } from '../../fargate-task/src/config.ts';
import { bundledWorkerCommand } from '../../local/worker-bundle.ts';
import { makeFixtures, startFixtureServer, type Fixtures, type FixtureServer } from '../helpers/index.ts';
import { startHarness, submitCommand, type Harness } from './harness.ts';

let h: Harness;
let fx: Fixtures;
let srv: FixtureServer;
let bundleDir: string;
const workerLines: string[] = [];
/** Longer than any gap between the commands of one test here, short enough to wait out. */
const LAST_WARM_IDLE_MS = 6000;

beforeAll(async () => {
  fx = await makeFixtures({ names: ['video.mp4', 'long.mp4'] });
  srv = await startFixtureServer({ dir: fx.dir });
  bundleDir = await mkdtemp(path.join(os.tmpdir(), 'ffaas-warm-'));
  const worker = await bundledWorkerCommand(bundleDir);
  expect(worker.warm).toBe(true);
  h = await startHarness({
    worker,
    maxConcurrency: 2,
    lastWarmIdleMs: LAST_WARM_IDLE_MS,
    workerLog: (line) => workerLines.push(line),
  });
}, 120_000);
afterAll(async () => {
  await h?.stop();
  await srv?.stop();
  await fx?.cleanup();
  if (bundleDir) await rm(bundleDir, { recursive: true, force: true });
});

async function submit(inputUrl: string, command: string): Promise<string> {
  return submitCommand(h, {
    input_files: { in_video: inputUrl },
    output_files: { out_video: 'out.mp4' },
    ffmpeg_command: command,
  });
}

/** The warm worker processes (the bundle) that are children of this process. */
function warmPids(): number[] {
  const out = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((l) => l.includes(path.join(bundleDir, 'worker')))
    .map((l) => Number(l.trim().split(/\s+/)[0]))
    .sort();
}

/** TCP sockets a process holds open (inode → remote port), from its fds and its namespace's table. */
function tcpSockets(pid: number): Map<string, number> {
  const socks = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) socks.add(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  const out = new Map<string, number>();
  for (const t of ['tcp', 'tcp6']) {
    for (const line of readFileSync(`/proc/${pid}/net/${t}`, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[9] && socks.has(f[9])) out.set(f[9], Number.parseInt(f[2]!.split(':')[1]!, 16));
    }
  }
  return out;
}

describe('warm workers (worker bundle over IPC)', () => {
  it('a warm worker keeps its AWS clients: the next command goes over the connections the last one opened', async () => {
    const run = async () => {
      const cid = await submit(srv.url('/video.mp4'), 'ffmpeg -i {{in_video}} -frames:v 1 -an {{out_video}}');
      await h.runner.waitForExecution(cid);
      expect((await h.getCommand(cid))?.status, workerLines.slice(-20).join('\n')).toBe('SUCCESS');
    };
    await run();
    await expect.poll(() => warmPids().length, { timeout: 10_000 }).toBe(1);
    const [pid] = warmPids();
    // Started with the image's V8 options and allocator setting (fargate-task/Dockerfile).
    const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    expect(environ.find((e) => e.startsWith('NODE_OPTIONS='))).toContain(WORKER_NODE_OPTIONS);
    for (const [name, value] of Object.entries(WORKER_MALLOC_ENV)) expect(environ).toContain(`${name}=${value}`);
    // Connections kept open after the command, and still in use after the next one: to more
    // than one endpoint (DynamoDB, S3, Step Functions). A worker that destroyed its S3 and SFN
    // clients after each command kept at most the DynamoDB one (whose document client's
    // destroy() leaves the base client's connections open).
    const after1 = tcpSockets(pid!);
    await run();
    expect(warmPids()).toEqual([pid]);
    const after2 = tcpSockets(pid!);
    const kept = new Set([...after2.keys()].filter((i) => after1.has(i)).map((i) => after2.get(i)));
    expect(kept.size).toBeGreaterThanOrEqual(2);
  }, 120_000);

  it('serves commands one after another from the same warm processes', async () => {
    // Started on the first command; one kept (the runner's default; local mode keeps one per slot).
    const first = await submit(srv.url('/video.mp4'), 'ffmpeg -i {{in_video}} -t 0.5 -c:v libx264 -an {{out_video}}');
    await h.runner.waitForExecution(first);
    expect((await h.getCommand(first))?.status, workerLines.slice(-20).join('\n')).toBe('SUCCESS');
    await expect.poll(() => warmPids().length, { timeout: 10_000 }).toBe(1);
    const before = warmPids();
    for (let i = 0; i < 3; i++) {
      const cid = await submit(srv.url('/video.mp4'), 'ffmpeg -i {{in_video}} -frames:v 1 -an {{out_video}}');
      await h.runner.waitForExecution(cid);
      const item = await h.getCommand(cid);
      expect(item?.status, workerLines.slice(-20).join('\n')).toBe('SUCCESS');
      expect(item!.attempts).toBe(1);
    }
    expect(warmPids()).toEqual(before);
    expect(h.runner.stats().workers).toBe(0);
  }, 120_000);

  it('a warm worker killed mid-run (SIGKILL) ends in the re-run: attempts 2, SUCCESS; it is replaced', async () => {
    const cid = await submit(
      srv.url('/long.mp4'),
      'ffmpeg -i {{in_video}} -vf scale=480:360 -c:v libx264 -preset fast -an {{out_video}}',
    );
    await expect.poll(async () => (await h.getCommand(cid))?.progress, { timeout: 60_000, interval: 100 }).toBeTruthy();
    const pids = warmPids();
    expect(pids.length).toBeGreaterThanOrEqual(1);
    for (const pid of pids) process.kill(pid, 'SIGKILL');

    const exec = await h.runner.waitForExecution(cid);
    const item = await h.getCommand(cid);
    expect(item?.status, workerLines.slice(-30).join('\n')).toBe('SUCCESS');
    expect(exec.status).toBe('SUCCEEDED');
    expect(item!.attempts).toBe(2);
    await expect.poll(() => warmPids().length, { timeout: 10_000 }).toBe(1);
    expect(warmPids().some((p) => pids.includes(p))).toBe(false);
  }, 180_000);

  it('an idle service keeps no worker: the last warm one goes after lastWarmIdleMs unused, is not replaced, and the next command starts one', async () => {
    const cid = await submit(srv.url('/video.mp4'), 'ffmpeg -i {{in_video}} -frames:v 1 -an {{out_video}}');
    await h.runner.waitForExecution(cid);
    expect((await h.getCommand(cid))?.status).toBe('SUCCESS');
    await expect.poll(() => warmPids().length, { timeout: 10_000 }).toBe(1);
    await expect.poll(() => warmPids().length, { timeout: LAST_WARM_IDLE_MS + 10_000, interval: 250 }).toBe(0);
    // Not replaced: still none a while later.
    await new Promise((r) => setTimeout(r, 1500));
    expect(warmPids()).toEqual([]);
    const next = await submit(srv.url('/video.mp4'), 'ffmpeg -i {{in_video}} -frames:v 1 -an {{out_video}}');
    await h.runner.waitForExecution(next);
    expect((await h.getCommand(next))?.status, workerLines.slice(-20).join('\n')).toBe('SUCCESS');
    expect(warmPids()).toHaveLength(1);
  }, 120_000);
});
