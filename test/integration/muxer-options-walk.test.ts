/**
 * Muxer, demuxer and encoder options against the real build: every string-, dictionary- or
 * binary-valued AVOption of an allowed muxer/demuxer, of every encoder (`-c` accepts any), and
 * of the generic format/codec contexts either is allowed with a reviewed kind
 * (REVIEWED_STRING_OPTIONS) or is refused; one whose name or description speaks of files,
 * URLs, libraries or nested options must be refused with its own reason (FORBIDDEN_OPTIONS).
 * A new FFmpeg with a new option of that sort fails here until someone decides it.
 */
import { describe, expect, it } from 'vitest';
import {
  ALLOWED_OPTIONS,
  DEMUXER_ALLOWLIST,
  FORBIDDEN_OPTIONS,
  MUXER_ALLOWLIST,
} from '../../core/command/options-policy.ts';
import { REVIEWED_STRING_OPTIONS } from '../../core/command/muxer-options.ts';
import { helpOptions, listed, type HelpOption } from '../helpers/ffmpeg-help.ts';

const STRINGY = new Set(['string', 'dictionary', 'binary']);
const FILE_LIKE = /file|path|url|dir\b|name|lib|plugin|key|options|opts|prefix|list|headers|agent|method|device/i;

function undecided(where: string, options: HelpOption[]): string[] {
  const out: string[] = [];
  for (const o of options) {
    if (!STRINGY.has(o.type)) continue;
    const allowed = Object.hasOwn(ALLOWED_OPTIONS, o.name);
    const refused = Object.hasOwn(FORBIDDEN_OPTIONS, o.name);
    if (allowed && !Object.hasOwn(REVIEWED_STRING_OPTIONS, o.name))
      out.push(`${where} -${o.name} <${o.type}> is allowed but not reviewed`);
    const reviewed = Object.hasOwn(REVIEWED_STRING_OPTIONS, o.name);
    if (!allowed && !refused && !reviewed && FILE_LIKE.test(`${o.name} ${o.help}`))
      out.push(`${where} -${o.name} <${o.type}> ("${o.help}") has no decision`);
  }
  return out;
}

describe('muxer, demuxer and encoder options that can name files have decisions (real ffmpeg)', () => {
  it('every allowed muxer and demuxer exists in the build', () => {
    const muxers = listed('-muxers');
    const demuxers = listed('-demuxers');
    for (const m of MUXER_ALLOWLIST) expect(muxers.has(m), `muxer ${m}`).toBe(true);
    for (const d of DEMUXER_ALLOWLIST) expect(demuxers.has(d), `demuxer ${d}`).toBe(true);
  });

  it('every codec, format and protocol option of the build that could name a file is decided', () => {
    // `ffmpeg -h full` lists the generic contexts and every codec's, format's and protocol's
    // private options in one go; filters come after "AVFilter" (filter-options-walk.test.ts).
    const all = helpOptions('full');
    const firstFilter = all.find((o) => o.sectionName === 'AVFilter')?.section ?? Infinity;
    // Protocols other than file and capture/playback devices cannot be reached (inputs are
    // opened with -protocol_whitelist file and the demuxer allowlist; outputs are plain names).
    const protocols = listed('-protocols');
    const unreachable = (name: string): boolean =>
      / (indev|outdev)$/.test(name) || (protocols.has(name) && name !== 'file');
    const options = all.filter((o) => o.section < firstFilter && !unreachable(o.sectionName));
    expect(options.some((o) => o.sectionName === 'hls muxer' && o.name === 'hls_segment_filename')).toBe(true);
    expect(options.some((o) => o.sectionName === 'libx264' && o.name === 'x264-params')).toBe(true);
    const problems = options.flatMap((o) => undecided(o.sectionName, [o]));
    expect([...new Set(problems)]).toEqual([]);
  });

  it('the file-valued options named in the review are refused or confined', () => {
    for (const name of [
      'hls_key_info_file',
      'hls_base_url',
      'segment_format_options',
      'hls_segment_options',
      'init_seg_name',
      'media_seg_name',
      'single_file_name',
      'segment_header_filename',
      'dump_attachment',
      'vstats_file',
      'sdp_file',
      'progress',
      'filter_script',
      'filter_complex_script',
      'aom-params',
      'omx_libname',
    ]) {
      expect(Object.hasOwn(FORBIDDEN_OPTIONS, name), name).toBe(true);
    }
    expect(ALLOWED_OPTIONS.hls_segment_filename!.value).toBe('output-pattern');
    expect(ALLOWED_OPTIONS.hls_fmp4_init_filename!.value).toBe('output-file');
    expect(ALLOWED_OPTIONS.master_pl_name!.value).toBe('output-file');
    expect(ALLOWED_OPTIONS.segment_list!.value).toBe('output-file');
    expect(ALLOWED_OPTIONS.var_stream_map!.value).toBe('var-stream-map');
    expect(ALLOWED_OPTIONS.passlogfile!.value).toBe('name-prefix');
    expect(ALLOWED_OPTIONS.attach!.value).toBe('input-file');
  });
});
