/**
 * Phase 6, paths: every file position of every command resolved to a workspace name, across
 * the chain. A WorkspaceLedger lives for one request: it knows the declared files and which
 * names earlier commands wrote, so that
 *   - an input is a declared {{in_*}}, a declared {{out_*}} written by an EARLIER command, or a
 *     plain name an earlier command wrote (never a path, a URL, "-" or a half placeholder);
 *   - an output is a declared {{out_*}} (each written once) or a plain (pattern) name that
 *     collides with no input, no declared output and nothing written before;
 *   - a file a filter opens is an input as above, with the extension its kind allows.
 */
import type { PlannedFilterFile } from '../filter-files.ts';
import type { FilterFileRef } from '../filter-policy.ts';
import { fileExtension, hasPattern, pathProblem } from '../paths.ts';
import { findPlaceholders, INPUT_ALIAS, OUTPUT_ALIAS, wholePlaceholder } from '../placeholders.ts';
import type { DeclaredFiles } from './declared-files.ts';
import { invalid, type PhaseIssue } from './issue.ts';
import type { FilePosition } from './options.ts';

export class WorkspaceLedger {
  /** Plain workspace names written by committed commands → index of the command. */
  private readonly written = new Map<string, number>();
  /** out_* alias → index of the command that writes it. */
  private readonly aliasWrittenIn = new Map<string, number>();
  private readonly used = new Set<string>();

  constructor(readonly declared: DeclaredFiles) {}

  /**
   * Resolve the file positions of command `ci` (inputs and outputs in argv order) and the files
   * its filters open. Returns the workspace names each graph's filters open (for the plan
   * phase's re-check) and the issues. Commits what the command writes, for later commands.
   */
  resolveCommand(
    ci: number,
    files: readonly FilePosition[],
    graphs: readonly { index: number; step: number; fileRefs: readonly FilterFileRef[] }[],
  ): {
    issues: PhaseIssue[];
    graphFiles: { index: number; expectFiles: string[] }[];
    filterFiles: PlannedFilterFile[];
  } {
    const issues: PhaseIssue[] = [];
    /** Files filters open, for the worker's content check (filter-files.ts). */
    const filterFiles: PlannedFilterFile[] = [];
    const writtenHere: string[] = [];
    let step = 0;
    const bad = (rule: string, message: string): null => {
      issues.push({ ...invalid(rule, message), step });
      return null;
    };
    for (const f of files) {
      step = f.step;
      if (f.role === 'input') this.resolveInput(ci, f.value, f.what, bad);
      else this.resolveOutput(ci, f.value, f.what, f.allowPattern === true, writtenHere, bad);
    }
    const graphFiles = graphs.map((g) => {
      const expectFiles: string[] = [];
      step = g.step;
      for (const ref of g.fileRefs) {
        const name = this.resolveInput(ci, ref.value, `option "${ref.option}" of filter "${ref.filter}"`, bad);
        if (name === null) continue;
        if (!ref.extensions.includes(fileExtension(name))) {
          bad(
            'file-type-not-allowed',
            `"${ref.value}" in option "${ref.option}" of filter "${ref.filter}" is not allowed: its workspace name "${name}" must end in one of .${ref.extensions.join(', .')} (the input URL's extension decides it)`,
          );
          continue;
        }
        if (hasPattern(name)) {
          bad(
            'file-name-pattern',
            `"${ref.value}" in option "${ref.option}" of filter "${ref.filter}" is not allowed: a file a filter opens cannot be a sequence pattern`,
          );
          continue;
        }
        expectFiles.push(name);
        filterFiles.push({
          command_index: ci,
          local_name: name,
          kind: ref.kind,
          opened_by: `${ref.filter} ${ref.option}`,
        });
      }
      return { index: g.index, expectFiles };
    });
    for (const name of writtenHere) this.written.set(name, ci);
    return { issues, graphFiles, filterFiles };
  }

  /** Declared files no command uses (each is a mistake in the request). */
  unused(): { inputs: string[]; outputs: string[] } {
    return {
      inputs: [...this.declared.inputs.keys()].filter((a) => !this.used.has(a)),
      outputs: [...this.declared.outputs.keys()].filter((a) => !this.aliasWrittenIn.has(a)),
    };
  }

  private resolveInput(
    ci: number,
    value: string,
    what: string,
    bad: (rule: string, message: string) => null,
  ): string | null {
    const alias = wholePlaceholder(value);
    if (alias !== null) {
      if (INPUT_ALIAS.test(alias)) {
        const decl = this.declared.inputs.get(alias);
        if (!decl) return bad('undeclared-alias', `placeholder "${value}" in ${what} names no declared input file`);
        this.used.add(alias);
        return decl.local;
      }
      if (OUTPUT_ALIAS.test(alias)) {
        const name = this.declared.outputs.get(alias);
        if (name === undefined)
          return bad('undeclared-alias', `placeholder "${value}" in ${what} names no declared output file`);
        const at = this.aliasWrittenIn.get(alias);
        if (at === undefined || at >= ci) {
          return bad(
            'placeholder-position',
            `placeholder "${value}" is an output and cannot be read by ${what}: an output can only be read by a later chained command`,
          );
        }
        this.used.add(alias);
        return name;
      }
      return bad(
        'undeclared-alias',
        `placeholder "${value}" in ${what} names no declared file (aliases start with in_ or out_)`,
      );
    }
    if (findPlaceholders(value).length > 0)
      return bad(
        'placeholder-position',
        `"${value}" in ${what} is not allowed: a placeholder must be the whole file name`,
      );
    if (value === '-')
      return bad(
        'pipe-input',
        `input "-" in ${what} is not allowed: FFmpeg has no standard input here; declare the file in input_files`,
      );
    const problem = pathProblem(value, { allowPattern: true });
    if (problem) return bad(problem.rule, `"${value}" in ${what} is not allowed: ${problem.reason}`);
    const at = this.written.get(value);
    if (at === undefined || at >= ci) {
      return bad(
        'input-not-in-workspace',
        `"${value}" in ${what} is not allowed: an input must be a declared {{in_*}} placeholder or a file written by an earlier chained command`,
      );
    }
    return value;
  }

  private resolveOutput(
    ci: number,
    value: string,
    what: string,
    allowPattern: boolean,
    writtenHere: string[],
    bad: (rule: string, message: string) => null,
  ): string | null {
    const alias = wholePlaceholder(value);
    let name: string;
    if (alias !== null) {
      if (!OUTPUT_ALIAS.test(alias))
        return bad(
          'placeholder-position',
          `placeholder "${value}" cannot be ${what}: only {{out_*}} placeholders name outputs`,
        );
      const n = this.declared.outputs.get(alias);
      if (n === undefined)
        return bad('undeclared-alias', `placeholder "${value}" (${what}) names no declared output file`);
      if (this.aliasWrittenIn.has(alias))
        return bad('duplicate-output', `placeholder "${value}" (${what}) is written more than once`);
      this.aliasWrittenIn.set(alias, ci);
      this.used.add(alias);
      name = n;
    } else {
      if (findPlaceholders(value).length > 0)
        return bad(
          'placeholder-position',
          `"${value}" (${what}) is not allowed: a placeholder must be the whole file name`,
        );
      const problem = pathProblem(value, { allowPattern });
      if (problem) return bad(problem.rule, `${what} "${value}" is not allowed: ${problem.reason}`);
      const owner = this.declared.outputAliasByName.get(value);
      if (owner)
        return bad(
          'duplicate-output',
          `${what} "${value}" is the file name of "${owner}": write it through its placeholder {{${owner}}}`,
        );
      name = value;
    }
    if (this.declared.inputNames.has(name))
      return bad('name-collision', `${what} "${value}" would overwrite the input "${name}"`);
    if (this.written.has(name) || writtenHere.includes(name))
      return bad('duplicate-output', `${what} "${value}" is written more than once`);
    writtenHere.push(name);
    return name;
  }
}
