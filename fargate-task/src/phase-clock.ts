/**
 * The worker's phase clock: wall seconds spent in download, ffmpeg, probe and upload (a phase
 * entered more than once adds up; one never entered stays null). Written to the command item
 * just before the worker reports (with the outputs, storeOutputs; alone on a failure, recordTimings); the poll shows it as
 * `timings`.
 */
import type { WorkerTimings } from '../../core/types.ts';

export type Phase = 'download' | 'ffmpeg' | 'probe' | 'upload';

export interface PhaseClock {
  /** Run `fn` and add its wall time (also when it throws) to `phase`. */
  time<T>(phase: Phase, fn: () => Promise<T>): Promise<T>;
  /** The timings so far, with when reporting started. */
  snapshot(reportStartedAt: Date | null): WorkerTimings;
}

const round3 = (s: number) => Math.round(s * 1000) / 1000;

export function createPhaseClock(now: () => number = () => performance.now()): PhaseClock {
  const spent: Record<Phase, number | null> = { download: null, ffmpeg: null, probe: null, upload: null };
  return {
    async time(phase, fn) {
      const start = now();
      try {
        return await fn();
      } finally {
        spent[phase] = (spent[phase] ?? 0) + (now() - start) / 1000;
      }
    },
    snapshot(reportStartedAt) {
      const r = (x: number | null) => (x === null ? null : round3(x));
      return {
        download: r(spent.download),
        ffmpeg: r(spent.ffmpeg),
        probe: r(spent.probe),
        upload: r(spent.upload),
        report_started_at: reportStartedAt ? reportStartedAt.toISOString() : null,
      };
    },
  };
}
