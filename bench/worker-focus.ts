/**
 * Two of issue 15's targets, on their own and quicker than `npm run bench` (bench/run.ts):
 *
 *   tsx bench/worker-focus.ts memory     the worker's peak RSS (VmHWM) on a remux of a big input
 *   tsx bench/worker-focus.ts frames     N one-frame commands submitted at once, beside bare FFmpeg
 *
 * Settings: FOCUS_BIG_MB (default 2048), FOCUS_FRAMES (default 200), FOCUS_ROUNDS (default 1:
 * how many times each root is measured), FOCUS_ROOTS (default this repository; a comma list of
 * repository roots, e.g. an export of an older commit, measured round-robin in the same run so
 * before/after share the machine's load), FOCUS_INPUTS (where generated inputs are kept between
 * runs; default a temporary directory removed at the end).
 *
 * The service is started as `npm start` starts it (its package.json's command line: the compiled
 * local mode; PORT=0, a fresh data dir) with the bench's tenant limits lifted. The worker's peak is the VmHWM of every warm worker
 * process after the command (a warm worker lives on, so its high-water mark covers the command).
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createKey } from '../test/e2e/local-process.ts';
import { startFixtureServer } from '../test/helpers/index.ts';
import {
  benchServiceEnv,
  busyCpuSeconds,
  ffmpeg,
  load,
  logger,
  makeBigInput,
  makeSmallInput,
  median,
  MiB,
  pool,
  sleep,
  stopProcessGroup,
  untilListening,
} from './common.ts';

const here = path.resolve(import.meta.dirname, '..');
const MODE = process.argv[2] ?? 'frames';
const BIG_MB = Number(process.env.FOCUS_BIG_MB ?? 2048);
const FRAMES = Number(process.env.FOCUS_FRAMES ?? 200);
const ROUNDS = Number(process.env.FOCUS_ROUNDS ?? 1);
const ROOTS = (process.env.FOCUS_ROOTS ?? here).split(',').map((r) => path.resolve(r));

const log = logger('focus');

/** CPU seconds of a process: its own, and its waited-for children's (a worker's FFmpeg runs). */
async function cpuOf(pid: number): Promise<{ self: number; children: number }> {
  try {
    const f = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
    // Fields after the comm: state is [0]; utime [11], stime [12], cutime [13], cstime [14].
    return { self: (Number(f[11]) + Number(f[12])) / 100, children: (Number(f[13]) + Number(f[14])) / 100 };
  } catch {
    return { self: 0, children: 0 };
  }
}

/** CPU of the service process and of its warm workers (their FFmpeg/ffprobe counted apart). */
async function serviceCpu(rootPid: number): Promise<{ service: number; workers: number; media: number }> {
  const service = await cpuOf(rootPid);
  let workersSelf = 0;
  let media = 0;
  for (const w of await workers(rootPid)) {
    const c = await cpuOf(w.pid);
    workersSelf += c.self;
    media += c.children;
  }
  return { service: service.self, workers: workersSelf, media };
}

/** Warm worker processes under `rootPid` (any depth) with their VmHWM / VmRSS in MiB. */
async function workers(rootPid: number): Promise<{ pid: number; hwm: number; rss: number }[]> {
  const parent = new Map<number, number>();
  const info = new Map<number, { cmd: string; hwm: number; rss: number }>();
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const status = await readFile(`/proc/${name}/status`, 'utf8');
      const field = (f: string) => parseInt(new RegExp(`^${f}:\\s*(\\d+)`, 'm').exec(status)?.[1] ?? '0', 10);
      parent.set(Number(name), field('PPid'));
      const cmd = (await readFile(`/proc/${name}/cmdline`, 'utf8')).replaceAll('\0', ' ');
      info.set(Number(name), { cmd, hwm: field('VmHWM') / 1024, rss: field('VmRSS') / 1024 });
    } catch {
      // gone
    }
  }
  const under = (pid: number): boolean => {
    for (let p = pid, i = 0; p > 1 && i < 50; p = parent.get(p) ?? 0, i++) if (p === rootPid) return true;
    return false;
  };
  return [...info.entries()]
    .filter(([pid, i]) => /worker\.mjs|fargate-task\/src\/main/.test(i.cmd) && under(pid))
    .map(([pid, i]) => ({ pid, hwm: i.hwm, rss: i.rss }));
}

interface Service {
  url: string;
  pid: number;
  key: string;
  stop: () => Promise<void>;
}

async function startService(root: string, dataDir: string): Promise<Service> {
  // `npm start`'s own command line in that root (the compiled local mode), with this Node.
  const start = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')).scripts.start as string;
  const child = spawn(process.execPath, start.split(' ').slice(1), {
    cwd: root,
    env: {
      ...process.env,
      ...benchServiceEnv(dataDir),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const { url } = await untilListening(child);
  const key = await createKey({ FFAAS_DATA_DIR: dataDir }, 'focus');
  return {
    url,
    pid: child.pid!,
    key,
    stop: () => stopProcessGroup(child),
  };
}

interface Poll {
  status: string;
  finished_at: string | null;
  error_status: string | null;
  error_message: string | null;
  timings: Record<string, number | null>;
  output_files?: Record<string, Record<string, unknown>>;
}

async function submit(s: Service, inputs: Record<string, string>, outputs: Record<string, string>, command: string) {
  const res = await fetch(`${s.url}/api/v1/run-ffmpeg-command`, {
    method: 'POST',
    headers: { 'X-API-KEY': s.key, 'content-type': 'application/json' },
    body: JSON.stringify({ input_files: inputs, output_files: outputs, ffmpeg_command: command }),
  });
  const body = (await res.json()) as { command_id?: string };
  if (res.status !== 200 || !body.command_id) throw new Error(`submit answered ${res.status}: ${JSON.stringify(body)}`);
  return body.command_id;
}

async function waitAll(s: Service, ids: string[], intervalMs: number): Promise<Poll[]> {
  const done = new Map<string, Poll>();
  while (done.size < ids.length) {
    for (const id of ids) {
      if (done.has(id)) continue;
      const res = await fetch(`${s.url}/api/v1/commands/${id}`, { headers: { 'X-API-KEY': s.key } });
      const p = (await res.json()) as Poll;
      if (p.status === 'FAILED') throw new Error(`command ${id} FAILED: ${p.error_status}: ${p.error_message}`);
      if (p.status === 'SUCCESS') done.set(id, p);
      else break;
    }
    if (done.size < ids.length) await sleep(intervalMs);
  }
  return ids.map((id) => done.get(id)!);
}

async function makeBig(dir: string): Promise<number> {
  const name = `big${BIG_MB}.ts`;
  const have = await stat(path.join(dir, name)).catch(() => null);
  if (have) return have.size;
  log(`generating a ${BIG_MB} MiB input`);
  return makeBigInput(dir, BIG_MB, name);
}

async function main(): Promise<void> {
  const work = await mkdtemp(path.join(tmpdir(), 'ffaas-focus-'));
  const inputs = process.env.FOCUS_INPUTS ?? path.join(work, 'inputs');
  const bare = path.join(work, 'bare');
  await mkdir(inputs, { recursive: true });
  await mkdir(bare, { recursive: true });
  const media = await startFixtureServer({ dir: inputs });
  const url = (n: string) => media.url(`/${n}`);
  const results: Record<string, unknown>[] = [];
  try {
    await makeSmallInput(inputs);
    const bigBytes = MODE === 'memory' ? await makeBig(inputs) : 0;
    for (let round = 0; round < ROUNDS; round++) {
      for (const [ri, root] of ROOTS.entries()) {
        const dataDir = path.join(work, `data-${round}-${ri}`);
        const loadBefore = load();
        const service = await startService(root, dataDir);
        try {
          // Warm-up: the first worker, the handlers' first imports.
          const w = await submit(
            service,
            { in_v: url('in240.mp4') },
            { out_i: 'w.jpg' },
            'ffmpeg -i {{in_v}} -frames:v 1 {{out_i}}',
          );
          await waitAll(service, [w], 100);
          await sleep(1000);
          if (MODE === 'memory') {
            const idle = await workers(service.pid);
            const t0 = Date.now();
            const id = await submit(
              service,
              { in_video: url(`big${BIG_MB}.ts`) },
              { out_video: 'big.mkv' },
              'ffmpeg -i {{in_video}} -c copy {{out_video}}',
            );
            // Sample RSS too (a worker replaced mid-way would take its HWM with it).
            let sampled = 0;
            let sampling = true;
            // The highest RSS of each 2 s, to see which phase holds the peak.
            const series: number[] = [];
            const sampler = (async () => {
              while (sampling) {
                for (const p of await workers(service.pid)) {
                  sampled = Math.max(sampled, p.rss);
                  const i = Math.floor((Date.now() - t0) / 2000);
                  series[i] = Math.max(series[i] ?? 0, Math.round(p.rss));
                }
                await sleep(50);
              }
            })();
            const [poll] = await waitAll(service, [id], 200);
            sampling = false;
            await sampler;
            const after = await workers(service.pid);
            const r = {
              root,
              round,
              input_mib: Math.round(bigBytes / MiB),
              seconds: (Date.parse(poll!.finished_at!) - t0) / 1000,
              idle_worker_rss_mib: idle.map((p) => Math.round(p.rss)),
              worker_hwm_mib: Math.max(...after.map((p) => p.hwm)).toFixed(1),
              worker_rss_sampled_peak_mib: sampled.toFixed(1),
              worker_rss_by_2s: series.join(' '),
              timings: poll!.timings,
              load_before: loadBefore,
              load_after: load(),
            };
            log(JSON.stringify(r));
            results.push(r);
          } else {
            const frameArgs = (i: number) => ['-i', path.join(inputs, 'in240.mp4'), '-frames:v', '1', `f${i}.jpg`];
            const parallel = 2;
            const bareN = await pool(
              Array.from({ length: FRAMES }, (_, i) => () => ffmpeg(frameArgs(i), bare)),
              parallel,
            );
            const cpu0 = await busyCpuSeconds();
            const svc0 = await serviceCpu(service.pid);
            const t0 = Date.now();
            const ids = await Promise.all(
              Array.from({ length: FRAMES }, () =>
                submit(
                  service,
                  { in_video: url('in240.mp4') },
                  { out_image: 'f.jpg' },
                  'ffmpeg -i {{in_video}} -frames:v 1 {{out_image}}',
                ),
              ),
            );
            const polls = await waitAll(service, ids, 500);
            const makespan = (Math.max(...polls.map((p) => Date.parse(p.finished_at!))) - t0) / 1000;
            const cpu = (await busyCpuSeconds()) - cpu0;
            const svc1 = await serviceCpu(service.pid);
            const perCommand = (k: 'service' | 'workers' | 'media') => ((svc1[k] - svc0[k]) / FRAMES).toFixed(3);
            const per = (k: string) => median(polls.map((p) => p.timings[k] ?? 0));
            const r = {
              root,
              round,
              frames: FRAMES,
              bare_s: bareN.toFixed(2),
              ffaas_s: makespan.toFixed(2),
              ratio: (makespan / bareN).toFixed(2),
              machine_cpu_s_per_command: (cpu / FRAMES).toFixed(3),
              // Workers live on (warm), so their CPU and their FFmpeg's is all there; a worker
              // replaced mid-run takes its share with it (then these undercount).
              cpu_s_per_command: {
                service: perCommand('service'),
                workers: perCommand('workers'),
                ffmpeg_ffprobe: perCommand('media'),
              },
              median_timings: Object.fromEntries(
                ['queued', 'download', 'ffmpeg', 'probe', 'upload', 'report'].map((k) => [k, per(k)]),
              ),
              sample_output: polls[0]!.output_files,
              load_before: loadBefore,
              load_after: load(),
            };
            log(JSON.stringify(r));
            results.push(r);
          }
        } finally {
          await service.stop();
        }
      }
    }
  } finally {
    await media.stop();
    if (!process.env.FOCUS_INPUTS) await rm(work, { recursive: true, force: true });
    else await rm(work, { recursive: true, force: true }).catch(() => {});
  }
  console.log(JSON.stringify(results, null, 1));
}

await main();
