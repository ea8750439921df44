/**
 * Phase 1, tokenize: one command string → its argv (without a leading "ffmpeg"), or why it
 * cannot be one. Checks the shape only: type, length, quoting, argument count and placeholder
 * syntax (`{{`/`<<` that do not form a placeholder are a typo, refused here once).
 */
import { strayPlaceholderSyntax } from '../placeholders.ts';
import { tokenize } from '../tokenize.ts';
import { invalid, type PhaseIssue } from './issue.ts';

/** Longest command string accepted (each command of a chain). */
export const MAX_COMMAND_LENGTH = 16 * 1024;
/** Most arguments one command may have. */
export const MAX_COMMAND_ARGS = 1000;

export type SplitResult = { ok: true; tokens: string[]; issues: PhaseIssue[] } | { ok: false; issues: PhaseIssue[] };

export function splitCommand(cmd: unknown): SplitResult {
  const fail = (rule: string, message: string): SplitResult => ({ ok: false, issues: [invalid(rule, message)] });
  if (typeof cmd !== 'string') return fail('invalid-command', 'each FFmpeg command must be a string');
  if (cmd.length > MAX_COMMAND_LENGTH)
    return fail(
      'command-too-long',
      `the command is ${cmd.length} characters long: at most ${MAX_COMMAND_LENGTH} are allowed`,
    );
  const tk = tokenize(cmd);
  if (!tk.ok) return fail(tk.error.rule, tk.error.message);
  const tokens = tk.tokens;
  if (tokens[0] === 'ffmpeg') tokens.shift();
  if (tokens.length === 0) return fail('empty-command', 'the command has no arguments');
  if (tokens.length > MAX_COMMAND_ARGS)
    return fail(
      'too-many-arguments',
      `the command has ${tokens.length} arguments: at most ${MAX_COMMAND_ARGS} are allowed`,
    );
  const issues: PhaseIssue[] = [];
  for (const t of tokens) {
    const stray = strayPlaceholderSyntax(t);
    if (stray)
      issues.push(
        invalid(
          'malformed-placeholder',
          `"${stray}" in "${t}" is not a well-formed placeholder: use {{alias}} or <<alias>> with letters, digits and "_"`,
        ),
      );
  }
  return { ok: true, tokens, issues };
}
