/**
 * The webhook delivery function. Two triggers:
 * - the bus rule (source `ffaas`, detail-type FFmpeg Command Succeeded | Failed): record the
 *   command's delivery and make the first attempt;
 * - the retry queue (SQS, ReportBatchItemFailures): a retry fell due. A message whose time has
 *   not come (SQS delays at most 15 min) goes back with the remaining delay; a message redriven
 *   from the dead-letter queue (it carries `attempts`) opens a new schedule.
 * A failure to reach DynamoDB or SQS throws (EventBridge/Lambda retry the event; SQS redelivers
 * the message, and after maxReceiveCount moves it to the dead-letter queue).
 */
/* eslint-disable @typescript-eslint/no-explicit-any */
import middy from '@middy/core';
import type { Context, EventBridgeEvent, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { CommandEventDetail } from '../../core/types.ts';
import { config } from '../common/config.ts';
import { logger } from '../common/logger.ts';
import { observability } from '../common/observability.ts';
import { createWebhookDeliverer } from '../common/webhook-deps.ts';
import { delaySeconds, SqsDeliveryScheduler, type DeliveryMessage } from '../common/webhook-queue.ts';
import { safeWebhookSender } from '../common/webhook-sender.ts';
import { sqsClient } from '../../store/clients.ts';
import type { WebhookDeliverer } from '../common/webhook-deliverer.ts';

let deliverer: WebhookDeliverer | undefined;
function get(): WebhookDeliverer {
  deliverer ??= createWebhookDeliverer(safeWebhookSender(config().allowPrivateUrls));
  return deliverer;
}

/** Forget the cached deliverer (tests). */
export function resetDeliverer(): void {
  deliverer = undefined;
}

type DeliveryEvent = EventBridgeEvent<string, CommandEventDetail> | SQSEvent;

function isSqs(event: DeliveryEvent): event is SQSEvent {
  return Array.isArray((event as SQSEvent).Records);
}

async function onMessage(message: DeliveryMessage & { attempts?: number }, now: Date): Promise<void> {
  const due = Date.parse(message.not_before);
  if (Number.isFinite(due) && due - now.getTime() > 1000) {
    const queue = new SqsDeliveryScheduler(sqsClient(), config().webhookQueueUrl, config().webhookDlqUrl);
    await queue.send(config().webhookQueueUrl, message, delaySeconds(new Date(due), now));
    return;
  }
  if (message.attempts !== undefined) await get().revive(message.account_id, message.command_id);
  else await get().attemptOrReschedule(message.account_id, message.command_id);
}

async function deliver(event: DeliveryEvent): Promise<SQSBatchResponse | void> {
  if (isSqs(event)) {
    const failures: SQSBatchResponse['batchItemFailures'] = [];
    for (const record of event.Records) {
      try {
        const body = JSON.parse(record.body) as Record<string, any>;
        // Redriven from the dead-letter queue: an event EventBridge could not hand over (the
        // event itself), or one the function failed on (a Lambda destination record).
        const event = body?.['detail-type'] ? body : body?.requestPayload?.['detail-type'] ? body.requestPayload : null;
        if (event?.detail?.account_id && event.detail.command_id) {
          await get().onCommandFinished(event.detail.account_id, event.detail.command_id, event['detail-type']);
          continue;
        }
        const message = body as DeliveryMessage & { attempts?: number };
        if (!message?.account_id || !message.command_id) {
          logger.error('webhook queue: malformed message dropped', { message_id: record.messageId });
          continue;
        }
        await onMessage(message, new Date());
      } catch (err) {
        logger.error('webhook queue: message failed; SQS will redeliver it', {
          message_id: record.messageId,
          error: err as Error,
        });
        failures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures: failures };
  }
  const detail = event.detail;
  if (!detail?.account_id || !detail.command_id) {
    logger.error('webhook: event without account_id/command_id dropped', { event_id: event.id });
    return;
  }
  const record = await get().onCommandFinished(detail.account_id, detail.command_id, event['detail-type']);
  logger.info('webhook event handled', { command_id: detail.command_id, delivery: record?.state ?? 'none' });
}

export const handler = middy<DeliveryEvent, SQSBatchResponse | void, Error, Context>(deliver).use(observability());
