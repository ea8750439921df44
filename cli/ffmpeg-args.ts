/**
 * `ffaas run -- ffmpeg …`: the arguments a user gives FFmpeg on their own machine, turned into
 * the service's request. Every `-i` value becomes an `{{in_*}}` placeholder (a URL is left to
 * the service, anything else must be a local file, which the CLI uploads), every bare argument
 * that is not an option's value is an output and becomes an `{{out_*}}` placeholder (the
 * service writes it under its base name; the CLI downloads it to the path the user named).
 * Whether an option takes a value comes from the service's own option table, so the split is
 * the one the service will make. Pure: the caller checks the files.
 */
import path from 'node:path';
import { ALLOWED_OPTIONS } from '../core/command/options-policy.ts';
import { quoteArgv } from '../core/command/tokenize.ts';

export interface PlannedInput {
  alias: string;
  /** What the user wrote. */
  source: string;
  kind: 'url' | 'file';
}

export interface PlannedOutput {
  alias: string;
  /** The name the service writes (the base name of what the user wrote). */
  filename: string;
  /** Where the CLI puts it, as the user wrote it. */
  localPath: string;
}

export interface PlannedRun {
  /** The command with placeholders, as the service takes it. */
  command: string;
  inputs: PlannedInput[];
  outputs: PlannedOutput[];
}

export class FfmpegArgsError extends Error {}

const URL_LIKE = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

/** Whether `-name` is a flag (takes no value) for FFmpeg. Unknown options are assumed to take one. */
export function isFlag(option: string): boolean {
  const name = option.split(':')[0]!;
  const rule = ALLOWED_OPTIONS[name];
  if (rule) return rule.value === 'flag';
  if (name.startsWith('no') && ALLOWED_OPTIONS[name.slice(2)]?.negatable) return true;
  return false;
}

/** Whether an option's value is a file the command writes (segment names, master playlists). */
function writesNamedFile(option: string): boolean {
  const kind = ALLOWED_OPTIONS[option.split(':')[0]!]?.value;
  return kind === 'output-pattern' || kind === 'output-file';
}

function aliasFor(prefix: 'in' | 'out', name: string, taken: Set<string>): string {
  const stem =
    path
      .basename(name)
      .replace(/\.[^.]*$/, '')
      .replace(/[^A-Za-z0-9_]+/g, '_')
      .replace(/^_+|_+$/g, '') || 'file';
  let alias = `${prefix}_${stem}`;
  for (let n = 2; taken.has(alias); n++) alias = `${prefix}_${stem}_${n}`;
  taken.add(alias);
  return alias;
}

export function planFfmpegArgs(argv: readonly string[]): PlannedRun {
  const args = argv[0] === 'ffmpeg' || argv[0]?.endsWith('/ffmpeg') ? argv.slice(1) : [...argv];
  if (args.length === 0) throw new FfmpegArgsError('no FFmpeg arguments: ffaas run -- ffmpeg -i in.mp4 out.webm');
  const out: string[] = [];
  const inputs: PlannedInput[] = [];
  const outputs: PlannedOutput[] = [];
  const taken = new Set<string>();
  // `-f lavfi -i testsrc=…`: a generator, not a file.
  let inputFormat: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg.startsWith('-') && arg.length > 1) {
      const option = arg.slice(1);
      out.push(arg);
      if (isFlag(option)) continue;
      const value = args[++i];
      if (value === undefined) throw new FfmpegArgsError(`${arg} needs a value`);
      if (option === 'f') inputFormat = value;
      if (option === 'i' && inputFormat === 'lavfi') {
        out.push(value);
        inputFormat = undefined;
      } else if (option === 'i') {
        inputFormat = undefined;
        const alias = aliasFor('in', URL_LIKE.test(value) ? new URL(value).pathname || 'url' : value, taken);
        inputs.push({ alias, source: value, kind: URL_LIKE.test(value) ? 'url' : 'file' });
        out.push(`{{${alias}}}`);
      } else if (writesNamedFile(option)) {
        // `-hls_segment_filename hls/seg_%03d.ts`: the service writes in one workspace, so only
        // the name goes; the CLI puts the files next to the output that names them.
        out.push(path.basename(value));
      } else out.push(value);
      continue;
    }
    if (URL_LIKE.test(arg))
      throw new FfmpegArgsError(`output ${arg} is a URL: name a local file; the CLI downloads it there`);
    const alias = aliasFor('out', arg, taken);
    outputs.push({ alias, filename: path.basename(arg), localPath: arg });
    out.push(`{{${alias}}}`);
  }
  if (outputs.length === 0)
    throw new FfmpegArgsError('no output file in the command (the last bare argument, e.g. out.mp4)');
  return { command: `ffmpeg ${quoteArgv(out).replace(/'(\{\{[A-Za-z0-9_]+\}\})'/g, '$1')}`, inputs, outputs };
}
