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
import { commandRepository, executionStarter } from './deps.ts';
import type { CheckedCommand } from './check.ts';
import { logger } from './logger.ts';

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

export { checkCommand, checkSubmission, type CheckedCommand, type SubmitCommand } from './check.ts';
