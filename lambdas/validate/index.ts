/**
 * POST /validate (no key): the run-ffmpeg-command body (maps optional; `ffmpeg_commands` for a
 * chain) → 200 {valid: true, args, compute} or 200 {valid: false, errors: [{code, message, path}]}.
 * Nothing is recorded or run, and no URL is resolved (an unauthenticated route must not be a
 * DNS/SSRF probe); submit checks the addresses.
 * A body that is not JSON (or over the size limit) is still an error envelope: there is
 * nothing to validate.
 */
import { ValidateSchema } from '../../core/api/schemas.ts';
import { zodToApiError } from '../../core/api/errors.ts';
import type { ValidateResponse, ValidationErrorEntry } from '../../core/api/responses.ts';
import { parseFfmpegCommand } from '../../core/command/index.ts';
import { config } from '../shared/config.ts';
import { isFileId } from '../../core/api/files.ts';
import { httpHandler, json } from '../shared/http.ts';

export const handler = httpHandler(
  'validate',
  async (event) => {
    const parsedBody = ValidateSchema.safeParse(event.jsonBody);
    if (!parsedBody.success) {
      const err = zodToApiError(parsedBody.error);
      const errors: ValidationErrorEntry[] = (err.details ?? [{ path: [], message: err.message }]).map((d) => ({
        code: err.code as ValidationErrorEntry['code'],
        message: d.message,
        path: d.path,
      }));
      return json(200, { valid: false, errors } satisfies ValidateResponse);
    }
    const body = parsedBody.data;
    const chained = body.ffmpeg_commands !== undefined;
    const result = parseFfmpegCommand({
      commands: body.ffmpeg_commands ?? [body.ffmpeg_command ?? ''],
      // A stored file's id stands for a file with no known extension (validate reads no table).
      inputFiles: Object.fromEntries(
        Object.entries(body.input_files ?? {}).map(([alias, v]) => [alias, isFileId(v) ? `https://stored-file.invalid/${v}` : v]),
      ),
      outputFiles: body.output_files ?? {},
      compute: body.compute ?? 'auto',
      gpuAvailable: config().gpuEnabled,
    });
    if (!result.ok) {
      const errors: ValidationErrorEntry[] = result.violations.map((v) => ({
        code: v.code,
        message: v.message,
        path: v.path,
        rule: v.rule,
      }));
      return json(200, { valid: false, errors } satisfies ValidateResponse);
    }
    return json(200, {
      valid: true,
      args: chained ? result.args : (result.args[0] ?? []),
      compute: result.compute,
    } satisfies ValidateResponse);
  },
  { body: true },
);
