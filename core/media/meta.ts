/**
 * ffprobe JSON (`-print_format json -show_format -show_streams`) → OutputFileMeta fields.
 * Pure: the worker (outputs), store-file and uploads share it. ffprobe gives most numbers as
 * strings ("1.000000", "225408"), frame rates as fractions ("30000/1001", "0/0" for audio) and
 * `format_name` as a comma list ("mov,mp4,m4a,3gp,3g2,mj2").
 */
import type { FileType, OutputFileMeta } from '../types.ts';

export interface ProbeStream {
  codec_type?: string;
  codec_name?: string;
  pix_fmt?: string;
  width?: number;
  height?: number;
  r_frame_rate?: string;
  avg_frame_rate?: string;
  duration?: string;
  bit_rate?: string;
  nb_frames?: string;
  disposition?: { attached_pic?: number; still_image?: number };
}

export interface ProbeFormat {
  format_name?: string;
  duration?: string;
  bit_rate?: string;
  size?: string;
}

export interface ProbeJson {
  streams?: ProbeStream[];
  format?: ProbeFormat;
}

export interface FileFacts {
  fileId: string;
  fileName: string;
  sizeBytes: number;
  /** Default OUTPUT (worker); store-file and uploads pass theirs. */
  storeType?: OutputFileMeta['rendi_store_type'];
}

export type ProbedMeta = Omit<OutputFileMeta, 'storage_url'>;

/** Codecs whose single frame is a picture, not a video. */
const IMAGE_CODECS = new Set([
  'png',
  'mjpeg',
  'jpeg2000',
  'webp',
  'bmp',
  'tiff',
  'gif',
  'apng',
  'jpegls',
  'qoi',
  'pam',
  'ppm',
  'pgm',
  'pbm',
  'targa',
  'sgi',
  'exr',
  'jpegxl',
]);

/** Container names of picture files: image2 (named files), `*_pipe` (probed pictures), gif. */
function isImageFormat(names: string[]): boolean {
  return names.some((n) => n === 'image2' || n.endsWith('_pipe') || n === 'gif' || n === 'apng');
}

const MIME: Record<string, { video?: string; audio?: string; image?: string; other?: string }> = {
  mp4: { video: 'video/mp4', audio: 'audio/mp4' },
  m4a: { video: 'audio/mp4', audio: 'audio/mp4' },
  m4v: { video: 'video/x-m4v' },
  mov: { video: 'video/quicktime', audio: 'video/quicktime' },
  webm: { video: 'video/webm', audio: 'audio/webm' },
  matroska: { video: 'video/x-matroska', audio: 'audio/x-matroska' },
  mkv: { video: 'video/x-matroska', audio: 'audio/x-matroska' },
  mka: { video: 'audio/x-matroska', audio: 'audio/x-matroska' },
  mp3: { audio: 'audio/mpeg' },
  wav: { audio: 'audio/wav' },
  flac: { audio: 'audio/flac' },
  ogg: { video: 'video/ogg', audio: 'audio/ogg' },
  oga: { audio: 'audio/ogg' },
  ogv: { video: 'video/ogg' },
  opus: { audio: 'audio/ogg' },
  aac: { audio: 'audio/aac' },
  adts: { audio: 'audio/aac' },
  ac3: { audio: 'audio/ac3' },
  aiff: { audio: 'audio/aiff' },
  avi: { video: 'video/x-msvideo', audio: 'video/x-msvideo' },
  mpegts: { video: 'video/mp2t', audio: 'video/mp2t' },
  ts: { video: 'video/mp2t', audio: 'video/mp2t' },
  flv: { video: 'video/x-flv', audio: 'video/x-flv' },
  '3gp': { video: 'video/3gpp', audio: 'audio/3gpp' },
  mpeg: { video: 'video/mpeg', audio: 'audio/mpeg' },
  mpg: { video: 'video/mpeg' },
  gif: { image: 'image/gif', video: 'image/gif' },
  png: { image: 'image/png', video: 'video/apng' },
  apng: { image: 'image/apng', video: 'image/apng' },
  jpeg: { image: 'image/jpeg' },
  jpg: { image: 'image/jpeg' },
  webp: { image: 'image/webp' },
  bmp: { image: 'image/bmp' },
  tiff: { image: 'image/tiff' },
  tif: { image: 'image/tiff' },
  hls: {
    other: 'application/vnd.apple.mpegurl',
    video: 'application/vnd.apple.mpegurl',
    audio: 'application/vnd.apple.mpegurl',
  },
  m3u8: {
    other: 'application/vnd.apple.mpegurl',
    video: 'application/vnd.apple.mpegurl',
    audio: 'application/vnd.apple.mpegurl',
  },
  mpd: { other: 'application/dash+xml' },
  srt: { other: 'application/x-subrip' },
  webvtt: { other: 'text/vtt' },
  vtt: { other: 'text/vtt' },
  ass: { other: 'text/x-ssa' },
  txt: { other: 'text/plain' },
  json: { other: 'application/json' },
};

function toNumber(raw: string | number | undefined | null): number | null {
  if (raw === undefined || raw === null) return null;
  if (typeof raw === 'number') return Number.isFinite(raw) ? raw : null;
  const t = raw.trim();
  if (t === '' || /^n\/?a$/i.test(t)) return null;
  const n = Number(t);
  return Number.isFinite(n) ? n : null;
}

/** "30000/1001" → 29.97; "0/0", "N/A" → null. */
export function parseFrameRate(raw: string | undefined): number | null {
  if (!raw) return null;
  const [a, b] = raw.split('/');
  const num = toNumber(a);
  const den = b === undefined ? 1 : toNumber(b);
  if (num === null || den === null || den === 0 || num <= 0) return null;
  return Math.round((num / den) * 100) / 100;
}

const kb = (bits: number | null) => (bits === null || bits <= 0 ? null : Math.round(bits / 1000));

function extensionOf(fileName: string): string {
  const dot = fileName.lastIndexOf('.');
  return dot > 0 ? fileName.slice(dot + 1).toLowerCase() : '';
}

function fileFormat(names: string[], ext: string, type: FileType, codec: string | null): string | null {
  if (names.length === 0) return ext || null;
  if (ext && names.includes(ext)) return ext;
  if (type === 'image') {
    if (ext && MIME[ext]?.image) return ext;
    const pipe = names.find((n) => n.endsWith('_pipe'));
    if (pipe) return pipe.slice(0, -'_pipe'.length);
    return codec === 'mjpeg' ? 'jpeg' : (codec ?? names[0]!);
  }
  return names[0]!;
}

function mimeType(format: string | null, ext: string, type: FileType): string {
  for (const key of [format, ext]) {
    const entry = key ? MIME[key] : undefined;
    const hit = entry?.[type] ?? entry?.video ?? entry?.audio ?? entry?.image ?? entry?.other;
    if (hit) return hit;
  }
  return 'application/octet-stream';
}

/**
 * The content type a file is most likely stored with, from its name alone (the first of its
 * extension's types: video before audio before image): the worker uploads with it while the
 * probe runs, and corrects it when the probe's mime_type says otherwise.
 */
export function likelyMimeType(fileName: string): string {
  const ext = extensionOf(fileName);
  const entry = MIME[ext];
  return entry?.video ?? entry?.audio ?? entry?.image ?? entry?.other ?? 'application/octet-stream';
}

/**
 * The meta of a probed file. file_type: image for pictures (image2 / `*_pipe` / gif formats,
 * or one picture-codec stream of at most one frame), video when there is a video stream that
 * is not cover art, audio when only audio, else other. Numbers are parsed from ffprobe's
 * strings; bitrates are kbit/s (stream bit_rate, else derived from the container's);
 * size_mbytes is MiB (bytes / 1048576, 6 decimals). file_count is 1: the worker raises it (and
 * size_mbytes) for a playlist output stored with its companion files.
 */
export function toOutputFileMeta(probe: ProbeJson | null | undefined, facts: FileFacts): ProbedMeta {
  const streams = probe?.streams ?? [];
  const format = probe?.format ?? {};
  const names = (format.format_name ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const ext = extensionOf(facts.fileName);
  const video = streams.filter((s) => s.codec_type === 'video' && !s.disposition?.attached_pic);
  const audio = streams.filter((s) => s.codec_type === 'audio');
  const v = video[0];
  const a = audio[0];

  const streamDurations = streams.map((s) => toNumber(s.duration)).filter((d): d is number => d !== null);
  let duration = toNumber(format.duration) ?? (streamDurations.length ? Math.max(...streamDurations) : null);

  let type: FileType = 'other';
  if (v) {
    const fps = parseFrameRate(v.r_frame_rate) ?? parseFrameRate(v.avg_frame_rate);
    const frames = toNumber(v.nb_frames);
    const singleFrame = frames === 1 || duration === null || (fps !== null && duration <= 1 / fps + 1e-6);
    const picture =
      audio.length === 0 &&
      video.length === 1 &&
      (isImageFormat(names) || (IMAGE_CODECS.has(v.codec_name ?? '') && singleFrame));
    type = picture ? 'image' : 'video';
  } else if (a) {
    type = 'audio';
  }

  const primary = type === 'audio' ? a : (v ?? a ?? streams[0]);
  const codec = primary?.codec_name ?? null;
  const file_format = fileFormat(names, ext, type, codec);
  if (type === 'image') duration = null;

  const formatBits = toNumber(format.bit_rate);
  let videoBits = v && type === 'video' ? toNumber(v.bit_rate) : null;
  let audioBits = a ? toNumber(a.bit_rate) : null;
  if (type === 'video' && videoBits === null && formatBits !== null) {
    if (!a) videoBits = formatBits;
    else if (audioBits !== null) videoBits = formatBits - audioBits;
  }
  if (type === 'audio' && audioBits === null && audio.length === 1) audioBits = formatBits;

  return {
    file_id: facts.fileId,
    status: 'STORED',
    rendi_store_type: facts.storeType ?? 'OUTPUT',
    is_deleted: false,
    filename: facts.fileName,
    size_mbytes: Math.round((facts.sizeBytes / 1048576) * 1e6) / 1e6,
    duration,
    file_type: type,
    file_format,
    codec,
    pixel_format: v && type !== 'audio' ? (v.pix_fmt ?? null) : null,
    mime_type: mimeType(file_format, ext, type),
    width: v && type !== 'audio' ? (v.width ?? null) : null,
    height: v && type !== 'audio' ? (v.height ?? null) : null,
    frame_rate: v && type === 'video' ? (parseFrameRate(v.r_frame_rate) ?? parseFrameRate(v.avg_frame_rate)) : null,
    bitrate_video_kb: kb(videoBits),
    bitrate_audio_kb: kb(audioBits),
    file_count: 1,
  };
}
