/**
 * POST /jobs (Rendobar): {type: "ffmpeg", inputs, params: {command, outputFormat?, timeout?,
 * compute?}} → 200 {data: {id: "job_<command id>", status: "waiting", …}}. The adapter
 * (core/dialects/rendobar.ts) turns the job into the one command model; the one checker, URL
 * policy, record and start follow, exactly as for /api/v1/run-ffmpeg-command.
 */
import { ApiError, zodToApiError } from '../../core/api/errors.ts';
import { adaptRendobarJob, RendobarJobSchema, rendobarPath, toRendobarJob } from '../../core/dialects/rendobar.ts';
import { accountIdOf, httpHandler, json } from '../shared/http.ts';
import { logger } from '../shared/logger.ts';
import { checkCommand, recordCommand, startCommand } from '../shared/submit.ts';

/**
 * A refused command in Rendobar's words: its page answers a disallowed flag (and any command
 * the checker refuses) with VALIDATION_ERROR, so the checker's 400s become 422 here; paths
 * name the Rendobar body's fields.
 */
function rendobarErrors(err: unknown): unknown {
  if (!(err instanceof ApiError) || err.status >= 500) return err;
  const details = err.details?.map((d) => ({ ...d, path: rendobarPath(d.path) }));
  const code = err.code === 'INVALID_REQUEST' ? 'VALIDATION_ERROR' : err.code;
  return new ApiError(code, err.message, details, err.headers);
}

/** Body problems: structure is 400; a value (timeout, compute, outputFormat, a URL) is 422. */
function parseJob(body: unknown) {
  const parsed = RendobarJobSchema.safeParse(body);
  if (parsed.success) return parsed.data;
  const err = zodToApiError(parsed.error);
  const valueIssue = (p: (string | number)[]) =>
    (p[0] === 'params' && ['timeout', 'compute', 'outputFormat'].includes(String(p[1]))) ||
    (p[0] === 'inputs' && p.length >= 2);
  if (err.code === 'INVALID_REQUEST' && err.details?.every((d) => valueIssue(d.path))) {
    throw new ApiError('VALIDATION_ERROR', err.message.replace(/^invalid request/, 'validation failed'), err.details);
  }
  throw err;
}

export const handler = httpHandler(
  'rendobar-submit-job',
  async (event) => {
    const accountId = accountIdOf(event);
    const job = parseJob(event.jsonBody);
    const adapted = adaptRendobarJob(job);
    if (!adapted.ok) {
      throw new ApiError(
        'VALIDATION_ERROR',
        `invalid command: ${adapted.details.map((d) => d.message).join('; ')}`,
        adapted.details,
      );
    }
    const {
      inline_inputs,
      stand_ins: _standIns,
      args: _args,
      inferredOutputFormat: _format,
      ...request
    } = adapted.command;
    if (Object.keys(inline_inputs).length > 0) {
      // Hook: {content} inputs are staged from the bucket by the worker once stored-file inputs
      // (PlannedInput.s3_key) exist; until then they are refused rather than half-run.
      throw new ApiError(
        'VALIDATION_ERROR',
        'inline {content} inputs are not available in this build: host the file and pass its URL',
        [{ path: ['inputs'], message: 'inline content inputs are not available in this build', type: 'not_available' }],
      );
    }
    const checked = await checkCommand(request).catch((err: unknown) => {
      throw rendobarErrors(err);
    });
    const item = await recordCommand(accountId, 'FFMPEG_COMMAND', checked, new Date());
    logger.appendKeys({ command_id: item.command_id });
    await startCommand(item);
    return json(200, { data: toRendobarJob(item) });
  },
  { body: true },
);
