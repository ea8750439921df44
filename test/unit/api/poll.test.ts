import { describe, expect, it } from 'vitest';
import { storedObjectKeys, toPollResponse } from '../../../core/api/poll.ts';
import { PollResponseSchema, type PollResponse } from '../../../core/api/responses.ts';
import type { CommandItem, StoredOutput } from '../../../core/types.ts';

/**
 * The response is exactly what the schema (and so the OpenAPI document) says: parsing strips
 * unknown keys, so any key the builder adds beyond the schema, or any wrong type, fails here.
 */
function conforms(r: PollResponse): PollResponse {
  const sent = JSON.parse(JSON.stringify(r));
  expect(PollResponseSchema.parse(sent)).toEqual(sent);
  return r;
}

const POLL_KEYS = [
  'command_id',
  'status',
  'command_type',
  'created_at',
  'started_at',
  'finished_at',
  'total_processing_seconds',
  'ffmpeg_command_run_seconds',
  'metadata',
  'error_status',
  'error_message',
  'progress',
  'timings',
  'output_files',
  'original_request',
  'vcpu_count',
  'attempts',
  'expires_at',
  'usage',
].sort();

const META_KEYS = [
  'file_id',
  'storage_url',
  'status',
  'rendi_store_type',
  'is_deleted',
  'filename',
  'size_mbytes',
  'duration',
  'file_type',
  'file_format',
  'codec',
  'pixel_format',
  'mime_type',
  'width',
  'height',
  'frame_rate',
  'bitrate_video_kb',
  'bitrate_audio_kb',
  'file_count',
].sort();

function queued(): CommandItem {
  return {
    account_id: 'acc',
    command_id: '6f1c2b7e-2a0d-4c3b-9f7e-1d2c3b4a5f60',
    status: 'QUEUED',
    command_type: 'FFMPEG_COMMAND',
    created_at: '2026-01-01T00:00:00.000Z',
    original_request: {
      input_files: { in_a: 'https://e.com/a.mp4' },
      output_files: { out_a: 'a.webm' },
      ffmpeg_command: '-i {{in_a}} {{out_a}}',
    },
    max_command_run_seconds: 900,
    compute: 'cpu',
    vcpu_count: 2,
    plan: { inputs: [], outputs: [], commands: [] },
    pending: 'QUEUED',
    expire_at: 1,
  };
}

const stored: StoredOutput = {
  file_id: 'f1',
  status: 'STORED',
  rendi_store_type: 'OUTPUT',
  is_deleted: false,
  filename: 'a.webm',
  size_mbytes: 1.5,
  duration: 3,
  file_type: 'video',
  file_format: 'webm',
  codec: 'vp9',
  pixel_format: 'yuv420p',
  mime_type: 'video/webm',
  width: 320,
  height: 240,
  frame_rate: 25,
  bitrate_video_kb: 400,
  bitrate_audio_kb: null,
  file_count: 1,
  s3_key: 'outputs/acc/x/a.webm',
};

describe('toPollResponse', () => {
  it('a queued command: every key present, nulls where absent, nothing internal leaks', () => {
    const r = conforms(toPollResponse(queued(), {}, new Date('2026-01-01T00:00:05Z')));
    expect(Object.keys(r).sort()).toEqual(POLL_KEYS);
    expect(r).toEqual({
      command_id: '6f1c2b7e-2a0d-4c3b-9f7e-1d2c3b4a5f60',
      status: 'QUEUED',
      command_type: 'FFMPEG_COMMAND',
      created_at: '2026-01-01T00:00:00.000Z',
      started_at: null,
      finished_at: null,
      total_processing_seconds: null,
      ffmpeg_command_run_seconds: null,
      metadata: null,
      error_status: null,
      error_message: null,
      progress: null,
      timings: { queued: null, download: null, ffmpeg: null, probe: null, upload: null, report: null },
      output_files: {},
      original_request: {
        input_files: { in_a: 'https://e.com/a.mp4' },
        output_files: { out_a: 'a.webm' },
        ffmpeg_command: '-i {{in_a}} {{out_a}}',
      },
      vcpu_count: 2,
      attempts: 0,
      // The item's TTL (expire_at, epoch seconds) as a date.
      expires_at: '1970-01-01T00:00:01.000Z',
      // Never started: nothing used (core/control/usage.ts).
      usage: { vcpu_seconds: 0, gpu_seconds: 0, storage_bytes: 0, estimated_usd: 0 },
    });
    const text = JSON.stringify(r);
    for (const secret of ['account_id', 'plan', 'pending', 'expire_at', 's3_key']) expect(text).not.toContain(secret);
  });

  it('a finished command: timings, outputs with signed URLs, metadata', () => {
    const item: CommandItem = {
      ...queued(),
      status: 'SUCCESS',
      started_at: '2026-01-01T00:00:01.000Z',
      finished_at: '2026-01-01T00:00:03.420Z',
      ffmpeg_command_run_seconds: 2.18,
      metadata: { project: 'demo' },
      output_files_json: JSON.stringify({ out_a: stored }),
    };
    delete item.pending;
    const r = conforms(toPollResponse(item, { out_a: 'https://signed/a' }, new Date('2026-01-01T00:01:00Z')));
    expect(r.total_processing_seconds).toBe(3.42);
    expect(r.ffmpeg_command_run_seconds).toBe(2.18);
    expect(r.metadata).toEqual({ project: 'demo' });
    expect(Object.keys(r.output_files.out_a!).sort()).toEqual(META_KEYS);
    expect(r.output_files.out_a).toMatchObject({
      storage_url: 'https://signed/a',
      status: 'STORED',
      bitrate_audio_kb: null,
      width: 320,
    });
    expect(JSON.stringify(r)).not.toContain('s3_key');
  });

  it('timings: queued and report from the timestamps, the rest from the worker; null where not reached', () => {
    const item: CommandItem = {
      ...queued(),
      status: 'SUCCESS',
      started_at: '2026-01-01T00:00:00.250Z',
      finished_at: '2026-01-01T00:00:03.420Z',
      timings: {
        download: 0.12,
        ffmpeg: 2.5,
        probe: 0.08,
        upload: 0.05,
        report_started_at: '2026-01-01T00:00:03.400Z',
      },
    };
    expect(conforms(toPollResponse(item, {})).timings).toEqual({
      queued: 0.25,
      download: 0.12,
      ffmpeg: 2.5,
      probe: 0.08,
      upload: 0.05,
      report: 0.02,
    });

    // Started, failed while downloading: the worker reached download only.
    const failed: CommandItem = {
      ...queued(),
      status: 'FAILED',
      started_at: '2026-01-01T00:00:01.000Z',
      finished_at: '2026-01-01T00:00:02.000Z',
      timings: {
        download: 0.4,
        ffmpeg: null,
        probe: null,
        upload: null,
        report_started_at: '2026-01-01T00:00:01.900Z',
      },
    };
    expect(conforms(toPollResponse(failed, {})).timings).toEqual({
      queued: 1,
      download: 0.4,
      ffmpeg: null,
      probe: null,
      upload: null,
      report: 0.1,
    });

    // Running: queued known, the worker has not written its clock yet; a report before the
    // worker's clock (skew between machines) reads 0, never negative.
    expect(
      toPollResponse({ ...queued(), status: 'PROCESSING', started_at: '2026-01-01T00:00:02.000Z' }, {}).timings,
    ).toEqual({
      queued: 2,
      download: null,
      ffmpeg: null,
      probe: null,
      upload: null,
      report: null,
    });
    expect(
      toPollResponse({ ...item, timings: { ...item.timings!, report_started_at: '2026-01-01T00:00:04.000Z' } }, {})
        .timings.report,
    ).toBe(0);
  });

  it('deleted outputs and outputs without a URL show storage_url null; missing meta fields are null', () => {
    const partial = {
      file_id: 'f2',
      status: 'STORED',
      rendi_store_type: 'OUTPUT',
      is_deleted: true,
      filename: 'b.mp3',
      file_type: 'audio',
      s3_key: 'k',
    };
    const item: CommandItem = {
      ...queued(),
      status: 'SUCCESS',
      output_files_json: JSON.stringify({ out_a: stored, out_b: partial }),
    };
    const r = conforms(toPollResponse(item, { out_b: 'https://signed/b' }));
    expect(r.output_files.out_a!.storage_url).toBeNull();
    expect(r.output_files.out_b!.storage_url).toBeNull();
    expect(r.output_files.out_b!.is_deleted).toBe(true);
    expect(Object.keys(r.output_files.out_b!).sort()).toEqual(META_KEYS);
    expect(r.output_files.out_b!.codec).toBeNull();
  });

  it('failed command: error fields; progress filled with nulls where unknown', () => {
    const item: CommandItem = {
      ...queued(),
      status: 'FAILED',
      finished_at: '2026-01-01T00:00:10.000Z',
      error_status: 'FFMPEG_FAILED',
      error_message: 'ffmpeg exited with 1: ...',
      progress: { percent: null, out_time_seconds: 1.2, speed: null, fps: null },
      command_type: 'CHAINED_COMMAND',
      original_request: { input_files: {}, output_files: { out_a: 'a.mp4' }, ffmpeg_commands: ['a', 'b'] },
    };
    const r = conforms(toPollResponse(item, {}));
    expect(r.error_status).toBe('FFMPEG_FAILED');
    expect(r.progress).toEqual({ percent: null, out_time_seconds: 1.2, speed: null, fps: null });
    expect(r.original_request).toEqual({
      input_files: {},
      output_files: { out_a: 'a.mp4' },
      ffmpeg_commands: ['a', 'b'],
    });
    expect(r.total_processing_seconds).toBe(10);
  });

  it('a playlist shows file_count and the total size, never its companion list; old items read file_count 1', () => {
    const segments = Array.from({ length: 300 }, (_, i) => `seg_${String(i).padStart(3, '0')}.ts`);
    const hls: StoredOutput = {
      ...stored,
      filename: 'index.m3u8',
      file_format: 'hls',
      mime_type: 'application/vnd.apple.mpegurl',
      size_mbytes: 12.5,
      file_count: 301,
      s3_key: 'outputs/acc/x/index.m3u8',
      companion_names: segments,
    };
    const old = { ...stored } as Partial<StoredOutput>;
    delete old.file_count;
    const item: CommandItem = {
      ...queued(),
      status: 'SUCCESS',
      output_files_json: JSON.stringify({ out_playlist_hls: hls, out_a: old }),
    };
    const r = conforms(toPollResponse(item, { out_playlist_hls: 'https://signed/index.m3u8' }));
    expect(Object.keys(r.output_files.out_playlist_hls!).sort()).toEqual(META_KEYS);
    expect(r.output_files.out_playlist_hls).toMatchObject({
      file_count: 301,
      size_mbytes: 12.5,
      storage_url: 'https://signed/index.m3u8',
    });
    expect(r.output_files.out_a!.file_count).toBe(1);
    const text = JSON.stringify(r);
    expect(text).not.toContain('seg_');
    expect(text).not.toContain('companion');
  });

  it('storedObjectKeys: the file, then each companion under the same prefix (what DELETE removes)', () => {
    expect(storedObjectKeys(stored)).toEqual(['outputs/acc/x/a.webm']);
    expect(
      storedObjectKeys({ s3_key: 'outputs/acc/x/index.m3u8', companion_names: ['seg_000.ts', 'seg_001.ts'] }),
    ).toEqual(['outputs/acc/x/index.m3u8', 'outputs/acc/x/seg_000.ts', 'outputs/acc/x/seg_001.ts']);
  });

  it('corrupt output_files_json reads as no outputs', () => {
    expect(toPollResponse({ ...queued(), output_files_json: '{nope' }, {}).output_files).toEqual({});
  });
});
