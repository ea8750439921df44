/**
 * The submit flow shared by run-ffmpeg-command, run-chained-ffmpeg-commands and
 * run-multiple-ffmpeg-commands:
 *   check (parse + policy, then every URL) → record (conditional put, with `pending`) → start.
 * A command that is recorded is accepted: if StartExecution still fails after the client's
 * retries, the submit answers 200 anyway and the reconciler starts it from the pending index.
 */
import type { CommandType } from '../../core/constants.ts';
import type { CommandItem } from '../../core/types.ts';
import { parseFfmpegCommand } from '../../core/command/index.ts';
import { ApiError, violationsToApiError, type ErrorDetail, type ErrorPath } from '../../core/api/errors.ts';
import { buildCommandItem, buildExecutionInput, type SubmitRequest } from '../../core/api/command-item.ts';
import { newCommandId } from '../../core/api/ids.ts';
import type { CommandPlan } from '../../core/types.ts';
import type { Compute } from '../../core/constants.ts';
import { config } from './config.ts';
import { bucketLocation, commandRepository, executionStarter, fileRepository, urlRefusal } from './deps.ts';
import { storedFileRef, storedInputProblem, type StoredFileRef } from '../../core/api/files.ts';
import { logger } from './logger.ts';

export interface SubmitCommand extends SubmitRequest {
  compute?: 'auto' | Compute;
}

export interface CheckedCommand {
  request: SubmitCommand;
  parsed: { plan: CommandPlan; compute: Compute };
}

/** The command strings of a request, one for a single command, several for a chain. */
function commandStrings(request: SubmitCommand): string[] {
  return request.ffmpeg_commands ?? [request.ffmpeg_command ?? ''];
}

/** Stand-in URL given to the parser for a stored-file input: it only lends the extension. */
function storedInputStandIn(fileName: string): string {
  return `https://stored-file.invalid/${encodeURIComponent(fileName)}`;
}

/**
 * Stored files named in `input_files` (file_id or storage_url): each must be the caller's and
 * STORED, else a 422 naming the input. Returns alias → the file's object key and name.
 */
async function resolveStoredInputs(
  inputFiles: Record<string, string>,
  accountId: string | undefined,
  prefix: ErrorPath,
): Promise<Map<string, { s3Key: string; filename: string }>> {
  const refs: { alias: string; ref: StoredFileRef }[] = [];
  // Without a bucket configured (unit tests of the parser path) only file ids are references.
  const where = config().bucket !== '' ? bucketLocation() : { bucket: '\u0000' };
  for (const [alias, value] of Object.entries(inputFiles)) {
    const ref = storedFileRef(value, where);
    if (ref) refs.push({ alias, ref });
  }
  const resolved = new Map<string, { s3Key: string; filename: string }>();
  if (refs.length === 0) return resolved;
  const details: ErrorDetail[] = [];
  await Promise.all(
    refs.map(async ({ alias, ref }) => {
      const item = accountId && (ref.accountId === undefined || ref.accountId === accountId) ? await fileRepository().get(accountId, ref.fileId) : null;
      const problem = storedInputProblem(ref, accountId ?? '', item);
      if (problem) details.push({ path: [...prefix, 'input_files', alias], message: problem, type: 'stored_file' });
      else resolved.set(alias, { s3Key: item!.s3_key, filename: item!.filename });
    }),
  );
  if (details.length > 0) {
    throw new ApiError('VALIDATION_ERROR', details.map((d) => `${d.path.join('.')}: ${d.message}`).join('; '), details);
  }
  return resolved;
}

/**
 * Parse and police the command(s), then check every URL the service would fetch. Throws the
 * ApiError to answer with; `prefix` places paths inside a run-multiple body. With `accountId`,
 * inputs naming the account's stored files are read from the bucket by the worker (no URL
 * check, no public round trip); without it a file_id input is refused.
 */
export async function checkCommand(request: SubmitCommand, prefix: ErrorPath = [], accountId?: string): Promise<CheckedCommand> {
  const stored = await resolveStoredInputs(request.input_files, accountId, prefix);
  const parseInputs = Object.fromEntries(
    Object.entries(request.input_files).map(([alias, url]) => [alias, stored.has(alias) ? storedInputStandIn(stored.get(alias)!.filename) : url]),
  );
  const result = parseFfmpegCommand({
    commands: commandStrings(request),
    inputFiles: parseInputs,
    outputFiles: request.output_files,
    compute: request.compute ?? 'auto',
    gpuAvailable: config().gpuEnabled,
  });
  if (!result.ok) throw violationsToApiError(result.violations, prefix);
  for (const input of result.plan.inputs) {
    const file = stored.get(input.alias);
    if (file) {
      input.s3_key = file.s3Key;
      input.url = `s3://${config().bucket}/${file.s3Key}`;
    }
  }

  const targets: { path: ErrorPath; url: string }[] = Object.entries(request.input_files)
    .filter(([alias]) => !stored.has(alias))
    .map(([alias, url]) => ({
      path: [...prefix, 'input_files', alias],
      url,
    }));
  if (request.webhook_url) targets.push({ path: [...prefix, 'webhook_url'], url: request.webhook_url });
  const refusals = await Promise.all(targets.map(async (t) => ({ ...t, reason: await urlRefusal(t.url) })));
  const details: ErrorDetail[] = refusals
    .filter((r) => r.reason !== null)
    .map((r) => ({ path: r.path, message: `URL refused: ${r.reason}`, type: 'url_not_allowed' }));
  if (details.length > 0) {
    throw new ApiError('VALIDATION_ERROR', details.map((d) => `${d.path.join('.')}: ${d.message}`).join('; '), details);
  }
  return { request, parsed: { plan: result.plan, compute: result.compute } };
}

/** Record the command (status QUEUED, `pending` set); from here on it is accepted. */
export async function recordCommand(
  accountId: string,
  commandType: CommandType,
  checked: CheckedCommand,
  now: Date,
): Promise<CommandItem> {
  const item = buildCommandItem({
    accountId,
    commandId: newCommandId(),
    commandType,
    request: checked.request,
    parsed: checked.parsed,
    now,
    retentionDays: config().retentionDays,
  });
  await commandRepository().create(item);
  logger.info('command recorded', { command_id: item.command_id, command_type: commandType, compute: item.compute });
  return item;
}

/**
 * Start the command's execution. A failure is logged, not thrown: the item keeps `pending`
 * and the reconciler starts it within RECONCILE_AFTER_SECONDS + its schedule.
 */
export async function startCommand(item: CommandItem): Promise<boolean> {
  try {
    const out = await executionStarter().start(buildExecutionInput(item));
    logger.info('execution started', { command_id: item.command_id, already_existed: !out.started });
    return true;
  } catch (err) {
    logger.error('StartExecution failed; the reconciler will start the command', {
      command_id: item.command_id,
      error: err as Error,
    });
    return false;
  }
}
