/** Rendobar's request adapter and response shaper, directly, with the one command checker. */
import { describe, expect, it } from 'vitest';
import { parseFfmpegCommand } from '../../../core/command/index.ts';
import type { CommandItem, StoredOutput } from '../../../core/types.ts';
import {
  adaptRendobarJob,
  assetContentRef,
  commandIdOfJob,
  RendobarAssetResponseSchema,
  toRendobarAsset,
  rendobarError,
  rendobarFileType,
  RendobarJobResponseSchema,
  RendobarJobSchema,
  rendobarStatus,
  toRendobarJob,
} from '../../../core/dialects/rendobar.ts';

const ID = '6f1c2b7e-2a0d-4c3b-9f7e-1d2c3b4a5f60';

function adapt(body: unknown) {
  const job = RendobarJobSchema.parse(body);
  const result = adaptRendobarJob(job);
  if (!result.ok) throw new Error(JSON.stringify(result.details));
  const checked = parseFfmpegCommand({
    commands: [result.command.ffmpeg_command],
    inputFiles: result.command.input_files,
    outputFiles: result.command.output_files,
    compute: result.command.compute,
    gpuAvailable: false,
    inputNames: result.command.input_names,
  });
  return { ...result.command, checked };
}

describe('adaptRendobarJob', () => {
  it('turns an inline -i URL into a declared input and the output name into a declared output', () => {
    const a = adapt({
      type: 'ffmpeg',
      params: { command: 'ffmpeg -i https://example.com/video.mp4 -vf scale=1280:720 -c:v libx264 -crf 23 output.mp4' },
    });
    expect(a.input_files).toEqual({ in_url_1: 'https://example.com/video.mp4' });
    expect(a.output_files).toEqual({ out_output_mp4: 'output.mp4' });
    expect(a.max_command_run_seconds).toBe(120);
    expect(a.compute).toBe('auto');
    expect(a.inferredOutputFormat).toBe('mp4');
    expect(a.checked.ok).toBe(true);
  });

  it('stages inputs by file name: -i names, {url} values and files a filter reads (subtitles=subs.srt)', () => {
    const a = adapt({
      type: 'ffmpeg',
      inputs: { 'video.mp4': 'https://example.com/video.mp4', 'subs.srt': { url: 'https://example.com/s.srt' } },
      params: { command: 'ffmpeg -i video.mp4 -vf subtitles=subs.srt -c:v libx264 -c:a copy output.mp4' },
    });
    expect(a.input_files).toEqual({
      in_video_mp4: 'https://example.com/video.mp4',
      in_subs_srt: 'https://example.com/s.srt',
    });
    expect(a.ffmpeg_command).toContain('subtitles={{in_subs_srt}}');
    expect(a.checked.ok, JSON.stringify(!a.checked.ok && a.checked.violations)).toBe(true);
    if (a.checked.ok)
      expect(a.checked.plan.filter_files?.map((f) => f.local_name)).toEqual([
        a.checked.plan.inputs.find((i) => i.alias === 'in_subs_srt')!.local_name,
      ]);
    // Each key is staged under its exact name, and the command reads it by that name.
    expect(a.input_names).toEqual({ in_video_mp4: 'video.mp4', in_subs_srt: 'subs.srt' });
    if (!a.checked.ok) return;
    expect(a.checked.plan.inputs.map((i) => i.local_name)).toEqual(['video.mp4', 'subs.srt']);
    const argv = a.checked.plan.commands[0]!;
    expect(argv[argv.indexOf('-i') + 1]).toBe('video.mp4');
    expect(argv).toContain('subtitles=subs.srt');
  });

  it('an inputs key that is also an output name is refused; one that is not a plain workspace name keeps the alias name', () => {
    const clash = adapt({
      type: 'ffmpeg',
      inputs: { 'video.mp4': 'https://example.com/video.mp4' },
      params: { command: 'ffmpeg -i video.mp4 -c copy video.mp4' },
    });
    expect(clash.checked.ok).toBe(false);
    if (!clash.checked.ok) expect(clash.checked.violations.map((v) => v.rule)).toContain('name-collision');
    const encoded = adapt({
      type: 'ffmpeg',
      inputs: { 'a%2e.mp4': 'https://example.com/video.mp4' },
      params: { command: 'ffmpeg -i a%2e.mp4 -c copy out.mp4' },
    });
    // Not a plain workspace name: staged under the alias's name instead, still read by placeholder.
    expect(encoded.input_names).toEqual({});
    expect(encoded.checked.ok).toBe(true);
    if (encoded.checked.ok) expect(encoded.checked.plan.inputs[0]!.local_name).toBe('in_a_2e_mp4.mp4');
  });

  it('keeps HLS segment names as written (the worker collects them) and takes timeout as a numeric string', () => {
    const a = adapt({
      type: 'ffmpeg',
      inputs: { 'video.mp4': 'https://example.com/video.mp4' },
      params: {
        command: 'ffmpeg -i video.mp4 -c:v libx264 -f hls -hls_time 6 -hls_segment_filename seg_%03d.ts master.m3u8',
        timeout: '60',
      },
    });
    expect(a.output_files).toEqual({ out_master_m3u8: 'master.m3u8' });
    expect(a.ffmpeg_command).toContain('-hls_segment_filename seg_%03d.ts');
    expect(a.max_command_run_seconds).toBe(60);
    expect(a.inferredOutputFormat).toBe('hls');
    expect(a.checked.ok && a.checked.plan.outputs[0]?.playlist).toBe(true);
  });

  it('outputFormat adds -f before the last output when the command has none', () => {
    const a = adapt({
      type: 'ffmpeg',
      params: { command: 'ffmpeg -i https://e.com/a.mp4 out.bin', outputFormat: 'mp4' },
    });
    expect(a.ffmpeg_command).toMatch(/-f mp4 '?\{\{out_out_bin\}\}'?$/);
    expect(a.inferredOutputFormat).toBe('mp4');
  });

  it('refuses an -i name that is neither a URL nor a key of inputs, with its name', () => {
    const job = RendobarJobSchema.parse({ type: 'ffmpeg', params: { command: 'ffmpeg -i clip.mp4 out.mp4' } });
    const r = adaptRendobarJob(job);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.details[0]).toMatchObject({ path: ['params', 'command'], type: 'input-not-staged' });
    expect(r.ok || r.details[0]!.message).toContain('clip.mp4');
  });

  it('leaves refusals to the one checker: a disallowed flag and a file protocol are refused there', () => {
    const flag = adapt({
      type: 'ffmpeg',
      params: { command: 'ffmpeg -protocol_whitelist file -i https://e.com/a.mp4 out.mp4' },
    });
    expect(flag.checked.ok).toBe(false);
    const job = RendobarJobSchema.parse({
      type: 'ffmpeg',
      params: { command: 'ffmpeg -i file:///etc/passwd out.mp4' },
    });
    const r = adaptRendobarJob(job);
    const checked =
      r.ok &&
      parseFfmpegCommand({
        commands: [r.command.ffmpeg_command],
        inputFiles: r.command.input_files,
        outputFiles: r.command.output_files,
        compute: 'auto',
        gpuAvailable: false,
      });
    expect(checked && checked.ok).toBe(false);
  });

  it('schema: type must be ffmpeg, timeout 1..900, compute auto|cpu|gpu, {content} at most 64 KB', () => {
    const base = { type: 'ffmpeg', params: { command: 'ffmpeg -i https://e.com/a.mp4 o.mp4' } };
    expect(RendobarJobSchema.safeParse({ ...base, type: 'probe' }).success).toBe(false);
    expect(RendobarJobSchema.safeParse({ ...base, params: { ...base.params, timeout: 901 } }).success).toBe(false);
    expect(RendobarJobSchema.safeParse({ ...base, params: { ...base.params, timeout: 0 } }).success).toBe(false);
    expect(RendobarJobSchema.safeParse({ ...base, params: { ...base.params, compute: 'tpu' } }).success).toBe(false);
    expect(
      RendobarJobSchema.safeParse({ ...base, inputs: { 's.srt': { content: 'x'.repeat(64 * 1024) } } }).success,
    ).toBe(true);
    expect(
      RendobarJobSchema.safeParse({ ...base, inputs: { 's.srt': { content: 'x'.repeat(64 * 1024 + 1) } } }).success,
    ).toBe(false);
    expect(RendobarJobSchema.safeParse({ ...base, inputs: { '../s.srt': 'https://e.com/s' } }).success).toBe(false);
  });
});

const stored = (name: string, extra: Partial<StoredOutput> = {}): StoredOutput => ({
  file_id: `f-${name}`,
  status: 'STORED',
  rendi_store_type: 'OUTPUT',
  is_deleted: false,
  filename: name,
  size_mbytes: 1,
  duration: 2.5,
  file_type: 'video',
  file_format: 'mov,mp4,m4a,3gp,3g2,mj2',
  codec: 'h264',
  pixel_format: 'yuv420p',
  mime_type: 'video/mp4',
  width: 320,
  height: 240,
  frame_rate: 25,
  bitrate_video_kb: 300,
  bitrate_audio_kb: null,
  s3_key: `outputs/acct/${ID}/${name}`,
  ...extra,
});

function item(overrides: Partial<CommandItem> = {}): CommandItem {
  return {
    account_id: 'acct',
    command_id: ID,
    status: 'SUCCESS',
    command_type: 'FFMPEG_COMMAND',
    created_at: '2026-01-01T00:00:00.000Z',
    started_at: '2026-01-01T00:00:01.000Z',
    finished_at: '2026-01-01T00:00:04.000Z',
    original_request: { input_files: {}, output_files: {} },
    max_command_run_seconds: 120,
    compute: 'cpu',
    vcpu_count: 2,
    plan: { inputs: [], outputs: [], commands: [] },
    ...overrides,
  } as CommandItem;
}

const downloads = { urlOf: (n: string) => `https://api.example/v/${ID}/tok/${n}`, expiresAt: 1_800_000_000 };

describe('toRendobarJob', () => {
  it('a single file: output.file is it, files a list of one, sizes in bytes, meta in ms, expiresAt in ms', () => {
    const job = toRendobarJob(
      item({ output_files_json: JSON.stringify({ out_output_mp4: stored('output.mp4') }) }),
      downloads,
    );
    expect(job).toMatchObject({
      id: `job_${ID}`,
      status: 'complete',
      createdAt: Date.parse('2026-01-01T00:00:00.000Z'),
    });
    expect(job.output!.file).toEqual({
      url: `https://api.example/v/${ID}/tok/output.mp4`,
      path: 'output.mp4',
      type: 'video',
      size: 1024 * 1024,
      meta: { format: 'mov,mp4,m4a,3gp,3g2,mj2', width: 320, height: 240, durationMs: 2500 },
    });
    expect(job.output!.files).toEqual([job.output!.file]);
    expect(job.output!.expiresAt).toBe(1_800_000_000_000);
    expect(job.output!.data).toBeNull();
    expect(RendobarJobResponseSchema.safeParse({ data: job }).success).toBe(true);
  });

  it('a playlist: output.file is the manifest, files carry every segment by its own URL', () => {
    const job = toRendobarJob(
      item({
        output_files_json: JSON.stringify({
          out_m: stored('master.m3u8', { companion_names: ['seg_000.ts', 'seg_001.ts'], file_count: 3 }),
        }),
      }),
      downloads,
    );
    expect(job.output!.file).toMatchObject({ path: 'master.m3u8', type: 'playlist' });
    expect(job.output!.files.map((f) => [f.path, f.type])).toEqual([
      ['master.m3u8', 'playlist'],
      ['seg_000.ts', 'video'],
      ['seg_001.ts', 'video'],
    ]);
    expect(job.output!.files[2]!.url).toBe(`https://api.example/v/${ID}/tok/seg_001.ts`);
    expect(job.output!.fileCount).toBe(3);
    // The item keeps one total: without a listing the files' own sizes are unknown.
    expect(job.output!.files.map((f) => f.size)).toEqual([null, null, null]);
  });

  it("a playlist with the bucket's listing: every file carries its own byte size", () => {
    const job = toRendobarJob(
      item({
        output_files_json: JSON.stringify({
          out_m: stored('master.m3u8', { companion_names: ['seg_000.ts', 'seg_001.ts'], file_count: 3 }),
        }),
      }),
      {
        ...downloads,
        sizes: new Map([
          ['master.m3u8', 412],
          ['seg_000.ts', 1_048_576],
          ['seg_001.ts', 1_041_203],
        ]),
      },
    );
    expect(job.output!.files.map((f) => [f.path, f.size])).toEqual([
      ['master.m3u8', 412],
      ['seg_000.ts', 1_048_576],
      ['seg_001.ts', 1_041_203],
    ]);
    expect(job.output!.file!.size).toBe(412);
  });

  it("types: the probe's media type wins over the extension (an audio-only .mp4 is audio); captions and data by name", () => {
    const job = toRendobarJob(
      item({
        output_files_json: JSON.stringify({
          out_a: stored('voice.mp4', { file_type: 'audio' }),
          out_b: stored('cues.vtt', { file_type: 'other' }),
          out_c: stored('chapters.ffmeta', { file_type: 'other' }),
          out_d: stored('thumb.bin', { file_type: 'image' }),
          out_e: stored('blob.xyz', { file_type: 'other' }),
        }),
      }),
      downloads,
    );
    expect(job.output!.files.map((f) => [f.path, f.type])).toEqual([
      ['voice.mp4', 'audio'],
      ['cues.vtt', 'captions'],
      ['chapters.ffmeta', 'data'],
      ['thumb.bin', 'image'],
      ['blob.xyz', 'other'],
    ]);
  });

  it('a set (several outputs): output.file is null; deleted outputs are not listed', () => {
    const job = toRendobarJob(
      item({
        output_files_json: JSON.stringify({
          out_a: stored('a.png', { file_type: 'image' }),
          out_b: stored('b.png'),
          out_c: stored('c.mp4', { is_deleted: true }),
        }),
      }),
      downloads,
    );
    expect(job.output!.file).toBeNull();
    expect(job.output!.files.map((f) => f.path)).toEqual(['a.png', 'b.png']);
    expect(job.output!.files[0]!.type).toBe('image');
  });

  it('a failed job: code in Rendobar words, message, stderr as detail, retryable only for service faults', () => {
    const ffmpeg = toRendobarJob(
      item({
        status: 'FAILED',
        error_status: 'FFMPEG_FAILED',
        error_message: 'FFmpeg exited with code 1:\n[libx264] invalid profile: bogus\n',
      }),
    );
    expect(ffmpeg.status).toBe('failed');
    expect(ffmpeg.output).toBeUndefined();
    expect(ffmpeg.error).toEqual({
      code: 'PROVIDER_ERROR',
      message: 'FFmpeg exited with code 1',
      detail: '[libx264] invalid profile: bogus\n',
      retryable: false,
    });
    expect(rendobarError({ error_status: 'TIMEOUT', error_message: 'FFmpeg ran past 60 s' })).toEqual({
      code: 'PROVIDER_TIMEOUT',
      message: 'FFmpeg ran past 60 s',
      detail: null,
      retryable: false,
    });
    for (const s of ['WORKER_LOST', 'INTERNAL_ERROR', 'OUTPUT_UPLOAD_FAILED'] as const)
      expect(rendobarError({ error_status: s }).retryable).toBe(true);
    for (const s of ['INPUT_DOWNLOAD_FAILED', 'OUTPUT_MISSING', 'OUTPUT_TOO_LARGE'] as const)
      expect(rendobarError({ error_status: s }).retryable).toBe(false);
  });

  it('status words and ids', () => {
    expect(rendobarStatus({ status: 'QUEUED' })).toBe('waiting');
    expect(rendobarStatus({ status: 'PROCESSING' })).toBe('running');
    expect(rendobarStatus({ status: 'SUCCESS' })).toBe('complete');
    expect(rendobarStatus({ status: 'FAILED', error_status: 'FFMPEG_FAILED' })).toBe('failed');
    expect(rendobarStatus({ status: 'FAILED', error_status: 'CANCELLED' as never })).toBe('cancelled');
    expect(commandIdOfJob(`job_${ID}`)).toBe(ID);
    expect(commandIdOfJob(ID)).toBe(ID);
  });

  it('file types by name (an open enum)', () => {
    expect(
      ['a.mp4', 'a.m4a', 'a.png', 'a.vtt', 'a.m3u8', 'a.mpd', 'a.json', 'a.xyz', 'noext'].map(rendobarFileType),
    ).toEqual(['video', 'audio', 'image', 'captions', 'playlist', 'playlist', 'data', 'other', 'other']);
  });
});

describe('assets (uploads)', () => {
  const FILE = '5b1c2d3e-0000-4000-8000-000000000001';
  const base = 'https://api.example/prod';

  it('an asset content URL of this service names the stored file; other hosts and shapes do not', () => {
    expect(assetContentRef(`${base}/assets/asset_${FILE}/content`, base)).toEqual({ fileId: FILE });
    expect(assetContentRef(`${base}/assets/${FILE}/content`, base)).toEqual({ fileId: FILE });
    expect(assetContentRef(`https://other.example/prod/assets/asset_${FILE}/content`, base)).toBeNull();
    expect(assetContentRef(`${base}/assets/asset_${FILE}`, base)).toBeNull();
    expect(assetContentRef(`${base}/assets/asset_${FILE}/content?x=1`, base)).toBeNull();
    expect(assetContentRef(`${base}/assets/asset_not-a-uuid/content`, base)).toBeNull();
    expect(assetContentRef(`${base}/assets/asset_${FILE}/../../x/content`, base)).toBeNull();
  });

  it('a stored file as an asset: processing → ready | failed, its content URL, sizes and times in ms', () => {
    const file = {
      file_id: FILE,
      filename: 'logo.png',
      status: 'PROCESSING' as const,
      created_at: '2026-01-01T00:00:00.000Z',
      expire_at: 1_800_000_000,
      size_bytes: 2048,
    };
    const processing = toRendobarAsset(file, base);
    expect(processing).toEqual({
      id: `asset_${FILE}`,
      url: `${base}/assets/asset_${FILE}/content`,
      filename: 'logo.png',
      type: 'image',
      size: 2048,
      status: 'processing',
      createdAt: Date.parse('2026-01-01T00:00:00.000Z'),
      expiresAt: 1_800_000_000_000,
    });
    expect(toRendobarAsset({ ...file, status: 'STORED' }, base).status).toBe('ready');
    const failed = toRendobarAsset(
      { ...file, status: 'FAILED', error_status: 'NOT_MEDIA', error_message: 'not media' },
      base,
    );
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'NOT_MEDIA', message: 'not media' } });
    expect(RendobarAssetResponseSchema.safeParse({ data: failed }).success).toBe(true);
  });
});
