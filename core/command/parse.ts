/**
 * parseFfmpegCommand: what a user submitted → a CommandPlan the worker runs, or every
 * violation found. Pure: no I/O. A small orchestrator over the phases in ./phases, each a
 * function (or class) with explicit inputs and outputs, tested on its own:
 *
 *   declared files (placeholders) ─┐
 *   per command: tokenize → classify → options → filters (+ source bounds) → paths ─┤→ plan
 *
 * Every phase reports problems without a place; this file adds the path (which command, which
 * declared file) and collects them. Layers (docs/SECURITY-POLICY.md): tokenize (1), option
 * allowlist (2), files in / files out (3), filter policy (4), forced demuxer/protocol lists (5),
 * limits (7).
 */
import { LIMITS } from '../constants.ts';
import { gpuReasons, routeCompute } from './compute.ts';
import { classifyCommand } from './phases/classify-command.ts';
import { declareFiles } from './phases/declared-files.ts';
import { checkFilters } from './phases/filters.ts';
import type { PhaseIssue } from './phases/issue.ts';
import { checkOptions } from './phases/options.ts';
import { buildPlan, type CheckedCommand } from './phases/plan.ts';
import { splitCommand } from './phases/split.ts';
import { WorkspaceLedger } from './phases/workspace-paths.ts';
import type { PlannedFilterFile } from './filter-files.ts';
import type { CommandViolation, ParseCommandInput, ParseCommandResult } from './types.ts';

export { MAX_COMMAND_ARGS, MAX_COMMAND_LENGTH } from './phases/split.ts';
export { forcedInputOptions } from './phases/plan.ts';

export function parseFfmpegCommand(input: ParseCommandInput): ParseCommandResult {
  const violations: CommandViolation[] = [];
  const commands = Array.isArray(input.commands) ? input.commands : [];
  const cmdPath = (i: number): (string | number)[] =>
    commands.length === 1 ? ['ffmpeg_command'] : ['ffmpeg_commands', i];
  const at =
    (path: (string | number)[]) =>
    (issues: readonly PhaseIssue[]): void => {
      for (const i of issues) violations.push({ code: i.code, rule: i.rule, message: i.message, path });
    };

  if (commands.length === 0)
    violations.push({
      code: 'INVALID_REQUEST',
      rule: 'no-command',
      message: 'at least one FFmpeg command is required',
      path: ['ffmpeg_command'],
    });
  if (commands.length > LIMITS.maxChainedCommands) {
    violations.push({
      code: 'INVALID_REQUEST',
      rule: 'too-many-commands',
      message: `${commands.length} commands given: at most ${LIMITS.maxChainedCommands} chained commands are allowed`,
      path: ['ffmpeg_commands'],
    });
  }

  const declared = declareFiles(input.inputFiles, input.outputFiles, input.inputNames);
  violations.push(...declared.violations);
  const ledger = new WorkspaceLedger(declared.files);
  const codecs: string[] = [];
  const hwaccels: string[] = [];
  const filterNames: string[] = [];
  const filterFiles: PlannedFilterFile[] = [];
  const checked: CheckedCommand[] = [];

  commands.slice(0, LIMITS.maxChainedCommands).forEach((cmd, ci) => {
    const report = at(cmdPath(ci));
    const split = splitCommand(cmd);
    report(split.issues);
    if (!split.ok) return;
    const { command, issues: classifyIssues } = classifyCommand(split.tokens);
    report(classifyIssues);
    const options = checkOptions(command);
    const filters = checkFilters(options.graphs, { outputsLimited: options.outputsLimited });
    const paths = ledger.resolveCommand(ci, options.files, filters.graphs);
    // One list per command in argv walk order (a stable sort keeps each phase's own order).
    report([...options.issues, ...filters.issues, ...paths.issues].sort((a, b) => (a.step ?? 0) - (b.step ?? 0)));
    codecs.push(...options.codecs);
    hwaccels.push(...options.hwaccels);
    filterNames.push(...filters.filters);
    filterFiles.push(...paths.filterFiles);
    checked.push({ tokens: split.tokens, inputOptionIndexes: options.inputOptionIndexes, graphs: paths.graphFiles });
  });

  const unused = ledger.unused();
  for (const alias of unused.inputs)
    violations.push({
      code: 'INVALID_REQUEST',
      rule: 'unused-alias',
      message: `input alias "${alias}" is declared but no command uses {{${alias}}}`,
      path: ['input_files', alias],
    });
  for (const alias of unused.outputs)
    violations.push({
      code: 'INVALID_REQUEST',
      rule: 'unused-alias',
      message: `output alias "${alias}" is declared but no command writes {{${alias}}}`,
      path: ['output_files', alias],
    });

  const route = routeCompute(input.compute, gpuReasons({ codecs, hwaccels, filters: filterNames }), input.gpuAvailable);
  if (!route.ok)
    violations.push({ code: 'VALIDATION_ERROR', rule: route.rule, message: route.message, path: ['compute'] });

  if (violations.length > 0) return { ok: false, violations };

  const planned = buildPlan(declared.files, checked);
  if (!planned.ok) {
    return {
      ok: false,
      violations: planned.issues.map((i) => ({
        code: i.code,
        rule: i.rule,
        message: i.message,
        path: cmdPath(i.command),
      })),
    };
  }
  // Files filters open, for the worker's content check before the command runs (filter-files.ts).
  if (filterFiles.length > 0) planned.plan.filter_files = filterFiles;
  return { ok: true, plan: planned.plan, compute: route.ok ? route.compute : 'cpu', args: planned.plan.commands };
}
