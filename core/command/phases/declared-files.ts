/**
 * Phase 3a, placeholders: the declared files of a request (input_files, output_files) → the
 * table every `{{alias}}` resolves through. Input aliases get their workspace name from the
 * URL (paths.ts inputLocalName); output names must be plain, unique workspace names that do not
 * collide with an input. Problems carry their own path (["input_files", alias], ...).
 */
import { LIMITS } from '../../constants.ts';
import { inputLocalName, pathProblem, sequencePatternProblem } from '../paths.ts';
import { isPlaylistOutput } from '../playlist.ts';
import { INPUT_ALIAS, OUTPUT_ALIAS } from '../placeholders.ts';
import type { CommandViolation } from '../types.ts';

export interface DeclaredInput {
  url: string;
  /** Workspace name: `<alias><ext of the URL>`, or the name the caller chose (inputNames). */
  local: string;
}

export interface DeclaredFiles {
  /** in_* alias → URL and workspace name (declaration order). */
  inputs: ReadonlyMap<string, DeclaredInput>;
  /** out_* alias → workspace name (declaration order). */
  outputs: ReadonlyMap<string, string>;
  /** Workspace names of the inputs. */
  inputNames: ReadonlySet<string>;
  /** Workspace name of a declared output → its alias. */
  outputAliasByName: ReadonlyMap<string, string>;
}

export function declareFiles(
  inputFiles: Record<string, string> | undefined,
  outputFiles: Record<string, string> | undefined,
  /** alias → workspace name chosen by the caller (ParseCommandInput.inputNames). */
  inputNames?: Readonly<Record<string, string>>,
): { files: DeclaredFiles; violations: CommandViolation[] } {
  const violations: CommandViolation[] = [];
  const bad = (
    path: (string | number)[],
    rule: string,
    message: string,
    code: CommandViolation['code'] = 'INVALID_REQUEST',
  ): void => {
    violations.push({ code, rule, message, path });
  };
  const inputEntries = Object.entries(inputFiles ?? {});
  const outputEntries = Object.entries(outputFiles ?? {});
  if (inputEntries.length > LIMITS.maxInputs)
    bad(
      ['input_files'],
      'too-many-inputs',
      `${inputEntries.length} input files declared: at most ${LIMITS.maxInputs} are allowed`,
    );
  if (outputEntries.length > LIMITS.maxOutputs)
    bad(
      ['output_files'],
      'too-many-outputs',
      `${outputEntries.length} output files declared: at most ${LIMITS.maxOutputs} are allowed`,
    );

  const inputs = new Map<string, DeclaredInput>();
  for (const [alias, url] of inputEntries) {
    if (!INPUT_ALIAS.test(alias)) {
      bad(
        ['input_files', alias],
        'alias-name',
        `input alias "${alias}" is not valid: input aliases must match ^in_[A-Za-z0-9_]+$`,
      );
      continue;
    }
    let proto = '';
    try {
      proto = typeof url === 'string' ? new URL(url).protocol : '';
    } catch {
      proto = '';
    }
    if (proto !== 'http:' && proto !== 'https:') {
      bad(
        ['input_files', alias],
        'input-url',
        `input "${alias}" is not an http(s) URL: "${String(url).slice(0, 200)}"`,
        'VALIDATION_ERROR',
      );
      continue;
    }
    const chosen = inputNames && Object.hasOwn(inputNames, alias) ? inputNames[alias]! : undefined;
    if (chosen !== undefined) {
      const problem = pathProblem(chosen);
      if (problem) {
        bad(['input_files', alias], problem.rule, `input file name "${chosen}" is not allowed: ${problem.reason}`);
        continue;
      }
    }
    const local = chosen ?? inputLocalName(alias, url);
    const clash = [...inputs.entries()].find(([, x]) => x.local === local);
    if (clash) {
      bad(
        ['input_files', alias],
        'name-collision',
        `input file name "${local}" is also the workspace name of "${clash[0]}"`,
      );
      continue;
    }
    inputs.set(alias, { url, local });
  }
  const inputNameSet = new Set([...inputs.values()].map((x) => x.local));

  const outputs = new Map<string, string>();
  const outputAliasByName = new Map<string, string>();
  for (const [alias, name] of outputEntries) {
    const at = ['output_files', alias];
    if (!OUTPUT_ALIAS.test(alias)) {
      bad(at, 'alias-name', `output alias "${alias}" is not valid: output aliases must match ^out_[A-Za-z0-9_]+$`);
      continue;
    }
    if (typeof name !== 'string') {
      bad(at, 'file-name-characters', `output file name of "${alias}" must be a string`);
      continue;
    }
    // A name with one %d / %0Nd declares an image sequence or segment set (sequencePattern).
    const sequence = name.includes('%');
    const problem = sequencePatternProblem(name) ?? pathProblem(name, { allowPattern: sequence });
    if (problem) {
      bad(at, problem.rule, `output file name "${name}" of "${alias}" is not allowed: ${problem.reason}`);
      continue;
    }
    if (sequence && isPlaylistOutput(alias, name)) {
      bad(
        at,
        'file-name-pattern',
        `output file name "${name}" of "${alias}" is not allowed: a playlist output is one manifest, not a numbered sequence`,
      );
      continue;
    }
    const other = outputAliasByName.get(name);
    if (other) {
      bad(
        at,
        'duplicate-output',
        `output file name "${name}" of "${alias}" is also the name of "${other}": output names must be unique`,
      );
      continue;
    }
    if (inputNameSet.has(name)) {
      bad(at, 'name-collision', `output file name "${name}" of "${alias}" is the workspace name of an input`);
      continue;
    }
    outputAliasByName.set(name, alias);
    outputs.set(alias, name);
  }
  return { files: { inputs, outputs, inputNames: inputNameSet, outputAliasByName }, violations };
}
