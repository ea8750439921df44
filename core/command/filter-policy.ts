/**
 * Which filters a filtergraph may use, and which of their options (docs/SECURITY-POLICY.md layer 4).
 * Allowlist: a filter not named here is refused; an option of an allowed filter is checked
 * against its decision in filter-options.ts (every option of this FFmpeg build has one).
 * Options that open a file take only a workspace file of the option's kind, as a declared
 * `{{in_*}}` placeholder (or a file an earlier chained command wrote).
 */
import { filtersOf, type FilterGraph } from './filtergraph.ts';
import { FILTER_FILE_KINDS, type FilterFileKind } from './filter-files.ts';
import { FILTER_OPTIONS, GENERIC_FILTER_OPTIONS, type FilterOptionDecision } from './filter-options.ts';
import { findPlaceholders } from './placeholders.ts';

/** Allowed filters, grouped for reading. None of them opens a file or a socket by itself. */
export const ALLOWED_FILTERS: ReadonlySet<string> = new Set([
  // geometry and layout
  'scale',
  'scale2ref',
  'crop',
  'cropdetect',
  'pad',
  'overlay',
  'hflip',
  'vflip',
  'transpose',
  'rotate',
  'setsar',
  'setdar',
  'tile',
  'hstack',
  'vstack',
  'xstack',
  'zoompan',
  'perspective',
  'lenscorrection',
  'v360',
  'fillborders',
  'drawbox',
  'drawgrid',
  // time and frames
  'trim',
  'atrim',
  'setpts',
  'asetpts',
  'settb',
  'asettb',
  'fps',
  'framerate',
  'minterpolate',
  'select',
  'aselect',
  'thumbnail',
  'tpad',
  'apad',
  'loop',
  'aloop',
  'reverse',
  'areverse',
  'atempo',
  'asetrate',
  'asetnsamples',
  'concat',
  'xfade',
  'acrossfade',
  'fade',
  'afade',
  'freezedetect',
  'blackdetect',
  'silencedetect',
  'silenceremove',
  // pixel formats, colour, look
  'format',
  'aformat',
  'colorspace',
  'zscale',
  'tonemap',
  'eq',
  'hue',
  'curves',
  'colorchannelmixer',
  'lutrgb',
  'lutyuv',
  'negate',
  'vignette',
  'noise',
  'chromakey',
  'colorkey',
  'alphamerge',
  'alphaextract',
  'premultiply',
  'blend',
  'geq',
  'lut3d',
  'lut1d',
  'haldclut',
  'palettegen',
  'paletteuse',
  // sharpness, noise, deinterlace
  'boxblur',
  'gblur',
  'avgblur',
  'smartblur',
  'unsharp',
  'hqdn3d',
  'nlmeans',
  'atadenoise',
  'removegrain',
  'deband',
  'deblock',
  'deshake',
  'yadif',
  'bwdif',
  'idet',
  'fieldorder',
  'tinterlace',
  'interlace',
  'telecine',
  // text and subtitles (file options confined, see FILE_OPTIONS)
  'drawtext',
  'subtitles',
  'ass',
  // streams
  'split',
  'asplit',
  'null',
  'anull',
  'amix',
  'amerge',
  'pan',
  'join',
  'channelsplit',
  'channelmap',
  'shuffleplanes',
  'extractplanes',
  'mergeplanes',
  'showinfo',
  'ashowinfo',
  // audio processing
  'aresample',
  'volume',
  'loudnorm',
  'dynaudnorm',
  'acompressor',
  'alimiter',
  'agate',
  'compand',
  'sidechaincompress',
  'highpass',
  'lowpass',
  'equalizer',
  'afftdn',
  'aecho',
  'chorus',
  'flanger',
  'tremolo',
  'vibrato',
  'earwax',
  'stereotools',
  'extrastereo',
  'firequalizer',
  'ebur128',
  'volumedetect',
  'astats',
  // audio visualisation
  'showwaves',
  'showwavespic',
  'showspectrum',
  'showspectrumpic',
  'showfreqs',
  'showcqt',
  'showvolume',
  'avectorscope',
  'aphasemeter',
  // sources (generate frames; read nothing)
  'color',
  'nullsrc',
  'testsrc',
  'testsrc2',
  'anullsrc',
  'sine',
  // hardware frames (NVIDIA; routing: compute.ts)
  'hwupload',
  'hwdownload',
  'hwupload_cuda',
  'scale_cuda',
  'overlay_cuda',
  'yadif_cuda',
  'thumbnail_cuda',
  'chromakey_cuda',
]);

/** Filters refused with a specific reason (everything else unlisted gets the generic one). */
export const FORBIDDEN_FILTERS: Readonly<Record<string, string>> = {
  movie: 'it opens any file or URL named in the graph',
  amovie: 'it opens any file or URL named in the graph',
  sendcmd:
    'it reads commands from a file and can change filter options (e.g. a fontfile) at run time, after the policy check',
  asendcmd:
    'it reads commands from a file and can change filter options (e.g. a fontfile) at run time, after the policy check',
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

/** Filters that need an NVIDIA GPU (compute routing). */
export const CUDA_FILTERS: ReadonlySet<string> = new Set([
  'hwupload_cuda',
  'scale_cuda',
  'scale_npp',
  'overlay_cuda',
  'yadif_cuda',
  'thumbnail_cuda',
  'chromakey_cuda',
]);

// ---------------------------------------------------------------------------------------------
// Checking a parsed graph.

/** A file a filter will open: must resolve to a workspace input (checked by the caller). */
export interface FilterFileRef {
  filter: string;
  option: string;
  /** The option value as the filter receives it (may be a placeholder before substitution). */
  value: string;
  kind: FilterFileKind;
  /** Allowed extensions of the file. */
  extensions: readonly string[];
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

/** A fontconfig family name: no ":" "=" (pattern properties such as file=) nor path characters. */
const FONT_NAME = /^[A-Za-z0-9][A-Za-z0-9 _-]{0,99}$/;
const WORD_VALUE = /^[A-Za-z0-9_.-]{1,64}$/;

/** The option named `key` (or at position `position`) of `filter`, with its decision. */
export function filterOptionDecision(
  filter: string,
  key: string | null,
  position: number | null,
): { name: string; decision: FilterOptionDecision } | { problem: string } {
  const table = FILTER_OPTIONS[filter];
  if (!table) return { problem: `filter "${filter}" has no option table` };
  if (key !== null) {
    const own = table.options.find((e) => e[0] === key) ?? table.child?.find((e) => e[0] === key);
    if (own) return { name: key, decision: own[2] };
    const generic = Object.hasOwn(GENERIC_FILTER_OPTIONS, key) ? GENERIC_FILTER_OPTIONS[key] : undefined;
    if (generic) return { name: key, decision: generic };
    return {
      problem: `filter "${filter}" has no option "${key}" the service allows (options must be spelled exactly as in \`ffmpeg -h filter=${filter}\`)`,
    };
  }
  // Positional value: FFmpeg gives it to the next option in declaration order, skipping
  // aliases (options sharing the previous option's storage).
  const positional = table.options.filter((e) => e[2].alias === undefined);
  const entry = positional[position!];
  if (!entry) return { problem: `filter "${filter}" takes at most ${positional.length} values without a name` };
  // Aliases are recognised from the build's help text (same type and description as the
  // option before). Should one of them not really be an alias, a sensitive option would sit
  // later than computed, up to its raw index: a plain value landing in that window must be
  // given with its name instead.
  if (entry[2].d === 'allow') {
    for (const [raw, e] of table.options.entries()) {
      if (e[2].d === 'allow' || e[2].alias !== undefined) continue;
      const collapsed = positional.indexOf(e);
      if (position! > collapsed && position! <= raw) {
        return { problem: `value #${position! + 1} could reach option "${e[0]}": give it with its option name` };
      }
    }
  }
  return { name: entry[0], decision: entry[2] };
}

export function checkFilterGraph(graph: FilterGraph): FilterGraphCheck {
  const issues: FilterIssue[] = [];
  const fileRefs: FilterFileRef[] = [];
  const filters: string[] = [];
  if (graph.swsFlags !== null && !/^[A-Za-z0-9_+\-|]*$/.test(graph.swsFlags)) {
    issues.push({
      rule: 'filter-option-not-allowed',
      token: graph.swsFlags,
      message: `sws_flags "${graph.swsFlags}" is not a list of scaler flags`,
    });
  }
  for (const f of filtersOf(graph)) {
    filters.push(f.name);
    const forbidden =
      FORBIDDEN_FILTERS[f.name] ?? (f.name.startsWith('dnn_') ? 'it loads a model file by path' : undefined);
    if (forbidden) {
      issues.push({
        rule: 'filter-not-allowed',
        token: f.name,
        message: `filter "${f.name}" is not allowed: ${forbidden}`,
      });
      continue;
    }
    if (!ALLOWED_FILTERS.has(f.name) || !FILTER_OPTIONS[f.name]) {
      issues.push({
        rule: 'filter-not-allowed',
        token: f.name,
        message: `filter "${f.name}" is not allowed: it is not in the service's filter allowlist`,
      });
      continue;
    }
    if (f.optionsError !== null) {
      issues.push({
        rule: 'filtergraph-syntax',
        token: f.args ?? f.name,
        message: `options of filter "${f.name}" could not be parsed: ${f.optionsError}`,
      });
      continue;
    }
    for (const o of f.options) {
      if (o.key !== null && o.key.startsWith('/')) {
        issues.push({
          rule: 'file-valued-option',
          token: o.key,
          message: `filter option "${f.name}=${o.key}" is not allowed: "/option" loads the option's value from a file`,
        });
        continue;
      }
      const found = filterOptionDecision(f.name, o.key, o.position);
      if ('problem' in found) {
        issues.push({
          rule: 'filter-option-not-allowed',
          token: o.key ?? o.value,
          message: `option ${o.key === null ? `value "${o.value}"` : `"${o.key}"`} of filter "${f.name}" is not allowed: ${found.problem}`,
        });
        continue;
      }
      const { name, decision } = found;
      const where = `option "${name}" of filter "${f.name}"`;
      if (decision.d === 'file') {
        const spec = FILTER_FILE_KINDS[decision.kind];
        fileRefs.push({
          filter: f.name,
          option: name,
          value: o.value,
          kind: decision.kind,
          extensions: spec.extensions,
        });
        continue;
      }
      if (decision.d === 'refuse') {
        issues.push({
          rule: 'filter-option-not-allowed',
          token: `${name}=${o.value}`,
          message: `${where} is not allowed: ${decision.reason}`,
        });
        continue;
      }
      const ph = findPlaceholders(o.value);
      if (ph.length > 0) {
        issues.push({
          rule: 'placeholder-position',
          token: ph[0]!.text,
          message: `placeholder "${ph[0]!.text}" is not allowed in ${where}: inside a filtergraph, placeholders may only name a file a filter reads (e.g. subtitles=, drawtext fontfile=, lut3d file=)`,
        });
        continue;
      }
      if (decision.d === 'font-name' && !FONT_NAME.test(o.value)) {
        issues.push({
          rule: 'filter-option-value',
          token: o.value,
          message: `value "${o.value}" of ${where} is not allowed: give a font family name (letters, digits, space, "_", "-"), or a font file with fontfile=`,
        });
      } else if (decision.d === 'word' && !WORD_VALUE.test(o.value)) {
        issues.push({
          rule: 'filter-option-value',
          token: o.value,
          message: `value "${o.value}" of ${where} is not allowed: expected a name (letters, digits, ".", "_", "-")`,
        });
      } else if (decision.d === 'enum' && !decision.values.includes(o.value)) {
        issues.push({
          rule: 'filter-option-value',
          token: o.value,
          message: `value "${o.value}" of ${where} is not allowed: allowed values: ${decision.values.join(', ')}`,
        });
      }
    }
  }
  return { issues, fileRefs, filters };
}
