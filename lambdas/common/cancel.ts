/** The ports of the one cancel (core/control/cancel.ts) for the Lambda handlers: POST /commands/{id}/cancel and Rendobar's POST /jobs/{id}/cancel. */
import { ECSClient, StopTaskCommand } from '@aws-sdk/client-ecs';
import { DeleteObjectsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { StopExecutionCommand } from '@aws-sdk/client-sfn';
import { ENV, S3_KEYS } from '../../core/constants.ts';
import { commandEventEntry } from '../../core/events.ts';
import { executionArnOf, type CancelPorts } from '../../core/control/cancel.ts';
import { eventBridgeClient, s3Client, sfnClient } from '../../store/clients.ts';
import { isAwsError } from '../../store/errors.ts';
import { commandRepository } from './deps.ts';
import { required } from './config.ts';
import { putCommandEvents } from './event-bus.ts';
import { logger } from './logger.ts';

let ecs: ECSClient | undefined;

export function cancelPorts(): CancelPorts {
  const commands = commandRepository();
  const cluster = process.env[ENV.WORKER_CLUSTER_ARN];
  return {
    // AWS: stop the worker's task now (SIGTERM; the worker aborts FFmpeg and exits).
    ...(cluster
      ? {
          async stopWorker(taskArn: string) {
            ecs ??= new ECSClient({});
            await ecs.send(new StopTaskCommand({ cluster, task: taskArn, reason: 'ffaas: the command was cancelled' }));
          },
        }
      : {}),
    releaseSlot: async (accountId, commandId) => void (await commands.releaseSlot(accountId, commandId)),
    get: (accountId, commandId) => commands.get(accountId, commandId),
    markCancelled: (accountId, commandId, failure) => commands.cancel(accountId, commandId, failure),
    async stopExecution(commandId) {
      try {
        await sfnClient().send(
          new StopExecutionCommand({
            executionArn: executionArnOf(required('stateMachineArn'), commandId),
            error: 'CANCELLED',
            cause: 'cancelled by the account',
          }),
        );
      } catch (err) {
        // Not started yet (the reconciler's start will find it FAILED) or already over.
        if (!isAwsError(err, 'ExecutionDoesNotExist')) throw err;
      }
    },
    async discardOutputs(accountId, commandId) {
      const Bucket = required('bucket');
      // Its outputs, and the inputs the service stored for it (Rendobar's inline content).
      for (const Prefix of [S3_KEYS.output(accountId, commandId, ''), S3_KEYS.commandInput(accountId, commandId, '')]) {
        let ContinuationToken: string | undefined;
        do {
          const page = await s3Client().send(new ListObjectsV2Command({ Bucket, Prefix, ContinuationToken }));
          const objects = (page.Contents ?? []).map((o) => ({ Key: o.Key! }));
          if (objects.length > 0)
            await s3Client().send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: objects, Quiet: true } }));
          ContinuationToken = page.NextContinuationToken;
        } while (ContinuationToken);
      }
    },
    async publish(detail) {
      // A refused entry throws, so core/control/cancel.ts logs it as a failed step instead of
      // the CANCELLED event vanishing without a trace.
      await putCommandEvents(eventBridgeClient(), required('eventBusName'), [commandEventEntry(detail)]);
    },
    log: (message, extra) => logger.warn(message, extra),
  };
}
