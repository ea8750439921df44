/**
 * Step 6: hand the result back to the state machine with the task token. The state machine
 * (RecordSuccess / RecordFailure) writes the item; the worker never sets the final status.
 */
import { SendTaskFailureCommand, SendTaskSuccessCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { ErrorStatus } from '../../core/constants.ts';
import type { WorkerResult } from '../../core/types.ts';
import { clampMessage } from './errors.ts';

export async function reportSuccess(sfn: SFNClient, taskToken: string, result: WorkerResult): Promise<void> {
  await sfn.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(result) }));
}

/** `error` is the command's error_status, `cause` its error_message (≤ 32 KB, as SFN allows). */
export async function reportFailure(
  sfn: SFNClient,
  taskToken: string,
  error: ErrorStatus,
  message: string,
): Promise<void> {
  await sfn.send(new SendTaskFailureCommand({ taskToken, error, cause: clampMessage(message) }));
}
