/**
 * Local mode latency: start-up (spawn → listening, first start and restart) and the time from
 * submit to SUCCESS for a small job, sequentially and in a burst.
 *
 *   npm run bench:local              (defaults: 10 sequential jobs, a burst of 8)
 *   npm run bench:local -- 20 16     (20 sequential, burst of 16)
 *
 * Prints a JSON summary; bench/RESULTS.md records runs with the command that made them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { makeFixtures, startFixtureServer } from '../test/helpers/index.ts';
import { createKey, startLocalProcess } from '../test/e2e/local-process.ts';

const sequential = Number(process.argv[2] ?? 10);
const burst = Number(process.argv[3] ?? 8);

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  const r = (x: number) => Math.round(x) / 1000;
  return { n: s.length, min_s: r(s[0]!), median_s: r(q(0.5)), p90_s: r(q(0.9)), max_s: r(s.at(-1)!) };
};

async function main(): Promise<void> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'ffaas-bench-'));
  const env = { FFAAS_DATA_DIR: dataDir, FFAAS_ALLOW_PRIVATE_URLS: '1' };
  const fixtures = await makeFixtures({ names: ['video.mp4'] });
  const media = await startFixtureServer({ dir: fixtures.dir });

  let t = performance.now();
  let local = await startLocalProcess(env);
  const firstStartMs = performance.now() - t;
  await local.stop();
  t = performance.now();
  local = await startLocalProcess(env);
  const restartMs = performance.now() - t;

  const key = await createKey(env, 'bench');
  const body = JSON.stringify({
    input_files: { in_video: media.url('/video.mp4') },
    output_files: { out_video: 'out.mp4' },
    ffmpeg_command: 'ffmpeg -i {{in_video}} -c:v libx264 -preset veryfast -c:a aac {{out_video}}',
  });
  const headers = { 'X-API-KEY': key, 'content-type': 'application/json' };

  async function job(): Promise<{ ms: number; total: number; ffmpeg: number }> {
    const start = performance.now();
    const res = await fetch(`${local.url}/api/v1/run-ffmpeg-command`, { method: 'POST', headers, body });
    const { command_id } = (await res.json()) as { command_id: string };
    for (;;) {
      const poll = (await (await fetch(`${local.url}/api/v1/commands/${command_id}`, { headers })).json()) as Record<
        string,
        any
      >;
      if (poll.status === 'SUCCESS') {
        return {
          ms: performance.now() - start,
          total: poll.total_processing_seconds,
          ffmpeg: poll.ffmpeg_command_run_seconds,
        };
      }
      if (poll.status === 'FAILED') throw new Error(`${poll.error_status}: ${poll.error_message}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  const seq: Awaited<ReturnType<typeof job>>[] = [];
  for (let i = 0; i < sequential; i++) seq.push(await job());

  t = performance.now();
  const burstResults = await Promise.all(Array.from({ length: burst }, () => job()));
  const burstMakespanMs = performance.now() - t;

  await local.stop();
  await media.stop();
  await fixtures.cleanup();
  await rm(dataDir, { recursive: true, force: true });

  console.log(
    JSON.stringify(
      {
        machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version },
        job: '1 s 160x120 H.264+AAC mp4 from a loopback URL → libx264 veryfast + aac mp4',
        startup: { first_start_s: Math.round(firstStartMs) / 1000, restart_s: Math.round(restartMs) / 1000 },
        sequential_submit_to_success: stats(seq.map((j) => j.ms)),
        sequential_ffmpeg_run_s: stats(seq.map((j) => j.ffmpeg * 1000)),
        burst: {
          jobs: burst,
          makespan_s: Math.round(burstMakespanMs) / 1000,
          submit_to_success: stats(burstResults.map((j) => j.ms)),
        },
      },
      null,
      2,
    ),
  );
}

await main();
