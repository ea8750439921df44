/**
 * How a retry gets attempted when it falls due.
 * - AWS (`SqsDeliveryScheduler`): a message on the retry queue, delayed by SQS (at most 15 min
 *   per message; a longer wait is covered by re-sending the message with the remaining delay).
 *   A delivery whose schedule is spent goes to the dead-letter queue as a message an operator
 *   can read and redrive to the retry queue (which opens a new schedule for it).
 * - Local mode (`PollingDeliveryScheduler`): nothing to send, a loop polls the deliveries
 *   table's `due` index; deliveries that fail for good are appended to
 *   `$FFAAS_DATA_DIR/webhook-dead-letters.jsonl` and stay FAILED in the table.
 */
import { appendFile } from 'node:fs/promises';
import path from 'node:path';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { DeliveryRecord } from '../../core/webhooks/delivery.ts';

/** The longest DelaySeconds SQS accepts. */
export const SQS_MAX_DELAY_SECONDS = 900;

/** Body of a retry-queue (and dead-letter) message. */
export interface DeliveryMessage {
  account_id: string;
  command_id: string;
  webhook_id: string;
  /** ISO-8601: not to be attempted before. */
  not_before: string;
}

export interface DeliveryScheduler {
  /** Make sure the delivery is attempted at `at`. */
  retryAt(record: DeliveryRecord, at: Date, now: Date): Promise<void>;
  /** The schedule is spent: keep it where an operator finds it. */
  deadLetter(record: DeliveryRecord): Promise<void>;
}

export function deliveryMessage(
  record: Pick<DeliveryRecord, 'account_id' | 'command_id' | 'webhook_id'>,
  at: Date,
): DeliveryMessage {
  return {
    account_id: record.account_id,
    command_id: record.command_id,
    webhook_id: record.webhook_id,
    not_before: at.toISOString(),
  };
}

/** Seconds SQS should hold a message due at `at` (0..900). */
export function delaySeconds(at: Date, now: Date): number {
  return Math.max(0, Math.min(SQS_MAX_DELAY_SECONDS, Math.ceil((at.getTime() - now.getTime()) / 1000)));
}

export class SqsDeliveryScheduler implements DeliveryScheduler {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
    private readonly deadLetterQueueUrl: string,
  ) {}

  async retryAt(record: DeliveryRecord, at: Date, now: Date): Promise<void> {
    await this.send(this.queueUrl, deliveryMessage(record, at), delaySeconds(at, now));
  }

  async send(queueUrl: string, message: DeliveryMessage, delay: number): Promise<void> {
    await this.client.send(
      new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(message), DelaySeconds: delay }),
    );
  }

  async deadLetter(record: DeliveryRecord): Promise<void> {
    const message = {
      ...deliveryMessage(record, new Date(record.updated_at)),
      attempts: record.attempts,
      last_status_code: record.last_status_code,
      last_error: record.last_error,
    };
    await this.client.send(
      new SendMessageCommand({ QueueUrl: this.deadLetterQueueUrl, MessageBody: JSON.stringify(message) }),
    );
  }
}

export class PollingDeliveryScheduler implements DeliveryScheduler {
  constructor(private readonly dataDir: string | undefined) {}

  async retryAt(): Promise<void> {
    // The local loop finds it in the due index.
  }

  async deadLetter(record: DeliveryRecord): Promise<void> {
    if (!this.dataDir) return;
    const line = {
      ...deliveryMessage(record, new Date(record.updated_at)),
      attempts: record.attempts,
      last_status_code: record.last_status_code,
      last_error: record.last_error,
    };
    await appendFile(path.join(this.dataDir, 'webhook-dead-letters.jsonl'), `${JSON.stringify(line)}\n`);
  }
}
