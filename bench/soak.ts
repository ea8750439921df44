/**
 * Soak: many small commands through a real local mode (spawned as `npm start` would), with
 * faults sprinkled in, ending with every command terminal and accounted for.
 *
 *   npm run soak                 (200 commands)
 *   npm run soak -- 60           (60 commands)
 *
 * Faults: every 20th command's input cuts its connection mid-download on the first request
 * (the server supports ranges: the worker resumes); every 25th submit is followed by a SIGKILL
 * of a running worker; every 60th input trickles (1 KiB / 0.5 s, past the 8 s download
 * timeout: expected FAILED / INPUT_DOWNLOAD_FAILED); once, storage is cut at an output upload
 * (expected FAILED / OUTPUT_UPLOAD_FAILED, or SUCCESS if a retry got through); halfway through,
 * local mode is stopped (SIGTERM, 1 s grace) and started again on the same data dir. Every
 * SUCCESS must have its output downloadable. Prints a JSON summary and exits 1 if any command
 * is left non-terminal, ends otherwise than expected, or has a missing output;
 * bench/RESULTS.md records runs.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { faultyFile } from '../test/helpers/faulty-file.ts';
import { makeFixtures, startFixtureServer } from '../test/helpers/index.ts';
import { startStorageCut } from '../test/helpers/storage-cut.ts';
import { createKey, startLocalProcess, type LocalProcess } from '../test/e2e/local-process.ts';

const count = Number(process.argv[2] ?? 200);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function killOneWorker(parent: number): boolean {
  let out = '';
  try {
    out = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(parent)], { encoding: 'utf8' });
  } catch {
    return false;
  }
  const worker = out.split('\n').find((l) => /worker|fargate-task/.test(l) && !/ffmpeg/.test(l));
  if (!worker) return false;
  try {
    process.kill(Number(worker.trim().split(/\s+/)[0]), 'SIGKILL');
    return true;
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const dataDir = await mkdtemp(path.join(tmpdir(), 'ffaas-soak-'));
  const storage = await startStorageCut();
  const env = {
    FFAAS_DATA_DIR: dataDir,
    FFAAS_ALLOW_PRIVATE_URLS: '1',
    FFAAS_SHUTDOWN_GRACE_SECONDS: '1',
    FFAAS_DOWNLOAD_TIMEOUT_SECONDS: '8',
    FFAAS_TEST_WORKER_S3_ENDPOINT: storage.url,
  };
  const fixtures = await makeFixtures({ names: ['video.mp4'] });
  const media = await startFixtureServer({ dir: fixtures.dir });
  const video = await readFile(fixtures.path('video.mp4'));
  const s3Port = async () =>
    Number(new URL(JSON.parse(await readFile(path.join(dataDir, 'endpoints.json'), 'utf8')).endpoints.s3).port);

  let local: LocalProcess = await startLocalProcess(env);
  storage.setTarget(await s3Port());
  const key = await createKey(env, 'soak');
  const headers = { 'X-API-KEY': key, 'content-type': 'application/json' };
  const ids: string[] = [];
  /** What each command may end as: the faults decide. */
  const expected = new Map<string, string[]>();
  const faults = {
    cut_inputs: 0,
    cut_inputs_resumed: 0,
    trickle_inputs: 0,
    storage_cuts: 0,
    /** Commands whose upload failed while storage was down (the cut one and any in flight). */
    storage_cut_failed: 0,
    workers_killed: 0,
    restarts: 0,
    refused_submits_retried: 0,
  };
  const cuts: ReturnType<typeof faultyFile>[] = [];
  /** When storage was down: any upload then may fail, not only the one that was cut. */
  const storageDown = { from: Number.POSITIVE_INFINITY, to: Number.NEGATIVE_INFINITY };

  for (let i = 0; i < count; i++) {
    let url = media.url('/video.mp4');
    let may = ['SUCCESS'];
    if (i % 20 === 19) {
      const f = faultyFile(video, { cutAfter: Math.floor(video.length / 2), ranges: true, etag: `"${i}"` });
      cuts.push(f);
      media.route(`/cut-${i}.mp4`, f.handler);
      url = media.url(`/cut-${i}.mp4`);
      faults.cut_inputs++;
    } else if (i % 60 === 29) {
      media.route(`/trickle-${i}.mp4`, faultyFile(video, { trickleMs: 500 }).handler);
      url = media.url(`/trickle-${i}.mp4`);
      may = ['FAILED/INPUT_DOWNLOAD_FAILED'];
      faults.trickle_inputs++;
    } else if (i === Math.floor(count / 3)) {
      void storage.armOutputUploadCut().then(() => {
        faults.storage_cuts++;
        storageDown.from = Date.now();
        // Storage comes back a second later.
        setTimeout(() => {
          storage.restore();
          storageDown.to = Date.now();
        }, 1000);
      });
    }
    const body = JSON.stringify({
      input_files: { in_video: url },
      output_files: { out_video: 'out.mp4' },
      ffmpeg_command: 'ffmpeg -i {{in_video}} -t 0.5 -c:v libx264 -preset ultrafast -an {{out_video}}',
    });
    for (;;) {
      const res = await fetch(`${local.url}/api/v1/run-ffmpeg-command`, { method: 'POST', headers, body }).catch(
        () => null,
      );
      if (res?.status === 200) {
        const id = ((await res.json()) as { command_id: string }).command_id;
        ids.push(id);
        expected.set(id, may);
        break;
      }
      faults.refused_submits_retried++;
      await sleep(500);
    }
    if (i % 25 === 24) {
      await sleep(300);
      if (killOneWorker(local.child.pid!)) faults.workers_killed++;
    }
    if (i === Math.floor(count / 2)) {
      await local.stop(); // SIGTERM: graceful, 1 s grace, the rest resumed on the next start
      local = await startLocalProcess(env);
      storage.setTarget(await s3Port());
      faults.restarts++;
    }
  }

  // Wait for every command to end.
  const final = new Map<string, Record<string, any>>();
  const deadline = Date.now() + 30 * 60_000;
  while (final.size < ids.length && Date.now() < deadline) {
    for (const id of ids) {
      if (final.has(id)) continue;
      const poll = (await (await fetch(`${local.url}/api/v1/commands/${id}`, { headers })).json()) as Record<
        string,
        any
      >;
      if (poll.status === 'SUCCESS' || poll.status === 'FAILED') final.set(id, poll);
    }
    if (final.size < ids.length) await sleep(1000);
  }
  // Every command ended as its faults allow, and every SUCCESS has its output downloadable.
  const unexpected: string[] = [];
  let missingOutputs = 0;
  for (const [id, p] of final) {
    const how = p.status === 'SUCCESS' ? 'SUCCESS' : `FAILED/${p.error_status}`;
    const finished = Date.parse(p.finished_at ?? '');
    // Uploads of other commands in flight while storage was down (SDK retries + clean-up ≤ 15 s).
    const hitByStorageCut =
      how === 'FAILED/OUTPUT_UPLOAD_FAILED' && finished >= storageDown.from && finished <= storageDown.to + 15_000;
    if (hitByStorageCut) faults.storage_cut_failed++;
    if (!expected.get(id)!.includes(how) && !hitByStorageCut)
      unexpected.push(`${id}: ${how}: ${p.error_message ?? ''}`);
    if (p.status === 'SUCCESS') {
      const url = p.output_files?.out_video?.storage_url;
      const res = url ? await fetch(url).catch(() => null) : null;
      const bytes = res?.ok ? (await res.arrayBuffer()).byteLength : 0;
      if (bytes < 100) missingOutputs++;
    }
  }
  faults.cut_inputs_resumed = cuts.filter((f) => f.requests.some((r) => r.range)).length;
  const loadAverage = os.loadavg().map((l) => Math.round(l * 100) / 100);
  await local.stop();
  await media.stop();
  await storage.stop();
  await fixtures.cleanup();
  await rm(dataDir, { recursive: true, force: true });

  const byStatus: Record<string, number> = {};
  const byError: Record<string, number> = {};
  const byAttempts: Record<string, number> = {};
  for (const p of final.values()) {
    byStatus[p.status] = (byStatus[p.status] ?? 0) + 1;
    if (p.error_status) byError[p.error_status] = (byError[p.error_status] ?? 0) + 1;
    byAttempts[String(p.attempts)] = (byAttempts[String(p.attempts)] ?? 0) + 1;
  }
  const nonTerminal = ids.length - final.size;
  console.log(
    JSON.stringify(
      {
        machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version },
        submitted: ids.length,
        terminal: final.size,
        non_terminal: nonTerminal,
        by_status: byStatus,
        by_error_status: byError,
        by_attempts: byAttempts,
        faults,
        unexpected,
        missing_outputs: missingOutputs,
        load_average: loadAverage,
        wall_s: Math.round(performance.now() - t0) / 1000,
      },
      null,
      2,
    ),
  );
  if (nonTerminal > 0 || ids.length !== count || unexpected.length > 0 || missingOutputs > 0) process.exit(1);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
