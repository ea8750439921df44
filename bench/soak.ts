/**
 * Soak: many small commands through a real local mode (spawned as `npm start` would), with
 * faults sprinkled in, ending with every command terminal and accounted for.
 *
 *   npm run soak                 (200 commands)
 *   npm run soak -- 60           (60 commands)
 *
 * Faults: every 20th command's input cuts its connection mid-download on the first request;
 * every 25th submit is followed by a SIGKILL of a running worker; halfway through, local mode
 * is stopped (SIGTERM, 1 s grace) and started again on the same data dir. Prints a JSON summary
 * and exits 1 if any command is left non-terminal or unaccounted; bench/RESULTS.md records runs.
 */
import { execFileSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { makeFixtures, startFixtureServer } from '../test/helpers/index.ts';
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
  const env = { FFAAS_DATA_DIR: dataDir, FFAAS_ALLOW_PRIVATE_URLS: '1', FFAAS_SHUTDOWN_GRACE_SECONDS: '1' };
  const fixtures = await makeFixtures({ names: ['video.mp4'] });
  const media = await startFixtureServer({ dir: fixtures.dir });
  const file = fixtures.path('video.mp4');
  const size = (await stat(file)).size;
  const cutOnce = new Set<string>();
  const cutRoute = (p: string) =>
    media.route(p, (_req, res) => {
      res.writeHead(200, { 'content-length': size, 'content-type': 'video/mp4' });
      if (!cutOnce.has(p)) {
        cutOnce.add(p);
        const half = createReadStream(file, { end: Math.floor(size / 2) });
        half.pipe(res, { end: false });
        half.on('end', () => res.socket?.destroy());
        return;
      }
      createReadStream(file).pipe(res);
    });

  let local: LocalProcess = await startLocalProcess(env);
  const key = await createKey(env, 'soak');
  const headers = { 'X-API-KEY': key, 'content-type': 'application/json' };
  const ids: string[] = [];
  const faults = { cut_inputs: 0, workers_killed: 0, restarts: 0, refused_submits_retried: 0 };

  for (let i = 0; i < count; i++) {
    let url = media.url('/video.mp4');
    if (i % 20 === 19) {
      url = media.url(`/cut-${i}.mp4`);
      cutRoute(`/cut-${i}.mp4`);
      faults.cut_inputs++;
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
        ids.push(((await res.json()) as { command_id: string }).command_id);
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
  await local.stop();
  await media.stop();
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
        wall_s: Math.round(performance.now() - t0) / 1000,
      },
      null,
      2,
    ),
  );
  if (nonTerminal > 0 || ids.length !== count) process.exit(1);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
