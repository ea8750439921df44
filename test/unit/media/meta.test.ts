/** toOutputFileMeta on real ffprobe JSON of lavfi fixtures, plus hand-made edge cases. */
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFrameRate, toOutputFileMeta, type ProbeJson } from '../../../core/media/index.ts';
import type { OutputFileMeta } from '../../../core/types.ts';
import { makeFixtures, type FixtureName, type Fixtures } from '../../helpers/index.ts';

let fx: Fixtures;
beforeAll(async () => {
  fx = await makeFixtures({ names: ['video.mp4', 'video.webm', 'audio.mp3', 'audio.wav', 'image.png'] });
});
afterAll(() => fx?.cleanup());

function metaOf(name: FixtureName) {
  const file = fx.path(name);
  const probe = JSON.parse(
    execFileSync('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', file]).toString(),
  ) as ProbeJson;
  return toOutputFileMeta(probe, { fileId: 'f-1', fileName: name, sizeBytes: statSync(file).size });
}

const ALL_FIELDS: (keyof OutputFileMeta)[] = [
  'file_id',
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
];

describe('toOutputFileMeta (real ffprobe output)', () => {
  it('video mp4', () => {
    const m = metaOf('video.mp4');
    expect(Object.keys(m).sort()).toEqual([...ALL_FIELDS].sort());
    expect(m).toMatchObject({
      file_id: 'f-1',
      status: 'STORED',
      rendi_store_type: 'OUTPUT',
      is_deleted: false,
      filename: 'video.mp4',
      file_type: 'video',
      file_format: 'mp4',
      codec: 'h264',
      pixel_format: 'yuv420p',
      mime_type: 'video/mp4',
      width: 160,
      height: 120,
      frame_rate: 25,
      file_count: 1,
    });
    expect(m.duration).toBeCloseTo(1, 1);
    expect(m.bitrate_video_kb).toBeGreaterThan(0);
    expect(m.bitrate_audio_kb).toBeGreaterThan(0);
    expect(m.size_mbytes).toBeCloseTo(statSync(fx.path('video.mp4')).size / 1048576, 6);
  });

  it('video webm (no per-stream bitrates in Matroska)', () => {
    expect(metaOf('video.webm')).toMatchObject({
      file_type: 'video',
      file_format: 'webm',
      codec: 'vp9',
      mime_type: 'video/webm',
      width: 160,
      height: 120,
      frame_rate: 25,
      bitrate_video_kb: null,
      bitrate_audio_kb: null,
    });
  });

  it('audio mp3', () => {
    const m = metaOf('audio.mp3');
    expect(m).toMatchObject({
      file_type: 'audio',
      file_format: 'mp3',
      codec: 'mp3',
      mime_type: 'audio/mpeg',
      width: null,
      height: null,
      pixel_format: null,
      frame_rate: null,
      bitrate_video_kb: null,
    });
    expect(m.bitrate_audio_kb).toBeGreaterThan(30);
    expect(m.duration).toBeGreaterThan(0.9);
  });

  it('audio wav', () => {
    expect(metaOf('audio.wav')).toMatchObject({
      file_type: 'audio',
      file_format: 'wav',
      codec: 'pcm_s16le',
      mime_type: 'audio/wav',
      bitrate_audio_kb: 706,
    });
  });

  it('png image', () => {
    expect(metaOf('image.png')).toMatchObject({
      file_type: 'image',
      file_format: 'png',
      codec: 'png',
      mime_type: 'image/png',
      width: 160,
      height: 120,
      duration: null,
      frame_rate: null,
      bitrate_video_kb: null,
      bitrate_audio_kb: null,
    });
  });
});

describe('toOutputFileMeta (edge cases)', () => {
  const facts = { fileId: 'x', fileName: 'a.bin', sizeBytes: 2_097_152 };

  it('unprobeable files are "other" with nulls, still complete', () => {
    const m = toOutputFileMeta(null, { ...facts, fileName: 'subs.srt' });
    expect(m).toMatchObject({
      file_type: 'other',
      file_format: 'srt',
      mime_type: 'application/x-subrip',
      duration: null,
      codec: null,
      size_mbytes: 2,
    });
    expect(toOutputFileMeta(null, facts).mime_type).toBe('application/octet-stream');
  });

  it('a JPEG through image2 is an image; cover art does not make an mp3 a video', () => {
    expect(
      toOutputFileMeta(
        {
          format: { format_name: 'image2', duration: '0.040000' },
          streams: [{ codec_type: 'video', codec_name: 'mjpeg', width: 10, height: 10, r_frame_rate: '25/1' }],
        },
        { ...facts, fileName: 'a.jpg' },
      ),
    ).toMatchObject({ file_type: 'image', file_format: 'jpg', mime_type: 'image/jpeg', duration: null });
    expect(
      toOutputFileMeta(
        {
          format: { format_name: 'mp3', duration: '3.0', bit_rate: '128000' },
          streams: [
            { codec_type: 'audio', codec_name: 'mp3' },
            { codec_type: 'video', codec_name: 'mjpeg', disposition: { attached_pic: 1 } },
          ],
        },
        { ...facts, fileName: 'song.mp3' },
      ),
    ).toMatchObject({ file_type: 'audio', codec: 'mp3', bitrate_audio_kb: 128, width: null });
  });

  it('MJPEG video in AVI stays a video; audio-only mp4 gets audio/mp4; names from format when the extension is unknown', () => {
    expect(
      toOutputFileMeta(
        {
          format: { format_name: 'avi', duration: '10' },
          streams: [{ codec_type: 'video', codec_name: 'mjpeg', r_frame_rate: '30000/1001', nb_frames: '300' }],
        },
        { ...facts, fileName: 'v.avi' },
      ),
    ).toMatchObject({ file_type: 'video', frame_rate: 29.97, mime_type: 'video/x-msvideo' });
    expect(
      toOutputFileMeta(
        {
          format: { format_name: 'mov,mp4,m4a,3gp,3g2,mj2' },
          streams: [{ codec_type: 'audio', codec_name: 'aac', bit_rate: '96000' }],
        },
        { ...facts, fileName: 'x.mp4' },
      ),
    ).toMatchObject({
      file_type: 'audio',
      mime_type: 'audio/mp4',
      bitrate_audio_kb: 96,
    });
    expect(
      toOutputFileMeta(
        { format: { format_name: 'matroska,webm' }, streams: [{ codec_type: 'video', codec_name: 'h264' }] },
        { ...facts, fileName: 'x.out' },
      ),
    ).toMatchObject({
      file_format: 'matroska',
      mime_type: 'video/x-matroska',
    });
  });

  it('derives the video bitrate from the container when streams lack one', () => {
    const m = toOutputFileMeta(
      {
        format: { format_name: 'flv', bit_rate: '1000000' },
        streams: [
          { codec_type: 'video', codec_name: 'h264' },
          { codec_type: 'audio', codec_name: 'aac', bit_rate: '128000' },
        ],
      },
      { ...facts, fileName: 'a.flv' },
    );
    expect(m).toMatchObject({ bitrate_video_kb: 872, bitrate_audio_kb: 128 });
  });

  it('parses frame rates', () => {
    expect(parseFrameRate('30000/1001')).toBe(29.97);
    expect(parseFrameRate('25/1')).toBe(25);
    expect(parseFrameRate('0/0')).toBeNull();
    expect(parseFrameRate('N/A')).toBeNull();
    expect(parseFrameRate(undefined)).toBeNull();
    expect(parseFrameRate('24')).toBe(24);
  });
});
