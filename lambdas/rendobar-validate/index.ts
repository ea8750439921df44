/**
 * POST /ffmpeg/validate (Rendobar, no key): {command, inputs?, outputFormat?} →
 * 200 {data: {valid: true, args, inferredOutputFormat}} or 200 {data: {valid: false, error}}.
 * Bare file names are accepted as files the job would stage; inline URLs get the submit's URL
 * policy (resolved, never fetched); nothing is recorded or run.
 */
import { isApiError, zodToApiError } from '../../core/api/errors.ts';
import { adaptRendobarJob, RendobarValidateSchema } from '../../core/dialects/rendobar.ts';
import { checkCommand } from '../common/check.ts';
import { httpHandler, json } from '../common/http.ts';

const invalid = (error: string) => json(200, { data: { valid: false, error } });

export const handler = httpHandler(
  'rendobar-validate',
  async (event) => {
    const parsed = RendobarValidateSchema.safeParse(event.jsonBody);
    if (!parsed.success) return invalid(zodToApiError(parsed.error).message);
    const body = parsed.data;
    const adapted = adaptRendobarJob(
      { inputs: body.inputs ?? {}, params: { command: body.command, outputFormat: body.outputFormat } },
      { lenientInputs: true },
    );
    if (!adapted.ok) return invalid(adapted.details.map((d) => d.message).join('; '));
    // The submit's own checks (command checker, URL policy for inline URLs), so validate never
    // says valid for a job submit refuses; stand-ins for bare names are not resolved.
    try {
      await checkCommand(
        {
          input_files: adapted.command.input_files,
          output_files: adapted.command.output_files,
          ffmpeg_command: adapted.command.ffmpeg_command,
          compute: 'auto',
        },
        [],
        {
          revealAddresses: false,
          stagedInputs: new Set(adapted.command.stand_ins),
          inputNames: adapted.command.input_names,
        },
      );
    } catch (err) {
      if (!isApiError(err) || err.status >= 500) throw err;
      return invalid(err.details?.map((d) => d.message).join('; ') ?? err.message);
    }
    return json(200, {
      data: { valid: true, args: adapted.command.args, inferredOutputFormat: adapted.command.inferredOutputFormat },
    });
  },
  { body: true },
);
