/**
 * POST /jobs (Rendobar): {type: "ffmpeg", inputs, params: {command, outputFormat?, timeout?,
 * compute?}} → 200 {data: {id: "job_<command id>", status: "waiting", …}}. The adapter
 * (core/dialects/rendobar.ts) turns the job into the one command model; the one checker, URL
 * policy, record and start follow, exactly as for /api/v1/run-ffmpeg-command. Inline
 * `{content}` inputs are stored in the bucket first; asset content URLs name stored files.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { S3_KEYS } from '../../core/constants.ts';
import { ApiError, zodToApiError } from '../../core/api/errors.ts';
import { newCommandId } from '../../core/api/ids.ts';
import {
  adaptRendobarJob,
  assetContentRef,
  RendobarJobSchema,
  rendobarPath,
  toRendobarJob,
  type RendobarJob,
} from '../../core/dialects/rendobar.ts';
import { s3Client } from '../../store/clients.ts';
import { required } from '../common/config.ts';
import { publicBaseUrl } from '../common/downloads.ts';
import { accountIdOf, httpHandler, json, type ApiEvent } from '../common/http.ts';
import { admitSubmit } from '../common/admission.ts';
import { idempotentSubmit } from '../common/idempotency.ts';
import { logger } from '../common/logger.ts';
import { checkCommand, recordCommand, startCommand, storedInputResolver } from '../common/submit.ts';

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
  async (event, context) => {
    const accountId = accountIdOf(event);
    // Idempotency-Key and admission (queued cap, spend guards) exactly as on the other submits.
    const answer = await idempotentSubmit('rendobar-submit-job', accountId, event, context, () =>
      submitJob(accountId, event),
    );
    return json(200, answer);
  },
  { body: true },
);

/** The submit itself: adapt, store inline inputs, check, admit, record, start. */
async function submitJob(accountId: string, event: ApiEvent): Promise<{ data: RendobarJob }> {
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
    input_names,
    stand_ins: _standIns,
    args: _args,
    inferredOutputFormat: _format,
    ...request
  } = adapted.command;
  // Inline {content} inputs become objects of the bucket under the command's own prefix,
  // read by the worker like stored files; the command id is chosen first to name them.
  const commandId = newCommandId();
  const own = new Map(
    Object.entries(inline_inputs).map(([alias, { name }]) => [
      alias,
      { s3Key: S3_KEYS.commandInput(accountId, commandId, name), filename: name },
    ]),
  );
  const base = publicBaseUrl(event);
  const checked = await checkCommand(request, [], {
    storedInputs: storedInputResolver(accountId, { own, refOf: (value) => assetContentRef(value, base) }),
    inputNames: input_names,
  }).catch((err: unknown) => {
    throw rendobarErrors(err);
  });
  await admitSubmit(accountId, 1);
  // Stored before the command is recorded, so the worker always finds them; a failed
  // record leaves only objects the files/ lifecycle rule removes.
  await Promise.all(
    Object.entries(inline_inputs).map(([alias, { content }]) =>
      s3Client().send(
        new PutObjectCommand({
          Bucket: required('bucket'),
          Key: own.get(alias)!.s3Key,
          Body: Buffer.from(content, 'utf8'),
          ContentType: 'text/plain; charset=utf-8',
        }),
      ),
    ),
  );
  const item = await recordCommand(accountId, 'FFMPEG_COMMAND', checked, new Date(), commandId);
  logger.appendKeys({ command_id: item.command_id });
  await startCommand(item);
  return { data: toRendobarJob(item) };
}
