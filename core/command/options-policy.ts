/**
 * The option allowlist, as data (docs/SECURITY-POLICY.md layer 2). An option not listed in ALLOWED_OPTIONS
 * is refused by name; options in FORBIDDEN_OPTIONS are refused with the reason given.
 * Names are matched exactly, as FFmpeg spells them (`ffmpeg -h full`, 5.1); a stream specifier
 * after `:` (`-c:v:0`, `-b:a`, `-metadata:s:a:0`) is split off first. No abbreviations.
 *
 * Kinds of values (what the checker does with them):
 *   flag            no value
 *   number          23, -1, 2.5, 2M, 128k, 0x10
 *   time            90, 1.5, 00:01:02.5, 500ms, -5
 *   word            a name: codec, preset, pixel format, size (1280x720), rate (30000/1001), ratio
 *   text            free text with no file meaning (metadata values, expressions)
 *   filtergraph     parsed and checked by filter-policy.ts
 *   input-file      a workspace input: declared {{in_*}}, or a file an earlier chained command wrote
 *   output-file     a workspace output name: declared {{out_*}} or a plain name
 *   output-pattern  a plain workspace name that may hold %d / %03d / %v (segments, image sequences)
 *   name-prefix     a plain workspace name FFmpeg appends suffixes to (-passlogfile)
 *   format          a muxer (output) or demuxer (input) from the lists below
 *   map             `0:v:0`, `-0:s`, `1:a?`, `[label]`
 *   codecParams     `k=v:k2=v2` for x264/x265/svtav1: only the keys listed in muxer-options.ts
 *   var-stream-map  HLS variants; names become file names, so they are plain words
 *   device-index    a GPU index (digits): device paths are refused
 *   enum / flags    a fixed list of values / `+a-b` combinations of a fixed list
 */

import {
  CODEC_PARAM_KEYS,
  checkVarStreamMap,
  REFUSED_FORMAT_OPTIONS,
  type CodecParamsFamily,
} from './muxer-options.ts';

export type ValueKind =
  | 'flag'
  | 'number'
  | 'time'
  | 'word'
  | 'text'
  | 'filtergraph'
  | 'input-file'
  | 'output-file'
  | 'output-pattern'
  | 'name-prefix'
  | 'format'
  | 'map'
  | 'device-index'
  | 'var-stream-map'
  | { codecParams: CodecParamsFamily }
  | { enum: readonly string[] }
  | { flags: readonly string[] };

/** global: anywhere; input: before -i; output: before an output; file: either. */
export type OptionScope = 'global' | 'input' | 'output' | 'file';

export interface OptionRule {
  value: ValueKind;
  scope: OptionScope;
  /** `-noNAME` is accepted (FFmpeg's boolean options). */
  negatable?: boolean;
  /** Takes a stream specifier (`-NAME:v:0`). */
  spec?: boolean;
}

const G = (value: ValueKind, extra: Partial<OptionRule> = {}): OptionRule => ({ value, scope: 'global', ...extra });
const I = (value: ValueKind, extra: Partial<OptionRule> = {}): OptionRule => ({ value, scope: 'input', ...extra });
const O = (value: ValueKind, extra: Partial<OptionRule> = {}): OptionRule => ({
  value,
  scope: 'output',
  spec: true,
  ...extra,
});
const F = (value: ValueKind, extra: Partial<OptionRule> = {}): OptionRule => ({
  value,
  scope: 'file',
  spec: true,
  ...extra,
});

const HLS_FLAGS = [
  'single_file',
  'temp_file',
  'delete_segments',
  'round_durations',
  'discont_start',
  'omit_endlist',
  'split_by_time',
  'append_list',
  'program_date_time',
  'second_level_segment_index',
  'periodic_rekey',
  'independent_segments',
  'iframes_only',
] as const;
const MOVFLAGS = [
  'rtphint',
  'empty_moov',
  'frag_keyframe',
  'frag_every_frame',
  'separate_moof',
  'frag_custom',
  'isml',
  'faststart',
  'omit_tfhd_offset',
  'disable_chpl',
  'default_base_moof',
  'dash',
  'cmaf',
  'frag_discont',
  'delay_moov',
  'global_sidx',
  'skip_sidx',
  'write_colr',
  'prefer_icc',
  'write_gama',
  'use_metadata_tags',
  'skip_trailer',
  'negative_cts_offsets',
] as const;
/** -fflags: all of FFmpeg 5.1's format flags; none reads or writes files. */
const FFLAGS = [
  'flush_packets',
  'ignidx',
  'genpts',
  'nofillin',
  'noparse',
  'igndts',
  'discardcorrupt',
  'sortdts',
  'fastseek',
  'nobuffer',
  'bitexact',
  'shortest',
  'autobsf',
] as const;

export const ALLOWED_OPTIONS: Readonly<Record<string, OptionRule>> = {
  // --- global ------------------------------------------------------------------------------
  y: G('flag'),
  n: G('flag'),
  hide_banner: G('flag', { negatable: true }),
  loglevel: G('word'),
  v: G('word'),
  stats: G('flag', { negatable: true }),
  benchmark: G('flag'),
  filter_threads: G('number'),
  filter_complex_threads: G('number'),
  filter_complex: G('filtergraph'),
  lavfi: G('filtergraph'),
  copyts: G('flag', { negatable: true }),
  start_at_zero: G('flag', { negatable: true }),
  xerror: G('flag', { negatable: true }),
  ignore_unknown: G('flag'),
  vsync: G('word'),
  // --- input files (before -i) ----------------------------------------------------------------
  i: I('input-file'),
  itsoffset: I('time'),
  sseof: I('time'),
  stream_loop: I('number'),
  re: I('flag'),
  hwaccel: I({ enum: ['cuda', 'nvdec', 'none'] }, { spec: true }),
  hwaccel_output_format: I('word', { spec: true }),
  hwaccel_device: I('device-index', { spec: true }),
  accurate_seek: I('flag', { negatable: true }),
  autorotate: I('flag', { negatable: true, spec: true }),
  probesize: I('number'),
  analyzeduration: I('number'),
  thread_queue_size: I('number'),
  framerate: I('word'),
  video_size: I('word'),
  // --- either side ----------------------------------------------------------------------------
  f: F('format', { spec: false }),
  c: F('word'),
  codec: F('word'),
  t: F('time', { spec: false }),
  to: F('time', { spec: false }),
  ss: F('time', { spec: false }),
  threads: F('number'),
  r: F('word'),
  s: F('word'),
  ar: F('number'),
  ac: F('number'),
  loop: F('number', { spec: false }),
  start_number: F('number', { spec: false }),
  fflags: F({ flags: FFLAGS }, { spec: false }),
  sws_flags: F('word', { spec: false }),
  vcodec: F('word', { spec: false }),
  acodec: F('word', { spec: false }),
  scodec: F('word', { spec: false }),
  ch_layout: F('word'),
  channel_layout: F('word'),
  // --- output files: mapping and metadata ------------------------------------------------------
  map: O('map', { spec: false }),
  map_metadata: O('word'),
  map_chapters: O('number', { spec: false }),
  metadata: O('text'),
  disposition: O('word'),
  an: O('flag', { spec: false }),
  vn: O('flag', { spec: false }),
  sn: O('flag', { spec: false }),
  dn: O('flag', { spec: false }),
  shortest: O('flag', { negatable: true, spec: false }),
  timecode: O('text', { spec: false }),
  max_muxing_queue_size: O('number'),
  fps_mode: O('word'),
  fs: O('number', { spec: false }),
  avoid_negative_ts: O('word', { spec: false }),
  max_interleave_delta: O('number', { spec: false }),
  muxdelay: O('number', { spec: false }),
  muxpreload: O('number', { spec: false }),
  // --- output files: filters ---------------------------------------------------------------------
  vf: O('filtergraph', { spec: false }),
  af: O('filtergraph', { spec: false }),
  filter: O('filtergraph'),
  // --- encoders: rate control and quality (libx264/x265/vpx/aom/svtav1/nvenc AVOptions) -------------
  b: O('number'),
  ab: O('number', { spec: false }),
  maxrate: O('number'),
  minrate: O('number'),
  bufsize: O('number'),
  crf: O('number'),
  qp: O('number'),
  cq: O('number'),
  rc: O('word'),
  q: O('number'),
  qscale: O('number'),
  aq: O('number'),
  qmin: O('number'),
  qmax: O('number'),
  preset: O('word'),
  tune: O('word'),
  profile: O('word'),
  level: O('word'),
  tier: O('word'),
  g: O('number'),
  keyint_min: O('number'),
  sc_threshold: O('number'),
  bf: O('number'),
  refs: O('number'),
  pix_fmt: O('word'),
  aspect: O('word'),
  sample_fmt: O('word'),
  strict: O('word'),
  frames: O('number'),
  vframes: O('number', { spec: false }),
  aframes: O('number', { spec: false }),
  force_key_frames: O('text'),
  flags: O('word'),
  bsf: O('word'),
  tag: O('word'),
  vtag: O('word', { spec: false }),
  atag: O('word', { spec: false }),
  color_primaries: O('word'),
  color_trc: O('word'),
  colorspace: O('word'),
  color_range: O('word'),
  'x264-params': O({ codecParams: 'x264' }),
  x264opts: O({ codecParams: 'x264' }),
  'x265-params': O({ codecParams: 'x265' }),
  'svtav1-params': O({ codecParams: 'svtav1' }),
  pass: O('number'),
  passlogfile: O('name-prefix'),
  // vpx / aom
  'row-mt': O('number'),
  deadline: O('word'),
  'cpu-used': O('number'),
  'tile-columns': O('number'),
  'tile-rows': O('number'),
  'frame-parallel': O('number'),
  'lag-in-frames': O('number'),
  'auto-alt-ref': O('number'),
  speed: O('number'),
  // nvenc
  'rc-lookahead': O('number'),
  'spatial-aq': O('number'),
  'temporal-aq': O('number'),
  'aq-strength': O('number'),
  multipass: O('word'),
  b_ref_mode: O('word'),
  zerolatency: O('number'),
  'no-scenecut': O('number'),
  'forced-idr': O('number'),
  surfaces: O('number'),
  gpu: O('device-index'),
  // audio encoders
  aac_coder: O('word'),
  vbr: O('word'),
  application: O('word'),
  compression_level: O('number'),
  // image encoders
  lossless: O('number'),
  // --- muxers ----------------------------------------------------------------------------------
  movflags: O({ flags: MOVFLAGS }, { spec: false }),
  frag_duration: O('number', { spec: false }),
  min_frag_duration: O('number', { spec: false }),
  frag_size: O('number', { spec: false }),
  brand: O('word', { spec: false }),
  hls_time: O('time', { spec: false }),
  hls_init_time: O('time', { spec: false }),
  hls_list_size: O('number', { spec: false }),
  hls_playlist_type: O({ enum: ['vod', 'event'] }, { spec: false }),
  hls_segment_type: O({ enum: ['mpegts', 'fmp4'] }, { spec: false }),
  hls_segment_filename: O('output-pattern', { spec: false }),
  hls_fmp4_init_filename: O('output-file', { spec: false }),
  hls_flags: O({ flags: HLS_FLAGS }, { spec: false }),
  master_pl_name: O('output-file', { spec: false }),
  var_stream_map: O('var-stream-map', { spec: false }),
  seg_duration: O('time', { spec: false }),
  use_template: O('number', { spec: false }),
  use_timeline: O('number', { spec: false }),
  adaptation_sets: O('text', { spec: false }),
  single_file: O('number', { spec: false }),
  window_size: O('number', { spec: false }),
  segment_time: O('time', { spec: false }),
  segment_times: O('text', { spec: false }),
  segment_format: O('format', { spec: false }),
  segment_list: O('output-file', { spec: false }),
  segment_list_type: O({ enum: ['flat', 'csv', 'ext', 'ffconcat', 'm3u8'] }, { spec: false }),
  reset_timestamps: O('number', { spec: false }),
  segment_start_number: O('number', { spec: false }),
  break_non_keyframes: O('number', { spec: false }),
  update: O('number', { spec: false }),
  final_delay: O('number', { spec: false }),
  id3v2_version: O('number', { spec: false }),
  write_xing: O('number', { spec: false }),
  // --- reading workspace files into the output -------------------------------------------------
  /** Decision: -attach reads a file by path, so only a workspace input is accepted. */
  attach: O('input-file', { spec: false }),
};

/** Refused options, each with the reason shown to the user. */
export const FORBIDDEN_OPTIONS: Readonly<Record<string, string>> = {
  protocol_whitelist: 'the service sets the protocols FFmpeg may open (only "file")',
  protocol_blacklist: 'the service sets the protocols FFmpeg may open (only "file")',
  format_whitelist: 'the service sets the demuxers FFmpeg may use',
  codec_whitelist: 'the service owns the decoder settings',
  max_pixels: 'the service sets the decoded frame size limit',
  dump_attachment: 'it writes files named by the input',
  filter_script: 'it reads a filtergraph from a file by path; put the graph in the command',
  filter_complex_script: 'it reads a filtergraph from a file by path; put the graph in the command',
  sdp_file: 'it writes a file by path',
  vstats: 'it writes a statistics file outside the declared outputs',
  vstats_file: 'it writes a file by path',
  report: 'it writes a log file outside the workspace',
  init_hw_device: 'it opens hardware devices by path; use -hwaccel cuda',
  filter_hw_device: 'it names hardware devices; use -hwaccel cuda or hwupload_cuda',
  vaapi_device: 'it opens a device by path',
  qsv_device: 'it opens a device by path',
  safe: "it switches off the concat demuxer's path checks",
  allowed_extensions: "it switches off the HLS/DASH demuxer's file type checks",
  extension_picky: "it switches off the HLS demuxer's file type checks",
  hls_key_info_file: 'it reads a key file by path',
  strftime: 'it expands output names at run time, after the name checks',
  pattern_type: 'glob patterns can match files the command does not name',
  progress: 'the service owns progress reporting',
  stdin: 'the service runs FFmpeg without standard input',
  nostdin: 'the service adds it itself',
  pre: 'it loads preset files from the file system',
  fpre: 'it loads a preset file by path',
  vpre: 'it loads preset files from the file system',
  apre: 'it loads preset files from the file system',
  spre: 'it loads preset files from the file system',
  method: 'it makes a muxer upload over HTTP',
  headers: 'network options are meaningless: FFmpeg only reads workspace files',
  user_agent: 'network options are meaningless: FFmpeg only reads workspace files',
  cookies: 'network options are meaningless: FFmpeg only reads workspace files',
  http_proxy: 'network options are meaningless: FFmpeg only reads workspace files',
  listen: 'it turns an output into a network server',
  dump: 'it dumps packets to the log',
  hex: 'it dumps packets to the log',
  max_alloc: 'the service owns memory limits',
  cpuflags: 'the service owns CPU settings',
  cpucount: 'the service owns CPU settings',
  timelimit: 'the service owns the run-time limit (max_command_run_seconds)',
  // Muxer, demuxer and encoder options that name files, URLs or nested options (muxer-options.ts).
  ...REFUSED_FORMAT_OPTIONS,
};

/** Refused options that take no value (so the next argument is not swallowed in messages). */
export const FORBIDDEN_FLAGS: ReadonlySet<string> = new Set(['report', 'stdin', 'nostdin', 'dump', 'hex', 'vstats']);

/** Demuxers FFmpeg may use for `-i` inputs: `-f` before `-i`, and the forced -format_whitelist. */
export const DEMUXER_ALLOWLIST: readonly string[] = [
  'mov',
  'mp4',
  'm4a',
  '3gp',
  '3g2',
  'mj2',
  'matroska',
  'webm',
  'mp3',
  'wav',
  'flac',
  'ogg',
  'aac',
  'ac3',
  'eac3',
  'mpegts',
  'mpeg',
  'avi',
  'flv',
  'asf',
  'gif',
  'apng',
  'image2',
  'png_pipe',
  'jpeg_pipe',
  'webp_pipe',
  'bmp_pipe',
  'tiff_pipe',
  'mjpeg',
  'srt',
  'ass',
  'webvtt',
  'h264',
  'hevc',
  'm4v',
  'aiff',
  'w64',
  'caf',
  'amr',
  'mxf',
  'yuv4mpegpipe',
  'rawvideo',
  's16le',
];

/** Muxers `-f` may name for an output. */
export const MUXER_ALLOWLIST: readonly string[] = [
  'mp4',
  'mov',
  'ipod',
  '3gp',
  'matroska',
  'webm',
  'mp3',
  'wav',
  'flac',
  'ogg',
  'oga',
  'opus',
  'adts',
  'ac3',
  'image2',
  'gif',
  'apng',
  'webp',
  'hls',
  'dash',
  'segment',
  'stream_segment',
  'ssegment',
  'null',
  'mpegts',
  'flv',
  'avi',
  'h264',
  'hevc',
  'mjpeg',
  'm4v',
  'rawvideo',
  'srt',
  'ass',
  'webvtt',
  'ffmetadata',
  's16le',
  'f32le',
  'aiff',
  'caf',
];

/** Formats refused with a specific reason (others get the generic "not in the allowlist"). */
export const FORBIDDEN_FORMATS: Readonly<Record<string, string>> = {
  tee: 'the tee muxer writes to any path or URL listed in its target',
  concat: 'the concat demuxer opens every path listed in its file; use the concat filter',
  ffconcat: 'the concat demuxer opens every path listed in its file; use the concat filter',
  hls: 'as an input, the HLS demuxer follows playlist references',
  applehttp: 'the HLS demuxer follows playlist references',
  dash: 'as an input, the DASH demuxer follows manifest references',
  lavfi: 'a lavfi input is a filtergraph (movie=, amovie= read any file); use -filter_complex with source filters',
  sdp: 'an SDP file opens network streams',
  rtp: 'network protocols are not allowed',
  rtsp: 'network protocols are not allowed',
  rtp_mpegts: 'network protocols are not allowed',
  fifo: 'the fifo muxer wraps another muxer with its own target',
  image2pipe: 'pipes are not available: outputs are workspace files',
  pipe: 'pipes are not available',
};

/** x264/x265/SVT-AV1 parameter keys that read or write a file by path. */
export const CODEC_PARAM_FILE_KEYS: ReadonlySet<string> = new Set([
  'stats',
  'cqmfile',
  'dump-yuv',
  'qpfile',
  'tcfile-in',
  'tcfile-out',
  'csv',
  'analysis-save',
  'analysis-load',
  'analysis-reuse-file',
  'scaling-list',
  'lambda-file',
  'zonefile',
  'dolby-vision-rpu',
  'dhdr10-info',
  'recon',
  'input',
  'output',
  'fgs-table',
  'stat-file',
  'input-stat-file',
  'output-stat-file',
  'opencl-clbin',
  'log-file',
  'qpmin-file',
  'pass-stats',
]);

export type ValueCheck = { ok: true } | { ok: false; reason: string };

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+|0x[0-9a-fA-F]+)([eE][+-]?\d+)?([kKMGT]i?)?B?$/;
const TIME = /^[+-]?(\d+:)?(\d+:)?\d+(\.\d*)?(s|ms|us)?$/;
const WORD = /^[A-Za-z0-9_.+\-:,/|=()]*[A-Za-z0-9_.+\-:,|=()]$/;

/** Check a value of a kind that has no file meaning. File kinds are checked by the caller. */
export function checkPlainValue(kind: ValueKind, value: string): ValueCheck {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000b-\u001f\u007f]/.test(value))
    return { ok: false, reason: 'control characters are not allowed' };
  if (typeof kind === 'object') {
    if ('codecParams' in kind) return checkCodecParams(value, kind.codecParams);
    if ('enum' in kind) {
      return kind.enum.includes(value)
        ? { ok: true }
        : { ok: false, reason: `allowed values: ${kind.enum.join(', ')}` };
    }
    const parts = value.split(/[+-]/).filter((p) => p !== '');
    if (!/^[A-Za-z0-9_+-]*$/.test(value) || parts.length === 0)
      return { ok: false, reason: `expected flags like +${kind.flags[0]}` };
    const bad = parts.find((p) => !kind.flags.includes(p));
    return bad
      ? { ok: false, reason: `flag "${bad}" is not allowed (allowed: ${kind.flags.join(', ')})` }
      : { ok: true };
  }
  switch (kind) {
    case 'number':
      return NUMBER.test(value) ? { ok: true } : { ok: false, reason: 'expected a number' };
    case 'time':
      return TIME.test(value) ? { ok: true } : { ok: false, reason: 'expected a time ([-][HH:]MM:SS[.m] or seconds)' };
    case 'word':
      return value.length <= 256 && WORD.test(value) && !value.includes('//')
        ? { ok: true }
        : { ok: false, reason: 'expected a name, size or rate (letters, digits and . _ + - : , | = ( ) /)' };
    case 'text':
      return value.length <= 4096 ? { ok: true } : { ok: false, reason: 'text values are at most 4096 characters' };
    case 'device-index':
      return /^\d{1,2}$/.test(value)
        ? { ok: true }
        : { ok: false, reason: 'only a GPU index (e.g. 0) is accepted, not a device path' };
    case 'map':
      return /^-?(\d+(:[^\s,]*)?|\[[A-Za-z0-9_.:-]+\])\??$/.test(value)
        ? { ok: true }
        : { ok: false, reason: 'expected an input stream (0:v:0, -0:s, 1:a?) or a filtergraph label ([out])' };
    case 'var-stream-map':
      return checkVarStreamMap(value);
    default:
      return { ok: true };
  }
}

/**
 * `key=value:key2=value2` (x264/x265/svtav1), as av_dict_parse_string reads it. Quotes and
 * backslashes are refused (FFmpeg would unescape them, so the pairs could split differently
 * from what is checked here); each key must be in the family's allowlist (muxer-options.ts),
 * and a key that names a file is refused with that reason.
 */
export function checkCodecParams(value: string, family: CodecParamsFamily = 'x264'): ValueCheck {
  if (value.length > 2048) return { ok: false, reason: 'parameters are at most 2048 characters' };
  if (/['"\\]/.test(value)) return { ok: false, reason: 'quotes and backslashes are not allowed in codec parameters' };
  for (const pair of value.split(':')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const rawKey = eq < 0 ? pair : pair.slice(0, eq);
    const v = eq < 0 ? '' : pair.slice(eq + 1);
    if (!/^[A-Za-z0-9_-]+$/.test(rawKey)) return { ok: false, reason: `parameter name "${rawKey}" is not valid` };
    const key = rawKey.replace(/_/g, '-');
    const bare = key.toLowerCase().replace(/^no-?/, '');
    if (CODEC_PARAM_FILE_KEYS.has(key.toLowerCase()) || CODEC_PARAM_FILE_KEYS.has(bare)) {
      return { ok: false, reason: `parameter "${rawKey}" reads or writes a file by path` };
    }
    if (!CODEC_PARAM_KEYS[family].has(key)) {
      return { ok: false, reason: `parameter "${rawKey}" is not in the service's ${family} parameter allowlist` };
    }
    if (!/^[A-Za-z0-9_.,+=()|-]*$/.test(v) || v.includes('..'))
      return { ok: false, reason: `parameter value "${v}" is not allowed (letters, digits and . , + - = ( ) | only)` };
  }
  return { ok: true };
}
