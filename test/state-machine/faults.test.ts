/**
 * Fault injection against the real synthesized state machine, the REAL worker (as local mode
 * runs it), real ffmpeg, dynalite and s3rver: a worker killed mid-run is started again and the
 * command succeeds; an input whose connection is cut mid-download is fetched again and the
 * command succeeds. Each case asserts the final state, the outputs and that no command of the
 * file is left non-terminal.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { defaultWorkerCommand } from '../../local/worker-supervisor.ts';
import { LOCAL_NAMES } from '../../local/services.ts';
import { makeFixtures, startFixtureServer, type Fixtures, type FixtureServer } from '../helpers/index.ts';
import { ACCOUNT, startHarness, submitCommand, type Harness } from './harness.ts';

let h: Harness;
let fx: Fixtures;
let srv: FixtureServer;
const submitted: string[] = [];
const workerLines: string[] = [];

beforeAll(async () => {
  fx = await makeFixtures({ names: ['video.mp4', 'long.mp4'] });
  srv = await startFixtureServer({ dir: fx.dir });
  h = await startHarness({ worker: defaultWorkerCommand(), workerLog: (line) => workerLines.push(line) });
});
afterAll(async () => {
  // No command of this file is left QUEUED or PROCESSING.
  for (const cid of submitted) expect(['SUCCESS', 'FAILED'], cid).toContain((await h.getCommand(cid))?.status);
  await h?.stop();
  await srv?.stop();
  await fx?.cleanup();
});

async function submit(inputUrl: string, command: string, outputs: Record<string, string>): Promise<string> {
  const commandId = await submitCommand(h, {
    input_files: { in_video: inputUrl },
    output_files: outputs,
    ffmpeg_command: command,
    max_command_run_seconds: 120,
  });
  submitted.push(commandId);
  return commandId;
}

/** Worker processes (fargate-task/src/main.ts) that are children of this process. */
function workerPids(): number[] {
  const out = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((l) => l.includes('fargate-task/src/main.ts'))
    .map((l) => Number(l.trim().split(/\s+/)[0]));
}

/** Size of an output as the attempt that stored it wrote it (outputs/<account>/<command>/<attempt>/). */
async function outputStored(cid: string, name: string, attempt: number): Promise<number> {
  const head = await h.services.s3.send(
    new HeadObjectCommand({ Bucket: LOCAL_NAMES.bucket, Key: `outputs/${ACCOUNT}/${cid}/${attempt}/${name}` }),
  );
  return head.ContentLength ?? 0;
}

describe('faults (real worker)', () => {
  it('the worker killed mid-run (SIGKILL) is started again; the command succeeds with attempts 2', async () => {
    const cid = await submit(
      srv.url('/long.mp4'),
      'ffmpeg -i {{in_video}} -vf scale=480:360 -c:v libx264 -preset fast -an {{out_video}}',
      { out_video: 'out.mp4' },
    );
    // FFmpeg is running once progress is written.
    await expect.poll(async () => (await h.getCommand(cid))?.progress, { timeout: 60_000, interval: 100 }).toBeTruthy();
    const pids = workerPids();
    expect(pids.length).toBeGreaterThanOrEqual(1);
    for (const pid of pids) process.kill(pid, 'SIGKILL');

    const exec = await h.runner.waitForExecution(cid);
    const item = await h.getCommand(cid);
    expect(item?.status, `worker output:\n${workerLines.slice(-30).join('\n')}`).toBe('SUCCESS');
    expect(exec.status).toBe('SUCCEEDED');
    expect(item!.attempts).toBe(2);
    expect(JSON.parse(item!.output_files_json).out_video).toMatchObject({
      filename: 'out.mp4',
      status: 'STORED',
      width: 480,
    });
    expect(await outputStored(cid, 'out.mp4', 2)).toBeGreaterThan(1000);
  }, 180_000);

  it('the input connection cut mid-download is fetched again; the command succeeds', async () => {
    const file = fx.path('video.mp4');
    const size = (await stat(file)).size;
    let requests = 0;
    srv.route('/cut.mp4', (_req, res) => {
      requests++;
      res.writeHead(200, { 'content-length': size, 'content-type': 'video/mp4' });
      if (requests === 1) {
        // Half the bytes, then the connection drops.
        const half = createReadStream(file, { end: Math.floor(size / 2) });
        half.pipe(res, { end: false });
        half.on('end', () => res.socket?.destroy());
        return;
      }
      createReadStream(file).pipe(res);
    });
    const cid = await submit(
      srv.url('/cut.mp4'),
      'ffmpeg -i {{in_video}} -t 1 -c:v libx264 -preset ultrafast -an {{out_video}}',
      { out_video: 'out.mp4' },
    );
    await h.runner.waitForExecution(cid);
    const item = await h.getCommand(cid);
    expect(item?.status, `worker output:\n${workerLines.slice(-30).join('\n')}`).toBe('SUCCESS');
    expect(requests).toBe(2);
    expect(item!.attempts).toBe(1);
    expect(await outputStored(cid, 'out.mp4', 1)).toBeGreaterThan(1000);
  }, 120_000);
});
