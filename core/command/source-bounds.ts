/**
 * Bounds of generated sources (source filters in -filter_complex / -vf / -af). A decoded input
 * is bounded by its file and by `-max_pixels`; a generator is bounded only by its options, so
 * they are checked here, as a phase of their own beside the per-option filter policy:
 *
 *   - frame size (`size`/`s`): w*h ≤ LIMITS.maxPixels (a WxH value or one of FFmpeg's named
 *     sizes, which are all below it); anything else is refused.
 *   - rate (`rate`/`r`): a positive rate ≤ LIMITS.maxSourceFrameRate; audio `sample_rate`/`r`
 *     ≤ LIMITS.maxSourceSampleRate.
 *   - duration (`duration`/`d`): ≤ LIMITS.maxSourceSeconds. A source with no duration (or a
 *     negative one, FFmpeg's "forever") is REFUSED unless something else ends the run: every
 *     output of the command has a limit (-t, -to, -frames, -vframes, -aframes, -fs, -shortest),
 *     or a filter of the same graph is told to stop at the shortest input (`shortest=1`,
 *     `duration=shortest|first`). Refused rather than capped: a silent cap would change what
 *     the user's command means. max_command_run_seconds and the output limits stay the
 *     backstop when a graph ends later than it looks.
 *
 * Values are checked as FFmpeg reads them (av_parse_video_size, av_parse_video_rate,
 * av_parse_time); a value this module cannot read is refused, never let through.
 */
import { LIMITS } from '../constants.ts';
import type { FilterIssue } from './filter-policy.ts';
import { filtersOf, type FilterGraph, type FilterNode } from './filtergraph.ts';

interface SourceSpec {
  kind: 'video' | 'audio';
  /** Option names in declaration order (positional values map onto them), aliases folded. */
  positional: string[];
}

const TESTSRC: SourceSpec = { kind: 'video', positional: ['size', 'rate', 'duration', 'sar'] };

/** Sources with a bounds rule, by filter name (`ffmpeg -h filter=NAME`, FFmpeg 5.1). */
export const SOURCE_SPECS: Readonly<Record<string, SourceSpec>> = {
  testsrc: TESTSRC,
  testsrc2: TESTSRC,
  nullsrc: TESTSRC,
  rgbtestsrc: TESTSRC,
  yuvtestsrc: TESTSRC,
  smptebars: TESTSRC,
  smptehdbars: TESTSRC,
  pal75bars: TESTSRC,
  pal100bars: TESTSRC,
  color: { kind: 'video', positional: ['color', 'size', 'rate', 'duration', 'sar'] },
  sine: { kind: 'audio', positional: ['frequency', 'beep_factor', 'sample_rate', 'duration', 'samples_per_frame'] },
  anullsrc: { kind: 'audio', positional: ['channel_layout', 'sample_rate', 'nb_samples', 'duration'] },
};

/**
 * Every source filter of FFmpeg (no input pads: `ffmpeg -filters`, "|->"). One without a spec
 * above is refused by this phase even if the filter policy allows it, so allowing a new
 * generator cannot leave it unbounded by accident.
 */
export const SOURCE_FILTERS: ReadonlySet<string> = new Set([
  'aevalsrc',
  'afirsrc',
  'anoisesrc',
  'anullsrc',
  'flite',
  'hilbert',
  'sinc',
  'sine',
  'allrgb',
  'allyuv',
  'cellauto',
  'color',
  'colorchart',
  'colorspectrum',
  'frei0r_src',
  'gradients',
  'haldclutsrc',
  'life',
  'mandelbrot',
  'mptestsrc',
  'nullsrc',
  'openclsrc',
  'pal75bars',
  'pal100bars',
  'rgbtestsrc',
  'sierpinski',
  'smptebars',
  'smptehdbars',
  'testsrc',
  'testsrc2',
  'yuvtestsrc',
  'color_vulkan',
  'nullsrc_cuda',
]);

const ALIASES: Readonly<Record<string, string>> = {
  s: 'size',
  r: 'rate',
  d: 'duration',
  c: 'color',
  f: 'frequency',
  b: 'beep_factor',
  cl: 'channel_layout',
  n: 'nb_samples',
};

/** FFmpeg's named frame sizes (libavutil/parseutils.c); the largest is 7680x4800. */
const NAMED_SIZES: Readonly<Record<string, [number, number]>> = {
  ntsc: [720, 480],
  pal: [720, 576],
  qntsc: [352, 240],
  qpal: [352, 288],
  sntsc: [640, 480],
  spal: [768, 576],
  film: [352, 240],
  'ntsc-film': [352, 240],
  sqcif: [128, 96],
  qcif: [176, 144],
  cif: [352, 288],
  '4cif': [704, 576],
  '16cif': [1408, 1152],
  qqvga: [160, 120],
  qvga: [320, 240],
  vga: [640, 480],
  svga: [800, 600],
  xga: [1024, 768],
  uxga: [1600, 1200],
  qxga: [2048, 1536],
  sxga: [1280, 1024],
  qsxga: [2560, 2048],
  hsxga: [5120, 4096],
  wvga: [852, 480],
  wxga: [1366, 768],
  wsxga: [1600, 1024],
  wuxga: [1920, 1200],
  woxga: [2560, 1600],
  wqhd: [2560, 1440],
  wqsxga: [3200, 2048],
  wquxga: [3840, 2400],
  whsxga: [6400, 4096],
  whuxga: [7680, 4800],
  cga: [320, 200],
  ega: [640, 350],
  hd480: [852, 480],
  hd720: [1280, 720],
  hd1080: [1920, 1080],
  quadhd: [2560, 1440],
  '2k': [2048, 1080],
  '2kdci': [2048, 1080],
  '2kflat': [1998, 1080],
  '2kscope': [2048, 858],
  '4k': [4096, 2160],
  '4kdci': [4096, 2160],
  '4kflat': [3996, 2160],
  '4kscope': [4096, 1716],
  nhd: [640, 360],
  hqvga: [240, 160],
  wqvga: [400, 240],
  fwqvga: [432, 240],
  hvga: [480, 320],
  qhd: [960, 540],
  uhd2160: [3840, 2160],
  uhd4320: [7680, 4320],
};
const NAMED_RATES: Readonly<Record<string, number>> = {
  ntsc: 30000 / 1001,
  pal: 25,
  qntsc: 30000 / 1001,
  qpal: 25,
  sntsc: 30000 / 1001,
  spal: 25,
  film: 24,
  'ntsc-film': 24000 / 1001,
};

/** WxH or a named size → [w, h]; null when it is neither. */
export function parseFrameSize(value: string): [number, number] | null {
  const named = Object.hasOwn(NAMED_SIZES, value) ? NAMED_SIZES[value] : undefined;
  if (named) return named;
  const m = /^(\d{1,9})x(\d{1,9})$/.exec(value.trim());
  if (!m) return null;
  const w = Number(m[1]);
  const h = Number(m[2]);
  return w > 0 && h > 0 ? [w, h] : null;
}

/** N, N.M, N/D or a named rate → frames per second; null when unreadable. */
export function parseRate(value: string): number | null {
  if (Object.hasOwn(NAMED_RATES, value)) return NAMED_RATES[value]!;
  const m = /^(\d+(?:\.\d+)?)(?:\/(\d+(?:\.\d+)?))?$/.exec(value.trim());
  if (!m) return null;
  const r = Number(m[1]) / (m[2] === undefined ? 1 : Number(m[2]));
  return Number.isFinite(r) ? r : null;
}

/** An av_parse_time duration ([-][HH:]MM:SS[.m] or [-]S[.m][s|ms|us]) → seconds; null when unreadable. */
export function parseDuration(value: string): number | null {
  const v = value.trim();
  const sexagesimal = /^(-?)(?:(\d+):)?(\d{1,2}):(\d{1,2}(?:\.\d+)?)$/.exec(v);
  if (sexagesimal) {
    const s = Number(sexagesimal[2] ?? 0) * 3600 + Number(sexagesimal[3]) * 60 + Number(sexagesimal[4]);
    return sexagesimal[1] ? -s : s;
  }
  const plain = /^(-?\d+(?:\.\d+)?)(s|ms|us)?$/.exec(v);
  if (!plain) return null;
  const n = Number(plain[1]);
  return plain[2] === 'ms' ? n / 1e3 : plain[2] === 'us' ? n / 1e6 : n;
}

/** A sample rate: digits with an optional k suffix (anullsrc takes a string). */
function parseSampleRate(value: string): number | null {
  const m = /^(\d+(?:\.\d+)?)(k)?$/i.exec(value.trim());
  return m ? Number(m[1]) * (m[2] ? 1000 : 1) : null;
}

/** Options of a source filter by canonical name (aliases folded, positional values placed). */
function sourceOptions(f: FilterNode, spec: SourceSpec): Map<string, string> {
  const byName = new Map<string, string>();
  for (const o of f.options) {
    const raw = o.key ?? (o.position !== null ? spec.positional[o.position] : undefined);
    if (raw === undefined) continue;
    byName.set(ALIASES[raw] ?? raw, o.value);
  }
  return byName;
}

/** Whether a filter of the graph stops it at its shortest input. */
function graphStopsAtShortest(graph: FilterGraph): boolean {
  return filtersOf(graph).some((f) =>
    f.options.some(
      (o) =>
        (o.key === 'shortest' && /^(1|true|y|yes)$/i.test(o.value)) ||
        (o.key === 'duration' && /^(shortest|first)$/.test(o.value) && !SOURCE_FILTERS.has(f.name)),
    ),
  );
}

export interface SourceBoundsContext {
  /** Every output of the command has -t/-to/-frames/-vframes/-aframes/-fs/-shortest. */
  outputsLimited: boolean;
}

/** The bounds problems of the source filters of one graph ([] when there are none). */
export function checkSourceBounds(
  graph: FilterGraph,
  context: SourceBoundsContext = { outputsLimited: false },
): FilterIssue[] {
  const issues: FilterIssue[] = [];
  const bad = (token: string, message: string): void => {
    issues.push({ rule: 'source-bounds', token, message });
  };
  let stopsAtShortest: boolean | undefined;
  for (const f of filtersOf(graph)) {
    if (!SOURCE_FILTERS.has(f.name)) continue;
    const spec = Object.hasOwn(SOURCE_SPECS, f.name) ? SOURCE_SPECS[f.name] : undefined;
    if (!spec) {
      bad(
        f.name,
        `source filter "${f.name}" is not allowed: the service has no bounds for its size, rate and duration`,
      );
      continue;
    }
    if (f.optionsError !== null) continue; // reported by the filter policy
    const opts = sourceOptions(f, spec);
    const size = opts.get('size');
    if (spec.kind === 'video' && size !== undefined) {
      const wh = parseFrameSize(size);
      if (!wh)
        bad(
          `${f.name}=size=${size}`,
          `size "${size}" of source filter "${f.name}" is not allowed: give it as WxH (e.g. 1280x720)`,
        );
      else if (wh[0] * wh[1] > LIMITS.maxPixels) {
        bad(
          `${f.name}=size=${size}`,
          `size "${size}" of source filter "${f.name}" is not allowed: ${wh[0] * wh[1]} pixels a frame, over the limit of ${LIMITS.maxPixels} (max_pixels)`,
        );
      }
    }
    const rate = spec.kind === 'video' ? opts.get('rate') : undefined;
    if (rate !== undefined) {
      const r = parseRate(rate);
      if (r === null || r <= 0 || r > LIMITS.maxSourceFrameRate) {
        bad(
          `${f.name}=rate=${rate}`,
          `rate "${rate}" of source filter "${f.name}" is not allowed: give a positive rate of at most ${LIMITS.maxSourceFrameRate} frames per second`,
        );
      }
    }
    const sampleRate = spec.kind === 'audio' ? (opts.get('sample_rate') ?? opts.get('rate')) : undefined;
    if (sampleRate !== undefined) {
      const r = parseSampleRate(sampleRate);
      if (r === null || r <= 0 || r > LIMITS.maxSourceSampleRate) {
        bad(
          `${f.name}=sample_rate=${sampleRate}`,
          `sample rate "${sampleRate}" of source filter "${f.name}" is not allowed: give at most ${LIMITS.maxSourceSampleRate} samples per second`,
        );
      }
    }
    const duration = opts.get('duration');
    const seconds = duration === undefined ? -1 : parseDuration(duration);
    if (seconds === null) {
      bad(
        `${f.name}=duration=${duration}`,
        `duration "${duration}" of source filter "${f.name}" is not allowed: give seconds (e.g. 10) or HH:MM:SS`,
      );
    } else if (seconds > LIMITS.maxSourceSeconds) {
      bad(
        `${f.name}=duration=${duration}`,
        `duration "${duration}" of source filter "${f.name}" is not allowed: at most ${LIMITS.maxSourceSeconds} seconds`,
      );
    } else if (seconds < 0) {
      stopsAtShortest ??= graphStopsAtShortest(graph);
      if (!context.outputsLimited && !stopsAtShortest) {
        bad(
          f.name,
          `source filter "${f.name}" has no duration and nothing else ends the command: give it duration=<seconds> (at most ${LIMITS.maxSourceSeconds}), limit every output (-t, -frames:v, -shortest), or stop the graph at its shortest input (e.g. overlay=shortest=1)`,
        );
      }
    }
  }
  return issues;
}
