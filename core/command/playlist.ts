/**
 * Playlist outputs (HLS / DASH). FFmpeg writes a manifest plus files it references by relative
 * name (segments, variant playlists, init files); the user declares only the manifest. An
 * output is a playlist when its name ends in .m3u8 or .mpd (RenderIO-style requests) or its
 * alias starts with `out_playlist_` (Rendi's convention); the worker then stores its companion
 * files next to it (fargate-task/src/playlist.ts).
 */

export const PLAYLIST_ALIAS_PREFIX = 'out_playlist_';
export const PLAYLIST_EXTENSIONS = ['.m3u8', '.mpd'] as const;

export function isPlaylistOutput(alias: string, fileName: string): boolean {
  const lower = fileName.toLowerCase();
  return alias.startsWith(PLAYLIST_ALIAS_PREFIX) || PLAYLIST_EXTENSIONS.some((ext) => lower.endsWith(ext));
}
