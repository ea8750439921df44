/** Generated sources are bounded like decoded inputs: size, rate, duration (source-bounds.ts). */
import { describe, expect, it } from 'vitest';
import { ALLOWED_FILTERS } from '../../../core/command/filter-policy.ts';
import { parseFilterGraphOrThrow } from '../../../core/command/filtergraph.ts';
import { parseFfmpegCommand } from '../../../core/command/index.ts';
import {
  checkSourceBounds,
  parseDuration,
  parseFrameSize,
  parseRate,
  SOURCE_FILTERS,
  SOURCE_SPECS,
} from '../../../core/command/source-bounds.ts';

const rules = (graph: string, outputsLimited = false) =>
  checkSourceBounds(parseFilterGraphOrThrow(graph), { outputsLimited }).map((i) => i.token);

describe('source bounds', () => {
  it('every allowed source filter has a bounds spec', () => {
    const allowedSources = [...ALLOWED_FILTERS].filter((f) => SOURCE_FILTERS.has(f));
    expect(allowedSources.length).toBeGreaterThan(0);
    for (const f of allowedSources) expect(SOURCE_SPECS[f], f).toBeDefined();
  });

  it('accepts bounded sources, by name and by position', () => {
    expect(rules('testsrc2=duration=5:size=1280x720:rate=30')).toEqual([]);
    expect(rules('testsrc=s=hd1080:r=ntsc:d=00:00:10')).toEqual([]);
    expect(rules('color=black:640x360:25:3')).toEqual([]);
    expect(rules('sine=frequency=440:duration=1')).toEqual([]);
    expect(rules('anullsrc=cl=stereo:r=48000:d=2')).toEqual([]);
    expect(rules(`nullsrc=size=8192x8192:d=1`)).toEqual([]);
  });

  it('refuses frames over max_pixels, by name and by position', () => {
    expect(rules('testsrc2=size=100000x100000:d=1')).toEqual(['testsrc2=size=100000x100000']);
    expect(rules('color=red:100000x100000:25:1')).toEqual(['color=size=100000x100000']);
    expect(rules('nullsrc=s=8193x8192:d=1')).toEqual(['nullsrc=size=8193x8192']);
    expect(rules('testsrc=s=big:d=1')).toEqual(['testsrc=size=big']);
  });

  it('refuses huge or unreadable rates and durations', () => {
    expect(rules('testsrc2=r=100000:d=1')).toEqual(['testsrc2=rate=100000']);
    expect(rules('testsrc2=d=999999')).toEqual(['testsrc2=duration=999999']);
    expect(rules('testsrc2=d=7200')).toEqual(['testsrc2=duration=7200']);
    expect(rules('testsrc2=d=1e9')).toEqual(['testsrc2=duration=1e9']);
    expect(rules('sine=r=10000000:d=1')).toEqual(['sine=sample_rate=10000000']);
    expect(rules('sine=440:1:10000000:1')).toEqual(['sine=sample_rate=10000000']);
  });

  it('refuses a source without duration unless something ends the command', () => {
    expect(rules('testsrc2=size=320x240')).toEqual(['testsrc2']);
    expect(rules('testsrc2=d=-1')).toEqual(['testsrc2']);
    expect(rules('anullsrc')).toEqual(['anullsrc']);
    expect(rules('testsrc2=size=320x240', true)).toEqual([]);
    expect(rules('color=black:s=1280x720[bg];[bg][0:v]overlay=shortest=1')).toEqual([]);
    expect(rules('anullsrc[s];[0:a][s]amix=inputs=2:duration=first')).toEqual([]);
  });

  it('refuses a source filter it has no bounds for, even if another policy allowed it', () => {
    expect(rules('mandelbrot=s=320x240')).toEqual(['mandelbrot']);
  });

  it('reads values as FFmpeg does', () => {
    expect(parseFrameSize('hd720')).toEqual([1280, 720]);
    expect(parseFrameSize('0x10')).toBeNull();
    expect(parseRate('30000/1001')).toBeCloseTo(29.97, 2);
    expect(parseRate('pal')).toBe(25);
    expect(parseDuration('1:30')).toBe(90);
    expect(parseDuration('500ms')).toBe(0.5);
    expect(parseDuration('-1')).toBe(-1);
    expect(parseDuration('ten')).toBeNull();
  });

  it('through the whole checker: refused with rule source-bounds, accepted when -t limits the output', () => {
    const run = (cmd: string) =>
      parseFfmpegCommand({ commands: [cmd], inputFiles: {}, outputFiles: { out_v: 'v.mp4' }, gpuAvailable: false });
    const refused = run('ffmpeg -filter_complex testsrc2=size=100000x100000 {{out_v}}');
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.violations.map((v) => v.rule)).toEqual(['source-bounds', 'source-bounds']);
    expect(run('ffmpeg -filter_complex testsrc2=size=320x240 -t 2 {{out_v}}').ok).toBe(true);
    expect(run('ffmpeg -filter_complex testsrc2=size=320x240 -t 2 -noshortest {{out_v}}').ok).toBe(true);
    expect(run('ffmpeg -filter_complex testsrc2=size=320x240 {{out_v}}').ok).toBe(false);
  });
});
