/**
 * Kinds of files a filter may open by itself (a filter option of decision `file`, see
 * filter-options.ts). Filters open these with FFmpeg's default protocol and format lists,
 * outside the forced `-protocol_whitelist`/`-format_whitelist` of `-i`, so each kind pins
 * the workspace file down twice: by name (extension, checked when the command is parsed) and
 * by content (core/media/filter-input-check.ts, run by the worker before FFmpeg starts).
 */

export type FilterFileKind = 'subtitle' | 'lut3d' | 'lut1d' | 'font' | 'text';

export interface FilterFileKindSpec {
  /** Extensions (lower case, no dot) the workspace name must end in. */
  extensions: readonly string[];
  /** What the kind is, for messages. */
  label: string;
}

export const FILTER_FILE_KINDS: Readonly<Record<FilterFileKind, FilterFileKindSpec>> = {
  // .sub is left out: it is also VobSub, whose demuxer opens a companion .idx file.
  subtitle: { extensions: ['srt', 'ass', 'ssa', 'vtt', 'webvtt', 'mkv', 'mp4', 'mov'], label: 'a subtitle file' },
  lut3d: { extensions: ['cube', '3dl', 'dat', 'm3d', 'csp'], label: 'a 3D LUT' },
  lut1d: { extensions: ['cube', 'csp'], label: 'a 1D LUT' },
  font: { extensions: ['ttf', 'otf', 'ttc', 'woff', 'woff2'], label: 'a font' },
  text: { extensions: ['txt', 'text'], label: 'a UTF-8 text file' },
};

/** A workspace file a filter of a planned command opens, and what it must contain. */
export interface PlannedFilterFile {
  /** Index of the command (in CommandPlan.commands) whose filter opens the file. */
  command_index: number;
  /** Workspace name (an input's local name or an earlier command's output). */
  local_name: string;
  kind: FilterFileKind;
  /** e.g. "subtitles filename", for messages. */
  opened_by: string;
}
