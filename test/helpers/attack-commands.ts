/**
 * Commands that abuse filter, muxer and encoder options to read or write files or reach URLs,
 * each with the rule that refuses it, plus legitimate commands of the same options that must
 * stay accepted. Used by test/unit/command/option-policy.test.ts; reusable by HTTP-level tests
 * against a started local mode (POST the request, expect 400 and `rule`/`token` in the message).
 *
 * `inputs` / `outputs` are the request's input_files / output_files. URLs point at
 * 127.0.0.1:9 (discard): nothing should ever connect there.
 */

export interface OptionAttack {
  name: string;
  /** The ffmpeg_command (one) or ffmpeg_commands (chained). */
  commands: string[];
  inputs: Record<string, string>;
  outputs: Record<string, string>;
  /** The violation rule expected. */
  rule: string;
  /** A string the violation message contains (the offending option or value). */
  token: string;
  /** What FFmpeg would do if the option went through. */
  effect: 'write' | 'read' | 'network' | 'nested-options' | 'escape';
}

export interface OptionLegit {
  name: string;
  commands: string[];
  inputs: Record<string, string>;
  outputs: Record<string, string>;
  /** Files the plan must list for the worker's content check (local_name → kind). */
  filterFiles?: Record<string, string>;
}

const V = { in_video: 'https://media.example.com/v.mp4' };
const SUBS = { ...V, in_subs: 'https://media.example.com/s.srt' };
const FONT = { ...V, in_font: 'https://media.example.com/f.ttf' };
const LUT = { ...V, in_lut: 'https://media.example.com/look.cube' };
const TXT = { ...V, in_text: 'https://media.example.com/t.txt' };
const O = { out_video: 'out.mp4' };
const HLS = { out_hls: 'master.m3u8' };

const vf = (
  filter: string,
  inputs: Record<string, string> = V,
  effect: OptionAttack['effect'] = 'read',
  rule = 'filter-option-not-allowed',
  token = filter,
): OptionAttack => ({
  name: `-vf ${filter}`,
  commands: [
    filter.includes("'")
      ? `ffmpeg -i {{in_video}} -vf "${filter}" {{out_video}}`
      : `ffmpeg -i {{in_video}} -vf '${filter}' {{out_video}}`,
  ],
  inputs,
  outputs: O,
  rule,
  token,
  effect,
});

const opt = (
  option: string,
  effect: OptionAttack['effect'],
  rule: string,
  token: string,
  outputs: Record<string, string> = O,
  out = '{{out_video}}',
  inputs: Record<string, string> = V,
): OptionAttack => ({
  name: `${option}`,
  commands: [`ffmpeg -i {{in_video}} ${option} ${out}`],
  inputs,
  outputs,
  rule,
  token,
  effect,
});

export const OPTION_ATTACKS: OptionAttack[] = [
  // --- filter options that write files -------------------------------------------------------
  {
    ...vf('curves=plot=/tmp/ffaas-pwned.gp', V, 'write', 'filter-option-not-allowed', 'plot'),
    name: 'curves plot= writes a file',
  },
  {
    ...vf('curves=preset=vintage:plot=out.mp4', V, 'write', 'filter-option-not-allowed', 'plot'),
    name: 'curves plot= over a workspace file',
  },
  {
    ...vf('paletteuse=debug_kdtree=/tmp/ffaas-kd.dot', V, 'write', 'filter-option-not-allowed', 'debug_kdtree'),
    name: 'paletteuse debug_kdtree= writes a file',
  },
  {
    ...vf('deshake=filename=/tmp/ffaas-deshake.log', V, 'write', 'filter-option-not-allowed', 'filename'),
    name: 'deshake filename= writes a log',
  },
  {
    name: 'firequalizer dumpfile= writes a file',
    commands: ['ffmpeg -i {{in_video}} -af firequalizer=dumpfile=/tmp/ffaas-dump {{out_video}}'],
    inputs: V,
    outputs: O,
    rule: 'filter-option-not-allowed',
    token: 'dumpfile',
    effect: 'write',
  },
  // --- filter options that read files ----------------------------------------------------------
  {
    ...vf('curves=psfile=/etc/passwd', V, 'read', 'filter-option-not-allowed', 'psfile'),
    name: 'curves psfile= reads a file',
  },
  {
    ...vf(
      'curves=none:0/0 1/1:0/0 1/1:0/0 1/1:0/0 1/1:0/0 1/1:/etc/passwd',
      V,
      'read',
      'filter-option-not-allowed',
      'psfile',
    ),
    name: 'curves psfile given by position',
  },
  {
    ...vf('drawtext=fontfile=/etc/passwd:text=x', V, 'read', 'absolute-path', '/etc/passwd'),
    name: 'drawtext fontfile= a host path',
  },
  {
    ...vf('drawtext=textfile=/etc/passwd', V, 'read', 'absolute-path', '/etc/passwd'),
    name: 'drawtext textfile= a host path',
  },
  { ...vf('drawtext=/etc/passwd', V, 'read', 'absolute-path', '/etc/passwd'), name: 'drawtext fontfile by position' },
  {
    ...vf('drawtext=x.ttf:hello:/etc/passwd', V, 'read', 'absolute-path', '/etc/passwd'),
    name: 'drawtext textfile by position',
  },
  {
    ...vf('drawtext=textfile=../../../etc/passwd', V, 'read', 'path-traversal', '../../../etc/passwd'),
    name: 'drawtext textfile= traversal',
  },
  {
    ...vf("drawtext=font='Sans\\:file=/etc/passwd':text=x", V, 'read', 'filter-option-value', 'Sans:file=/etc/passwd'),
    name: 'drawtext font= a fontconfig pattern with file=',
  },
  {
    ...vf("drawtext=textfile='http\\://127.0.0.1\\:9/x.txt'", V, 'network', 'protocol-not-allowed', 'http'),
    name: 'drawtext textfile= a URL',
  },
  { ...vf('subtitles=/etc/passwd', V, 'read', 'absolute-path', '/etc/passwd'), name: 'subtitles a host path' },
  {
    ...vf("subtitles=filename='http\\://127.0.0.1\\:9/x.srt'", V, 'network', 'protocol-not-allowed', 'http'),
    name: 'subtitles filename= a URL',
  },
  {
    ...vf('subtitles=f=/etc/passwd', V, 'read', 'absolute-path', '/etc/passwd'),
    name: 'subtitles f= (alias) a host path',
  },
  {
    ...vf('subtitles={{in_subs}}:fontsdir=/home', SUBS, 'read', 'filter-option-not-allowed', 'fontsdir'),
    name: 'subtitles fontsdir= a host directory',
  },
  {
    ...vf('subtitles={{in_subs}}:none:/home', SUBS, 'read', 'filter-option-not-allowed', 'fontsdir'),
    name: 'subtitles fontsdir by position',
  },
  {
    ...vf('subtitles={{in_subs}}:charenc=../../x', SUBS, 'read', 'filter-option-value', '../../x'),
    name: 'subtitles charenc= a path',
  },
  { ...vf('ass=/etc/passwd', V, 'read', 'absolute-path', '/etc/passwd'), name: 'ass a host path' },
  {
    ...vf("ass=filename='subfile,,start,0,end,10,,\\:/etc/passwd'", V, 'read', 'protocol-not-allowed', 'subfile'),
    name: 'ass filename= the subfile protocol',
  },
  { ...vf('lut3d=file=/etc/passwd', V, 'read', 'absolute-path', '/etc/passwd'), name: 'lut3d file= a host path' },
  { ...vf('lut3d=/etc/passwd', V, 'read', 'absolute-path', '/etc/passwd'), name: 'lut3d file by position' },
  {
    ...vf('lut1d=file=/proc/self/environ', V, 'read', 'absolute-path', '/proc/self/environ'),
    name: 'lut1d file= /proc',
  },
  {
    ...vf('showcqt=axisfile=/etc/passwd', V, 'read', 'filter-option-not-allowed', 'axisfile'),
    name: 'showcqt axisfile= reads an image by path',
  },
  {
    ...vf('showcqt=fontfile=/etc/passwd', V, 'read', 'absolute-path', '/etc/passwd'),
    name: 'showcqt fontfile= a host path',
  },
  {
    ...vf('lut3d={{in_video}}', V, 'read', 'file-type-not-allowed', 'in_video.mp4'),
    name: 'lut3d= an input whose name is not a LUT type',
  },
  {
    ...vf(
      'subtitles={{in_subs}}',
      { ...V, in_subs: 'https://media.example.com/list.m3u8' },
      'network',
      'file-type-not-allowed',
      'in_subs.m3u8',
    ),
    name: 'subtitles= a playlist input',
  },
  {
    ...vf(
      'lut3d={{in_lut}}',
      { ...V, in_lut: 'https://media.example.com/look.txt' },
      'read',
      'file-type-not-allowed',
      'in_lut.txt',
    ),
    name: 'lut3d= an input of the wrong type',
  },
  {
    ...vf(
      'drawtext=fontfile={{in_font}}',
      { ...V, in_font: 'https://media.example.com/f.srt' },
      'read',
      'file-type-not-allowed',
      'in_font.srt',
    ),
    name: 'drawtext fontfile= an input of the wrong type',
  },
  {
    ...vf("subtitles='{{in_subs}}\\,movie=/etc/passwd'", SUBS, 'escape', 'placeholder-position', '{{in_subs}}'),
    name: 'placeholder quoted to smuggle a filter',
  },
  {
    ...vf('subtitles=in_subs_{{in_subs}}', SUBS, 'escape', 'placeholder-position', '{{in_subs}}'),
    name: 'placeholder inside a file name',
  },
  {
    ...vf('scale=640:-2:sws_flags=/etc/passwd:nosuch=1', V, 'read', 'filter-option-not-allowed', 'nosuch'),
    name: 'an option the build does not have',
  },
  {
    ...vf('scale=640:-2:extra_hw_frames=100000', V, 'read', 'filter-option-not-allowed', 'extra_hw_frames'),
    name: 'generic extra_hw_frames',
  },
  {
    ...vf('scale=/w=/etc/passwd', V, 'read', 'file-valued-option', '/w'),
    name: 'filter option loaded from a file (/opt)',
  },
  {
    ...vf('hwupload=derive_device=vaapi', V, 'read', 'filter-option-value', 'vaapi'),
    name: 'hwupload derive_device= another device type',
  },
  {
    ...vf('drawtext=text={{in_video}}', V, 'escape', 'placeholder-position', '{{in_video}}'),
    name: 'placeholder in a non-file option',
  },
  // --- muxer options -----------------------------------------------------------------------------
  opt(
    '-f hls -hls_segment_filename /tmp/ffaas-seg%d.ts',
    'write',
    'absolute-path',
    '/tmp/ffaas-seg%d.ts',
    HLS,
    '{{out_hls}}',
  ),
  opt('-f hls -hls_segment_filename ../seg%d.ts', 'write', 'path-traversal', '../seg%d.ts', HLS, '{{out_hls}}'),
  opt(
    '-f hls -hls_fmp4_init_filename /tmp/init.mp4 -hls_segment_type fmp4',
    'write',
    'absolute-path',
    '/tmp/init.mp4',
    HLS,
    '{{out_hls}}',
  ),
  opt('-f hls -master_pl_name ../master2.m3u8', 'write', 'path-traversal', '../master2.m3u8', HLS, '{{out_hls}}'),
  opt('-f hls -var_stream_map v:0,name:../../x', 'write', 'option-value', '../../x', HLS, 'v%v.m3u8'),
  opt('-f hls -var_stream_map v:0,name:/tmp/x', 'write', 'option-value', '/tmp/x', HLS, 'v%v.m3u8'),
  opt('-f hls -var_stream_map v:0,url:http://x', 'write', 'option-value', 'url', HLS, 'v%v.m3u8'),
  opt('-f hls -hls_base_url http://127.0.0.1:9/', 'network', 'option-not-allowed', '-hls_base_url', HLS, '{{out_hls}}'),
  opt('-f hls -hls_key_info_file /etc/passwd', 'read', 'option-not-allowed', '-hls_key_info_file', HLS, '{{out_hls}}'),
  opt(
    '-f hls -hls_enc 1 -hls_enc_key_url http://127.0.0.1:9/k',
    'network',
    'option-not-allowed',
    '-hls_enc',
    HLS,
    '{{out_hls}}',
  ),
  opt(
    '-f hls -hls_segment_options movflags=+faststart',
    'nested-options',
    'option-not-allowed',
    '-hls_segment_options',
    HLS,
    '{{out_hls}}',
  ),
  opt(
    '-f hls -hls_ts_options mpegts_flags=x',
    'nested-options',
    'option-not-allowed',
    '-hls_ts_options',
    HLS,
    '{{out_hls}}',
  ),
  opt('-f hls -hls_subtitle_path /tmp/x.m3u8', 'write', 'option-not-allowed', '-hls_subtitle_path', HLS, '{{out_hls}}'),
  opt('-f hls -method PUT', 'network', 'option-not-allowed', '-method', HLS, '{{out_hls}}'),
  opt('-f hls -strftime 1', 'write', 'option-not-allowed', '-strftime', HLS, '{{out_hls}}'),
  opt(
    "-f dash -init_seg_name '/tmp/init$RepresentationID$.m4s'",
    'write',
    'option-not-allowed',
    '-init_seg_name',
    { out_dash: 'out.mpd' },
    '{{out_dash}}',
  ),
  opt(
    "-f dash -media_seg_name '../seg$Number$.m4s'",
    'write',
    'option-not-allowed',
    '-media_seg_name',
    { out_dash: 'out.mpd' },
    '{{out_dash}}',
  ),
  opt(
    '-f dash -single_file_name /tmp/x.mp4',
    'write',
    'option-not-allowed',
    '-single_file_name',
    { out_dash: 'out.mpd' },
    '{{out_dash}}',
  ),
  opt(
    '-f dash -hls_playlist 1 -hls_master_name /tmp/m.m3u8',
    'write',
    'option-not-allowed',
    '-hls_playlist',
    { out_dash: 'out.mpd' },
    '{{out_dash}}',
  ),
  opt(
    '-f dash -format_options movflags=x',
    'nested-options',
    'option-not-allowed',
    '-format_options',
    { out_dash: 'out.mpd' },
    '{{out_dash}}',
  ),
  opt(
    '-f dash -utc_timing_url http://127.0.0.1:9/',
    'network',
    'option-not-allowed',
    '-utc_timing_url',
    { out_dash: 'out.mpd' },
    '{{out_dash}}',
  ),
  opt('-f segment -segment_list /tmp/list.csv', 'write', 'absolute-path', '/tmp/list.csv', {}, 'seg%03d.mp4'),
  opt(
    '-f segment -segment_header_filename /tmp/h',
    'write',
    'option-not-allowed',
    '-segment_header_filename',
    {},
    'seg%03d.mp4',
  ),
  opt(
    '-f segment -segment_list_entry_prefix http://127.0.0.1:9/',
    'network',
    'option-not-allowed',
    '-segment_list_entry_prefix',
    {},
    'seg%03d.mp4',
  ),
  opt(
    '-f segment -segment_format_options movflags=x',
    'nested-options',
    'option-not-allowed',
    '-segment_format_options',
    {},
    'seg%03d.mp4',
  ),
  opt('-f segment -segment_format tee', 'write', 'format-not-allowed', 'tee', {}, 'seg%03d.mp4'),
  // --- encoder options ---------------------------------------------------------------------------
  opt('-c:v libx264 -x264-params stats=/tmp/x', 'write', 'option-value', 'stats', O),
  opt('-c:v libx264 -x264-params crf=20:qpfile=/etc/passwd', 'read', 'option-value', 'qpfile', O),
  opt('-c:v libx264 -x264-params nostats=1', 'write', 'option-value', 'nostats', O),
  opt('-c:v libx264 -x264-params dump_yuv=x.yuv', 'write', 'option-value', 'dump_yuv', O),
  opt('-c:v libx264 -x264-params cqmfile=/etc/passwd', 'read', 'option-value', 'cqmfile', O),
  opt(`-c:v libx264 -x264-params "crf=20:'stats'=x"`, 'escape', 'option-value', 'quotes', O),
  opt('-c:v libx264 -x264-params tcfile-in=/etc/passwd', 'read', 'option-value', 'tcfile-in', O),
  opt('-c:v libx264 -x264opts stats=/tmp/x', 'write', 'option-value', 'stats', O),
  opt('-c:v libx265 -x265-params csv=/tmp/x.csv', 'write', 'option-value', 'csv', O),
  opt('-c:v libx265 -x265-params analysis-save=/tmp/a', 'write', 'option-value', 'analysis-save', O),
  opt('-c:v libx265 -x265-params analysis-load=/etc/passwd', 'read', 'option-value', 'analysis-load', O),
  opt('-c:v libx265 -x265-params crf=28:qpfile=/etc/passwd', 'read', 'option-value', 'qpfile', O),
  opt('-c:v libx265 -x265-params unknown-key=1', 'read', 'option-value', 'unknown-key', O),
  opt('-c:v libsvtav1 -svtav1-params stat-file=/tmp/s', 'write', 'option-value', 'stat-file', O),
  opt('-c:v libaom-av1 -aom-params tune=ssim', 'write', 'option-not-allowed', '-aom-params', O),
  opt('-c:v libx264 -pass 1 -passlogfile /tmp/ffaas-pass', 'write', 'absolute-path', '/tmp/ffaas-pass', O),
  opt('-c:v libx264 -pass 1 -passlogfile ../pass', 'write', 'path-traversal', '../pass', O),
  // --- ffmpeg's own file options -------------------------------------------------------------------
  opt('-attach /etc/passwd -metadata:s:t mimetype=text/plain', 'read', 'absolute-path', '/etc/passwd', {
    out_video: 'out.mkv',
  }),
  opt('-dump_attachment:t /tmp/x', 'write', 'option-not-allowed', '-dump_attachment', O),
  opt('-vstats_file /tmp/ffaas-vstats', 'write', 'option-not-allowed', '-vstats_file', O),
  opt('-vstats', 'write', 'option-not-allowed', '-vstats', O),
  opt('-sdp_file /tmp/ffaas.sdp', 'write', 'option-not-allowed', '-sdp_file', O),
  opt('-progress http://127.0.0.1:9/', 'network', 'option-not-allowed', '-progress', O),
  opt('-filter_script /etc/passwd', 'read', 'option-not-allowed', '-filter_script', O),
  opt('-filter_complex_script /etc/passwd', 'read', 'option-not-allowed', '-filter_complex_script', O),
  opt('-/vf /etc/passwd', 'read', 'file-valued-option', '-/vf', O),
  opt('-fpre /etc/passwd', 'read', 'option-not-allowed', '-fpre', O),
  opt('-report', 'write', 'option-not-allowed', '-report', O),
];

export const OPTION_LEGIT: OptionLegit[] = [
  {
    name: 'subtitles= a declared .srt',
    commands: ['ffmpeg -i {{in_video}} -vf subtitles={{in_subs}} {{out_video}}'],
    inputs: SUBS,
    outputs: O,
    filterFiles: { 'in_subs.srt': 'subtitle' },
  },
  {
    name: 'subtitles filename= and f=',
    commands: ["ffmpeg -i {{in_video}} -vf subtitles=f={{in_subs}}:force_style='Fontsize=24' {{out_video}}"],
    inputs: SUBS,
    outputs: O,
    filterFiles: { 'in_subs.srt': 'subtitle' },
  },
  {
    name: 'subtitles from the video itself (embedded track)',
    commands: ['ffmpeg -i {{in_video}} -vf subtitles={{in_video}}:si=0 {{out_video}}'],
    inputs: V,
    outputs: O,
    filterFiles: { 'in_video.mp4': 'subtitle' },
  },
  {
    name: 'ass= a declared .ass',
    commands: ['ffmpeg -i {{in_video}} -vf ass={{in_subs}} {{out_video}}'],
    inputs: { ...V, in_subs: 'https://media.example.com/s.ass' },
    outputs: O,
    filterFiles: { 'in_subs.ass': 'subtitle' },
  },
  {
    name: 'drawtext fontfile= and text=',
    commands: [
      'ffmpeg -i {{in_video}} -vf "drawtext=fontfile={{in_font}}:text=\'Hello world\':x=10:y=10:fontsize=24" {{out_video}}',
    ],
    inputs: FONT,
    outputs: O,
    filterFiles: { 'in_font.ttf': 'font' },
  },
  {
    name: 'drawtext by position',
    commands: ['ffmpeg -i {{in_video}} -vf drawtext={{in_font}}:Hello {{out_video}}'],
    inputs: FONT,
    outputs: O,
    filterFiles: { 'in_font.ttf': 'font' },
  },
  {
    name: 'drawtext textfile=',
    commands: ['ffmpeg -i {{in_video}} -vf drawtext=textfile={{in_text}}:reload=0 {{out_video}}'],
    inputs: TXT,
    outputs: O,
    filterFiles: { 'in_text.txt': 'text' },
  },
  {
    name: 'drawtext font= a family name',
    commands: ['ffmpeg -i {{in_video}} -vf "drawtext=font=\'DejaVu Sans\':text=hi" {{out_video}}'],
    inputs: V,
    outputs: O,
  },
  {
    name: 'lut3d= a .cube',
    commands: ['ffmpeg -i {{in_video}} -vf lut3d={{in_lut}} {{out_video}}'],
    inputs: LUT,
    outputs: O,
    filterFiles: { 'in_lut.cube': 'lut3d' },
  },
  {
    name: 'lut3d file= and interp=',
    commands: ['ffmpeg -i {{in_video}} -vf lut3d=file={{in_lut}}:interp=tetrahedral {{out_video}}'],
    inputs: LUT,
    outputs: O,
    filterFiles: { 'in_lut.cube': 'lut3d' },
  },
  {
    name: 'lut1d= a .cube',
    commands: ['ffmpeg -i {{in_video}} -vf lut1d={{in_lut}} {{out_video}}'],
    inputs: LUT,
    outputs: O,
    filterFiles: { 'in_lut.cube': 'lut1d' },
  },
  {
    name: 'showcqt fontfile=',
    commands: [
      'ffmpeg -i {{in_video}} -filter_complex "[0:a]showcqt=fontfile={{in_font}}:s=640x360[v]" -map "[v]" {{out_video}}',
    ],
    inputs: FONT,
    outputs: O,
    filterFiles: { 'in_font.ttf': 'font' },
  },
  {
    name: 'curves by preset and points',
    commands: ['ffmpeg -i {{in_video}} -vf "curves=preset=vintage,curves=master=\'0/0 0.5/0.6 1/1\'" {{out_video}}'],
    inputs: V,
    outputs: O,
  },
  {
    name: 'curves points by position',
    commands: ['ffmpeg -i {{in_video}} -vf "curves=none:\'0/0 1/1\'" {{out_video}}'],
    inputs: V,
    outputs: O,
  },
  {
    name: 'timeline enable= and scale child options',
    commands: ['ffmpeg -i {{in_video}} -vf "scale=640:-2:flags=lanczos,hflip=enable=\'between(t,1,2)\'" {{out_video}}'],
    inputs: V,
    outputs: O,
  },
  {
    name: 'aresample child options',
    commands: ['ffmpeg -i {{in_video}} -af aresample=48000:async=1 {{out_video}}'],
    inputs: V,
    outputs: O,
  },
  {
    name: 'subtitle file produced by an earlier chained command',
    commands: ['ffmpeg -i {{in_subs}} subs.ass', 'ffmpeg -i {{in_video}} -vf ass=subs.ass {{out_video}}'],
    inputs: SUBS,
    outputs: O,
    filterFiles: { 'subs.ass': 'subtitle' },
  },
  {
    name: 'HLS with segment names and variant names',
    commands: [
      'ffmpeg -i {{in_video}} -map 0:v -map 0:a -f hls -hls_time 4 -hls_segment_filename seg_%v_%03d.ts -var_stream_map "v:0,a:0,name:hd" -master_pl_name {{out_hls}} v_%v.m3u8',
    ],
    inputs: V,
    outputs: HLS,
  },
  {
    name: 'segment muxer with a list',
    commands: ['ffmpeg -i {{in_video}} -f segment -segment_time 2 -segment_list {{out_list}} seg%03d.mp4'],
    inputs: V,
    outputs: { out_list: 'list.m3u8' },
  },
  {
    name: 'x264 params',
    commands: [
      'ffmpeg -i {{in_video}} -c:v libx264 -x264-params keyint=60:min-keyint=60:scenecut=0:no-mbtree=1 {{out_video}}',
    ],
    inputs: V,
    outputs: O,
  },
  {
    name: 'x265 params',
    commands: [
      'ffmpeg -i {{in_video}} -c:v libx265 -x265-params crf=28:no-sao=1:master-display=G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(10000000,1) {{out_video}}',
    ],
    inputs: V,
    outputs: O,
  },
  {
    name: 'svtav1 params',
    commands: ['ffmpeg -i {{in_video}} -c:v libsvtav1 -svtav1-params tune=0:film-grain=8 {{out_video}}'],
    inputs: V,
    outputs: O,
  },
  {
    name: 'two-pass with a workspace log name',
    commands: [
      'ffmpeg -i {{in_video}} -c:v libx264 -pass 1 -passlogfile pass -f null -',
      'ffmpeg -i {{in_video}} -c:v libx264 -pass 2 -passlogfile pass {{out_video}}',
    ],
    inputs: V,
    outputs: O,
  },
  {
    name: 'attach a declared font',
    commands: ['ffmpeg -i {{in_video}} -attach {{in_font}} -metadata:s:t mimetype=font/ttf {{out_mkv}}'],
    inputs: FONT,
    outputs: { out_mkv: 'out.mkv' },
  },
];
