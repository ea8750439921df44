/**
 * `{{alias}}` and `<<alias>>` placeholders (docs/API.md: same meaning). Whitespace inside the
 * braces is tolerated (`{{ in_video }}`), as common templating clients emit it.
 */

export const INPUT_ALIAS = /^in_[A-Za-z0-9_]+$/;
export const OUTPUT_ALIAS = /^out_[A-Za-z0-9_]+$/;

const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_]+)\s*\}\}|<<\s*([A-Za-z0-9_]+)\s*>>/g;
/** Left-over braces after the well-formed placeholders are taken out: a typo, refused. */
const STRAY = /\{\{|\}\}|<<|>>/;

export interface PlaceholderRef {
  alias: string;
  /** The placeholder as written, e.g. "{{in_video}}". */
  text: string;
  start: number;
  end: number;
}

export function findPlaceholders(s: string): PlaceholderRef[] {
  const refs: PlaceholderRef[] = [];
  for (const m of s.matchAll(PLACEHOLDER)) {
    refs.push({ alias: (m[1] ?? m[2])!, text: m[0], start: m.index!, end: m.index! + m[0].length });
  }
  return refs;
}

/** A `{{`, `}}`, `<<` or `>>` that is not part of a well-formed placeholder, if any. */
export function strayPlaceholderSyntax(s: string): string | null {
  const rest = s.replace(PLACEHOLDER, '');
  const m = STRAY.exec(rest);
  return m ? m[0] : null;
}

/** If the whole string is exactly one placeholder, its alias. */
export function wholePlaceholder(s: string): string | null {
  const refs = findPlaceholders(s);
  if (refs.length === 1 && refs[0]!.start === 0 && refs[0]!.end === s.length) return refs[0]!.alias;
  return null;
}

/** Replace every placeholder through `resolve` (which returns the workspace file name). */
export function substitutePlaceholders(s: string, resolve: (alias: string) => string): string {
  return s.replace(PLACEHOLDER, (_m, a: string | undefined, b: string | undefined) => resolve((a ?? b)!));
}
