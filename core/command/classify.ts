/**
 * argv → global options, input files (with their options) and output files (with theirs),
 * the way ffmpeg's own command-line splitter (fftools/cmdutils.c split_commandline) reads it:
 * an argument starting with "-" (and longer than "-") is an option; an option that takes a value
 * consumes the next argument whatever it looks like; `-i X` closes an input; any other argument
 * closes an output. Per-file options apply to the next input or output. The arity of each
 * option comes from the allowlist (options-policy.ts), so values are never mistaken for outputs.
 */
import { ALLOWED_OPTIONS, FORBIDDEN_FLAGS, FORBIDDEN_OPTIONS, type OptionRule } from './options-policy.ts';

export interface OptionUse {
  /** As written, e.g. "-c:v:0". */
  token: string;
  /** Base name, e.g. "c". */
  name: string;
  /** Stream specifier after the first ":", e.g. "v:0". */
  spec: string | null;
  /** `-noNAME` form of a boolean option. */
  negated: boolean;
  value: string | null;
  /** Index of the option in argv (its value is at index + 1). */
  index: number;
  rule: OptionRule;
}

export interface FileUse {
  /** The file argument as written (may hold a placeholder). */
  file: string;
  index: number;
  options: OptionUse[];
}

export interface ClassifyIssue {
  rule: string;
  token: string;
  message: string;
}

export interface ClassifiedCommand {
  globals: OptionUse[];
  inputs: FileUse[];
  outputs: FileUse[];
  issues: ClassifyIssue[];
}

const SPEC = /^[A-Za-z0-9:#_.-]+$/;

export function classifyArgs(argv: readonly string[]): ClassifiedCommand {
  const globals: OptionUse[] = [];
  const inputs: FileUse[] = [];
  const outputs: FileUse[] = [];
  const issues: ClassifyIssue[] = [];
  let pending: OptionUse[] = [];

  for (let i = 0; i < argv.length; i++) {
    const tok = argv[i]!;
    if (!(tok.startsWith('-') && tok.length > 1)) {
      attach(pending, 'output', issues);
      outputs.push({ file: tok, index: i, options: pending });
      pending = [];
      continue;
    }
    if (tok === '--') {
      issues.push({
        rule: 'option-not-allowed',
        token: tok,
        message: `"--" is not allowed: it would make FFmpeg read the next argument as a file name`,
      });
      continue;
    }
    const body = tok.slice(1);
    if (body.startsWith('/')) {
      issues.push({
        rule: 'file-valued-option',
        token: tok,
        message: `option "${tok}" is not allowed: the "-/option" form loads the option's value from a file by path`,
      });
      i++; // it takes a value
      continue;
    }
    const colon = body.indexOf(':');
    const name = colon < 0 ? body : body.slice(0, colon);
    const spec = colon < 0 ? null : body.slice(colon + 1);
    const forbidden = FORBIDDEN_OPTIONS[name];
    let rule = Object.hasOwn(ALLOWED_OPTIONS, name) ? ALLOWED_OPTIONS[name] : undefined;
    let negated = false;
    if (!rule && !forbidden && name.startsWith('no')) {
      const base = name.slice(2);
      const r = Object.hasOwn(ALLOWED_OPTIONS, base) ? ALLOWED_OPTIONS[base] : undefined;
      if (r?.negatable) {
        rule = r;
        negated = true;
      }
    }
    if (forbidden || !rule) {
      issues.push({
        rule: 'option-not-allowed',
        token: tok,
        message: forbidden
          ? `option "${tok}" is not allowed: ${forbidden}`
          : `option "${tok}" is not allowed: it is not in the service's option allowlist (options must be spelled exactly, abbreviations are not accepted)`,
      });
      // Arity unknown: assume a value when the next argument does not look like an option, so
      // one unknown option does not turn its value into a bogus output in later messages.
      const next = argv[i + 1];
      if (!FORBIDDEN_FLAGS.has(name) && next !== undefined && !(next.startsWith('-') && next.length > 1)) i++;
      continue;
    }
    if (spec !== null && (!rule.spec || !SPEC.test(spec))) {
      issues.push({
        rule: 'stream-specifier',
        token: tok,
        message: rule.spec
          ? `stream specifier in "${tok}" is not valid`
          : `option "-${name}" does not take a stream specifier ("${tok}")`,
      });
    }
    let value: string | null = null;
    if (rule.value !== 'flag' && !negated) {
      if (i + 1 >= argv.length) {
        issues.push({ rule: 'missing-value', token: tok, message: `option "${tok}" needs a value` });
        break;
      }
      value = argv[++i]!;
    }
    const use: OptionUse = { token: tok, name, spec, negated, value, index: value === null ? i : i - 1, rule };
    if (rule.scope === 'global') {
      globals.push(use);
    } else if (name === 'i') {
      attach(pending, 'input', issues);
      inputs.push({ file: value!, index: i, options: pending });
      pending = [];
    } else {
      pending.push(use);
    }
  }
  for (const p of pending) {
    issues.push({
      rule: 'trailing-option',
      token: p.token,
      message: `option "${p.token}" is not followed by an input (-i) or an output file, so it would apply to nothing`,
    });
  }
  return { globals, inputs, outputs, issues };
}

function attach(options: OptionUse[], side: 'input' | 'output', issues: ClassifyIssue[]): void {
  for (const o of options) {
    const wrong = side === 'input' ? o.rule.scope === 'output' : o.rule.scope === 'input';
    if (wrong) {
      issues.push({
        rule: 'option-wrong-position',
        token: o.token,
        message: `option "${o.token}" applies to ${o.rule.scope} files only, but here it precedes an ${side === 'input' ? 'input (-i)' : 'output file'}`,
      });
    }
  }
}
