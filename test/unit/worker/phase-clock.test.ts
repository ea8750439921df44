import { describe, expect, it } from 'vitest';
import { createPhaseClock } from '../../../fargate-task/src/phase-clock.ts';

describe('phase clock', () => {
  it('adds up each phase, counts a phase that throws, leaves phases never entered null', async () => {
    let t = 0;
    const clock = createPhaseClock(() => t);
    await clock.time('probe', async () => {
      t += 100;
    });
    await clock.time('ffmpeg', async () => {
      t += 2500;
    });
    await clock.time('probe', async () => {
      t += 50;
    });
    await expect(
      clock.time('upload', async () => {
        t += 20;
        throw new Error('refused');
      }),
    ).rejects.toThrow('refused');
    expect(clock.snapshot(new Date('2026-01-01T00:00:03.400Z'))).toEqual({
      download: null,
      ffmpeg: 2.5,
      probe: 0.15,
      upload: 0.02,
      report_started_at: '2026-01-01T00:00:03.400Z',
    });
    expect(clock.snapshot(null).report_started_at).toBeNull();
  });

  it('returns what the timed function returns', async () => {
    const clock = createPhaseClock();
    expect(await clock.time('download', async () => 42)).toBe(42);
    expect(clock.snapshot(null).download).toBeGreaterThanOrEqual(0);
  });
});
