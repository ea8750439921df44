/** Pure rules of stored files and presets (core/api/files.ts, core/api/presets.ts). */
import { describe, expect, it } from 'vitest';
import {
  defaultFileName,
  expiryIso,
  ingestExecutionName,
  newFileItem,
  retentionDays,
  storedFileKeyParts,
  storedFileRef,
  storedInputProblem,
  toFileMeta,
  type FileItem,
} from '../../../core/api/files.ts';
import { buildPresetItem, presetSubmitRequest, toPresetResponse } from '../../../core/api/presets.ts';
import { ApiError } from '../../../core/api/errors.ts';
import { LIMITS } from '../../../core/constants.ts';

const FILE = '0b8f2f6e-3c1d-4e2a-9b7c-5d4e3f2a1b0c';
const AWS = { bucket: 'my-ffaas-bucket' };
const LOCAL = { bucket: 'ffaas-local', endpointHost: '127.0.0.1:4567' };

describe('storedFileRef: which input values name a stored file', () => {
  it('a bare file id', () => {
    expect(storedFileRef(FILE, AWS)).toEqual({ fileId: FILE });
  });

  it('a storage_url of this bucket, virtual-hosted or path-style, whatever its signature', () => {
    expect(
      storedFileRef(
        `https://my-ffaas-bucket.s3.eu-west-1.amazonaws.com/files/acct-1/${FILE}/clip.mp4?X-Amz-Signature=abc`,
        AWS,
      ),
    ).toEqual({
      fileId: FILE,
      accountId: 'acct-1',
    });
    expect(
      storedFileRef(`https://s3.eu-west-1.amazonaws.com/my-ffaas-bucket/files/acct-1/${FILE}/clip%20a.mp4`, AWS),
    ).toEqual({
      fileId: FILE,
      accountId: 'acct-1',
    });
    expect(storedFileRef(`http://127.0.0.1:4567/ffaas-local/files/a/${FILE}/x.png?X-Amz-Expires=1`, LOCAL)).toEqual({
      fileId: FILE,
      accountId: 'a',
    });
  });

  it('anything else is an ordinary URL: other hosts, other buckets, outputs/, malformed ids', () => {
    for (const url of [
      `https://example.com/my-ffaas-bucket/files/acct-1/${FILE}/clip.mp4`,
      `https://example.com/files/acct-1/${FILE}/clip.mp4`,
      `https://other-bucket.s3.amazonaws.com/files/acct-1/${FILE}/clip.mp4`,
      `https://my-ffaas-bucket.s3.amazonaws.com/outputs/acct-1/${FILE}/clip.mp4`,
      `https://my-ffaas-bucket.s3.amazonaws.com/files/acct-1/not-a-uuid/clip.mp4`,
      `http://127.0.0.1:9999/ffaas-local/files/a/${FILE}/x.png`,
      'not a url',
      FILE.toUpperCase(),
    ]) {
      expect(storedFileRef(url, url.includes('127.0.0.1') ? LOCAL : AWS), url).toBeNull();
    }
  });
});

describe('storedInputProblem', () => {
  const item = (status: FileItem['status']): FileItem => ({
    ...newFileItem({
      accountId: 'a',
      fileId: FILE,
      filename: 'x.mp4',
      source: 'upload',
      now: new Date(0),
      retentionDays: 30,
    }),
    status,
  });
  it('only a STORED file of the caller is usable', () => {
    expect(storedInputProblem({ fileId: FILE }, 'a', item('STORED'))).toBeNull();
    expect(storedInputProblem({ fileId: FILE }, 'a', null)).toMatch(/not found/);
    expect(storedInputProblem({ fileId: FILE, accountId: 'b' }, 'a', item('STORED'))).toMatch(/not found/);
    expect(storedInputProblem({ fileId: FILE }, 'a', item('PROCESSING'))).toMatch(/not ready yet/);
    expect(storedInputProblem({ fileId: FILE }, 'a', item('FAILED'))).toMatch(/failed/);
  });
});

describe('file items and their API view', () => {
  it('a new file: PROCESSING, keyed under files/<account>/<id>/<name>, TTL after the retention days', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    const item = newFileItem({
      accountId: 'a',
      fileId: FILE,
      filename: 'v.mp4',
      source: 'store_file',
      originalFileUrl: 'https://e.com/v.mp4',
      now,
      retentionDays: 2,
    });
    expect(item).toMatchObject({
      status: 'PROCESSING',
      rendi_store_type: 'STORED_FILE',
      s3_key: `files/a/${FILE}/v.mp4`,
    });
    expect(expiryIso(item.expire_at)).toBe('2026-01-03T00:00:00.000Z');
    expect(storedFileKeyParts(item.s3_key)).toEqual({ accountId: 'a', fileId: FILE, filename: 'v.mp4' });
    expect(
      newFileItem({ accountId: 'a', fileId: FILE, filename: 'v.mp4', source: 'upload_url', now, retentionDays: 2 })
        .rendi_store_type,
    ).toBe('UPLOAD');
  });

  it('meta: every OutputFileMeta field plus original_file_url, created_at, expires_at; URL only when STORED', () => {
    const base = newFileItem({
      accountId: 'a',
      fileId: FILE,
      filename: 'v.mp4',
      source: 'upload',
      now: new Date(0),
      retentionDays: 1,
    });
    const processing = toFileMeta(base, 'https://signed');
    expect(processing.storage_url).toBeNull();
    expect(processing).toMatchObject({
      status: 'PROCESSING',
      file_type: null,
      width: null,
      original_file_url: null,
      file_count: 1,
      is_deleted: false,
    });
    expect(Object.keys(processing)).toEqual(
      expect.arrayContaining([
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
        'original_file_url',
        'created_at',
        'expires_at',
      ]),
    );
    const stored = toFileMeta(
      {
        ...base,
        status: 'STORED',
        probe: {
          size_mbytes: 1,
          duration: 2,
          file_type: 'video',
          file_format: 'mp4',
          codec: 'h264',
          pixel_format: 'yuv420p',
          mime_type: 'video/mp4',
          width: 3,
          height: 4,
          frame_rate: 25,
          bitrate_video_kb: 5,
          bitrate_audio_kb: null,
        },
      },
      'https://signed',
    );
    expect(stored).toMatchObject({ storage_url: 'https://signed', width: 3, codec: 'h264' });
    expect(JSON.stringify(stored)).not.toContain('s3_key');
  });

  it('retention days: a positive number, else the default', () => {
    expect(retentionDays('7')).toBe(7);
    expect(retentionDays('0.5')).toBe(0.5);
    for (const bad of [undefined, '', '0', '-1', 'x', '100000']) expect(retentionDays(bad)).toBe(LIMITS.retentionDays);
  });

  it('uploaded names become plain file names', () => {
    expect(defaultFileName('C:\\\\Users\\\\me\\\\clip (1).mp4')).toBe('clip _1_.mp4');
    expect(defaultFileName('../../etc/passwd')).toBe('passwd');
    expect(defaultFileName('.hidden')).toBe('hidden');
    expect(defaultFileName(undefined)).toBe('file');
  });

  it('one ingest execution per file and step', () => {
    expect(ingestExecutionName({ mode: 'fetch', account_id: 'a', file_id: FILE })).toBe(`fetch-${FILE}`);
    expect(ingestExecutionName({ mode: 'probe', key: `files/a/${FILE}/x.mp4` })).toBe(`probe-${FILE}`);
  });
});

describe('presets', () => {
  const preset = buildPresetItem({
    accountId: 'a',
    presetId: FILE,
    now: new Date(0),
    body: {
      name: 'p',
      input_file_keys: ['in_a', 'in_b'],
      output_file_definitions: { out_x: 'x.mp4' },
      ffmpeg_command: 'ffmpeg -i {{in_a}} -i {{in_b}} {{out_x}}',
      metadata: { team: 'x', n: 1 },
    },
  });

  it("answers with RenderIO's names and docs/API.md's", () => {
    expect(toPresetResponse(preset)).toMatchObject({
      preset_id: FILE,
      command_type: 'FFMPEG_COMMAND',
      input_file_keys: ['in_a', 'in_b'],
      input_files: ['in_a', 'in_b'],
      output_file_definitions: { out_x: 'x.mp4' },
      output_files: { out_x: 'x.mp4' },
      ffmpeg_commands: null,
    });
    const fromMap = buildPresetItem({
      accountId: 'a',
      presetId: FILE,
      now: new Date(0),
      body: {
        name: 'q',
        input_files: { in_v: 'https://x' },
        output_files: { out_v: 'v.mp4' },
        ffmpeg_commands: ['a', 'b'],
      },
    });
    expect(fromMap).toMatchObject({
      input_file_keys: ['in_v'],
      command_type: 'CHAINED_COMMAND',
      ffmpeg_commands: ['a', 'b'],
    });
  });

  it('executes with exactly its inputs; metadata merged, the execution winning', () => {
    const { request, commandType } = presetSubmitRequest(preset, {
      input_files: { in_a: 'https://e.com/a.mp4', in_b: FILE },
      metadata: { n: 2 },
      webhook_url: 'https://h.example.com',
    });
    expect(commandType).toBe('FFMPEG_COMMAND');
    expect(request).toEqual({
      input_files: { in_a: 'https://e.com/a.mp4', in_b: FILE },
      output_files: { out_x: 'x.mp4' },
      ffmpeg_command: 'ffmpeg -i {{in_a}} -i {{in_b}} {{out_x}}',
      metadata: { team: 'x', n: 2 },
      webhook_url: 'https://h.example.com',
    });
    let err: unknown;
    try {
      presetSubmitRequest(preset, { input_files: { in_a: 'https://e.com/a.mp4', in_c: 'https://e.com/c.mp4' } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(422);
    expect((err as ApiError).details!.map((d) => d.path)).toEqual([
      ['input_files', 'in_b'],
      ['input_files', 'in_c'],
    ]);
  });
});
