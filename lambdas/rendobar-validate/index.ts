/**
 * POST /ffmpeg/validate (Rendobar, no key): {command, inputs?, outputFormat?} →
 * 200 {data: {valid: true, args, inferredOutputFormat}} or 200 {data: {valid: false, error}}.
 * Bare file names are accepted as files the job would stage; nothing is resolved, recorded or run.
 */
import { zodToApiError } from '../../core/api/errors.ts';
import { parseFfmpegCommand } from '../../core/command/index.ts';
import { adaptRendobarJob, RendobarValidateSchema } from '../../core/dialects/rendobar.ts';
import { config } from '../shared/config.ts';
import { httpHandler, json } from '../shared/http.ts';

const invalid = (error: string) => json(200, { data: { valid: false, error } });

export const handler = httpHandler(
  'rendobar-validate',
  async (event) => {
    const parsed = RendobarValidateSchema.safeParse(event.jsonBody);
    if (!parsed.success) return invalid(zodToApiError(parsed.error).message);
    const body = parsed.data;
    const adapted = adaptRendobarJob({ inputs: body.inputs ?? {}, params: { command: body.command, outputFormat: body.outputFormat } }, { lenientInputs: true });
    if (!adapted.ok) return invalid(adapted.details.map((d) => d.message).join('; '));
    const result = parseFfmpegCommand({
      commands: [adapted.command.ffmpeg_command],
      inputFiles: adapted.command.input_files,
      outputFiles: adapted.command.output_files,
      compute: 'auto',
      gpuAvailable: config().gpuEnabled,
    });
    if (!result.ok) return invalid(result.violations.map((v) => v.message).join('; '));
    return json(200, { data: { valid: true, args: adapted.command.args, inferredOutputFormat: adapted.command.inferredOutputFormat } });
  },
  { body: true },
);
