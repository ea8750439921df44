/**
 * Decisions for muxer, demuxer and encoder options whose values can name files, URLs or nested
 * option sets (issue: "the same for muxer/demuxer and encoder options"). Every string-,
 * dictionary- or binary-valued private option of an allowed muxer or demuxer, and of every
 * encoder in this FFmpeg build, is either allowed with a checked kind (options-policy.ts), in
 * REVIEWED_STRING_OPTIONS (a string with no file meaning), or refused here with its reason;
 * test/integration/muxer-options-walk.test.ts walks the real build and fails otherwise.
 * Numeric and enum options need no entry: an option not in ALLOWED_OPTIONS is refused.
 */

/** Refused muxer/demuxer/encoder options, with the reason shown to the user. */
export const REFUSED_FORMAT_OPTIONS: Readonly<Record<string, string>> = {
  // HLS
  hls_ts_options: 'it passes nested options to the segment muxer, around the option policy',
  hls_segment_options: 'it passes nested options to the segment muxer, around the option policy',
  hls_vtt_options: 'it passes nested options to the WebVTT muxer, around the option policy',
  hls_base_url: 'segment URLs in playlists are relative: the service stores playlists with their segments',
  hls_enc: 'HLS encryption writes key files the service does not manage',
  hls_enc_key: 'HLS encryption writes key files the service does not manage',
  hls_enc_key_url: 'HLS encryption writes key files the service does not manage',
  hls_enc_iv: 'HLS encryption writes key files the service does not manage',
  hls_subtitle_path: 'it names a subtitle playlist by path',
  cc_stream_map: 'closed-caption groups are not offered',
  http_user_agent: 'network options are meaningless: outputs are workspace files',
  http_persistent: 'network options are meaningless: outputs are workspace files',
  http_opts: 'network options are meaningless: outputs are workspace files',
  timeout: 'network options are meaningless: outputs are workspace files',
  ignore_io_errors: 'network options are meaningless: outputs are workspace files',
  // DASH
  single_file_name: 'it names an output file by template; use single_file with the declared output',
  init_seg_name: 'it names files by a $…$ template the workspace-name rules cannot check; the default names are used',
  media_seg_name: 'it names files by a $…$ template the workspace-name rules cannot check; the default names are used',
  utc_timing_url: 'it writes a URL the service does not check into the manifest',
  hls_master_name: 'it names an extra playlist file by path',
  hls_playlist: 'it writes extra playlist files that no declared output owns',
  format_options: 'it passes nested options to the segment muxer, around the option policy',
  // segment
  segment_format_options: 'it passes nested options to the segment muxer, around the option policy',
  segment_header_filename: 'it writes a header file by path',
  segment_list_entry_prefix: 'it writes a URL prefix the service does not check into the list',
  // mp4/mov
  encryption_scheme: 'encryption is not offered',
  encryption_key: 'encryption is not offered',
  encryption_kid: 'encryption is not offered',
  // image2 and protocols
  protocol_opts: 'it passes nested protocol options, around the option policy',
  // encoders
  omx_libname: 'it loads a shared library by path',
  omx_libprefix: 'it loads shared libraries from a path',
  load_plugins: 'it loads encoder plugins',
  'rav1e-params': 'rav1e parameters are not offered (use -c:v libaom-av1 or libsvtav1)',
  'aom-params': 'libaom parameters are not offered: use the -cpu-used, -crf, -row-mt options',
  'ts-parameters': 'it passes a nested key=value list to libvpx',
  // decryption keys and nested options of demuxers (the service decrypts nothing)
  cryptokey: 'decryption is not offered',
  decryption_key: 'decryption is not offered',
  cenc_decryption_key: 'decryption is not offered',
  activation_bytes: 'decryption is not offered',
  audible_key: 'decryption is not offered',
  audible_iv: 'decryption is not offered',
  audible_fixed_key: 'decryption is not offered',
  aa_fixed_key: 'decryption is not offered',
  seg_format_options: 'it passes nested options to a segment demuxer, around the option policy',
  allowed_segment_extensions: 'it switches off the HLS demuxer\'s file type checks',
  assetmaps: 'it names files by path (IMF asset maps)',
  sub_name: 'it names a file by URI (VobSub)',
  ifo_palette: 'it reads a DVD .IFO file by path',
  graph: 'a lavfi device graph can open any file (movie=); use -filter_complex',
  graph_file: 'it reads a filtergraph from a file by path',
  // muxers outside the allowlist, refused by name as well
  format_opts: 'it passes nested options to another muxer (fifo)',
  fifo_options: 'it passes nested options to another muxer (tee)',
  header: 'it writes a header file by path (WebM chunk)',
  cname: 'RTP is not offered',
  mpegts_muxer_options: 'it passes nested options to another muxer (rtp_mpegts)',
  rtp_muxer_options: 'it passes nested options to another muxer (rtp_mpegts)',
  private_key: 'it reads a key file by path (sftp)',
  name: 'it is a muxer-specific name field that is not offered',
};

/**
 * Allowed options whose FFmpeg type is a string (or dictionary) and whose value has no file or
 * URL meaning, each with why; the kind in ALLOWED_OPTIONS still checks the value.
 */
export const REVIEWED_STRING_OPTIONS: Readonly<Record<string, string>> = {
  adaptation_sets: 'DASH adaptation set layout ("id=0,streams=v id=1,streams=a"), no names',
  segment_times: 'a list of times',
  segment_format: 'a muxer name, checked against the muxer allowlist',
  brand: 'a four-character brand',
  tune: 'an encoder tuning name',
  profile: 'an encoder profile name',
  preset: 'an encoder preset name',
  level: 'a codec level',
  deblock: 'two numbers',
  partitions: 'a list of partition names',
  'x264-params': 'parsed: only the keys in X264_PARAM_KEYS',
  x264opts: 'parsed: only the keys in X264_PARAM_KEYS',
  'x265-params': 'parsed: only the keys in X265_PARAM_KEYS',
  'svtav1-params': 'parsed: only the keys in SVTAV1_PARAM_KEYS',
  passlogfile: 'a plain workspace name prefix (kind name-prefix)',
  master_pl_name: 'a workspace output (kind output-file)',
  hls_segment_filename: 'a workspace name pattern (kind output-pattern)',
  hls_fmp4_init_filename: 'a workspace output (kind output-file)',
  segment_list: 'a workspace output (kind output-file)',
  var_stream_map: 'parsed: variant names are plain words (kind var-stream-map)',
  stats: "FFmpeg's own -stats flag (no value) owns the name: libx264's -stats file cannot be set",
  framerate: 'a frame rate (only device demuxers, not allowed here, type it as a string)',
  video_size: 'a size such as 1280x720',
  gpu: 'a GPU index (kind device-index: digits only)',
};

/**
 * Keys of `-x264-params` / `-x264opts`: rate control, analysis and stream flags. Keys that read
 * or write files (stats, qpfile, cqmfile, dump-yuv, tcfile-in/out, …) are absent, so refused.
 * Matched exactly after "_" → "-"; x264 also strips a "no"/"no-" prefix, so listed "no-" forms
 * only negate listed keys.
 */
export const X264_PARAM_KEYS: ReadonlySet<string> = new Set([
  'keyint', 'min-keyint', 'keyint-min', 'scenecut', 'no-scenecut', 'intra-refresh', 'bframes', 'b-adapt',
  'b-bias', 'b-pyramid', 'open-gop', 'bluray-compat', 'ref', 'deblock', 'no-deblock', 'cabac', 'no-cabac',
  'slices', 'slice-max-size', 'slice-max-mbs', 'slices-max', 'interlaced', 'tff', 'bff', 'constrained-intra',
  'pulldown', 'fake-interlaced', 'frame-packing', 'crf', 'crf-max', 'qp', 'bitrate', 'vbv-maxrate',
  'vbv-bufsize', 'vbv-init', 'qpmin', 'qpmax', 'qpstep', 'ratetol', 'ipratio', 'pbratio', 'chroma-qp-offset',
  'aq-mode', 'aq-strength', 'mbtree', 'no-mbtree', 'rc-lookahead', 'qcomp', 'cplxblur', 'qblur', 'zones',
  'partitions', 'direct', 'weightb', 'no-weightb', 'weightp', 'me', 'merange', 'mvrange', 'mvrange-thread',
  'subme', 'psy-rd', 'psy', 'no-psy', 'mixed-refs', 'no-mixed-refs', 'chroma-me', 'no-chroma-me', '8x8dct',
  'no-8x8dct', 'trellis', 'fast-pskip', 'no-fast-pskip', 'dct-decimate', 'no-dct-decimate', 'nr',
  'deadzone-inter', 'deadzone-intra', 'cqm', 'threads', 'lookahead-threads', 'sliced-threads',
  'sync-lookahead', 'force-cfr', 'level', 'profile', 'preset', 'tune', 'overscan', 'videoformat', 'range',
  'colorprim', 'transfer', 'colormatrix', 'chromaloc', 'alternative-transfer', 'nal-hrd', 'filler', 'aud',
  'sar', 'fps', 'annexb', 'repeat-headers', 'pic-struct', 'stitchable', 'avcintra-class', 'mastering-display',
  'cll', 'ssim', 'psnr', 'fullrange', 'keyint-max', 'opengop', 'no-opengop',
]);

/** Keys of `-x265-params` (analysis-save/load, csv, qpfile, dump-yuv, recon, stats, … are absent). */
export const X265_PARAM_KEYS: ReadonlySet<string> = new Set([
  'preset', 'tune', 'profile', 'level-idc', 'high-tier', 'no-high-tier', 'ctu', 'min-cu-size', 'max-tu-size',
  'tu-intra-depth', 'tu-inter-depth', 'limit-tu', 'rect', 'no-rect', 'amp', 'no-amp', 'early-skip',
  'no-early-skip', 'rskip', 'fast-intra', 'b-intra', 'cu-lossless', 'tskip', 'tskip-fast', 'rd', 'rdoq-level',
  'psy-rd', 'psy-rdoq', 'ssim-rd', 'aq-mode', 'aq-strength', 'hevc-aq', 'qg-size', 'cutree', 'no-cutree',
  'rc-lookahead', 'lookahead-slices', 'lookahead-threads', 'scenecut', 'no-scenecut', 'scenecut-bias',
  'hist-scenecut', 'radl', 'keyint', 'min-keyint', 'open-gop', 'no-open-gop', 'gop-lookahead', 'bframes',
  'bframe-bias', 'b-adapt', 'b-pyramid', 'no-b-pyramid', 'ref', 'limit-refs', 'limit-modes', 'me', 'subme',
  'merange', 'temporal-mvp', 'weightp', 'no-weightp', 'weightb', 'max-merge', 'strong-intra-smoothing',
  'no-strong-intra-smoothing', 'constrained-intra', 'sao', 'no-sao', 'sao-non-deblock', 'deblock',
  'no-deblock', 'crf', 'crf-min', 'crf-max', 'qp', 'bitrate', 'vbv-maxrate', 'vbv-bufsize', 'vbv-init',
  'qpmin', 'qpmax', 'qpstep', 'ipratio', 'pbratio', 'qcomp', 'cbqpoffs', 'crqpoffs', 'nr-intra', 'nr-inter',
  'colorprim', 'transfer', 'colormatrix', 'range', 'chromaloc', 'sar', 'overscan', 'videoformat',
  'master-display', 'max-cll', 'hdr10', 'hdr10-opt', 'hdr-opt', 'repeat-headers', 'aud', 'hrd', 'info',
  'no-info', 'hash', 'log-level', 'frame-threads', 'pools', 'numa-pools', 'wpp', 'no-wpp', 'pmode', 'pme',
  'slices', 'lossless', 'interlace', 'annexb', 'uhd-bd', 'vui-timing-info', 'vui-hrd-info',
  'idr-recovery-sei', 'single-sei', 'pic-struct', 'psnr', 'ssim', 'allow-non-conformance', 'fades',
  'selective-sao', 'splitrd-skip', 'dynamic-rd', 'refine-intra', 'refine-inter', 'limit-sao', 'rc-grain',
  'const-vbv', 'strict-cbr', 'aq-motion', 'frame-dup', 'dup-threshold', 'opt-qp-pps', 'opt-ref-list-length-pps',
  'multi-pass-opt-rps', 'opt-cu-delta-qp', 'chroma-qpoffs', 'keyint-max',
]);

/** Keys of `-svtav1-params` (stat-file, input, output, recon, fgs-table, … are absent). */
export const SVTAV1_PARAM_KEYS: ReadonlySet<string> = new Set([
  'preset', 'crf', 'qp', 'rc', 'tbr', 'mbr', 'buf-sz', 'buf-initial-sz', 'buf-optimal-sz', 'keyint',
  'irefresh-type', 'lookahead', 'scd', 'enable-overlays', 'film-grain', 'film-grain-denoise', 'tune',
  'enable-tf', 'enable-qm', 'qm-min', 'qm-max', 'fast-decode', 'tile-rows', 'tile-columns', 'lp', 'pin',
  'color-primaries', 'transfer-characteristics', 'matrix-coefficients', 'color-range', 'chroma-sample-position',
  'mastering-display', 'content-light', 'aq-mode', 'enable-restoration', 'enable-cdef', 'scm', 'sharpness',
  'hierarchical-levels', 'pred-struct', 'enable-dlf', 'enable-variance-boost', 'variance-boost-strength',
  'variance-octile', 'undershoot-pct', 'overshoot-pct', 'min-qp', 'max-qp', 'bias-pct', 'profile', 'level',
  'enable-tpl-la', 'recode-loop', 'startup-mg-size', 'input-depth', 'avif',
]);

export type CodecParamsFamily = 'x264' | 'x265' | 'svtav1';

export const CODEC_PARAM_KEYS: Readonly<Record<CodecParamsFamily, ReadonlySet<string>>> = {
  x264: X264_PARAM_KEYS,
  x265: X265_PARAM_KEYS,
  svtav1: SVTAV1_PARAM_KEYS,
};

/** var_stream_map keys (libavformat hlsenc.c parse_variant_stream_mapstring). */
const VAR_STREAM_KEYS = new Set(['v', 'a', 's', 'agroup', 'sgroup', 'ccgroup', 'name', 'language', 'default']);

/**
 * `-var_stream_map "v:0,a:0,name:hd v:1,a:1,name:sd"`: each variant's `name` replaces `%v` in
 * output names, so it must be a plain word (no "/", "..", ":"); other values are indexes,
 * group names or language codes.
 */
export function checkVarStreamMap(value: string): { ok: true } | { ok: false; reason: string } {
  if (value.length > 1024) return { ok: false, reason: 'at most 1024 characters' };
  const variants = value.split(/[ \t]+/).filter((v) => v !== '');
  if (variants.length === 0) return { ok: false, reason: 'expected variants like "v:0,a:0 v:1,a:1"' };
  for (const variant of variants) {
    for (const pair of variant.split(',')) {
      const colon = pair.indexOf(':');
      const key = colon < 0 ? pair : pair.slice(0, colon);
      const v = colon < 0 ? '' : pair.slice(colon + 1);
      if (!VAR_STREAM_KEYS.has(key)) return { ok: false, reason: `"${key}" is not a var_stream_map key (${[...VAR_STREAM_KEYS].join(', ')})` };
      if (!/^[A-Za-z0-9_-]{1,32}$/.test(v)) {
        return { ok: false, reason: `value "${v}" of "${key}" must be letters, digits, "_" or "-" (variant names become file names)` };
      }
      if (v.startsWith('-')) return { ok: false, reason: `value "${v}" of "${key}" cannot start with "-"` };
    }
  }
  return { ok: true };
}
