/**
 * Command string → argv, with shell-like quoting and nothing else (docs/SECURITY-POLICY.md layer 1).
 *
 * Supported: whitespace (space, tab) separates words; '…' is literal; "…" is literal except that
 * a backslash escapes `"`, `\`, `$` and a backquote (as in POSIX); outside quotes a backslash
 * makes the next character literal, and backslash-newline is a line continuation (so commands
 * pasted from a terminal over several lines work). Quoted text may contain newlines.
 *
 * Never expanded and never special inside quotes, but an error when unquoted, because in a shell
 * they would do something other than pass text to FFmpeg: `;` `|` `&` (so `&&`, `||`) `<` `>`
 * backquote, `$` (`$VAR`, `${…}`, `$(…)`), newline, carriage return. The one exception is the
 * `<<alias>>` placeholder (docs/API.md), which is read as text. A NUL byte is an error anywhere
 * (it cannot be passed in an argv). Globs (`*`, `?`, `[…]`), `~` and `{a,b}` are plain text here;
 * the path rules refuse them where they would matter.
 */

export class CommandSyntaxError extends Error {
  readonly rule: string;
  /** The offending text, as the user wrote it. */
  readonly token: string;
  /** Offset in the command string. */
  readonly index: number;
  constructor(rule: string, token: string, index: number, message: string) {
    super(message);
    this.name = 'CommandSyntaxError';
    this.rule = rule;
    this.token = token;
    this.index = index;
  }
}

export type TokenizeResult = { ok: true; tokens: string[] } | { ok: false; error: CommandSyntaxError };

const PLACEHOLDER_ANGLE = /^<<\s*[A-Za-z0-9_]+\s*>>/;

function metaError(s: string, i: number): CommandSyntaxError {
  const c = s[i]!;
  const two = s.slice(i, i + 2);
  let token: string = c;
  let what: string;
  if (c === '\n' || c === '\r') {
    token = c === '\n' ? '\\n' : '\\r';
    what = 'an unquoted line break would end the shell command';
  } else if (two === '&&' || two === '||') {
    token = two;
    what = 'chaining shell commands is not supported';
  } else if (c === ';') what = 'it separates shell commands';
  else if (c === '|') what = 'pipes are not supported';
  else if (c === '&') what = 'background jobs are not supported';
  else if (c === '<' || c === '>') {
    token = two === '<<' || two === '>>' ? two : c;
    what = 'redirections are not supported';
  } else if (c === '`') what = 'command substitution is not supported';
  else {
    // '$'
    const m = /^\$(\(|\{|[A-Za-z_][A-Za-z0-9_]*|[0-9?!#@*$-])?/.exec(s.slice(i))!;
    token = m[0];
    what = m[1] === '(' ? 'command substitution is not supported' : 'variable expansion is not supported';
  }
  return new CommandSyntaxError(
    'shell-syntax',
    token,
    i,
    `unquoted "${token}" at offset ${i} is not allowed: ${what} (the command is never run by a shell; quote it if it is meant as text)`,
  );
}

const META = new Set([';', '|', '&', '<', '>', '`', '$', '\n', '\r']);

/** Split a command string into words. Never throws: syntax problems come back as `error`. */
export function tokenize(s: string): TokenizeResult {
  try {
    return { ok: true, tokens: tokenizeCommand(s) };
  } catch (e) {
    if (e instanceof CommandSyntaxError) return { ok: false, error: e };
    // Not reachable by design; stay total anyway.
    return { ok: false, error: new CommandSyntaxError('syntax', '', 0, `command could not be read: ${String(e)}`) };
  }
}

/** Split a command string into words; throws CommandSyntaxError for forbidden shell syntax. */
export function tokenizeCommand(s: string): string[] {
  if (typeof s !== 'string') throw new CommandSyntaxError('syntax', '', 0, 'command must be a string');
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  let i = 0;
  const n = s.length;
  while (i < n) {
    const c = s[i]!;
    if (c === '\0')
      throw new CommandSyntaxError('nul-byte', '\\0', i, `a NUL byte (\\0) at offset ${i} is not allowed`);
    if (c === ' ' || c === '\t') {
      if (inWord) {
        out.push(cur);
        cur = '';
        inWord = false;
      }
      i++;
      continue;
    }
    if (c === "'") {
      const end = s.indexOf("'", i + 1);
      if (end < 0)
        throw new CommandSyntaxError('unterminated-quote', "'", i, `unterminated quote "'" starting at offset ${i}`);
      const body = s.slice(i + 1, end);
      const nul = body.indexOf('\0');
      if (nul >= 0)
        throw new CommandSyntaxError(
          'nul-byte',
          '\\0',
          i + 1 + nul,
          `a NUL byte (\\0) at offset ${i + 1 + nul} is not allowed`,
        );
      cur += body;
      inWord = true;
      i = end + 1;
      continue;
    }
    if (c === '"') {
      const start = i;
      i++;
      for (;;) {
        if (i >= n)
          throw new CommandSyntaxError(
            'unterminated-quote',
            '"',
            start,
            `unterminated quote '"' starting at offset ${start}`,
          );
        const d = s[i]!;
        if (d === '\0')
          throw new CommandSyntaxError('nul-byte', '\\0', i, `a NUL byte (\\0) at offset ${i} is not allowed`);
        if (d === '"') {
          i++;
          break;
        }
        if (d === '\\' && i + 1 < n) {
          const e = s[i + 1]!;
          if (e === '"' || e === '\\' || e === '$' || e === '`') {
            cur += e;
            i += 2;
            continue;
          }
          if (e === '\n') {
            i += 2; // line continuation inside double quotes, as in POSIX
            continue;
          }
        }
        cur += d;
        i++;
      }
      inWord = true;
      continue;
    }
    if (c === '\\') {
      if (i + 1 >= n)
        throw new CommandSyntaxError(
          'dangling-escape',
          '\\',
          i,
          `a backslash at the end of the command escapes nothing`,
        );
      const e = s[i + 1]!;
      if (e === '\0')
        throw new CommandSyntaxError('nul-byte', '\\0', i + 1, `a NUL byte (\\0) at offset ${i + 1} is not allowed`);
      if (e === '\n') {
        i += 2; // line continuation
        continue;
      }
      if (e === '\r' && s[i + 2] === '\n') {
        i += 3;
        continue;
      }
      cur += e;
      inWord = true;
      i += 2;
      continue;
    }
    if (c === '<') {
      const m = PLACEHOLDER_ANGLE.exec(s.slice(i, i + 300));
      if (m) {
        cur += m[0];
        inWord = true;
        i += m[0].length;
        continue;
      }
    }
    if (META.has(c)) throw metaError(s, i);
    cur += c;
    inWord = true;
    i++;
  }
  if (inWord) out.push(cur);
  return out;
}

/** Quote one argument so that tokenizeCommand reads it back unchanged. */
export function quoteArg(arg: string): string {
  if (arg !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Quote an argv into a command string (inverse of tokenizeCommand). */
export function quoteArgv(argv: readonly string[]): string {
  return argv.map(quoteArg).join(' ');
}
