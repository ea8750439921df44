/**
 * Content checks of the files a filter opens by itself (CommandPlan.filter_files): subtitles,
 * LUTs, fonts, text. Filters open them with FFmpeg's default protocol and format lists, by
 * content, so a ".srt" that is really an HLS playlist or a concat list would make FFmpeg
 * follow its references. The worker runs checkFilterFile on each such file before the command
 * that opens it starts; anything that is not plainly of its kind is refused.
 *
 * No I/O here except through the two functions passed in (read the file, probe it with
 * ffprobe restricted to a format whitelist), so the rules are tested directly.
 */
import type { FilterFileKind } from '../command/filter-files.ts';
import type { ProbeJson } from './meta.ts';

export type FilterFileVerdict = { ok: true } | { ok: false; reason: string };

/** Demuxers a subtitle file may be read with (what the subtitles/ass filters accept here). */
export const SUBTITLE_FORMATS: readonly string[] = ['srt', 'ass', 'webvtt', 'matroska', 'webm', 'mov', 'mp4'];
/** Of those, the text formats (their bytes are scanned for reference-following markers). */
const TEXT_SUBTITLE_FORMATS = new Set(['srt', 'ass', 'webvtt']);

/** Largest file of each kind read into memory for the check (containers are only probed). */
export const FILTER_FILE_MAX_BYTES: Readonly<Record<FilterFileKind, number>> = {
  subtitle: 16 * 1024 * 1024,
  lut3d: 32 * 1024 * 1024,
  lut1d: 8 * 1024 * 1024,
  font: 64 * 1024 * 1024,
  text: 64 * 1024,
};

export interface FilterFileIo {
  /** Size in bytes of the workspace file, or null when it is missing or not a regular file. */
  size(localName: string): Promise<number | null>;
  /** The first `max` bytes of the workspace file. */
  read(localName: string, max: number): Promise<Buffer>;
  /** ffprobe of the file with `-protocol_whitelist file -format_whitelist <formats>`; null if refused. */
  probe(localName: string, formats: readonly string[]): Promise<ProbeJson | null>;
}

/** Markers of files that make a demuxer open other files or URLs. */
const REFERENCE_MARKERS: readonly [RegExp, string][] = [
  [/#EXT(M3U|-X-|INF)/i, 'it contains an HLS playlist tag (#EXT…)'],
  [/^\s*ffconcat\b/im, 'it contains an ffconcat header'],
  [/^\s*file\s+\S/im, 'it contains a concat "file" directive'],
  [/<\s*MPD\b/i, 'it contains a DASH manifest'],
  [/<\s*(smil|SMIL)\b/, 'it contains a SMIL document'],
];
const URL_MARKERS: readonly [RegExp, string][] = [
  [/\b[A-Za-z][A-Za-z0-9+.-]*:\/\//, 'it contains a URL'],
  [
    /\b(file|subfile|concat|crypto|data|pipe|fd|cache|async|tee|gopher|unix|tcp|udp|rtmp|srtp?):/i,
    'it names an FFmpeg protocol',
  ],
];

function firstMatch(text: string, markers: readonly [RegExp, string][]): string | null {
  for (const [re, why] of markers) if (re.test(text)) return why;
  return null;
}

function hasControl(text: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text);
}

/** Strict UTF-8 decode (a BOM is allowed); null when the bytes are not UTF-8. */
function utf8(bytes: Buffer): string | null {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return null;
  }
}

/** drawtext textfile: short UTF-8 text, no control characters, no references of any kind. */
export function checkTextFile(bytes: Buffer): FilterFileVerdict {
  const text = utf8(bytes);
  if (text === null) return { ok: false, reason: 'it is not UTF-8 text' };
  if (hasControl(text)) return { ok: false, reason: 'it contains control characters' };
  const why = firstMatch(text, REFERENCE_MARKERS) ?? firstMatch(text, URL_MARKERS);
  return why ? { ok: false, reason: why } : { ok: true };
}

const NUMBER = String.raw`[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?`;
const NUMBERS_LINE = new RegExp(`^${NUMBER}(?:[ \\t,]+${NUMBER})*$`);
/** Keywords of the LUT formats lut3d/lut1d read (.cube, .3dl, .dat, .m3d, .csp), each followed by numbers. */
const LUT_KEYWORDS = new Set([
  'LUT_1D_SIZE',
  'LUT_3D_SIZE',
  'DOMAIN_MIN',
  'DOMAIN_MAX',
  'LUT_1D_INPUT_RANGE',
  'LUT_3D_INPUT_RANGE',
  '3DLUTSIZE',
  'in',
  'out',
]);
const ONE_NUMBER = new RegExp(`^${NUMBER}$`);
const LUT_WORDS = new Set([
  'CSPLUTV100',
  '1D',
  '3D',
  'BEGIN_METADATA',
  'END_METADATA',
  'values',
  'format float',
  'format int',
]);

/** A text LUT: numbers, comments, the formats' keywords and a quoted TITLE; nothing that names another file. */
export function checkLutFile(bytes: Buffer): FilterFileVerdict {
  const text = utf8(bytes);
  if (text === null) return { ok: false, reason: 'it is not a text LUT (not UTF-8 text)' };
  if (hasControl(text)) return { ok: false, reason: 'it contains control characters' };
  const ref = firstMatch(text, REFERENCE_MARKERS) ?? firstMatch(text, URL_MARKERS);
  if (ref) return { ok: false, reason: ref };
  let numbers = 0;
  let inMetadata = false;
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line === 'END_METADATA') {
      inMetadata = false;
      continue;
    }
    if (inMetadata) continue; // .csp metadata is free text (references were refused above)
    if (line === 'BEGIN_METADATA') {
      inMetadata = true;
      continue;
    }
    if (NUMBERS_LINE.test(line)) {
      numbers++;
      continue;
    }
    if (/^TITLE\s+"[^"\\]{0,256}"$/.test(line) || LUT_WORDS.has(line)) continue;
    const [word, ...rest] = line.split(/[ \t]+/);
    if (LUT_KEYWORDS.has(word!) && rest.length > 0 && rest.every((t) => ONE_NUMBER.test(t))) continue;
    return { ok: false, reason: `line ${i + 1} is neither numbers nor a LUT keyword: "${line.slice(0, 60)}"` };
  }
  if (numbers === 0) return { ok: false, reason: 'it holds no LUT values' };
  return { ok: true };
}

/** Font files by their magic bytes: TrueType, OpenType (CFF), TrueType collections, WOFF, WOFF2. */
export function checkFontFile(bytes: Buffer): FilterFileVerdict {
  if (bytes.length < 12) return { ok: false, reason: 'it is too short to be a font' };
  const magic = bytes.subarray(0, 4);
  const known = [
    Buffer.from([0x00, 0x01, 0x00, 0x00]),
    Buffer.from('OTTO'),
    Buffer.from('true'),
    Buffer.from('typ1'),
    Buffer.from('ttcf'),
    Buffer.from('wOFF'),
    Buffer.from('wOF2'),
  ];
  return known.some((k) => k.equals(magic))
    ? { ok: true }
    : { ok: false, reason: 'it is not a TrueType, OpenType, TTC or WOFF font (wrong magic bytes)' };
}

/** ffprobe's format_name (e.g. "mov,mp4,m4a,3gp,3g2,mj2") is one of the kind's formats. */
export function subtitleFormatAllowed(probe: ProbeJson | null): FilterFileVerdict {
  const name = probe?.format?.format_name;
  if (typeof name !== 'string')
    return { ok: false, reason: `it is not a subtitle file FFmpeg reads with one of: ${SUBTITLE_FORMATS.join(', ')}` };
  const names = name.split(',');
  return names.some((n) => SUBTITLE_FORMATS.includes(n))
    ? { ok: true }
    : { ok: false, reason: `it is read as "${name}", not as one of: ${SUBTITLE_FORMATS.join(', ')}` };
}

/** Check one file a filter will open. */
export async function checkFilterFile(
  localName: string,
  kind: FilterFileKind,
  io: FilterFileIo,
): Promise<FilterFileVerdict> {
  const size = await io.size(localName);
  if (size === null) return { ok: false, reason: 'it is missing or not a regular file' };
  if (size === 0) return { ok: false, reason: 'it is empty' };
  const max = FILTER_FILE_MAX_BYTES[kind];
  if (kind !== 'subtitle' && size > max)
    return { ok: false, reason: `it is ${size} bytes, over the ${max} bytes allowed for this kind of file` };
  switch (kind) {
    case 'text':
      return checkTextFile(await io.read(localName, max));
    case 'lut3d':
    case 'lut1d':
      return checkLutFile(await io.read(localName, max));
    case 'font':
      return checkFontFile(await io.read(localName, 16));
    case 'subtitle': {
      const probed = await io.probe(localName, SUBTITLE_FORMATS);
      const format = subtitleFormatAllowed(probed);
      if (!format.ok) return format;
      const names = probed!.format!.format_name!.split(',');
      if (!names.some((n) => TEXT_SUBTITLE_FORMATS.has(n))) return { ok: true };
      if (size > max)
        return { ok: false, reason: `it is ${size} bytes, over the ${max} bytes allowed for a text subtitle file` };
      const text = (await io.read(localName, max)).toString('latin1');
      const why = firstMatch(text, REFERENCE_MARKERS);
      if (why) return { ok: false, reason: why };
      if (/^\s*\[(Fonts|Graphics)\]\s*$/im.test(text))
        return { ok: false, reason: 'it embeds fonts or graphics ([Fonts]/[Graphics] sections are not accepted)' };
      return { ok: true };
    }
  }
}
