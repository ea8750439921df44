/**
 * Parsing of FFmpeg's `-progress pipe:1` output: `key=value` lines in blocks that end with
 * `progress=continue` (a block about every 0.5 s) or `progress=end` (the last one).
 * `out_time_us` and `out_time_ms` are both microseconds (the latter despite its name); values
 * may be `N/A`, negative before the first frame, or padded (`bitrate=  95.8kbits/s`).
 */
import type { Progress } from '../types.ts';

export interface ProgressUpdate {
  progress: Progress;
  /** True for the `progress=end` block. */
  end: boolean;
}

function num(raw: string | undefined): number | null {
  if (raw === undefined) return null;
  const t = raw.trim();
  if (t === '' || /^n\/?a$/i.test(t)) return null;
  const n = Number(t.replace(/x$/i, ''));
  return Number.isFinite(n) ? n : null;
}

/** `HH:MM:SS.ffffff` (possibly negative) → seconds. */
function clock(raw: string | undefined): number | null {
  const m = raw?.trim().match(/^(-?)(\d+):(\d{1,2}):(\d{1,2}(?:\.\d+)?)$/);
  if (!m) return null;
  const s = Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4]);
  return m[1] ? -s : s;
}

const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;

/**
 * One block (its lines, with or without the final `progress=` line) → Progress.
 * `totalSeconds` is the expected output duration (from probing the inputs); percent is null
 * when it is unknown. The `progress=end` block reports 100 % when the total is known.
 */
export function parseProgressBlock(lines: readonly string[], totalSeconds: number | null = null): ProgressUpdate {
  const fields: Record<string, string> = {};
  for (const line of lines) {
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    fields[line.slice(0, eq).trim()] = line.slice(eq + 1);
  }
  const end = fields.progress?.trim() === 'end';
  const us = num(fields.out_time_us) ?? num(fields.out_time_ms);
  const seconds = us !== null ? us / 1e6 : clock(fields.out_time);
  const outTime = seconds !== null && seconds > 0 ? round(seconds, 3) : 0;
  let percent: number | null = null;
  if (totalSeconds !== null && totalSeconds > 0) {
    percent = end ? 100 : Math.min(100, Math.max(0, round((outTime / totalSeconds) * 100, 1)));
  }
  const speed = num(fields.speed);
  const fps = num(fields.fps);
  return {
    progress: {
      percent,
      out_time_seconds: outTime,
      speed: speed !== null && speed >= 0 ? round(speed, 3) : null,
      fps: fps !== null && fps >= 0 ? round(fps, 2) : null,
    },
    end,
  };
}

/**
 * Incremental parser for the raw stdout stream: feed chunks as they arrive (lines may be split
 * across chunks); each completed block comes back as an update. Memory stays bounded: a line
 * longer than 4 KiB (not FFmpeg's progress output) is dropped.
 */
export function createProgressParser(totalSeconds: number | null = null): {
  push(chunk: string | Buffer): ProgressUpdate[];
} {
  let partial = '';
  let block: string[] = [];
  return {
    push(chunk) {
      const updates: ProgressUpdate[] = [];
      partial += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      let nl: number;
      while ((nl = partial.indexOf('\n')) !== -1) {
        const line = partial.slice(0, nl).replace(/\r$/, '');
        partial = partial.slice(nl + 1);
        if (!line) continue;
        block.push(line);
        if (block.length > 200) block = block.slice(-100);
        if (line.startsWith('progress=')) {
          updates.push(parseProgressBlock(block, totalSeconds));
          block = [];
        }
      }
      if (partial.length > 4096) partial = '';
      return updates;
    },
  };
}
