/**
 * The real synthesized state machine with the REAL worker (fargate-task/src/main.ts as a child
 * process, as local mode runs it), real ffmpeg/ffprobe, dynalite and s3rver: a command goes
 * QUEUED → PROCESSING → SUCCESS with its output stored in the bucket, and a failing command
 * ends FAILED with the worker's error status.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeadObjectCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { EVENT_DETAIL_TYPE } from '../../core/constants.ts';
import { toPollResponse } from '../../core/api/poll.ts';
import { PollResponseSchema } from '../../core/api/responses.ts';
import type { CommandItem } from '../../core/types.ts';
import { defaultWorkerCommand } from '../../local/worker-supervisor.ts';
import { LOCAL_NAMES } from '../../local/services.ts';
import { makeFixtures, startFixtureServer, type Fixtures, type FixtureServer } from '../helpers/index.ts';
import { startHarness, submitCommand, type Harness } from './harness.ts';

let h: Harness;
let fx: Fixtures;
let srv: FixtureServer;
const workerLines: string[] = [];

beforeAll(async () => {
  fx = await makeFixtures({ names: ['video.mp4'] });
  srv = await startFixtureServer({ dir: fx.dir });
  h = await startHarness({ worker: defaultWorkerCommand(), workerLog: (line) => workerLines.push(line) });
});
afterAll(async () => {
  await h?.stop();
  await srv?.stop();
  await fx?.cleanup();
});

/** What the poll would answer for a stored item matches the response schema (and so the OpenAPI document). */
function expectPollConforms(item: Record<string, unknown>): void {
  const sent = JSON.parse(
    JSON.stringify(toPollResponse(item as unknown as CommandItem, { out_video: 'https://signed.example/out.mp4' })),
  );
  expect(PollResponseSchema.parse(sent)).toEqual(sent);
}

async function submit(command: string, outputs: Record<string, string>, max = 60): Promise<string> {
  return submitCommand(h, {
    input_files: { in_video: srv.url('/video.mp4') },
    output_files: outputs,
    ffmpeg_command: command,
    max_command_run_seconds: max,
  });
}

describe('real worker', () => {
  it('transcodes, uploads to s3rver and records SUCCESS', async () => {
    const cid = await submit('ffmpeg -i {{in_video}} -t 1 -c:v libx264 -preset ultrafast -an {{out_video}}', {
      out_video: 'out.mp4',
    });
    const exec = await h.runner.waitForExecution(cid);
    const item = await h.getCommand(cid);
    expect(item?.status, `worker output:\n${workerLines.join('\n')}\nitem: ${JSON.stringify(item)}`).toBe('SUCCESS');
    expect(exec.status).toBe('SUCCEEDED');
    expect(item!.ffmpeg_command_run_seconds).toBeGreaterThan(0);
    expect(item!.timings).toMatchObject({
      download: expect.any(Number),
      ffmpeg: expect.any(Number),
      probe: expect.any(Number),
      upload: expect.any(Number),
    });
    expect(Date.parse(item!.timings.report_started_at)).toBeLessThanOrEqual(Date.parse(item!.finished_at));
    const outputs = JSON.parse(item!.output_files_json);
    expect(outputs.out_video).toMatchObject({
      filename: 'out.mp4',
      status: 'STORED',
      file_type: 'video',
      width: 160,
      height: 120,
    });
    const head = await h.services.s3.send(
      new HeadObjectCommand({ Bucket: LOCAL_NAMES.bucket, Key: outputs.out_video.s3_key }),
    );
    expect(head.ContentLength).toBeGreaterThan(100);
    const body = await (
      await h.services.s3.send(new GetObjectCommand({ Bucket: LOCAL_NAMES.bucket, Key: outputs.out_video.s3_key }))
    ).Body!.transformToByteArray();
    expect(Buffer.from(body.subarray(4, 8)).toString('latin1')).toBe('ftyp');
    const events = h.events.filter((e) => (e.detail as { command_id: string }).command_id === cid);
    expect(events.map((e) => e['detail-type'])).toEqual([EVENT_DETAIL_TYPE.STARTED, EVENT_DETAIL_TYPE.SUCCEEDED]);
    expectPollConforms(item!);
  });

  it('an FFmpeg error ends FAILED with FFMPEG_FAILED and its stderr', async () => {
    const cid = await submit('ffmpeg -i {{in_video}} -c:v no_such_codec_xyz {{out_video}}', { out_video: 'out.mp4' });
    await h.runner.waitForExecution(cid);
    const item = await h.getCommand(cid);
    expect(item).toMatchObject({ status: 'FAILED', error_status: 'FFMPEG_FAILED' });
    expect(item!.error_message).toMatch(/no_such_codec_xyz|Unknown encoder/);
    expectPollConforms(item!);
  });
});
