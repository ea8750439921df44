/**
 * The submit flow shared by run-ffmpeg-command, run-chained-ffmpeg-commands and
 * run-multiple-ffmpeg-commands:
 *   check (parse + policy, then every URL) → record (conditional put, with `pending`) → start.
 * The checks live in check.ts (POST /validate runs the same ones). A command that is recorded
 * is accepted: if StartExecution still fails after the client's retries, the submit answers
 * 200 anyway and the reconciler starts it from the pending index.
 */
import type { CommandType } from '../../core/constants.ts';
import type { CommandItem } from '../../core/types.ts';
import { buildCommandItem, buildExecutionInput } from '../../core/api/command-item.ts';
import { newCommandId } from '../../core/api/ids.ts';
import { ApiError, type ErrorDetail, type ErrorPath } from '../../core/api/errors.ts';
import { storedFileRef, storedInputProblem, type StoredFileRef } from '../../core/api/files.ts';
import type { CheckedCommand, StoredInput, StoredInputResolver } from './check.ts';
import { config } from './config.ts';
import { bucketLocation, commandRepository, executionStarter, fileRepository } from './deps.ts';
import { logger } from './logger.ts';
import { countSubmitted } from './observability.ts';
import { admittedCommandSettled } from './admission.ts';

/**
 * Stored files named in `input_files` (file_id or storage_url): each must be the caller's and
 * STORED, else a 422 naming the input. Returns alias → the file's object key and name.
 */
export function storedInputResolver(
  accountId: string,
  opts: {
    /** A dialect's own file URLs (Rendobar's asset content URLs) → the stored file they name. */
    refOf?: (value: string) => StoredFileRef | null;
    /** Inputs the service stored for this command itself (Rendobar's inline content), by alias. */
    own?: ReadonlyMap<string, StoredInput>;
  } = {},
): StoredInputResolver {
  return async (inputFiles: Record<string, string>, prefix: ErrorPath): Promise<Map<string, StoredInput>> => {
    const refs: { alias: string; ref: StoredFileRef }[] = [];
    // Without a bucket configured (unit tests of the parser path) only file ids are references.
    const where = config().bucket !== '' ? bucketLocation() : { bucket: '\u0000' };
    for (const [alias, value] of Object.entries(inputFiles)) {
      if (opts.own?.has(alias)) continue;
      const ref = storedFileRef(value, where) ?? opts.refOf?.(value) ?? null;
      if (ref) refs.push({ alias, ref });
    }
    const resolved = new Map<string, StoredInput>(opts.own ?? []);
    if (refs.length === 0) return resolved;
    const details: ErrorDetail[] = [];
    await Promise.all(
      refs.map(async ({ alias, ref }) => {
        const item =
          ref.accountId === undefined || ref.accountId === accountId
            ? await fileRepository().get(accountId, ref.fileId)
            : null;
        const problem = storedInputProblem(ref, accountId, item);
        if (problem) details.push({ path: [...prefix, 'input_files', alias], message: problem, type: 'stored_file' });
        else resolved.set(alias, { s3Key: item!.s3_key, filename: item!.filename });
      }),
    );
    if (details.length > 0) {
      throw new ApiError(
        'VALIDATION_ERROR',
        details.map((d) => `${d.path.join('.')}: ${d.message}`).join('; '),
        details,
      );
    }
    return resolved;
  };
}

/** Record the command (status QUEUED, `pending` set); from here on it is accepted. */
export async function recordCommand(
  accountId: string,
  commandType: CommandType,
  checked: CheckedCommand,
  now: Date,
  /** Chosen before recording when objects are stored under it first (Rendobar's inline inputs). */
  commandId: string = newCommandId(),
): Promise<CommandItem> {
  const item = buildCommandItem({
    accountId,
    commandId,
    commandType,
    request: checked.request,
    parsed: checked.parsed,
    now,
    retentionDays: config().retentionDays,
  });
  try {
    await commandRepository().create(item);
  } finally {
    admittedCommandSettled(accountId);
  }
  countSubmitted();
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

export { checkCommand, checkSubmission, type CheckedCommand, type SubmitCommand } from './check.ts';
