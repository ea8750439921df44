/**
 * Cancel a command: the use case behind POST /commands/{command_id}/cancel (and any dialect's
 * cancel route). No AWS imports: the handler passes the ports (store, execution stopper,
 * output remover, event publisher).
 *
 * Order matters. The conditional write (lifecycle step `cancel`: QUEUED | PROCESSING → FAILED /
 * CANCELLED) comes first, so the command is final before anything is stopped: a QUEUED command's
 * execution then finds it no longer QUEUED at MarkProcessing and ends without a worker, and a
 * PROCESSING one's late RecordSuccess/RecordFailure finds it FAILED and changes nothing. Then the
 * execution is stopped (its task token dies; locally the worker's process group is killed at
 * once), on AWS the worker's ECS task is stopped (StopTask: SIGTERM, FFmpeg stops within
 * seconds), the account slot is given back, the partial outputs are deleted and the FAILED
 * event is published. Those three are best effort after the write: the command is cancelled
 * whatever they do, and a failure of one is logged, not answered.
 */
import type { CommandItem } from '../types.ts';
import type { CommandEventDetail } from '../types.ts';
import { ApiError } from '../api/errors.ts';
import { isFinalStatus } from '../constants.ts';

export const CANCELLED_MESSAGE = 'The command was cancelled by the account.';

export interface CancelPorts {
  get(accountId: string, commandId: string): Promise<CommandItem | null>;
  /** The lifecycle's `cancel` step; false when the command was no longer QUEUED or PROCESSING. */
  markCancelled(
    accountId: string,
    commandId: string,
    failure: { finishedAt: string; errorStatus: 'CANCELLED'; errorMessage: string },
  ): Promise<boolean>;
  /** Stop the command's execution (named by command_id); a missing or finished one is not an error. */
  stopExecution(commandId: string): Promise<void>;
  /**
   * Stop the worker's ECS task (its ARN recorded on the item by the worker) so FFmpeg stops
   * within seconds instead of at the worker's next heartbeat. Absent where there is no ECS
   * (local mode kills the worker's process group when the execution stops).
   */
  stopWorker?(taskArn: string): Promise<void>;
  /** Give back the command's per-account slot (its stopped execution never reaches ReleaseSlot). */
  releaseSlot?(accountId: string, commandId: string): Promise<void>;
  /** Delete whatever outputs were already stored. */
  discardOutputs(accountId: string, commandId: string): Promise<void>;
  publish(detail: CommandEventDetail): Promise<void>;
  log?: (message: string, extra: Record<string, unknown>) => void;
}

/** Returns the command as stored after the cancel. 404 when missing/foreign, 409 when already finished. */
export async function cancelCommand(
  accountId: string,
  commandId: string,
  ports: CancelPorts,
  now: Date = new Date(),
): Promise<CommandItem> {
  const item = await ports.get(accountId, commandId);
  if (!item) throw new ApiError('NOT_FOUND', 'command not found');
  const finished = () =>
    new ApiError(
      'CONFLICT',
      `command ${commandId} has already finished (${item.status}); only QUEUED or PROCESSING commands can be cancelled`,
    );
  if (isFinalStatus(item.status)) throw finished();

  const failure = { finishedAt: now.toISOString(), errorStatus: 'CANCELLED' as const, errorMessage: CANCELLED_MESSAGE };
  if (!(await ports.markCancelled(accountId, commandId, failure))) {
    // It finished between the read and the write.
    const latest = await ports.get(accountId, commandId);
    if (latest) item.status = latest.status;
    throw finished();
  }

  const bestEffort = async (what: string, p: () => Promise<void>) => {
    try {
      await p();
    } catch (err) {
      ports.log?.(`cancel: ${what} failed`, { command_id: commandId, error: (err as Error)?.message ?? String(err) });
    }
  };
  await bestEffort('stopping the execution', () => ports.stopExecution(commandId));
  // Read after the cancel write: the worker records its task only while PROCESSING, so no ARN
  // can appear after this read.
  const stopWorker = ports.stopWorker;
  if (stopWorker) {
    await bestEffort('stopping the worker task', async () => {
      const taskArn = (await ports.get(accountId, commandId))?.worker_task_arn;
      if (taskArn) await stopWorker(taskArn);
    });
  }
  const releaseSlot = ports.releaseSlot;
  if (releaseSlot) await bestEffort('giving back the slot', () => releaseSlot(accountId, commandId));
  await bestEffort('discarding outputs', () => ports.discardOutputs(accountId, commandId));
  await bestEffort('publishing the event', () =>
    ports.publish({
      command_id: commandId,
      account_id: accountId,
      status: 'FAILED',
      finished_at: failure.finishedAt,
      error_status: failure.errorStatus,
      error_message: failure.errorMessage,
    }),
  );
  return (await ports.get(accountId, commandId)) ?? item;
}

/** The execution ARN of a named execution of a state machine (arn:…:stateMachine:M → arn:…:execution:M:name). */
export function executionArnOf(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}
