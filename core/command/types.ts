/**
 * The command model's public contract. parseFfmpegCommand (core/command/index.ts) turns what a
 * user submitted into a CommandPlan the worker can run, or a list of violations.
 */
import type { Compute } from '../constants.ts';
import type { CommandPlan } from '../types.ts';

export interface ParseCommandInput {
  /** One entry for run-ffmpeg-command, 1..10 for run-chained-ffmpeg-commands. */
  commands: string[];
  /** in_* alias → http(s) URL (stored-file ids are resolved to URLs before parsing). */
  inputFiles: Record<string, string>;
  /** out_* alias → plain file name. */
  outputFiles: Record<string, string>;
  /** auto (default) | cpu | gpu */
  compute?: 'auto' | Compute;
  /** Whether the deployment has GPU workers (compute gpu / NVENC is a 422 otherwise). */
  gpuAvailable: boolean;
  /**
   * in_* alias → the workspace name to stage it under, instead of `<alias><ext of the URL>`
   * (Rendobar stages each `inputs` key under its exact name). Each must be a plain file name,
   * unique among the inputs, and is checked like any workspace name.
   */
  inputNames?: Readonly<Record<string, string>>;
}

/**
 * Why a command was refused. `status` follows docs/API.md: 400 INVALID_REQUEST for malformed or
 * forbidden commands, 422 VALIDATION_ERROR for well-formed but unacceptable values (e.g. an
 * NVENC codec with compute "cpu", GPU where none is configured).
 */
export interface CommandViolation {
  code: 'INVALID_REQUEST' | 'VALIDATION_ERROR';
  /** Machine-readable rule name, e.g. "option-not-allowed", "protocol-not-allowed". */
  rule: string;
  /** Names the offending token and the rule, e.g. `option "-dump_attachment" is not allowed: ...`. */
  message: string;
  /** Where: e.g. ["ffmpeg_command"] or ["ffmpeg_commands", 1] or ["input_files", "in_x"]. */
  path: (string | number)[];
}

export type ParseCommandResult =
  | {
      ok: true;
      plan: CommandPlan;
      compute: Compute;
      /** The argv of each command after substitution and forced options, for /validate. */
      args: string[][];
    }
  | { ok: false; violations: CommandViolation[] };
