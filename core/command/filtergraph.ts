/**
 * A filtergraph parser that reads a graph the way libavfilter 5.1 does (graphparser.c,
 * avfilter.c process_options, libavutil av_get_token / av_opt_get_key_value), so the policy
 * sees the filter names and option values FFmpeg will see.
 *
 *   graph   = [ "sws_flags=" flags ";" ] chain { ";" chain }
 *   chain   = filter { "," filter }
 *   filter  = { "[" label "]" } name [ "@" id ] [ "=" args ] { "[" label "]" }
 *
 * Two levels of escaping (FFmpeg filters docs, "Notes on filtergraph escaping"):
 *  1. the graph: `args` is one av_get_token(…, "[],;") — `\x` is x, '…' is literal, outer
 *     whitespace is trimmed;
 *  2. the options: `args` is split into `key=value` pairs on `:`; each value is one more
 *     av_get_token(…, ":"). A value without `key=` is positional: it sets the filter's next
 *     option in declaration order (e.g. `subtitles=a.srt` sets `filename`).
 *
 * Where FFmpeg is lenient (an unterminated quote runs to the end of the string) this parser
 * refuses instead: a policy must never read a graph differently from FFmpeg, and refusing the
 * odd cases is the simplest way to guarantee it.
 */

export interface FilterOption {
  /** Option name as written, or null for a positional value. */
  key: string | null;
  /** Position among the positional values (0-based), when key is null. */
  position: number | null;
  /** The value after both levels of unescaping: what the filter receives. */
  value: string;
}

export interface FilterNode {
  name: string;
  /** The `@id` instance name, if any. */
  id: string | null;
  /** Args after graph-level unescaping (null when the filter has no `=`). */
  args: string | null;
  options: FilterOption[];
  /** Why `args` could not be split into options (FFmpeg would refuse the filter), else null. */
  optionsError: string | null;
  inputs: string[];
  outputs: string[];
}

export interface FilterGraph {
  swsFlags: string | null;
  chains: FilterNode[][];
}

export class FilterGraphError extends Error {
  readonly token: string;
  constructor(message: string, token: string) {
    super(message);
    this.name = 'FilterGraphError';
    this.token = token;
  }
}

export type ParseFilterGraphResult = { ok: true; graph: FilterGraph } | { ok: false; error: FilterGraphError };

const WS = ' \n\t\r';
const LABEL = /^[A-Za-z0-9_.:-]+$/;
const FILTER_NAME = /^([A-Za-z0-9_]+)(?:@([A-Za-z0-9_.-]+))?$/;

interface Cursor {
  s: string;
  pos: number;
}

function skipWs(c: Cursor): void {
  while (c.pos < c.s.length && WS.includes(c.s[c.pos]!)) c.pos++;
}

/** av_get_token: read up to an unescaped, unquoted char of `term`; trims outer whitespace. */
export function getToken(c: Cursor, term: string): string {
  skipWs(c);
  let out = '';
  let end = 0; // length of `out` that must be kept (escaped/quoted text is never trimmed)
  const { s } = c;
  while (c.pos < s.length && !term.includes(s[c.pos]!)) {
    const ch = s[c.pos++]!;
    if (ch === '\\' && c.pos < s.length) {
      out += s[c.pos++]!;
      end = out.length;
    } else if (ch === '\\') {
      throw new FilterGraphError('a backslash at the end of a filtergraph escapes nothing', '\\');
    } else if (ch === "'") {
      const close = s.indexOf("'", c.pos);
      if (close < 0)
        throw new FilterGraphError(`unterminated quote in filtergraph near "${s.slice(c.pos - 1, c.pos + 40)}"`, "'");
      out += s.slice(c.pos, close);
      c.pos = close + 1;
      end = out.length;
    } else {
      out += ch;
    }
  }
  let k = out.length;
  while (k > end && WS.includes(out[k - 1]!)) k--;
  return out.slice(0, k);
}

function parseLinks(c: Cursor): string[] {
  const labels: string[] = [];
  skipWs(c);
  while (c.s[c.pos] === '[') {
    const close = c.s.indexOf(']', c.pos + 1);
    if (close < 0)
      throw new FilterGraphError(`unmatched "[" in filtergraph near "${c.s.slice(c.pos, c.pos + 40)}"`, '[');
    const label = c.s.slice(c.pos + 1, close);
    if (!LABEL.test(label)) {
      throw new FilterGraphError(
        `link label "[${label}]" is not allowed: labels may only contain letters, digits, "_", ".", ":" and "-"`,
        `[${label}]`,
      );
    }
    labels.push(label);
    c.pos = close + 1;
    skipWs(c);
  }
  return labels;
}

/** Level 2: split a filter's args into options (avfilter.c process_options). */
export function parseFilterOptions(args: string): FilterOption[] {
  const options: FilterOption[] = [];
  const c: Cursor = { s: args, pos: 0 };
  let positional = 0;
  let named = false;
  while (c.pos < args.length) {
    // get_key: [A-Za-z0-9/._-]+ then optional whitespace then "="
    let p = c.pos;
    while (p < args.length && WS.includes(args[p]!)) p++;
    const keyStart = p;
    while (p < args.length && /[A-Za-z0-9/._-]/.test(args[p]!)) p++;
    const keyEnd = p;
    while (p < args.length && WS.includes(args[p]!)) p++;
    let key: string | null = null;
    if (p < args.length && args[p] === '=') {
      key = args.slice(keyStart, keyEnd);
      c.pos = p + 1;
      named = true;
    } else if (named) {
      throw new FilterGraphError(
        `option value "${args.slice(c.pos, c.pos + 40)}" has no name: positional values must come before named ones`,
        args.slice(c.pos, c.pos + 40),
      );
    }
    const value = getToken(c, ':');
    if (key !== null) options.push({ key, position: null, value });
    else options.push({ key: null, position: positional++, value });
    if (c.pos < args.length) c.pos++; // the ':' separator
  }
  return options;
}

export function parseFilterGraph(graph: string): ParseFilterGraphResult {
  try {
    return { ok: true, graph: parseFilterGraphOrThrow(graph) };
  } catch (e) {
    if (e instanceof FilterGraphError) return { ok: false, error: e };
    return {
      ok: false,
      error: new FilterGraphError(`filtergraph could not be read: ${String(e)}`, graph.slice(0, 40)),
    };
  }
}

export function parseFilterGraphOrThrow(graph: string): FilterGraph {
  const c: Cursor = { s: graph, pos: 0 };
  skipWs(c);
  let swsFlags: string | null = null;
  if (graph.startsWith('sws_flags=', c.pos)) {
    const semi = graph.indexOf(';', c.pos);
    if (semi < 0) throw new FilterGraphError('"sws_flags=" must be followed by ";" and a filter chain', 'sws_flags=');
    swsFlags = graph.slice(c.pos + 'sws_flags='.length, semi);
    c.pos = semi + 1;
  }
  const chains: FilterNode[][] = [[]];
  for (;;) {
    const inputs = parseLinks(c);
    const nameStart = c.pos;
    const rawName = getToken(c, '=,;[');
    const m = FILTER_NAME.exec(rawName);
    if (!m) {
      const shown = rawName || graph.slice(nameStart, nameStart + 20);
      throw new FilterGraphError(
        rawName ? `"${rawName}" is not a valid filter name` : `expected a filter name in filtergraph near "${shown}"`,
        shown,
      );
    }
    let args: string | null = null;
    if (graph[c.pos] === '=') {
      c.pos++;
      args = getToken(c, '[],;');
    }
    const outputs = parseLinks(c);
    skipWs(c);
    let options: FilterOption[] = [];
    let optionsError: string | null = null;
    try {
      options = args === null ? [] : parseFilterOptions(args);
    } catch (e) {
      if (!(e instanceof FilterGraphError)) throw e;
      optionsError = e.message;
    }
    const node: FilterNode = { name: m[1]!, id: m[2] ?? null, args, options, optionsError, inputs, outputs };
    chains[chains.length - 1]!.push(node);
    const ch = graph[c.pos];
    if (ch === undefined) break;
    c.pos++;
    if (ch === ',') continue;
    if (ch === ';') {
      chains.push([]);
      continue;
    }
    throw new FilterGraphError(`unexpected "${ch}" in filtergraph near "${graph.slice(c.pos - 1, c.pos + 40)}"`, ch);
  }
  return { swsFlags, chains };
}

/** Every filter of a graph, in order. */
export function filtersOf(graph: FilterGraph): FilterNode[] {
  return graph.chains.flat();
}
