/**
 * parseFfmpegCommand: what a user submitted → a CommandPlan the worker runs, or every
 * violation found. Pure: no I/O. Layers (docs/SECURITY-POLICY.md): tokenize (1), option allowlist (2),
 * files in / files out (3), filter policy (4), forced demuxer/protocol lists (5), limits (7).
 */
import { LIMITS } from '../constants.ts';
import type { CommandPlan, PlannedInput, PlannedOutput } from '../types.ts';
import { classifyArgs, type OptionUse } from './classify.ts';
import { gpuReasons, routeCompute } from './compute.ts';
import { checkFilterGraph } from './filter-policy.ts';
import { parseFilterGraph } from './filtergraph.ts';
import {
  checkPlainValue,
  DEMUXER_ALLOWLIST,
  FORBIDDEN_FORMATS,
  MUXER_ALLOWLIST,
} from './options-policy.ts';
import type { PlannedFilterFile } from './filter-files.ts';
import { fileExtension, hasPattern, inputLocalName, pathProblem } from './paths.ts';
import { isPlaylistOutput } from './playlist.ts';
import {
  findPlaceholders,
  INPUT_ALIAS,
  OUTPUT_ALIAS,
  strayPlaceholderSyntax,
  substitutePlaceholders,
  wholePlaceholder,
} from './placeholders.ts';
import { tokenize } from './tokenize.ts';
import type { CommandViolation, ParseCommandInput, ParseCommandResult } from './types.ts';

/** Longest command string accepted (each command of a chain). */
export const MAX_COMMAND_LENGTH = 16 * 1024;
/** Most arguments one command may have. */
export const MAX_COMMAND_ARGS = 1000;

/**
 * Options the service puts before every `-i`: FFmpeg may only open local files (inputs are
 * downloaded into the workspace first), only with the allowlisted demuxers (so a "video" that
 * is really an HLS playlist or a concat list is refused), and never decode frames larger than
 * LIMITS.maxPixels.
 */
export function forcedInputOptions(): string[] {
  return [
    '-protocol_whitelist', 'file',
    '-format_whitelist', DEMUXER_ALLOWLIST.join(','),
    '-max_pixels', String(LIMITS.maxPixels),
  ];
}

type Code = CommandViolation['code'];

export function parseFfmpegCommand(input: ParseCommandInput): ParseCommandResult {
  const violations: CommandViolation[] = [];
  const add = (code: Code, rule: string, message: string, path: (string | number)[]): void => {
    violations.push({ code, rule, message, path });
  };
  const commands = Array.isArray(input.commands) ? input.commands : [];
  const cmdPath = (i: number): (string | number)[] => (commands.length === 1 ? ['ffmpeg_command'] : ['ffmpeg_commands', i]);

  if (commands.length === 0) add('INVALID_REQUEST', 'no-command', 'at least one FFmpeg command is required', ['ffmpeg_command']);
  if (commands.length > LIMITS.maxChainedCommands) {
    add('INVALID_REQUEST', 'too-many-commands', `${commands.length} commands given: at most ${LIMITS.maxChainedCommands} chained commands are allowed`, ['ffmpeg_commands']);
  }

  // --- declared files --------------------------------------------------------------------------
  const inputFiles = Object.entries(input.inputFiles ?? {});
  const outputFiles = Object.entries(input.outputFiles ?? {});
  if (inputFiles.length > LIMITS.maxInputs) {
    add('INVALID_REQUEST', 'too-many-inputs', `${inputFiles.length} input files declared: at most ${LIMITS.maxInputs} are allowed`, ['input_files']);
  }
  if (outputFiles.length > LIMITS.maxOutputs) {
    add('INVALID_REQUEST', 'too-many-outputs', `${outputFiles.length} output files declared: at most ${LIMITS.maxOutputs} are allowed`, ['output_files']);
  }
  const inputLocal = new Map<string, { url: string; local: string }>();
  for (const [alias, url] of inputFiles) {
    if (!INPUT_ALIAS.test(alias)) {
      add('INVALID_REQUEST', 'alias-name', `input alias "${alias}" is not valid: input aliases must match ^in_[A-Za-z0-9_]+$`, ['input_files', alias]);
      continue;
    }
    let proto = '';
    try {
      proto = typeof url === 'string' ? new URL(url).protocol : '';
    } catch {
      proto = '';
    }
    if (proto !== 'http:' && proto !== 'https:') {
      add('VALIDATION_ERROR', 'input-url', `input "${alias}" is not an http(s) URL: "${String(url).slice(0, 200)}"`, ['input_files', alias]);
      continue;
    }
    inputLocal.set(alias, { url, local: inputLocalName(alias, url) });
  }
  const inputNames = new Set([...inputLocal.values()].map((x) => x.local));
  const outputName = new Map<string, string>();
  const seenOutputNames = new Map<string, string>();
  for (const [alias, name] of outputFiles) {
    if (!OUTPUT_ALIAS.test(alias)) {
      add('INVALID_REQUEST', 'alias-name', `output alias "${alias}" is not valid: output aliases must match ^out_[A-Za-z0-9_]+$`, ['output_files', alias]);
      continue;
    }
    if (typeof name !== 'string') {
      add('INVALID_REQUEST', 'file-name-characters', `output file name of "${alias}" must be a string`, ['output_files', alias]);
      continue;
    }
    const problem = pathProblem(name);
    if (problem) {
      add('INVALID_REQUEST', problem.rule, `output file name "${name}" of "${alias}" is not allowed: ${problem.reason}`, ['output_files', alias]);
      continue;
    }
    const other = seenOutputNames.get(name);
    if (other) {
      add('INVALID_REQUEST', 'duplicate-output', `output file name "${name}" of "${alias}" is also the name of "${other}": output names must be unique`, ['output_files', alias]);
      continue;
    }
    if (inputNames.has(name)) {
      add('INVALID_REQUEST', 'name-collision', `output file name "${name}" of "${alias}" is the workspace name of an input`, ['output_files', alias]);
      continue;
    }
    seenOutputNames.set(name, alias);
    outputName.set(alias, name);
  }

  // --- commands ----------------------------------------------------------------------------------
  /** Workspace names written so far → index of the command that writes them. */
  const written = new Map<string, number>();
  const aliasWrittenIn = new Map<string, number>();
  const used = new Set<string>();
  const codecs: string[] = [];
  const hwaccels: string[] = [];
  const filterNames: string[] = [];
  /** Files filters open, for the worker's content check (filter-files.ts). */
  const filterFiles: PlannedFilterFile[] = [];
  const prepared: { tokens: string[]; inputOptionIndexes: Set<number>; graphs: { index: number; expectFiles: string[] }[] }[] = [];

  commands.slice(0, LIMITS.maxChainedCommands).forEach((cmd, ci) => {
    const path = cmdPath(ci);
    const bad = (rule: string, message: string, code: Code = 'INVALID_REQUEST'): void => add(code, rule, message, path);
    if (typeof cmd !== 'string') return bad('invalid-command', 'each FFmpeg command must be a string');
    if (cmd.length > MAX_COMMAND_LENGTH) return bad('command-too-long', `the command is ${cmd.length} characters long: at most ${MAX_COMMAND_LENGTH} are allowed`);
    const tk = tokenize(cmd);
    if (!tk.ok) return bad(tk.error.rule, tk.error.message);
    const tokens = tk.tokens;
    if (tokens[0] === 'ffmpeg') tokens.shift();
    if (tokens.length === 0) return bad('empty-command', 'the command has no arguments');
    if (tokens.length > MAX_COMMAND_ARGS) return bad('too-many-arguments', `the command has ${tokens.length} arguments: at most ${MAX_COMMAND_ARGS} are allowed`);
    for (const t of tokens) {
      const stray = strayPlaceholderSyntax(t);
      if (stray) bad('malformed-placeholder', `"${stray}" in "${t}" is not a well-formed placeholder: use {{alias}} or <<alias>> with letters, digits and "_"`);
    }

    const cls = classifyArgs(tokens);
    for (const issue of cls.issues) bad(issue.rule, issue.message);
    if (cls.inputs.length > LIMITS.maxInputs) bad('too-many-inputs', `the command has ${cls.inputs.length} inputs: at most ${LIMITS.maxInputs} are allowed`);
    if (cls.outputs.length > LIMITS.maxOutputs) bad('too-many-outputs', `the command has ${cls.outputs.length} outputs: at most ${LIMITS.maxOutputs} are allowed`);
    if (cls.outputs.length === 0 && cls.issues.length === 0) bad('no-output', 'the command writes no output file');

    const writtenHere: string[] = [];
    const graphs: { index: number; expectFiles: string[] }[] = [];

    /** An input position: `-i X`, `-attach X`, a file a filter reads. Returns the workspace name. */
    const resolveInput = (value: string, what: string): string | null => {
      const alias = wholePlaceholder(value);
      if (alias !== null) {
        if (INPUT_ALIAS.test(alias)) {
          const decl = inputLocal.get(alias);
          if (!decl) {
            bad('undeclared-alias', `placeholder "${value}" in ${what} names no declared input file`);
            return null;
          }
          used.add(alias);
          return decl.local;
        }
        if (OUTPUT_ALIAS.test(alias)) {
          const name = outputName.get(alias);
          if (name === undefined) {
            bad('undeclared-alias', `placeholder "${value}" in ${what} names no declared output file`);
            return null;
          }
          const at = aliasWrittenIn.get(alias);
          if (at === undefined || at >= ci) {
            bad('placeholder-position', `placeholder "${value}" is an output and cannot be read by ${what}: an output can only be read by a later chained command`);
            return null;
          }
          used.add(alias);
          return name;
        }
        bad('undeclared-alias', `placeholder "${value}" in ${what} names no declared file (aliases start with in_ or out_)`);
        return null;
      }
      const ph = findPlaceholders(value);
      if (ph.length > 0) {
        bad('placeholder-position', `"${value}" in ${what} is not allowed: a placeholder must be the whole file name`);
        return null;
      }
      if (value === '-') {
        bad('pipe-input', `input "-" in ${what} is not allowed: FFmpeg has no standard input here; declare the file in input_files`);
        return null;
      }
      const problem = pathProblem(value, { allowPattern: true });
      if (problem) {
        bad(problem.rule, `"${value}" in ${what} is not allowed: ${problem.reason}`);
        return null;
      }
      const at = written.get(value);
      if (at === undefined || at >= ci) {
        bad('input-not-in-workspace', `"${value}" in ${what} is not allowed: an input must be a declared {{in_*}} placeholder or a file written by an earlier chained command`);
        return null;
      }
      return value;
    };

    /** An output position: a bare argument or an output-file option. Returns the workspace name. */
    const resolveOutput = (value: string, what: string, allowPattern: boolean): string | null => {
      const alias = wholePlaceholder(value);
      let name: string;
      if (alias !== null) {
        if (!OUTPUT_ALIAS.test(alias)) {
          bad('placeholder-position', `placeholder "${value}" cannot be ${what}: only {{out_*}} placeholders name outputs`);
          return null;
        }
        const n = outputName.get(alias);
        if (n === undefined) {
          bad('undeclared-alias', `placeholder "${value}" (${what}) names no declared output file`);
          return null;
        }
        if (aliasWrittenIn.has(alias)) {
          bad('duplicate-output', `placeholder "${value}" (${what}) is written more than once`);
          return null;
        }
        aliasWrittenIn.set(alias, ci);
        used.add(alias);
        name = n;
      } else {
        if (findPlaceholders(value).length > 0) {
          bad('placeholder-position', `"${value}" (${what}) is not allowed: a placeholder must be the whole file name`);
          return null;
        }
        const problem = pathProblem(value, { allowPattern });
        if (problem) {
          bad(problem.rule, `${what} "${value}" is not allowed: ${problem.reason}`);
          return null;
        }
        if (seenOutputNames.has(value)) {
          bad('duplicate-output', `${what} "${value}" is the file name of "${seenOutputNames.get(value)}": write it through its placeholder {{${seenOutputNames.get(value)}}}`);
          return null;
        }
        name = value;
      }
      if (inputNames.has(name)) {
        bad('name-collision', `${what} "${value}" would overwrite the input "${name}"`);
        return null;
      }
      if (written.has(name) || writtenHere.includes(name)) {
        bad('duplicate-output', `${what} "${value}" is written more than once`);
        return null;
      }
      writtenHere.push(name);
      return name;
    };

    const checkFormat = (o: OptionUse, side: 'input' | 'output'): void => {
      const v = o.value!;
      const forbidden = FORBIDDEN_FORMATS[v];
      const list = side === 'input' ? DEMUXER_ALLOWLIST : MUXER_ALLOWLIST;
      if (forbidden && !(side === 'output' && (v === 'hls' || v === 'dash'))) {
        bad('format-not-allowed', `format "${v}" (${o.token}) is not allowed: ${forbidden}`);
      } else if (!list.includes(v)) {
        bad('format-not-allowed', `format "${v}" (${o.token}) is not allowed as ${side === 'input' ? 'an input demuxer' : 'an output muxer'}: it is not in the service's ${side === 'input' ? 'demuxer' : 'muxer'} allowlist`);
      }
    };

    const checkOption = (o: OptionUse, side: 'input' | 'output' | 'global'): void => {
      if (o.value === null) return;
      const kind = o.rule.value;
      const v = o.value;
      if (kind === 'input-file') {
        resolveInput(v, `option "${o.token}"`);
        return;
      }
      if (kind === 'output-file' || kind === 'output-pattern') {
        resolveOutput(v, `the file of option "${o.token}"`, kind === 'output-pattern');
        return;
      }
      const ph = findPlaceholders(v);
      if (ph.length > 0 && kind !== 'filtergraph') {
        bad('placeholder-position', `placeholder "${ph[0]!.text}" is not allowed as the value of "${o.token}": placeholders name input and output files only`);
        return;
      }
      if (kind === 'name-prefix') {
        const problem = pathProblem(v);
        if (problem) bad(problem.rule, `"${v}" (value of "${o.token}") is not allowed: ${problem.reason}`);
        return;
      }
      if (kind === 'format') {
        checkFormat(o, o.name === 'segment_format' ? 'output' : side === 'input' ? 'input' : 'output');
        return;
      }
      if (kind === 'filtergraph') {
        const parsed = parseFilterGraph(v);
        if (!parsed.ok) {
          bad('filtergraph-syntax', `filtergraph of "${o.token}" could not be parsed: ${parsed.error.message}`);
          return;
        }
        const check = checkFilterGraph(parsed.graph);
        for (const issue of check.issues) bad(issue.rule, issue.message);
        filterNames.push(...check.filters);
        const expectFiles: string[] = [];
        for (const ref of check.fileRefs) {
          const name = resolveInput(ref.value, `option "${ref.option}" of filter "${ref.filter}"`);
          if (name === null) continue;
          const ext = fileExtension(name);
          if (!ref.extensions.includes(ext)) {
            bad('file-type-not-allowed', `"${ref.value}" in option "${ref.option}" of filter "${ref.filter}" is not allowed: its workspace name "${name}" must end in one of .${ref.extensions.join(', .')} (the input URL's extension decides it)`);
            continue;
          }
          if (hasPattern(name)) {
            bad('file-name-pattern', `"${ref.value}" in option "${ref.option}" of filter "${ref.filter}" is not allowed: a file a filter opens cannot be a sequence pattern`);
            continue;
          }
          expectFiles.push(name);
          filterFiles.push({ command_index: ci, local_name: name, kind: ref.kind, opened_by: `${ref.filter} ${ref.option}` });
        }
        graphs.push({ index: o.index + 1, expectFiles });
        return;
      }
      if (o.name === 'hwaccel' || o.name === 'hwaccel_output_format') {
        if (o.name === 'hwaccel') hwaccels.push(v);
      }
      if (['c', 'codec', 'vcodec', 'acodec', 'scodec'].includes(o.name)) codecs.push(v);
      const r = checkPlainValue(kind, v);
      if (!r.ok) bad('option-value', `value "${v}" of option "${o.token}" is not allowed: ${r.reason}`);
    };

    for (const g of cls.globals) checkOption(g, 'global');
    const inputOptionIndexes = new Set<number>();
    for (const inp of cls.inputs) {
      for (const o of inp.options) {
        if (o.name === 'f') checkFormat(o, 'input');
        else checkOption(o, 'input');
      }
      resolveInput(inp.file, 'input "-i"');
      inputOptionIndexes.add(inp.index - 1);
    }
    for (const out of cls.outputs) {
      for (const o of out.options) {
        if (o.name === 'f') checkFormat(o, 'output');
        else checkOption(o, 'output');
      }
      if (out.file === '-') {
        const f = out.options.find((o) => o.name === 'f');
        if (f?.value !== 'null') bad('pipe-output', `output "-" is not allowed: outputs are workspace files (only "-f null -" writes nothing)`);
        continue;
      }
      resolveOutput(out.file, 'output file', true);
    }
    for (const name of writtenHere) written.set(name, ci);
    prepared.push({ tokens, inputOptionIndexes, graphs });
  });

  for (const alias of inputLocal.keys()) {
    if (!used.has(alias)) add('INVALID_REQUEST', 'unused-alias', `input alias "${alias}" is declared but no command uses {{${alias}}}`, ['input_files', alias]);
  }
  for (const alias of outputName.keys()) {
    if (!aliasWrittenIn.has(alias)) add('INVALID_REQUEST', 'unused-alias', `output alias "${alias}" is declared but no command writes {{${alias}}}`, ['output_files', alias]);
  }

  const route = routeCompute(input.compute, gpuReasons({ codecs, hwaccels, filters: filterNames }), input.gpuAvailable);
  if (!route.ok) add('VALIDATION_ERROR', route.rule, route.message, ['compute']);

  if (violations.length > 0) return { ok: false, violations };

  // --- plan ----------------------------------------------------------------------------------------
  const resolve = (alias: string): string => inputLocal.get(alias)?.local ?? outputName.get(alias)!;
  const args: string[][] = [];
  prepared.forEach((p, ci) => {
    const argv: string[] = [];
    p.tokens.forEach((t, j) => {
      if (p.inputOptionIndexes.has(j)) argv.push(...forcedInputOptions());
      argv.push(substitutePlaceholders(t, resolve));
    });
    // Defence in depth: re-read each substituted filtergraph and check that the files its
    // filters open are exactly the workspace files the policy approved.
    for (const g of p.graphs) {
      const substituted = substitutePlaceholders(p.tokens[g.index]!, resolve);
      const again = parseFilterGraph(substituted);
      const seen = again.ok ? checkFilterGraph(again.graph) : null;
      const files = seen ? seen.fileRefs.map((r) => r.value) : null;
      if (!seen || seen.issues.length > 0 || JSON.stringify(files) !== JSON.stringify(g.expectFiles)) {
        add('INVALID_REQUEST', 'placeholder-escaped', `filtergraph "${p.tokens[g.index]}" reads differently once its placeholders are replaced: write each file placeholder unquoted and unescaped`, cmdPath(ci));
      }
    }
    args.push(argv);
  });
  if (violations.length > 0) return { ok: false, violations };

  const inputs: PlannedInput[] = [...inputLocal.entries()].map(([alias, x]) => ({ alias, url: x.url, local_name: x.local }));
  // Playlists are marked here, once, from what the user declared: the plan is the whole
  // contract of what the worker does (it stays free of API naming conventions), and the
  // decision is visible in the stored item.
  const outputs: PlannedOutput[] = [...outputName.entries()].map(([alias, local_name]) =>
    isPlaylistOutput(alias, local_name) ? { alias, local_name, playlist: true } : { alias, local_name },
  );
  const plan: CommandPlan = { inputs, outputs, commands: args };
  if (filterFiles.length > 0) plan.filter_files = filterFiles;
  return { ok: true, plan, compute: route.ok ? route.compute : 'cpu', args };
}

