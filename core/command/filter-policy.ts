/**
 * Which filters a filtergraph may use (docs/SECURITY-POLICY.md layer 4). Allowlist: a filter not named
 * here is refused. Filters that read a file take it only from the workspace, as a declared
 * `{{in_*}}` placeholder (or a file an earlier chained command wrote); see FILE_OPTIONS.
 */
import { filtersOf, type FilterGraph } from './filtergraph.ts';
import { findPlaceholders } from './placeholders.ts';

/** Allowed filters, grouped for reading. None of them opens a file or a socket by itself. */
export const ALLOWED_FILTERS: ReadonlySet<string> = new Set([
  // geometry and layout
  'scale', 'scale2ref', 'crop', 'cropdetect', 'pad', 'overlay', 'hflip', 'vflip', 'transpose', 'rotate',
  'setsar', 'setdar', 'tile', 'hstack', 'vstack', 'xstack', 'zoompan', 'perspective', 'lenscorrection',
  'v360', 'fillborders', 'drawbox', 'drawgrid',
  // time and frames
  'trim', 'atrim', 'setpts', 'asetpts', 'settb', 'asettb', 'fps', 'framerate', 'minterpolate', 'select',
  'aselect', 'thumbnail', 'tpad', 'apad', 'loop', 'aloop', 'reverse', 'areverse', 'atempo', 'asetrate',
  'asetnsamples', 'concat', 'xfade', 'acrossfade', 'fade', 'afade', 'freezedetect', 'blackdetect',
  'silencedetect', 'silenceremove',
  // pixel formats, colour, look
  'format', 'aformat', 'colorspace', 'zscale', 'tonemap', 'eq', 'hue', 'curves', 'colorchannelmixer',
  'lutrgb', 'lutyuv', 'negate', 'vignette', 'noise', 'chromakey', 'colorkey', 'alphamerge', 'alphaextract',
  'premultiply', 'blend', 'geq', 'lut3d', 'lut1d', 'haldclut', 'palettegen', 'paletteuse',
  // sharpness, noise, deinterlace
  'boxblur', 'gblur', 'avgblur', 'smartblur', 'unsharp', 'hqdn3d', 'nlmeans', 'atadenoise', 'removegrain',
  'deband', 'deblock', 'deshake', 'yadif', 'bwdif', 'idet', 'fieldorder', 'tinterlace', 'interlace', 'telecine',
  // text and subtitles (file options confined, see FILE_OPTIONS)
  'drawtext', 'subtitles', 'ass',
  // streams
  'split', 'asplit', 'null', 'anull', 'amix', 'amerge', 'pan', 'join', 'channelsplit', 'channelmap',
  'shuffleplanes', 'extractplanes', 'mergeplanes', 'showinfo', 'ashowinfo',
  // audio processing
  'aresample', 'volume', 'loudnorm', 'dynaudnorm', 'acompressor', 'alimiter', 'agate', 'compand',
  'sidechaincompress', 'highpass', 'lowpass', 'equalizer', 'afftdn', 'aecho', 'chorus', 'flanger', 'tremolo',
  'vibrato', 'earwax', 'stereotools', 'extrastereo', 'firequalizer', 'ebur128', 'volumedetect', 'astats',
  // audio visualisation
  'showwaves', 'showwavespic', 'showspectrum', 'showspectrumpic', 'showfreqs', 'showcqt', 'showvolume',
  'avectorscope', 'aphasemeter',
  // sources (generate frames; read nothing)
  'color', 'nullsrc', 'testsrc', 'testsrc2', 'anullsrc', 'sine',
  // hardware frames (NVIDIA; routing: compute.ts)
  'hwupload', 'hwdownload', 'hwupload_cuda', 'scale_cuda', 'scale_npp', 'overlay_cuda', 'yadif_cuda',
  'thumbnail_cuda', 'chromakey_cuda',
]);

/** Filters refused with a specific reason (everything else unlisted gets the generic one). */
export const FORBIDDEN_FILTERS: Readonly<Record<string, string>> = {
  movie: 'it opens any file or URL named in the graph',
  amovie: 'it opens any file or URL named in the graph',
  sendcmd: 'it reads commands from a file and can change filter options (e.g. a fontfile) at run time, after the policy check',
  asendcmd: 'it reads commands from a file and can change filter options (e.g. a fontfile) at run time, after the policy check',
  zmq: 'it listens on a network socket',
  azmq: 'it listens on a network socket',
  frei0r: 'it loads a shared library by path',
  frei0r_src: 'it loads a shared library by path',
  ladspa: 'it loads a shared library by path',
  lv2: 'it loads a plugin by path',
  ocr: 'it reads a tessdata directory by path',
  dnn_processing: 'it loads a model file by path',
  dnn_classify: 'it loads a model file by path',
  dnn_detect: 'it loads a model file by path',
  sr: 'it loads a model file by path',
  derain: 'it loads a model file by path',
  arnndn: 'it loads a model file by path',
  sofalizer: 'it reads a SOFA file by path',
  libvmaf: 'it reads a model and writes a log by path',
  psnr: 'its stats_file option writes a file by path',
  ssim: 'its stats_file option writes a file by path',
  vidstabdetect: 'it writes a result file by path',
  vidstabtransform: 'it reads a file by path',
  removelogo: 'it reads a bitmap by path',
  cover_rect: 'it reads an image by path',
  find_rect: 'it reads an image by path',
  metadata: 'its file option writes a file by path',
  ametadata: 'its file option writes a file by path',
  signature: 'it writes files by path',
  program_opencl: 'it loads a kernel source by path',
  openclsrc: 'it loads a kernel source by path',
};

/**
 * Filters with options that name a file. `positional` lists the filter's options in FFmpeg's
 * declaration order (5.1, `ffmpeg -h filter=NAME`), up to the last file option, so that a value
 * given without `key=` (e.g. `subtitles=subs.srt`, `drawtext=font.ttf`) is recognised. `input`
 * options must be a workspace input; `forbidden` options are refused whatever their value.
 * `extensions` restricts the workspace file's extension: these filters open the file with
 * FFmpeg's default protocol and format lists (the service's forced whitelists apply to `-i`
 * only), so the file type is pinned down by name as well.
 */
export const FILE_OPTIONS: Readonly<
  Record<string, { positional: string[]; input: Record<string, string[]>; forbidden: Record<string, string> }>
> = {
  subtitles: {
    positional: ['filename', 'original_size', 'fontsdir'],
    input: { filename: SUBTITLE_EXTS(), f: SUBTITLE_EXTS() },
    forbidden: { fontsdir: 'it reads fonts from a directory path' },
  },
  ass: {
    positional: ['filename', 'original_size', 'fontsdir'],
    input: { filename: SUBTITLE_EXTS(), f: SUBTITLE_EXTS() },
    forbidden: { fontsdir: 'it reads fonts from a directory path' },
  },
  drawtext: {
    positional: ['fontfile', 'text', 'textfile'],
    input: { fontfile: ['ttf', 'otf', 'ttc', 'woff', 'woff2', 'pfb'], textfile: ['txt', 'text'] },
    forbidden: {},
  },
  lut3d: { positional: ['file'], input: { file: ['cube', '3dl', 'dat', 'm3d', 'csp'] }, forbidden: {} },
  lut1d: { positional: ['file'], input: { file: ['cube', 'csp'] }, forbidden: {} },
};

function SUBTITLE_EXTS(): string[] {
  return ['srt', 'ass', 'ssa', 'vtt', 'webvtt', 'sub', 'mkv', 'mp4', 'mov'];
}

/** Filters that need an NVIDIA GPU (compute routing). */
export const CUDA_FILTERS: ReadonlySet<string> = new Set([
  'hwupload_cuda', 'scale_cuda', 'scale_npp', 'overlay_cuda', 'yadif_cuda', 'thumbnail_cuda', 'chromakey_cuda',
]);

// ---------------------------------------------------------------------------------------------
// Checking a parsed graph.


/** A file a filter will open: must resolve to a workspace input (checked by the caller). */
export interface FilterFileRef {
  filter: string;
  option: string;
  /** The option value as the filter receives it (may be a placeholder before substitution). */
  value: string;
  /** Allowed extensions of the file. */
  extensions: string[];
}

export interface FilterIssue {
  rule: string;
  token: string;
  message: string;
}

export interface FilterGraphCheck {
  issues: FilterIssue[];
  fileRefs: FilterFileRef[];
  /** Names of the filters used (for compute routing). */
  filters: string[];
}

export function checkFilterGraph(graph: FilterGraph): FilterGraphCheck {
  const issues: FilterIssue[] = [];
  const fileRefs: FilterFileRef[] = [];
  const filters: string[] = [];
  if (graph.swsFlags !== null && !/^[A-Za-z0-9_+\-|]*$/.test(graph.swsFlags)) {
    issues.push({ rule: 'filter-option-not-allowed', token: graph.swsFlags, message: `sws_flags "${graph.swsFlags}" is not a list of scaler flags` });
  }
  for (const f of filtersOf(graph)) {
    filters.push(f.name);
    const forbidden = FORBIDDEN_FILTERS[f.name] ?? (f.name.startsWith('dnn_') ? 'it loads a model file by path' : undefined);
    if (forbidden) {
      issues.push({ rule: 'filter-not-allowed', token: f.name, message: `filter "${f.name}" is not allowed: ${forbidden}` });
      continue;
    }
    if (!ALLOWED_FILTERS.has(f.name)) {
      issues.push({ rule: 'filter-not-allowed', token: f.name, message: `filter "${f.name}" is not allowed: it is not in the service's filter allowlist` });
      continue;
    }
    if (f.optionsError !== null) {
      issues.push({ rule: 'filtergraph-syntax', token: f.args ?? f.name, message: `options of filter "${f.name}" could not be parsed: ${f.optionsError}` });
      continue;
    }
    const spec = FILE_OPTIONS[f.name];
    for (const o of f.options) {
      if (o.key !== null && o.key.startsWith('/')) {
        issues.push({
          rule: 'file-valued-option',
          token: o.key,
          message: `filter option "${f.name}=${o.key}" is not allowed: "/option" loads the option's value from a file`,
        });
        continue;
      }
      const name = o.key ?? (spec ? spec.positional[o.position!] : undefined) ?? null;
      if (spec && name !== null && spec.forbidden[name]) {
        issues.push({ rule: 'filter-option-not-allowed', token: `${name}=${o.value}`, message: `option "${name}" of filter "${f.name}" is not allowed: ${spec.forbidden[name]}` });
        continue;
      }
      const exts = spec && name !== null ? spec.input[name] : undefined;
      if (exts) {
        fileRefs.push({ filter: f.name, option: name!, value: o.value, extensions: exts });
        continue;
      }
      const ph = findPlaceholders(o.value);
      if (ph.length > 0) {
        issues.push({
          rule: 'placeholder-position',
          token: ph[0]!.text,
          message: `placeholder "${ph[0]!.text}" is not allowed in option "${name ?? `#${o.position! + 1}`}" of filter "${f.name}": inside a filtergraph, placeholders may only name a file a filter reads (e.g. subtitles=, drawtext fontfile=, lut3d file=)`,
        });
      }
    }
  }
  return { issues, fileRefs, filters };
}
