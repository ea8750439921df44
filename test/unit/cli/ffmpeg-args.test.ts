import { describe, expect, it } from 'vitest';
import { FfmpegArgsError, isFlag, planFfmpegArgs } from '../../../cli/ffmpeg-args.ts';
import { tokenizeCommand } from '../../../core/command/index.ts';

describe('ffaas run: FFmpeg arguments to a request', () => {
  it('turns local inputs and URLs into in_ placeholders and outputs into out_ ones', () => {
    const plan = planFfmpegArgs([
      'ffmpeg',
      '-y',
      '-i',
      'clips/My Clip.mp4',
      '-i',
      'https://example.com/a/music.mp3',
      '-vf',
      'scale=1280:720',
      '-c:a',
      'aac',
      'out/result.mp4',
    ]);
    expect(plan.inputs).toEqual([
      { alias: 'in_My_Clip', source: 'clips/My Clip.mp4', kind: 'file' },
      { alias: 'in_music', source: 'https://example.com/a/music.mp3', kind: 'url' },
    ]);
    expect(plan.outputs).toEqual([{ alias: 'out_result', filename: 'result.mp4', localPath: 'out/result.mp4' }]);
    expect(plan.command).toBe('ffmpeg -y -i {{in_My_Clip}} -i {{in_music}} -vf scale=1280:720 -c:a aac {{out_result}}');
  });

  it("knows flags from values by the service's option table (-an takes none, -t takes one)", () => {
    expect(isFlag('an')).toBe(true);
    expect(isFlag('nostats')).toBe(true);
    expect(isFlag('t')).toBe(false);
    expect(isFlag('c:v')).toBe(false);
    const plan = planFfmpegArgs(['-i', 'a.mp4', '-an', '-t', '5', 'b.mp4', '-vn', 'c.wav']);
    expect(plan.outputs.map((o) => o.filename)).toEqual(['b.mp4', 'c.wav']);
  });

  it('leaves a lavfi generator alone and gives duplicate names distinct aliases', () => {
    const plan = planFfmpegArgs(['-f', 'lavfi', '-i', 'testsrc=duration=1', 'x/out.mp4', 'y/out.mp4']);
    expect(plan.inputs).toEqual([]);
    expect(plan.outputs.map((o) => o.alias)).toEqual(['out_out', 'out_out_2']);
    expect(plan.command).toBe('ffmpeg -f lavfi -i testsrc=duration=1 {{out_out}} {{out_out_2}}');
  });

  it('quotes arguments with spaces so the service reads the same argv', () => {
    const plan = planFfmpegArgs(['-i', 'in.mp4', '-vf', "drawtext=text='Hello world'", 'o.mp4']);
    expect(tokenizeCommand(plan.command)).toEqual([
      'ffmpeg',
      '-i',
      '{{in_in}}',
      '-vf',
      "drawtext=text='Hello world'",
      '{{out_o}}',
    ]);
  });

  it('keeps only the name of files an option writes (segments beside their playlist) and plans sequences', () => {
    const plan = planFfmpegArgs([
      '-i',
      'in.mp4',
      '-f',
      'hls',
      '-hls_segment_filename',
      'hls/seg_%03d.ts',
      'hls/index.m3u8',
      'frames/%03d.png',
    ]);
    expect(plan.command).toBe('ffmpeg -i {{in_in}} -f hls -hls_segment_filename seg_%03d.ts {{out_index}} {{out_03d}}');
    expect(plan.outputs).toEqual([
      { alias: 'out_index', filename: 'index.m3u8', localPath: 'hls/index.m3u8' },
      { alias: 'out_03d', filename: '%03d.png', localPath: 'frames/%03d.png' },
    ]);
  });

  it('refuses what it cannot map, saying what to write', () => {
    expect(() => planFfmpegArgs([])).toThrow(FfmpegArgsError);
    expect(() => planFfmpegArgs(['-i', 'a.mp4'])).toThrow(/no output file/);
    expect(() => planFfmpegArgs(['-i', 'a.mp4', 'https://x/y.mp4'])).toThrow(/is a URL/);
    expect(() => planFfmpegArgs(['-i'])).toThrow(/-i needs a value/);
  });
});
