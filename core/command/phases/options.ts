/**
 * Phase 4, options: every option of a classified command checked by the kind of its value
 * (options-policy.ts): formats against the muxer/demuxer lists, plain values by shape, and no
 * placeholder outside a file position. Nothing is resolved here: the file positions (`-i X`,
 * output files, file-valued options) go to the paths phase and the filtergraphs to the filters
 * phase, in argv order.
 */
import type { ClassifiedCommand, OptionUse } from '../classify.ts';
import { checkPlainValue, DEMUXER_ALLOWLIST, FORBIDDEN_FORMATS, MUXER_ALLOWLIST } from '../options-policy.ts';
import { pathProblem } from '../paths.ts';
import { findPlaceholders } from '../placeholders.ts';
import { invalid, type PhaseIssue } from './issue.ts';

/** A file position of the command, resolved by the paths phase. */
export interface FilePosition {
  role: 'input' | 'output';
  /** As written (a placeholder or a workspace name). */
  value: string;
  /** How messages name the position, e.g. `input "-i"`, `the file of option "-passlogfile"`. */
  what: string;
  /** Outputs only: the name may hold a %d / %03d / %v sequence pattern. */
  allowPattern?: boolean;
  /** Walk step (PhaseIssue.step). */
  step: number;
}

/** A filtergraph-valued option (`-vf`, `-af`, `-filter_complex`, ...). */
export interface GraphUse {
  /** argv index of the graph (the option's value). */
  index: number;
  /** The option as written, e.g. "-filter_complex". */
  token: string;
  value: string;
  /** Walk step (PhaseIssue.step). */
  step: number;
}

export interface OptionsCheck {
  issues: PhaseIssue[];
  files: FilePosition[];
  graphs: GraphUse[];
  /** Values of -c/-codec/-vcodec/-acodec/-scodec and -hwaccel (compute routing). */
  codecs: string[];
  hwaccels: string[];
  /** argv indexes of each `-i`: the service's forced input options go before them. */
  inputOptionIndexes: Set<number>;
  /** Every output has a limit (-t, -to, -frames, -vframes, -aframes, -fs, -shortest): source-bounds.ts. */
  outputsLimited: boolean;
}

/** Output options that end an output whatever its sources do. */
const LIMITING_OPTIONS = new Set(['t', 'to', 'frames', 'vframes', 'aframes', 'fs', 'shortest']);

const CODEC_OPTIONS = new Set(['c', 'codec', 'vcodec', 'acodec', 'scodec']);

export function checkOptions(command: ClassifiedCommand): OptionsCheck {
  const out: OptionsCheck = {
    issues: [],
    files: [],
    graphs: [],
    codecs: [],
    hwaccels: [],
    inputOptionIndexes: new Set(),
    outputsLimited: false,
  };
  let step = 0;
  const bad = (rule: string, message: string): void => {
    out.issues.push({ ...invalid(rule, message), step });
  };

  const checkFormat = (o: OptionUse, side: 'input' | 'output'): void => {
    const v = o.value!;
    const forbidden = FORBIDDEN_FORMATS[v];
    const list = side === 'input' ? DEMUXER_ALLOWLIST : MUXER_ALLOWLIST;
    if (forbidden && !(side === 'output' && (v === 'hls' || v === 'dash'))) {
      bad('format-not-allowed', `format "${v}" (${o.token}) is not allowed: ${forbidden}`);
    } else if (!list.includes(v)) {
      bad(
        'format-not-allowed',
        `format "${v}" (${o.token}) is not allowed as ${side === 'input' ? 'an input demuxer' : 'an output muxer'}: it is not in the service's ${side === 'input' ? 'demuxer' : 'muxer'} allowlist`,
      );
    }
  };

  const checkOption = (o: OptionUse, side: 'input' | 'output' | 'global'): void => {
    step++;
    if (o.value === null) return;
    const kind = o.rule.value;
    const v = o.value;
    if (kind === 'input-file') {
      out.files.push({ role: 'input', value: v, what: `option "${o.token}"`, step });
      return;
    }
    if (kind === 'output-file' || kind === 'output-pattern') {
      out.files.push({
        role: 'output',
        value: v,
        what: `the file of option "${o.token}"`,
        allowPattern: kind === 'output-pattern',
        step,
      });
      return;
    }
    const ph = findPlaceholders(v);
    if (ph.length > 0 && kind !== 'filtergraph') {
      bad(
        'placeholder-position',
        `placeholder "${ph[0]!.text}" is not allowed as the value of "${o.token}": placeholders name input and output files only`,
      );
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
      out.graphs.push({ index: o.index + 1, token: o.token, value: v, step });
      return;
    }
    if (o.name === 'hwaccel') out.hwaccels.push(v);
    if (CODEC_OPTIONS.has(o.name)) out.codecs.push(v);
    const r = checkPlainValue(kind, v);
    if (!r.ok) bad('option-value', `value "${v}" of option "${o.token}" is not allowed: ${r.reason}`);
  };

  for (const g of command.globals) checkOption(g, 'global');
  for (const inp of command.inputs) {
    for (const o of inp.options) {
      if (o.name === 'f') {
        step++;
        checkFormat(o, 'input');
      } else checkOption(o, 'input');
    }
    step++;
    out.files.push({ role: 'input', value: inp.file, what: 'input "-i"', step });
    out.inputOptionIndexes.add(inp.index - 1);
  }
  for (const o of command.outputs) {
    for (const opt of o.options) {
      if (opt.name === 'f') {
        step++;
        checkFormat(opt, 'output');
      } else checkOption(opt, 'output');
    }
    step++;
    if (o.file === '-') {
      const f = o.options.find((x) => x.name === 'f');
      if (f?.value !== 'null')
        bad('pipe-output', `output "-" is not allowed: outputs are workspace files (only "-f null -" writes nothing)`);
      continue;
    }
    out.files.push({ role: 'output', value: o.file, what: 'output file', allowPattern: true, step });
  }
  out.outputsLimited =
    command.outputs.length > 0 &&
    command.outputs.every((o) => o.options.some((x) => LIMITING_OPTIONS.has(x.name) && !x.negated));
  return out;
}
