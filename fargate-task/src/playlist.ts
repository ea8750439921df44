/**
 * Companion files of playlist outputs (HLS / DASH): which files FFmpeg wrote next to a
 * manifest get stored with it. Pure; run-command.ts lists the workspace and uploads.
 *
 * Membership, after every FFmpeg run of the command has finished: a companion is a regular
 * file in the (flat) workspace with a plain name that is not
 *   - a downloaded input,
 *   - a declared output (each is stored on its own),
 *   - read with `-i` by a run of the plan (an intermediate of a chained command, such as a
 *     transcode that a later run packages),
 *   - a file of a sequence output (`seg_%03d.ts` declared as its own output): it is stored,
 *     once, with that output.
 * Segments, variant playlists of a `-var_stream_map` ladder, `-master_pl_name` playlists and
 * DASH init/chunk files all qualify. FFmpeg cannot say which manifest references which file,
 * so with several playlist outputs in one command the whole companion set is attributed to
 * the first of them (plan order): every object is stored and counted exactly once, under the
 * command's prefix where all manifests resolve it. Without a playlist output nothing else is
 * stored: files FFmpeg wrote that no declared output owns (scratch files, two-pass logs,
 * undeclared intermediates) stay in the workspace and are removed with it.
 */
import { sequenceMembers, sequencePattern } from '../../core/command/paths.ts';
import type { CommandPlan } from '../../core/types.ts';

/** Most companion files stored for one command. */
export const MAX_COMPANION_FILES = 2000;
/**
 * Most bytes of companion names (UTF-8, summed) for one command. The names travel in the
 * worker's result (Step Functions task output: 256 KiB), the command item (DynamoDB: 400 KB)
 * and the EventBridge event (256 KB), so they must stay well below those.
 */
export const MAX_COMPANION_NAME_BYTES = 64 * 1024;
/** Companion uploads in flight at once. */
export const COMPANION_UPLOAD_CONCURRENCY = 4;

/** The plain-name shape the parser allows for every workspace file (core/command/paths.ts). */
const PLAIN_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/;

/**
 * alias → companion file names (natural order: seg_2 before seg_10), for the first playlist
 * output of the plan; {} when the plan has none. `files` are the names of the regular files in
 * the workspace once FFmpeg is done.
 */
export function assignCompanions(
  plan: Pick<CommandPlan, 'inputs' | 'outputs' | 'commands'>,
  files: readonly string[],
): Record<string, string[]> {
  const owner = plan.outputs.find((o) => o.playlist === true);
  if (!owner) return {};
  const excluded = new Set<string>([...plan.inputs.map((i) => i.local_name), ...plan.outputs.map((o) => o.local_name)]);
  for (const members of Object.values(assignSequences(plan, files))) for (const m of members) excluded.add(m);
  for (const argv of plan.commands) {
    argv.forEach((arg, i) => {
      if (arg === '-i' && i + 1 < argv.length) excluded.add(argv[i + 1]!);
    });
  }
  const names = files.filter((f) => PLAIN_NAME.test(f) && !excluded.has(f));
  names.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  return { [owner.alias]: names };
}

/**
 * alias → the files each sequence output's pattern matched (frame_%03d.png → frame_001.png,
 * frame_002.png, ... in number order), for every sequence output of the plan. The first is
 * stored as the output itself, the others as its companions.
 */
export function assignSequences(
  plan: Pick<CommandPlan, 'outputs'>,
  files: readonly string[],
): Record<string, string[]> {
  const plain = files.filter((f) => PLAIN_NAME.test(f));
  const out: Record<string, string[]> = {};
  for (const o of plan.outputs) {
    if (o.sequence !== true) continue;
    const pattern = sequencePattern(o.local_name);
    out[o.alias] = pattern ? sequenceMembers(pattern, plain) : [];
  }
  return out;
}

/** Why a companion set cannot be stored (count or name bytes), or null when it can. */
export function companionLimitProblem(names: readonly string[]): string | null {
  if (names.length > MAX_COMPANION_FILES) {
    return `it has ${names.length} segment/companion files, over the limit of ${MAX_COMPANION_FILES}`;
  }
  const bytes = names.reduce((n, name) => n + Buffer.byteLength(name, 'utf8'), 0);
  if (bytes > MAX_COMPANION_NAME_BYTES) {
    return `the names of its ${names.length} segment/companion files total ${bytes} bytes, over the limit of ${MAX_COMPANION_NAME_BYTES}`;
  }
  return null;
}

const CONTENT_TYPES: Record<string, string> = {
  m3u8: 'application/vnd.apple.mpegurl',
  mpd: 'application/dash+xml',
  ts: 'video/mp2t',
  m4s: 'video/iso.segment',
  mp4: 'video/mp4',
  m4v: 'video/mp4',
  m4a: 'audio/mp4',
  cmfv: 'video/mp4',
  cmfa: 'audio/mp4',
  aac: 'audio/aac',
  ac3: 'audio/ac3',
  mp3: 'audio/mpeg',
  webm: 'video/webm',
  vtt: 'text/vtt',
  webvtt: 'text/vtt',
  // files of image sequences
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  bmp: 'image/bmp',
  tif: 'image/tiff',
  tiff: 'image/tiff',
  gif: 'image/gif',
  mkv: 'video/x-matroska',
  wav: 'audio/wav',
  flac: 'audio/flac',
};

/** Content-Type of a companion file, from its extension (players rely on it for segments). */
export function companionContentType(name: string): string {
  const dot = name.lastIndexOf('.');
  return (dot > 0 && CONTENT_TYPES[name.slice(dot + 1).toLowerCase()]) || 'application/octet-stream';
}
