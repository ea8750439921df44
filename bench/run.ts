/**
 * `npm run bench`: the service against bare FFmpeg, case by case, in the same run, on this
 * machine; prints every target with its measured value and PASS/FAIL and appends the run, with
 * the machine and the load average, to bench/RESULTS.md (earlier runs stay).
 *
 *   npm run bench                        everything (about 6-10 minutes on 2 cores)
 *   BENCH_REPS=1 BENCH_ONE_FRAME=40 BENCH_BIG_MB=100 npm run bench    a quicker, rougher run
 *   BENCH_NO_RECORD=1 npm run bench      print only, do not touch RESULTS.md
 *
 * Inputs are generated with FFmpeg's lavfi sources at bench time (nothing is committed) and
 * served from 127.0.0.1 by the bench. The service is started as a user starts it (`npm start`,
 * PORT=0, a fresh data dir: the first start; then again on the same dir: the restart).
 *
 * How a command is timed through ffaas: from just before the POST (client clock) to the item's
 * `finished_at` (when the final status was recorded; same machine, same clock). Polling only
 * waits for the end (every second), so its own CPU use stays small and does not set the
 * number. Bare FFmpeg is the same argv on the same local file, timed from spawn to exit. A case
 * runs bare and through ffaas in pairs, the order alternating; the targets that compare the two
 * (the 720p case, FFmpeg inside) are judged on the median of the pairs' ratios, because this
 * host's speed changes by more than the 3 % target over the minutes a case takes.
 *
 * Service RSS: the resident memory of `npm start`'s process tree (the service, its worker
 * processes), without FFmpeg, ffprobe and bubblewrap, and without the `npm`/`sh` launcher
 * processes; sampled every 100 ms.
 */
import { spawn, execFileSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { startFixtureServer } from '../test/helpers/index.ts';
import { createKey } from '../test/e2e/local-process.ts';
import {
  benchServiceEnv,
  ffmpeg,
  load,
  logger,
  makeBigInput,
  makeClip,
  makeSmallInput,
  median,
  MiB,
  pool,
  quantile,
  sleep,
  stopProcessGroup,
  untilListening,
} from './common.ts';

const root = path.resolve(import.meta.dirname, '..');
const REPS = Number(process.env.BENCH_REPS ?? 3);
const ONE_FRAME = Number(process.env.BENCH_ONE_FRAME ?? 200);
const BIG_MB = Number(process.env.BENCH_BIG_MB ?? 2048); // the target names a 2 GB input
const SUBMITS = Number(process.env.BENCH_SUBMITS ?? 150);
const RECORD = process.env.BENCH_NO_RECORD !== '1';

const log = logger('bench');

// ---------------------------------------------------------------------------------------------
// Processes

interface Proc {
  pid: number;
  ppid: number;
  comm: string;
  rssKiB: number;
  /** Proportional set size: shared pages (the Node binary's code) divided among their users. */
  pssKiB: number;
  /** CPU time so far (utime + stime, clock ticks). */
  cpuTicks: number;
  cmdline: string;
}

/**
 * The processes of the tree under `rootPid` (walked by /proc/<pid>/task/<tid>/children), not
 * every process of the machine: the sampler runs every 100 ms beside FFmpeg, and reading all of
 * /proc (smaps_rollup walks page tables) took CPU from the very runs it measured.
 */
async function processes(rootPid: number): Promise<Map<number, Proc>> {
  const out = new Map<number, Proc>();
  const pending = [rootPid];
  while (pending.length > 0 && out.size < 1000) {
    const name = pending.pop()!;
    if (out.has(name)) continue;
    try {
      const status = await readFile(`/proc/${name}/status`, 'utf8');
      const field = (f: string) => new RegExp(`^${f}:\\s*(.*)$`, 'm').exec(status)?.[1] ?? '';
      const cmdline = (await readFile(`/proc/${name}/cmdline`, 'utf8')).replaceAll('\0', ' ');
      const rollup = await readFile(`/proc/${name}/smaps_rollup`, 'utf8').catch(() => '');
      const stat = (await readFile(`/proc/${name}/stat`, 'utf8')).split(') ')[1]?.split(' ') ?? [];
      out.set(name, {
        pid: name,
        ppid: Number(field('PPid')),
        comm: field('Name'),
        rssKiB: parseInt(field('VmRSS') || '0', 10),
        pssKiB: parseInt(/^Pss:\s*(\d+)/m.exec(rollup)?.[1] ?? '0', 10),
        cpuTicks: Number(stat[11] ?? 0) + Number(stat[12] ?? 0),
        cmdline,
      });
      for (const tid of await readdir(`/proc/${name}/task`)) {
        const children = await readFile(`/proc/${name}/task/${tid}/children`, 'utf8').catch(() => '');
        for (const c of children.split(' ')) if (c.trim()) pending.push(Number(c));
      }
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

const isMedia = (p: Proc) => ['ffmpeg', 'ffprobe', 'bwrap'].includes(p.comm);
// npm renames its process to its command line ("npm start"), so its Name is not just "npm".
const isLauncher = (p: Proc) =>
  /^npm( |$)/.test(p.comm) || p.comm === 'sh' || /npm-cli\.js|\/bin\/npm |^npm /.test(p.cmdline);
const isWorker = (p: Proc) => /worker\.mjs|fargate-task\/src\/main/.test(p.cmdline);

/**
 * RSS (MiB) of the service tree under `rootPid`: all, and the largest single worker process; and
 * the tree's PSS, which counts the pages its Node processes share (Node's own code) once.
 */
interface TreeMemory {
  service: number;
  worker: number;
  pss: number;
  workers: { pid: number; rssKiB: number; cpuTicks: number }[];
}

async function serviceRss(rootPid: number): Promise<TreeMemory> {
  const procs = await processes(rootPid);
  const children = new Map<number, number[]>();
  for (const p of procs.values()) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p.pid]);
  let service = 0;
  let worker = 0;
  let pss = 0;
  const workers: TreeMemory['workers'] = [];
  const walk = (pid: number) => {
    const p = procs.get(pid);
    if (p && !isMedia(p)) {
      if (!isLauncher(p)) service += p.rssKiB;
      if (!isLauncher(p)) pss += p.pssKiB;
      if (isWorker(p)) {
        worker = Math.max(worker, p.rssKiB);
        workers.push({ pid: p.pid, rssKiB: p.rssKiB, cpuTicks: p.cpuTicks });
      }
    }
    for (const c of children.get(pid) ?? []) walk(c);
  };
  walk(rootPid);
  return { service: service / 1024, worker: worker / 1024, pss: pss / 1024, workers };
}

/**
 * Samples the service's RSS every 100 ms; `peak()` since the last `reset()`, which also resumes
 * it after a `pause()`. Paused while a case is timed: reading /proc (smaps_rollup walks every
 * mapping) ten times a second is CPU taken from the FFmpeg being timed. `busiestWorkerPeak()` is
 * the peak RSS of the worker process that used the most CPU since the reset: the one that ran
 * the case's command, not a warm worker idling beside it with what earlier cases left.
 */
function rssSampler(rootPid: number) {
  let peak = { service: 0, worker: 0, pss: 0 };
  let perWorker = new Map<number, { peakKiB: number; firstTicks: number; lastTicks: number }>();
  let stopped = false;
  let paused = false;
  const loop = (async () => {
    while (!stopped) {
      if (paused) {
        await sleep(100);
        continue;
      }
      const r = await serviceRss(rootPid).catch(() => ({ service: 0, worker: 0, pss: 0, workers: [] }));
      peak = {
        service: Math.max(peak.service, r.service),
        worker: Math.max(peak.worker, r.worker),
        pss: Math.max(peak.pss, r.pss),
      };
      for (const w of r.workers) {
        const seen = perWorker.get(w.pid) ?? { peakKiB: 0, firstTicks: w.cpuTicks, lastTicks: w.cpuTicks };
        perWorker.set(w.pid, { ...seen, peakKiB: Math.max(seen.peakKiB, w.rssKiB), lastTicks: w.cpuTicks });
      }
      await sleep(100);
    }
  })();
  return {
    reset: () => {
      peak = { service: 0, worker: 0, pss: 0 };
      perWorker = new Map();
      paused = false;
    },
    busiestWorkerPeak: () => {
      const busiest = [...perWorker.values()].sort(
        (a, b) => b.lastTicks - b.firstTicks - (a.lastTicks - a.firstTicks),
      )[0];
      return (busiest?.peakKiB ?? 0) / 1024;
    },
    pause: () => void (paused = true),
    peak: () => peak,
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}

interface Service {
  url: string;
  pid: number;
  startupSeconds: number;
  output: () => string;
  stop: () => Promise<void>;
}

/** `npm start` as a user runs it, in its own process group; resolves at its "listening" line. */
async function startService(dataDir: string): Promise<Service> {
  const start = performance.now();
  const child = spawn('npm', ['start', '--silent'], {
    cwd: root,
    env: {
      ...process.env,
      ...benchServiceEnv(dataDir),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const { url, output } = await untilListening(child);
  const startupSeconds = (performance.now() - start) / 1000;
  return {
    url,
    pid: child.pid!,
    startupSeconds,
    output,
    stop: () => stopProcessGroup(child),
  };
}

// ---------------------------------------------------------------------------------------------
// The API

interface Poll {
  status: string;
  created_at: string;
  finished_at: string | null;
  error_status: string | null;
  error_message: string | null;
  ffmpeg_command_run_seconds: number | null;
  timings: Record<string, number | null>;
}

class Client {
  constructor(
    readonly base: string,
    readonly key: string,
  ) {}

  /** POSTs a command; its id and the submit latency (ms). */
  async submit(
    inputs: Record<string, string>,
    outputs: Record<string, string>,
    command: string,
  ): Promise<{ id: string; ms: number; sentAt: number }> {
    const sentAt = Date.now();
    const t = performance.now();
    const res = await fetch(`${this.base}/api/v1/run-ffmpeg-command`, {
      method: 'POST',
      headers: { 'X-API-KEY': this.key, 'content-type': 'application/json' },
      body: JSON.stringify({ input_files: inputs, output_files: outputs, ffmpeg_command: command }),
    });
    const body = (await res.json()) as { command_id?: string };
    const ms = performance.now() - t;
    if (res.status !== 200 || !body.command_id)
      throw new Error(`submit answered ${res.status}: ${JSON.stringify(body)}`);
    return { id: body.command_id, ms, sentAt };
  }

  async poll(id: string): Promise<Poll> {
    const res = await fetch(`${this.base}/api/v1/commands/${id}`, { headers: { 'X-API-KEY': this.key } });
    return (await res.json()) as Poll;
  }

  /**
   * Waits until every command ended; their final polls. Throws on a FAILED one. Times come from
   * `finished_at`, so the interval only decides when the bench notices an end: every 100 ms the
   * polls alone put ~0.5 CPU-s of a 4 s transcode on FFmpeg's cores (docs/PERFORMANCE.md).
   */
  async waitAll(ids: string[], intervalMs = 1000, timeoutMs = 30 * 60_000): Promise<Poll[]> {
    const done = new Map<string, Poll>();
    const deadline = Date.now() + timeoutMs;
    while (done.size < ids.length) {
      if (Date.now() > deadline) throw new Error(`${ids.length - done.size} commands did not end in time`);
      for (const id of ids) {
        if (done.has(id)) continue;
        const p = await this.poll(id);
        if (p.status === 'FAILED') throw new Error(`command ${id} FAILED: ${p.error_status}: ${p.error_message}`);
        if (p.status === 'SUCCESS') done.set(id, p);
        else break; // the rest is later in the queue: look again after the interval
      }
      if (done.size < ids.length) await sleep(intervalMs);
    }
    return ids.map((id) => done.get(id)!);
  }

  /** One command start to end: seconds from just before the POST to its finished_at. */
  async one(
    inputs: Record<string, string>,
    outputs: Record<string, string>,
    command: string,
  ): Promise<{ seconds: number; poll: Poll; submitMs: number }> {
    const s = await this.submit(inputs, outputs, command);
    const [poll] = await this.waitAll([s.id]);
    return { seconds: (Date.parse(poll!.finished_at!) - s.sentAt) / 1000, poll: poll!, submitMs: s.ms };
  }
}

// ---------------------------------------------------------------------------------------------
// Inputs

async function makeInputs(dir: string): Promise<void> {
  log('generating inputs with lavfi');
  await makeClip(dir, '1280x720', 20, 'in720.mp4', ['-b:v', '4M']);
  await makeClip(dir, '1920x1080', 10, 'in1080.mp4', ['-b:v', '8M']);
  await makeSmallInput(dir);
  // The big input: 10 s at a high bitrate, repeated by stream copy up to BIG_MB.
  await makeBigInput(dir, BIG_MB, 'big.ts');
}

// ---------------------------------------------------------------------------------------------

interface Row {
  name: string;
  target: string;
  measured: string;
  pass: boolean | null; // null: no target, for information
}

async function main(): Promise<void> {
  const loadBefore = load();
  log(`load average ${loadBefore}`);
  const work = await mkdtemp(path.join(tmpdir(), 'ffaas-bench-'));
  const inputs = path.join(work, 'inputs');
  const bare = path.join(work, 'bare');
  const dataDir = path.join(work, 'data');
  await import('node:fs/promises').then((fs) => Promise.all([fs.mkdir(inputs), fs.mkdir(bare)]));
  const rows: Row[] = [];
  const info: Record<string, unknown> = {};
  let service: Service | undefined;
  let sampler: ReturnType<typeof rssSampler> | undefined;
  const media = await startFixtureServer({ dir: inputs });
  try {
    await makeInputs(inputs);
    const bigBytes = (await stat(path.join(inputs, 'big.ts'))).size;
    const url = (name: string) => media.url(`/${name}`);

    // Start-up: first start (fresh data dir), then a restart on it.
    log('first start');
    service = await startService(dataDir);
    const firstStart = service.startupSeconds;
    await service.stop();
    log('restart');
    service = await startService(dataDir);
    const restart = service.startupSeconds;
    rows.push({
      name: 'start-up to healthy, first start',
      target: '≤ 3 s',
      measured: `${firstStart.toFixed(2)} s`,
      pass: firstStart <= 3,
    });
    rows.push({
      name: 'start-up to healthy, restart',
      target: '≤ 1 s',
      measured: `${restart.toFixed(2)} s`,
      pass: restart <= 1,
    });

    const key = await createKey({ FFAAS_DATA_DIR: dataDir }, 'bench');
    const api = new Client(service.url, key);
    sampler = rssSampler(service.pid);
    sampler.pause(); // until the cases that measure memory
    await sleep(2000);
    const idle = await serviceRss(service.pid);
    rows.push({
      name: 'service RSS idle',
      target: '≤ 150 MiB',
      measured: `${idle.service.toFixed(0)} MiB`,
      pass: idle.service <= 150,
    });
    rows.push({
      name: 'service PSS idle (shared pages counted once)',
      target: '(information)',
      measured: `${idle.pss.toFixed(0)} MiB`,
      pass: null,
    });

    // Warm-up: one command (first worker start, first handler imports).
    await api.one({ in_v: url('in240.mp4') }, { out_i: 'w.jpg' }, 'ffmpeg -i {{in_v}} -frames:v 1 {{out_i}}');

    // A case: bare and through ffaas in pairs, REPS pairs, the order alternating from one pair to
    // the next (bare first, then ffaas first: a host that speeds up or slows down over the
    // minutes a case takes favours neither side); medians, and the median of the pairs' ratios,
    // which compares runs taken seconds apart rather than medians taken minutes apart.
    const phases: Record<string, Record<string, number | null>> = {};
    async function versus(
      name: string,
      bareArgs: string[],
      inputMap: Record<string, string>,
      outputs: Record<string, string>,
      command: string,
      reps = REPS,
    ) {
      const b: number[] = [];
      const f: number[] = [];
      const inside: number[] = [];
      let last: Poll | undefined;
      const throughFfaas = async () => {
        const r = await api.one(inputMap, outputs, command);
        f.push(r.seconds);
        inside.push(r.poll.timings.ffmpeg ?? Number.NaN);
        last = r.poll;
      };
      for (let i = 0; i < reps; i++) {
        if (i % 2 === 1) await throughFfaas();
        b.push(await ffmpeg(bareArgs, bare));
        if (i % 2 === 0) await throughFfaas();
      }
      phases[name] = last!.timings;
      const res = {
        bare: median(b),
        ffaas: median(f),
        inside: median(inside),
        ratio: median(f.map((x, i) => x / b[i]!)),
        insideRatio: median(inside.map((x, i) => x / b[i]!)),
      };
      log(name, JSON.stringify({ bare: b, ffaas: f, inside, timings: last!.timings }));
      return res;
    }
    const inBare = (n: string) => path.join(inputs, n);

    log('720p transcode');
    const t720 = await versus(
      '720p transcode',
      ['-i', inBare('in720.mp4'), '-c:v', 'libx264', '-preset', 'veryfast', '-c:a', 'aac', 'o720.mp4'],
      { in_video: url('in720.mp4') },
      { out_video: 'o720.mp4' },
      'ffmpeg -i {{in_video}} -c:v libx264 -preset veryfast -c:a aac {{out_video}}',
      Math.max(REPS, 5), // two targets ride on it, and the host's speed drifts by more than 3 %
    );
    rows.push({
      name: '20 s 720p → H.264 veryfast + AAC',
      target: '≤ 1.10× bare',
      measured: `${t720.ffaas.toFixed(2)} s vs bare ${t720.bare.toFixed(2)} s (medians); pairs' median ${t720.ratio.toFixed(3)}×`,
      pass: t720.ratio <= 1.1,
    });
    rows.push({
      name: 'FFmpeg inside the service (720p case)',
      target: 'within 3 % of bare',
      measured: `${t720.inside.toFixed(2)} s vs bare ${t720.bare.toFixed(2)} s (medians); pairs' median ${((t720.insideRatio - 1) * 100).toFixed(1)} %`,
      pass: t720.insideRatio <= 1.03,
    });

    log('thumbnail');
    const thumb = await versus(
      'thumbnail',
      ['-ss', '1', '-i', inBare('in240.mp4'), '-frames:v', '1', 'thumb.jpg'],
      { in_video: url('in240.mp4') },
      { out_image: 'thumb.jpg' },
      'ffmpeg -ss 1 -i {{in_video}} -frames:v 1 {{out_image}}',
      Math.max(REPS, 5),
    );
    rows.push({
      name: 'thumbnail of a 3 s 320x240 clip',
      target: '≤ bare + 0.3 s',
      measured: `${thumb.ffaas.toFixed(3)} s vs bare ${thumb.bare.toFixed(3)} s = +${(thumb.ffaas - thumb.bare).toFixed(3)} s`,
      pass: thumb.ffaas - thumb.bare <= 0.3,
    });

    log('1080p transcode');
    const t1080 = await versus(
      '1080p transcode',
      ['-i', inBare('in1080.mp4'), '-c:v', 'libx264', '-preset', 'veryfast', '-c:a', 'aac', 'o1080.mp4'],
      { in_video: url('in1080.mp4') },
      { out_video: 'o1080.mp4' },
      'ffmpeg -i {{in_video}} -c:v libx264 -preset veryfast -c:a aac {{out_video}}',
      1,
    );
    rows.push({
      name: '10 s 1080p → H.264 veryfast + AAC',
      target: '(information)',
      measured: `${t1080.ffaas.toFixed(2)} s vs bare ${t1080.bare.toFixed(2)} s = ${(t1080.ffaas / t1080.bare).toFixed(3)}×`,
      pass: null,
    });

    log('HLS packaging');
    const hls = await versus(
      'HLS packaging',
      [
        '-i',
        inBare('in720.mp4'),
        '-c',
        'copy',
        '-f',
        'hls',
        '-hls_time',
        '4',
        '-hls_playlist_type',
        'vod',
        'bare.m3u8',
      ],
      { in_video: url('in720.mp4') },
      { out_playlist: 'index.m3u8' },
      'ffmpeg -i {{in_video}} -c copy -f hls -hls_time 4 -hls_playlist_type vod {{out_playlist}}',
    );
    rows.push({
      name: 'HLS packaging of the 720p clip (stream copy)',
      target: '(information)',
      measured: `${hls.ffaas.toFixed(3)} s vs bare ${hls.bare.toFixed(3)} s = ${(hls.ffaas / hls.bare).toFixed(2)}×`,
      pass: null,
    });

    log(`big input (${(bigBytes / MiB).toFixed(0)} MiB)`);
    sampler.reset();
    const big = await versus(
      'big input remux',
      ['-i', inBare('big.ts'), '-c', 'copy', 'big.mkv'],
      { in_video: url('big.ts') },
      { out_video: 'big.mkv' },
      'ffmpeg -i {{in_video}} -c copy {{out_video}}',
      1,
    );
    const bigWorker = sampler.busiestWorkerPeak();
    const anyWorker = sampler.peak().worker;
    sampler.pause();
    rows.push({
      name: `${(bigBytes / MiB).toFixed(0)} MiB input, remux (download + upload)`,
      target: '(information)',
      measured: `${big.ffaas.toFixed(2)} s vs bare ${big.bare.toFixed(2)} s = ${(big.ffaas / big.bare).toFixed(2)}×`,
      pass: null,
    });
    rows.push({
      name: `worker RSS on a ${(bigBytes / MiB).toFixed(0)} MiB input (the worker that ran it)`,
      target: '≤ 100 MiB (2 GB input)',
      measured: `${bigWorker.toFixed(0)} MiB peak`,
      pass: bigWorker <= 100,
    });
    rows.push({
      name: 'largest worker process during that case (any: also an idle warm one)',
      target: '(information)',
      measured: `${anyWorker.toFixed(0)} MiB peak`,
      pass: null,
    });

    // 8 concurrent small commands: makespan beside bare FFmpeg at the service's parallelism.
    log('8 concurrent small commands');
    const parallel = Number(/up to (\d+) at once/.exec(service.output())?.[1] ?? os.cpus().length);
    const smallArgs = (i: number) => [
      '-i',
      inBare('in240.mp4'),
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      '-c:a',
      'aac',
      `s${i}.mp4`,
    ];
    const bare8 = await pool(
      Array.from({ length: 8 }, (_, i) => () => ffmpeg(smallArgs(i), bare)),
      parallel,
    );
    sampler.reset();
    const t8 = Date.now();
    const subs8 = await Promise.all(
      Array.from({ length: 8 }, () =>
        api.submit(
          { in_video: url('in240.mp4') },
          { out_video: 's.mp4' },
          'ffmpeg -i {{in_video}} -c:v libx264 -preset veryfast -c:a aac {{out_video}}',
        ),
      ),
    );
    const polls8 = await api.waitAll(subs8.map((s) => s.id));
    const ffaas8 = (Math.max(...polls8.map((p) => Date.parse(p.finished_at!))) - t8) / 1000;
    const rss8 = sampler.peak().service;
    const pss8 = sampler.peak().pss;
    sampler.pause();
    rows.push({
      name: `8 small transcodes submitted at once (${parallel} at a time)`,
      target: '(information)',
      measured: `${ffaas8.toFixed(2)} s vs bare ${bare8.toFixed(2)} s = ${(ffaas8 / bare8).toFixed(2)}×`,
      pass: null,
    });
    rows.push({
      name: 'service RSS with 8 commands in the service',
      target: '≤ 250 MiB',
      measured: `${rss8.toFixed(0)} MiB peak`,
      pass: rss8 <= 250,
    });
    rows.push({
      name: 'service PSS with 8 commands (shared pages counted once)',
      target: '(information)',
      measured: `${pss8.toFixed(0)} MiB peak`,
      pass: null,
    });

    // Submit latency at 50 requests/s (open loop: one request every 20 ms, not waiting).
    log(`submit latency: ${SUBMITS} requests at 50/s`);
    const lat: Promise<{ id: string; ms: number }>[] = [];
    const t0 = performance.now();
    for (let i = 0; i < SUBMITS; i++) {
      const due = t0 + i * 20;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      lat.push(
        api.submit(
          { in_video: url('in240.mp4') },
          { out_image: 'f.jpg' },
          'ffmpeg -i {{in_video}} -frames:v 1 {{out_image}}',
        ),
      );
    }
    const submitted = await Promise.all(lat);
    const ms = submitted.map((s) => s.ms);
    const p50 = quantile(ms, 0.5);
    const p99 = quantile(ms, 0.99);
    rows.push({
      name: 'submit latency at 50 requests/s, p50',
      target: '≤ 5 ms',
      measured: `${p50.toFixed(1)} ms (${SUBMITS} requests)`,
      pass: p50 <= 5,
    });
    rows.push({
      name: 'submit latency at 50 requests/s, p99',
      target: '≤ 25 ms',
      measured: `${p99.toFixed(1)} ms`,
      pass: p99 <= 25,
    });
    log('draining the submitted commands');
    await api.waitAll(
      submitted.map((s) => s.id),
      500,
    );

    // Many one-frame commands submitted at once, beside bare FFmpeg at the same parallelism.
    log(`${ONE_FRAME} one-frame commands`);
    const frameArgs = (i: number) => ['-i', inBare('in240.mp4'), '-frames:v', '1', `f${i}.jpg`];
    const bareN = await pool(
      Array.from({ length: ONE_FRAME }, (_, i) => () => ffmpeg(frameArgs(i), bare)),
      parallel,
    );
    const tN = Date.now();
    const subsN = await Promise.all(
      Array.from({ length: ONE_FRAME }, () =>
        api.submit(
          { in_video: url('in240.mp4') },
          { out_image: 'f.jpg' },
          'ffmpeg -i {{in_video}} -frames:v 1 {{out_image}}',
        ),
      ),
    );
    const pollsN = await api.waitAll(
      subsN.map((s) => s.id),
      500,
    );
    const ffaasN = (Math.max(...pollsN.map((p) => Date.parse(p.finished_at!))) - tN) / 1000;
    rows.push({
      name: `${ONE_FRAME} one-frame commands at once (${parallel} at a time)`,
      target: '≤ 1.5× bare',
      measured: `${ffaasN.toFixed(1)} s vs bare ${bareN.toFixed(1)} s = ${(ffaasN / bareN).toFixed(2)}×`,
      pass: ffaasN / bareN <= 1.5,
    });
    const perCommand = (k: string) => median(pollsN.map((p) => p.timings[k] ?? 0));
    info.one_frame_median_timings = Object.fromEntries(
      ['download', 'ffmpeg', 'probe', 'upload', 'report'].map((k) => [k, perCommand(k)]),
    );
    info.phases = phases;
  } finally {
    await sampler?.stop();
    await service?.stop().catch(() => {});
    await media.stop();
    await rm(work, { recursive: true, force: true });
  }

  const loadAfter = load();
  const width = Math.max(...rows.map((r) => r.name.length));
  console.log('');
  for (const r of rows) {
    const verdict = r.pass === null ? 'INFO' : r.pass ? 'PASS' : 'FAIL';
    console.log(`${verdict.padEnd(4)}  ${r.name.padEnd(width)}  ${r.target.padEnd(22)}  ${r.measured}`);
  }
  console.log(`\nload average before ${loadBefore}, after ${loadAfter}`);
  console.log(JSON.stringify(info));

  if (RECORD) {
    const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, ${(os.totalmem() / 1024 ** 3).toFixed(0)} GiB, Node ${process.version}, ${execFileSync('ffmpeg', ['-version']).toString().split('\n')[0]!.split(' Copyright')[0]}`;
    const settings = `BENCH_REPS=${REPS} BENCH_ONE_FRAME=${ONE_FRAME} BENCH_BIG_MB=${BIG_MB} BENCH_SUBMITS=${SUBMITS}`;
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root }).toString().trim();
    const entry = [
      `\n### ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, commit ${commit}`,
      '',
      `Command: \`npm run bench\` (${settings}). Machine: ${machine}. Load average (1/5/15 min) before ${loadBefore}, after ${loadAfter}.`,
      '',
      '| verdict | case | target | measured |',
      '|---|---|---|---|',
      ...rows.map(
        (r) => `| ${r.pass === null ? 'info' : r.pass ? 'PASS' : 'FAIL'} | ${r.name} | ${r.target} | ${r.measured} |`,
      ),
      '',
      `Phases (poll \`timings\`, seconds, last run of each case): ${Object.entries(
        (info.phases ?? {}) as Record<string, Record<string, number | null>>,
      )
        .map(
          ([k, t]) =>
            `${k}: ${Object.entries(t)
              .map(([p, v]) => `${p} ${v ?? '–'}`)
              .join(', ')}`,
        )
        .join('; ')}. One-frame command, median per phase: ${JSON.stringify(info.one_frame_median_timings ?? {})}.`,
      '',
    ].join('\n');
    const file = path.join(root, 'bench', 'RESULTS.md');
    await writeFile(file, `${(await readFile(file, 'utf8')).trimEnd()}\n${entry}`);
    log('appended to bench/RESULTS.md');
  }
}

await main();
