/** Which files are stored with a playlist output: the parser marks playlists, the worker picks companions. */
import { describe, expect, it } from 'vitest';
import { isPlaylistOutput, parseFfmpegCommand } from '../../../core/command/index.ts';
import type { CommandPlan } from '../../../core/types.ts';
import {
  assignCompanions,
  assignSequences,
  companionContentType,
  companionLimitProblem,
  MAX_COMPANION_FILES,
  MAX_COMPANION_NAME_BYTES,
} from '../../../fargate-task/src/playlist.ts';

describe('isPlaylistOutput / the plan', () => {
  it('a .m3u8 or .mpd name, or an out_playlist_ alias, is a playlist; other outputs are not', () => {
    expect(isPlaylistOutput('out_video', 'index.m3u8')).toBe(true);
    expect(isPlaylistOutput('out_video', 'Manifest.MPD')).toBe(true);
    expect(isPlaylistOutput('out_playlist_hls', 'stream')).toBe(true);
    expect(isPlaylistOutput('out_video', 'video.mp4')).toBe(false);
    expect(isPlaylistOutput('out_playlists', 'a.ts')).toBe(false);
  });

  it("the HLS command of Rendi's docs plans its manifest as a playlist, the thumbnail as a plain output", () => {
    const r = parseFfmpegCommand({
      commands: [
        'ffmpeg -i {{in_video}} -c:v libx264 -g 25 -f hls -hls_time 2 -hls_playlist_type vod -hls_segment_filename seg_%03d.ts {{out_playlist_hls}} -frames:v 1 {{out_thumb}}',
      ],
      inputFiles: { in_video: 'https://cdn.example.com/clip.mp4' },
      outputFiles: { out_playlist_hls: 'index.m3u8', out_thumb: 'thumb.png' },
      gpuAvailable: false,
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.plan.outputs).toEqual([
      { alias: 'out_playlist_hls', local_name: 'index.m3u8', playlist: true },
      { alias: 'out_thumb', local_name: 'thumb.png' },
    ]);
  });
});

const plan = (over: Partial<CommandPlan> = {}): CommandPlan => ({
  inputs: [{ alias: 'in_video', url: 'https://e.com/clip.mp4', local_name: 'in_video.mp4' }],
  outputs: [{ alias: 'out_hls', local_name: 'index.m3u8', playlist: true }],
  commands: [['-i', 'in_video.mp4', '-f', 'hls', 'index.m3u8']],
  ...over,
});

describe('assignCompanions', () => {
  it('segments and sub-playlists belong to the playlist, in natural order; inputs and the manifest do not', () => {
    const files = ['in_video.mp4', 'index.m3u8', 'seg_10.ts', 'seg_2.ts', 'seg_1.ts', 'stream_0.m3u8'];
    expect(assignCompanions(plan(), files)).toEqual({
      out_hls: ['seg_1.ts', 'seg_2.ts', 'seg_10.ts', 'stream_0.m3u8'],
    });
  });

  it('without a playlist output nothing else is stored', () => {
    const p = plan({ outputs: [{ alias: 'out_video', local_name: 'v.mp4' }] });
    expect(assignCompanions(p, ['in_video.mp4', 'v.mp4', 'ffmpeg2pass-0.log'])).toEqual({});
  });

  it('other declared outputs and intermediates read with -i by a later run are not companions', () => {
    const p = plan({
      outputs: [
        { alias: 'out_thumb', local_name: 'thumb.png' },
        { alias: 'out_hls', local_name: 'index.m3u8', playlist: true },
        { alias: 'out_dash', local_name: 'manifest.mpd', playlist: true },
      ],
      commands: [
        ['-protocol_whitelist', 'file', '-i', 'in_video.mp4', '-t', '2', 'mid.mp4'],
        [
          '-protocol_whitelist',
          'file',
          '-i',
          'mid.mp4',
          '-f',
          'hls',
          'index.m3u8',
          '-f',
          'dash',
          'manifest.mpd',
          '-frames:v',
          '1',
          'thumb.png',
        ],
      ],
    });
    const files = [
      'in_video.mp4',
      'mid.mp4',
      'thumb.png',
      'index.m3u8',
      'manifest.mpd',
      'index0.ts',
      'init-stream0.m4s',
      'chunk-stream0-00001.m4s',
    ];
    // Several playlists: the whole set goes to the first one, so each file is stored and counted once.
    expect(assignCompanions(p, files)).toEqual({
      out_hls: ['chunk-stream0-00001.m4s', 'index0.ts', 'init-stream0.m4s'],
    });
  });

  it('names that are not plain workspace names are skipped', () => {
    expect(assignCompanions(plan(), ['.hidden', 'a b.ts', 'ok.ts', 'x'.repeat(300)])).toEqual({ out_hls: ['ok.ts'] });
  });
});

describe('companion limits and content types', () => {
  it('refuses more files than MAX_COMPANION_FILES or names longer in total than MAX_COMPANION_NAME_BYTES', () => {
    expect(companionLimitProblem(['a.ts', 'b.ts'])).toBeNull();
    expect(companionLimitProblem(Array.from({ length: MAX_COMPANION_FILES + 1 }, (_, i) => `s${i}.ts`))).toMatch(
      /2001 segment\/companion files, over the limit of 2000/,
    );
    const long = Array.from({ length: 400 }, (_, i) => `${'n'.repeat(190)}${i}.ts`);
    expect(companionLimitProblem(long)).toMatch(new RegExp(`over the limit of ${MAX_COMPANION_NAME_BYTES}`));
  });

  it('segments get the types players expect', () => {
    expect(companionContentType('seg_001.ts')).toBe('video/mp2t');
    expect(companionContentType('chunk-stream0-00001.m4s')).toBe('video/iso.segment');
    expect(companionContentType('stream_1.m3u8')).toBe('application/vnd.apple.mpegurl');
    expect(companionContentType('init.mp4')).toBe('video/mp4');
    expect(companionContentType('notes')).toBe('application/octet-stream');
  });
});

describe('assignSequences: the files of sequence outputs', () => {
  const plan = (outputs: CommandPlan['outputs']): CommandPlan => ({
    inputs: [{ alias: 'in_v', url: 'https://e.com/v.mp4', local_name: 'in_v.mp4' }],
    outputs,
    commands: [['-i', 'in_v.mp4', 'x']],
  });

  it('each sequence output gets the files its pattern matched, in number order; other outputs none', () => {
    const p = plan([
      { alias: 'out_f', local_name: 'frame_%03d.png', sequence: true },
      { alias: 'out_v', local_name: 'v.mp4' },
    ]);
    const files = [
      'frame_010.png',
      'frame_002.png',
      'frame_001.png',
      'v.mp4',
      'in_v.mp4',
      'frame_x.png',
      '.frame_003.png',
    ];
    expect(assignSequences(p, files)).toEqual({ out_f: ['frame_001.png', 'frame_002.png', 'frame_010.png'] });
  });

  it("a playlist beside a sequence (a -segment_list) does not take the sequence's files", () => {
    const p = plan([
      { alias: 'out_segs', local_name: 'seg_%d.ts', sequence: true },
      { alias: 'out_list', local_name: 'list.m3u8', playlist: true },
    ]);
    const files = ['seg_0.ts', 'seg_1.ts', 'list.m3u8', 'list.m3u8.tmp', 'in_v.mp4'];
    expect(assignSequences(p, files)).toEqual({ out_segs: ['seg_0.ts', 'seg_1.ts'] });
    expect(assignCompanions(p, files)).toEqual({ out_list: ['list.m3u8.tmp'] });
  });

  it('image files get their content type', () => {
    expect(companionContentType('frame_001.png')).toBe('image/png');
    expect(companionContentType('f_1.JPG')).toBe('image/jpeg');
  });
});
