/**
 * Workspace file names (docs/SECURITY-POLICY.md layer 3). Every file FFmpeg reads or writes is a plain name
 * in the command's workspace (its cwd). Names are restricted to a small character set so that
 * they can be substituted into argv AND into filtergraph option values without any escaping
 * (a name with `,` `;` `:` `'` `[` or `\` could otherwise change the meaning of a filtergraph).
 */

/** Longest workspace file name we accept (file systems allow 255 bytes). */
export const MAX_FILE_NAME_LENGTH = 200;

/** Characters of a plain workspace name. */
const PLAIN_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Sequence patterns FFmpeg expands in output names: `%d`, `%03d` (image2, segment, hls
 * segments) and `%v` (hls variant streams). `%%` is a literal percent.
 */
const PATTERN = /%(?:0?[1-9]?[0-9]?d|v|%)/g;

export interface PathProblem {
  rule: string;
  reason: string;
}

/** Why `name` is not a plain workspace file name, or null when it is one. */
export function pathProblem(name: string, opts: { allowPattern?: boolean } = {}): PathProblem | null {
  if (name.length === 0) return { rule: 'empty-file-name', reason: 'a file name cannot be empty' };
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name))
    return { rule: 'control-character', reason: 'file names cannot contain control characters' };
  const proto = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(name);
  if (proto) {
    return {
      rule: 'protocol-not-allowed',
      reason: `the "${proto[1]!.toLowerCase()}:" protocol is not allowed; inputs are downloaded by the service and FFmpeg only reads and writes workspace files`,
    };
  }
  // FFmpeg also reads "subfile,,start,N,end,M,,:path" as the subfile protocol.
  if (/^subfile,/i.test(name)) return { rule: 'protocol-not-allowed', reason: 'the "subfile" protocol is not allowed' };
  if (name.startsWith('/'))
    return {
      rule: 'absolute-path',
      reason: 'absolute paths are not allowed; use a declared alias or a workspace file name',
    };
  if (name.startsWith('~')) return { rule: 'home-path', reason: 'home-directory paths are not allowed' };
  if (name.includes('\\')) return { rule: 'backslash', reason: 'backslashes are not allowed in file names' };
  if (name.split('/').includes('..') || name === '..')
    return { rule: 'path-traversal', reason: '".." is not allowed in file names' };
  if (/%[0-9A-Fa-f]{2}/.test(name.replace(PATTERN, ''))) {
    return { rule: 'url-encoding', reason: 'percent-encoded characters are not allowed in file names' };
  }
  if (name.includes(':'))
    return {
      rule: 'protocol-not-allowed',
      reason: 'file names cannot contain ":" (FFmpeg would read it as a protocol)',
    };
  if (name.includes('/'))
    return { rule: 'subdirectory', reason: 'file names cannot contain "/": the workspace is flat' };
  if (name.startsWith('-'))
    return { rule: 'file-name-dash', reason: 'file names cannot start with "-" (FFmpeg would read an option)' };
  if (name.startsWith('.')) return { rule: 'hidden-file', reason: 'file names cannot start with "."' };
  if (name.length > MAX_FILE_NAME_LENGTH)
    return { rule: 'file-name-too-long', reason: `file names are at most ${MAX_FILE_NAME_LENGTH} characters` };
  const withoutPatterns = name.replace(PATTERN, 'N');
  if (withoutPatterns !== name) {
    if (!opts.allowPattern) {
      return {
        rule: 'file-name-pattern',
        reason:
          'sequence patterns (%d, %03d, %v) are only allowed in undeclared intermediate outputs and segment names',
      };
    }
  }
  if (withoutPatterns.includes('%'))
    return { rule: 'url-encoding', reason: 'a "%" that is not a %d / %0Nd / %v sequence pattern is not allowed' };
  if (!PLAIN_NAME.test(withoutPatterns)) {
    return { rule: 'file-name-characters', reason: 'file names may only contain letters, digits, ".", "_" and "-"' };
  }
  return null;
}

/** Whether a name contains a sequence pattern (so FFmpeg writes several files). */
export function hasPattern(name: string): boolean {
  return name.replace(PATTERN, '') !== name;
}

/**
 * Extension of an input URL's path: lowercased, only [a-z0-9]{1,8}; anything else → none.
 * `https://x/a/clip.MP4?sig=1` → ".mp4"; `https://x/download` → "".
 */
export function urlExtension(url: string): string {
  let pathname: string;
  try {
    pathname = new URL(url).pathname;
  } catch {
    return '';
  }
  const last = pathname.split('/').pop() ?? '';
  const dot = last.lastIndexOf('.');
  if (dot <= 0 && !(dot === 0 && last.length > 1)) return '';
  const ext = last.slice(dot + 1).toLowerCase();
  return /^[a-z0-9]{1,8}$/.test(ext) ? `.${ext}` : '';
}

/** Local (workspace) name of an input: `<alias><ext>`. */
export function inputLocalName(alias: string, url: string): string {
  return `${alias}${urlExtension(url)}`;
}

/** Lower-case extension of a workspace name (without the dot), or "". */
export function fileExtension(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot + 1).toLowerCase() : '';
}

/**
 * A declared output whose name is a sequence pattern (`frame_%03d.png`, `seg_%d.ts`): FFmpeg
 * writes several files (image2, segment muxers) and the worker stores them all under the alias.
 * Exactly one `%d` or `%0Nd` and no other `%` (no `%v`, no `%%`), so the files it can match are
 * plain workspace names and nothing else.
 */
export interface SequencePattern {
  prefix: string;
  /** Minimum digits of the number (`%03d` → 3, `%d` → 1). FFmpeg writes more when it must. */
  width: number;
  suffix: string;
}

/** The sequence pattern of a name, or null when it has none or is not a single %d / %0Nd. */
export function sequencePattern(name: string): SequencePattern | null {
  const m = /^([^%]*)%(0?)([1-9]?[0-9]?)d([^%]*)$/.exec(name);
  if (!m) return null;
  return { prefix: m[1]!, width: Math.max(1, Number(m[3] || '1')), suffix: m[4]! };
}

/** Why a declared output name with a `%` is not an acceptable sequence pattern, or null. */
export function sequencePatternProblem(name: string): PathProblem | null {
  if (!name.includes('%')) return null;
  if (sequencePattern(name) === null) {
    return {
      rule: 'file-name-pattern',
      reason: 'an output name may hold one sequence number, written %d or %0Nd (e.g. frame_%03d.png), and no other "%"',
    };
  }
  return null;
}

/**
 * The workspace files a sequence pattern matched, in number order (frame_2 before frame_10).
 * A file matches when it is the prefix, at least `width` digits and the suffix: what FFmpeg's
 * av_get_frame_filename writes for the pattern.
 */
export function sequenceMembers(pattern: SequencePattern, files: readonly string[]): string[] {
  const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`^${escapeRegExp(pattern.prefix)}(\\d{${pattern.width},})${escapeRegExp(pattern.suffix)}$`);
  return files
    .map((f) => ({ f, m: re.exec(f) }))
    .filter((x) => x.m !== null)
    .sort((a, b) => Number(a.m![1]) - Number(b.m![1]) || a.f.localeCompare(b.f))
    .map((x) => x.f);
}
