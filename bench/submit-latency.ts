/**
 * Where a submit's time goes, and where the CPU goes while FFmpeg runs inside the service
 * (issue 15). Starts local mode as bench/sdk-trace-service.ts (local mode with every AWS SDK call
 * counted and timed), then:
 *
 * 1. `idle`: sequential submits of a one-frame command to an idle service: latency, and the SDK
 *    calls the service made per submit (the commands' own execution included, listed apart).
 * 2. `rate`: the same method as bench/run.ts: SUBMITS one-frame commands POSTed at 50/s, open
 *    loop, while the earlier ones run (2 at a time): p50 / p99.
 * 3. `ffmpeg`: the 720p transcode (H.264 veryfast + AAC), bare and through the service,
 *    alternately (A B A B): FFmpeg's own time inside (`timings.ffmpeg`) vs bare, and the CPU
 *    seconds (utime + stime from /proc/<pid>/stat) of every process of the service tree and of
 *    this client while it runs.
 *
 *   npx tsx bench/submit-latency.ts                    all three
 *   LAT_CASES=rate,idle LAT_SUBMITS=150 LAT_REPS=3 npx tsx bench/submit-latency.ts
 *   LAT_VARIANTS='before:FFAAS_FFMPEG_NICE=0,FFAAS_SINGLE_API_PROCESS=0;after:' npx tsx bench/submit-latency.ts
 *
 * With LAT_VARIANTS one service per variant (its extra environment) runs beside the others,
 * idle while another is measured, and every case alternates between them (A B A B), LAT_ROUNDS
 * times. LAT_POLL_MS is how often the ffmpeg case polls (bench/run.ts: 100); LAT_SAMPLE=0 turns
 * the CPU sampler off (it reads /proc, itself a cost beside FFmpeg).
 *
 * Prints JSON lines (one per case) with the load average before and after.
 */
import { spawn, execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startFixtureServer } from '../test/helpers/index.ts';
import { createKey } from '../test/e2e/local-process.ts';
import { benchServiceEnv, load, logger, quantile, sleep } from './common.ts';

const root = path.resolve(import.meta.dirname, '..');
const CASES = (process.env.LAT_CASES ?? 'idle,rate,ffmpeg').split(',');
const SUBMITS = Number(process.env.LAT_SUBMITS ?? 150);
const REPS = Number(process.env.LAT_REPS ?? 3);
const IDLE = Number(process.env.LAT_IDLE ?? 30);
const ROUNDS = Number(process.env.LAT_ROUNDS ?? 1);
const POLL_MS = Number(process.env.LAT_POLL_MS ?? 100);
const SAMPLE = process.env.LAT_SAMPLE !== '0';
/** name:VAR=value,VAR=value;name2:... (default one variant, the code as it is). */
const VARIANTS = (process.env.LAT_VARIANTS ?? 'current:')
  .split(';')
  .filter(Boolean)
  .map((v) => {
    const [name, vars = ''] = v.split(/:(.*)/s);
    return {
      name: name!,
      env: Object.fromEntries(
        vars
          .split(',')
          .filter(Boolean)
          .map((kv) => kv.split(/=(.*)/s).slice(0, 2) as [string, string]),
      ),
    };
  });
const log = logger('lat');
const r1 = (x: number) => Math.round(x * 10) / 10;
const CLK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());

function ffmpeg(args: string[], cwd: string): Promise<number> {
  const start = performance.now();
  const child = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args], {
    cwd,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d) => (err = (err + d).slice(-2000)));
  return new Promise((resolve, reject) => {
    child.on('close', (code) =>
      code === 0 ? resolve((performance.now() - start) / 1000) : reject(new Error(`ffmpeg ${code}: ${err}`)),
    );
  });
}

/** CPU seconds (utime + stime) per process of the tree under `rootPid`, by a readable role. */
async function treeCpu(rootPid: number): Promise<Map<number, { role: string; cpu: number }>> {
  const out = new Map<number, { role: string; cpu: number }>();
  const walk = async (pid: number, parentRole: string | null) => {
    try {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const f = stat
        .slice(close + 2)
        .split(' ')
        .map(Number);
      // After comm: state(0) ppid(1) ... utime(11) stime(12).
      const role =
        parentRole === null
          ? 'service'
          : ['ffmpeg', 'ffprobe', 'bwrap', 'prlimit', 'nice'].includes(comm)
            ? comm
            : parentRole === 'service' && comm.startsWith('node')
              ? 'worker'
              : `other:${comm}`;
      out.set(pid, { role, cpu: (f[11]! + f[12]!) / CLK });
      const children = new Set<number>();
      for (const tid of await readdir(`/proc/${pid}/task`)) {
        const list = await readFile(`/proc/${pid}/task/${tid}/children`, 'utf8').catch(() => '');
        for (const c of list.split(' ').filter(Boolean)) children.add(Number(c));
      }
      for (const c of children) await walk(c, role);
    } catch {
      // gone meanwhile
    }
  };
  await walk(rootPid, null);
  return out;
}

/** Samples the tree every 200 ms; `stop()` gives the CPU seconds each role used meanwhile. */
function cpuSampler(rootPid: number) {
  const first = new Map<number, { role: string; cpu: number }>();
  const last = new Map<number, { role: string; cpu: number }>();
  let stopped = false;
  const self0 = process.cpuUsage();
  const loop = (async () => {
    let sample = 0;
    while (!stopped) {
      for (const [pid, v] of await treeCpu(rootPid)) {
        // Running at the first sample: counted from there; born later: from 0.
        if (!first.has(pid)) first.set(pid, { ...v, cpu: sample === 0 ? v.cpu : 0 });
        last.set(pid, v);
      }
      sample++;
      await sleep(200);
    }
  })();
  return async () => {
    stopped = true;
    await loop;
    const byRole: Record<string, number> = {};
    for (const [pid, v] of last) {
      // A process seen at the first sample counts from there; one born later from 0.
      const base = first.get(pid)!.cpu;
      byRole[v.role] = r1(((byRole[v.role] ?? 0) + v.cpu - base) * 100) / 100;
    }
    const self = process.cpuUsage(self0);
    byRole.client = Math.round((self.user + self.system) / 1e4) / 100;
    return byRole;
  };
}

type Trace = Record<string, { calls: number; ms: number }>;

async function startService(
  name: string,
  extraEnv: Record<string, string>,
  url: (n: string) => string,
): Promise<{
  name: string;
  pid: number;
  sdkTrace: () => Promise<Trace>;
  submit: (i: Record<string, string>, o: Record<string, string>, c: string) => Promise<{ id: string; ms: number }>;
  oneFrame: () => Promise<{ id: string; ms: number }>;
  waitAll: (ids: string[], every?: number) => Promise<Record<string, any>[]>;
  stop: () => Promise<void>;
}> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'ffaas-lat-'));
  const traceFile = path.join(dataDir, 'sdk-trace.json');
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/sdk-trace-service.ts'], {
    cwd: root,
    env: {
      ...process.env,
      ...benchServiceEnv(dataDir),
      FFAAS_ACCOUNT_MAX_QUEUED: process.env.FFAAS_ACCOUNT_MAX_QUEUED ?? '100000',
      FFAAS_SDK_TRACE_FILE: traceFile,
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output = (output + d).slice(-20_000)));
  if (process.env.LAT_DEBUG) child.stderr!.pipe(process.stderr);
  const base = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', () => {
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`service exited ${code}:\n${output}`)));
  });
  log(name, 'at', base, JSON.stringify(extraEnv));
  const sdkTrace = async (): Promise<Trace> => {
    await rm(traceFile, { force: true });
    child.kill('SIGUSR2');
    for (let i = 0; i < 250; i++) {
      try {
        return JSON.parse(await readFile(traceFile, 'utf8'));
      } catch {
        await sleep(20);
      }
    }
    throw new Error('no SDK trace');
  };
  const key = await createKey({ FFAAS_DATA_DIR: dataDir }, 'lat');
  const headers = { 'X-API-KEY': key, 'content-type': 'application/json' };
  const submit = async (inputsMap: Record<string, string>, outputs: Record<string, string>, command: string) => {
    const t = performance.now();
    const res = await fetch(`${base}/api/v1/run-ffmpeg-command`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ input_files: inputsMap, output_files: outputs, ffmpeg_command: command }),
    });
    const body = (await res.json()) as { command_id?: string };
    const ms = performance.now() - t;
    if (res.status !== 200 || !body.command_id) throw new Error(`submit ${res.status}: ${JSON.stringify(body)}`);
    return { id: body.command_id, ms };
  };
  const poll = async (id: string) =>
    (await (await fetch(`${base}/api/v1/commands/${id}`, { headers: { 'X-API-KEY': key } })).json()) as Record<
      string,
      any
    >;
  const waitAll = async (ids: string[], every = 200) => {
    const done = new Map<string, Record<string, any>>();
    while (done.size < ids.length) {
      for (const id of ids) {
        if (done.has(id)) continue;
        const p = await poll(id);
        if (p.status === 'FAILED') throw new Error(`${id} FAILED ${p.error_status} ${p.error_message}`);
        if (p.status === 'SUCCESS') done.set(id, p);
        else break;
      }
      if (done.size < ids.length) await sleep(every);
    }
    return ids.map((id) => done.get(id)!);
  };
  const oneFrame = () =>
    submit({ in_video: url('in240.mp4') }, { out_image: 'f.jpg' }, 'ffmpeg -i {{in_video}} -frames:v 1 {{out_image}}');
  // Warm-up: handler imports, the first worker.
  await waitAll([(await oneFrame()).id]);
  await sdkTrace();
  return {
    name,
    pid: child.pid!,
    sdkTrace,
    submit,
    oneFrame,
    waitAll,
    stop: async () => {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

async function main(): Promise<void> {
  const inputs = await mkdtemp(path.join(tmpdir(), 'ffaas-lat-in-'));
  const av = (size: string, seconds: number, name: string, extra: string[] = []) =>
    ffmpeg(
      [
        ...['-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=30:duration=${seconds}`],
        ...['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${seconds}`],
        ...['-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', ...extra, '-c:a', 'aac', '-shortest'],
        name,
      ],
      inputs,
    );
  log('inputs');
  await av('320x240', 3, 'in240.mp4');
  if (CASES.includes('ffmpeg')) await av('1280x720', 20, 'in720.mp4', ['-b:v', '4M']);
  const media = await startFixtureServer({ dir: inputs });
  const url = (n: string) => media.url(`/${n}`);
  const services: Awaited<ReturnType<typeof startService>>[] = [];
  try {
    for (const v of VARIANTS) services.push(await startService(v.name, v.env, url));
    for (let round = 0; round < ROUNDS; round++) {
      if (CASES.includes('idle')) {
        for (const svc of services) {
          const loadBefore = load();
          const ms: number[] = [];
          const ids: string[] = [];
          for (let i = 0; i < IDLE; i++) {
            const s = await svc.oneFrame();
            ms.push(s.ms);
            ids.push(s.id);
            await sleep(100);
          }
          const duringSubmits = await svc.sdkTrace();
          await svc.waitAll(ids);
          await sleep(500);
          const rest = await svc.sdkTrace();
          const per = (t: Trace) =>
            Object.fromEntries(
              Object.entries(t)
                .sort((a, b) => b[1].ms - a[1].ms)
                .map(([k, v]) => [k, { calls: r1(v.calls / IDLE), ms: r1(v.ms / IDLE) }]),
            );
          console.log(
            JSON.stringify({
              case: 'idle sequential submits',
              variant: svc.name,
              round,
              n: IDLE,
              p50: r1(quantile(ms, 0.5)),
              p90: r1(quantile(ms, 0.9)),
              max: r1(Math.max(...ms)),
              sdkPerCommandDuringSubmits: per(duringSubmits),
              sdkPerCommandAfter: per(rest),
              load: [loadBefore, load()],
            }),
          );
        }
      }

      if (CASES.includes('rate')) {
        for (const svc of services) {
          const loadBefore = load();
          const lat: Promise<{ id: string; ms: number }>[] = [];
          const t0 = performance.now();
          for (let i = 0; i < SUBMITS; i++) {
            const wait = t0 + i * 20 - performance.now();
            if (wait > 0) await sleep(wait);
            lat.push(svc.oneFrame());
          }
          const submitted = await Promise.all(lat);
          const trace = await svc.sdkTrace();
          const ms = submitted.map((s) => s.ms);
          const loadAfter = load();
          await svc.waitAll(
            submitted.map((s) => s.id),
            500,
          );
          console.log(
            JSON.stringify({
              case: 'submit latency at 50/s',
              variant: svc.name,
              round,
              n: SUBMITS,
              p50: r1(quantile(ms, 0.5)),
              p90: r1(quantile(ms, 0.9)),
              p99: r1(quantile(ms, 0.99)),
              max: r1(Math.max(...ms)),
              sdkDuringSubmits: Object.fromEntries(
                Object.entries(trace).map(([k, v]) => [k, { calls: v.calls, avgMs: r1(v.ms / v.calls) }]),
              ),
              load: [loadBefore, loadAfter],
            }),
          );
        }
      }

      if (CASES.includes('ffmpeg')) {
        const loadBefore = load();
        const bare: number[] = [];
        const inside: Record<string, number[]> = {};
        const cpu: Record<string, Record<string, number>[]> = {};
        for (let i = 0; i < REPS; i++) {
          bare.push(
            await ffmpeg(
              ['-i', path.join(inputs, 'in720.mp4'), '-c:v', 'libx264', '-preset', 'veryfast', '-c:a', 'aac', 'o.mp4'],
              inputs,
            ),
          );
          for (const svc of services) {
            const stop = SAMPLE ? cpuSampler(svc.pid) : null;
            const s = await svc.submit(
              { in_video: url('in720.mp4') },
              { out_video: 'o720.mp4' },
              'ffmpeg -i {{in_video}} -c:v libx264 -preset veryfast -c:a aac {{out_video}}',
            );
            const [p] = await svc.waitAll([s.id], POLL_MS);
            if (stop) (cpu[svc.name] ??= []).push(await stop());
            (inside[svc.name] ??= []).push(p!.timings.ffmpeg);
            log('720p', svc.name, { bare: bare.at(-1), inside: p!.timings.ffmpeg, cpu: cpu[svc.name]?.at(-1) });
          }
        }
        console.log(
          JSON.stringify({
            case: '720p transcode, FFmpeg inside vs bare',
            round,
            pollMs: POLL_MS,
            bare: bare.map((x) => Math.round(x * 1000) / 1000),
            inside,
            overPct: Object.fromEntries(
              Object.entries(inside).map(([k, v]) => [k, r1((quantile(v, 0.5) / quantile(bare, 0.5) - 1) * 100)]),
            ),
            cpuSecondsPerRun: cpu,
            load: [loadBefore, load()],
          }),
        );
      }
    }
  } finally {
    for (const svc of services) await svc.stop().catch(() => {});
    await media.stop();
    await rm(inputs, { recursive: true, force: true });
  }
}

await main();
