import { describe, expect, it } from 'vitest';
import { createProgressParser, parseProgressBlock } from '../../../core/media/index.ts';

const block = (fields: Record<string, string>) => Object.entries(fields).map(([k, v]) => `${k}=${v}`);

describe('parseProgressBlock', () => {
  it('reads out_time_us as microseconds, speed and fps, percent from the total', () => {
    const u = parseProgressBlock(
      block({
        frame: '25',
        fps: '24.50',
        bitrate: ' 218.9kbits/s',
        out_time_us: '1500000',
        out_time_ms: '1500000',
        out_time: '00:00:01.500000',
        speed: '3.02x',
        progress: 'continue',
      }),
      3,
    );
    expect(u).toEqual({ end: false, progress: { percent: 50, out_time_seconds: 1.5, speed: 3.02, fps: 24.5 } });
  });

  it('treats out_time_ms as microseconds too (despite its name)', () => {
    expect(parseProgressBlock(['out_time_ms=2500000', 'progress=continue'], 10).progress.out_time_seconds).toBe(2.5);
  });

  it('falls back to out_time HH:MM:SS.micro', () => {
    expect(parseProgressBlock(['out_time=01:02:03.250000', 'progress=continue']).progress.out_time_seconds).toBe(
      3723.25,
    );
  });

  it('handles N/A, padding and negative start values', () => {
    const u = parseProgressBlock(
      [
        'fps=   N/A',
        'out_time_us=N/A',
        'out_time_ms=-9223372036854775807',
        'out_time=-577014:32:22.775808',
        'speed=N/A',
        'progress=continue',
      ],
      10,
    );
    expect(u.progress).toEqual({ percent: 0, out_time_seconds: 0, speed: null, fps: null });
    const padded = parseProgressBlock(
      ['speed=   1.5x ', 'fps=  30.00', 'out_time_us=  1000000', 'progress=continue'],
      null,
    );
    expect(padded.progress).toEqual({ percent: null, out_time_seconds: 1, speed: 1.5, fps: 30 });
  });

  it('percent is null without a total, clamped to 100, and 100 on the end block', () => {
    expect(parseProgressBlock(['out_time_us=5000000', 'progress=continue'], null).progress.percent).toBeNull();
    expect(parseProgressBlock(['out_time_us=5000000', 'progress=continue'], 0).progress.percent).toBeNull();
    expect(parseProgressBlock(['out_time_us=50000000', 'progress=continue'], 10).progress.percent).toBe(100);
    expect(parseProgressBlock(['out_time_us=9000000', 'progress=end'], 10)).toMatchObject({
      end: true,
      progress: { percent: 100 },
    });
    expect(parseProgressBlock(['out_time_us=1234567', 'progress=continue'], 3).progress.percent).toBe(41.2);
  });
});

describe('createProgressParser', () => {
  const output = [
    'frame=1',
    'fps=0.00',
    'stream_0_0_q=0.0',
    'bitrate=  95.8kbits/s',
    'total_size=886',
    'out_time_us=74000',
    'out_time_ms=74000',
    'out_time=00:00:00.074000',
    'dup_frames=0',
    'drop_frames=0',
    'speed=27.2x',
    'progress=continue',
    'frame=25',
    'fps=0.00',
    'stream_0_0_q=21.0',
    'bitrate= 218.9kbits/s',
    'total_size=28290',
    'out_time_us=1034000',
    'out_time_ms=1034000',
    'out_time=00:00:01.034000',
    'dup_frames=0',
    'drop_frames=0',
    'speed=3.02x',
    'progress=end',
    '',
  ].join('\n');

  it('yields one update per block, whatever the chunking', () => {
    for (const size of [1, 7, 64, output.length]) {
      const p = createProgressParser(1.034);
      const updates = [];
      for (let i = 0; i < output.length; i += size) updates.push(...p.push(output.slice(i, i + size)));
      expect(updates, `chunk ${size}`).toEqual([
        { end: false, progress: { percent: 7.2, out_time_seconds: 0.074, speed: 27.2, fps: 0 } },
        { end: true, progress: { percent: 100, out_time_seconds: 1.034, speed: 3.02, fps: 0 } },
      ]);
    }
  });

  it('accepts Buffers and CRLF, ignores junk lines', () => {
    const p = createProgressParser(null);
    expect(p.push(Buffer.from('garbage\r\nout_time_us=2000000\r\nprogress=continue\r\n'))).toEqual([
      { end: false, progress: { percent: null, out_time_seconds: 2, speed: null, fps: null } },
    ]);
  });

  it('keeps memory bounded on a stream without newlines', () => {
    const p = createProgressParser(null);
    for (let i = 0; i < 100; i++) expect(p.push('x'.repeat(1000))).toEqual([]);
    expect(p.push('\nout_time_us=1000000\nprogress=end\n')).toHaveLength(1);
  });
});
