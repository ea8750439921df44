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
import { commandRepository, executionStarter, urlRefusal } from './deps.ts';
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

/**
 * Parse and police the command(s), then check every URL the service would fetch. Throws the
 * ApiError to answer with; `prefix` places paths inside a run-multiple body.
 */
export async function checkCommand(request: SubmitCommand, prefix: ErrorPath = []): Promise<CheckedCommand> {
  const result = parseFfmpegCommand({
    commands: commandStrings(request),
    inputFiles: request.input_files,
    outputFiles: request.output_files,
    compute: request.compute ?? 'auto',
    gpuAvailable: config().gpuEnabled,
  });
  if (!result.ok) throw violationsToApiError(result.violations, prefix);

  const targets: { path: ErrorPath; url: string }[] = Object.entries(request.input_files).map(([alias, url]) => ({
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
