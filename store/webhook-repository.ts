/**
 * Webhooks' data: the account's webhook config (attribute `webhook` of the account item in the
 * accounts table) and the deliveries table (one item per command: account_id + command_id).
 * Every state change of a delivery is a conditional write, so two workers (the SQS consumer and
 * a redeliver, or two local loops) never both act on one attempt.
 */
import {
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { TABLE } from '../core/constants.ts';
import { CLAIM_SECONDS, DUE_MARK, lastAttemptFailed, type DeliveryRecord } from '../core/webhooks/delivery.ts';
import type { AccountWebhookConfig } from '../core/webhooks/config.ts';
import { isConditionFailure } from './errors.ts';
import { accountKey, deliveryKey } from './keys.ts';

const D = TABLE.webhookDeliveries;

export class WebhookConfigRepository {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly accountsTable: string,
  ) {}

  private key(accountId: string) {
    return accountKey(accountId);
  }

  /** Set (or replace) the config: active again, failures reset. */
  async put(accountId: string, url: string, secret: string, now: Date): Promise<AccountWebhookConfig> {
    const config: AccountWebhookConfig = {
      url,
      secret,
      is_active: true,
      consecutive_failures: 0,
      disabled_at: null,
      updated_at: now.toISOString(),
    };
    await this.client.send(
      new UpdateCommand({
        TableName: this.accountsTable,
        Key: this.key(accountId),
        UpdateExpression: 'SET webhook = :w',
        ExpressionAttributeValues: { ':w': config },
      }),
    );
    return config;
  }

  async get(accountId: string): Promise<AccountWebhookConfig | null> {
    const out = await this.client.send(
      new GetCommand({
        TableName: this.accountsTable,
        Key: this.key(accountId),
        ProjectionExpression: 'webhook',
        ConsistentRead: true,
      }),
    );
    const w = out.Item?.webhook as AccountWebhookConfig | undefined;
    return w && typeof w.url === 'string' ? w : null;
  }

  /** Remove it; false when there was none. */
  async delete(accountId: string): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.accountsTable,
          Key: this.key(accountId),
          UpdateExpression: 'REMOVE webhook',
          ConditionExpression: 'attribute_exists(webhook)',
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  /** A delivery to the config's URL succeeded: the failure count starts again. */
  async recordSuccess(accountId: string, url: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.accountsTable,
          Key: this.key(accountId),
          UpdateExpression: 'SET webhook.consecutive_failures = :zero',
          ConditionExpression: 'webhook.#url = :url AND webhook.consecutive_failures > :zero',
          ExpressionAttributeNames: { '#url': 'url' },
          ExpressionAttributeValues: { ':zero': 0, ':url': url },
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
  }

  /**
   * An attempt to the config's URL failed: count it (atomically), and disable the config when
   * the count reaches `disableAfter`. Returns the config after, or null when it changed meanwhile.
   */
  async recordFailure(
    accountId: string,
    url: string,
    disableAfter: number,
    now: Date,
  ): Promise<AccountWebhookConfig | null> {
    let count: number;
    try {
      const out = await this.client.send(
        new UpdateCommand({
          TableName: this.accountsTable,
          Key: this.key(accountId),
          UpdateExpression: 'SET webhook.consecutive_failures = webhook.consecutive_failures + :one',
          ConditionExpression: 'webhook.#url = :url',
          ExpressionAttributeNames: { '#url': 'url' },
          ExpressionAttributeValues: { ':one': 1, ':url': url },
          ReturnValues: 'ALL_NEW',
        }),
      );
      const w = out.Attributes?.webhook as AccountWebhookConfig;
      count = w.consecutive_failures;
      if (count < disableAfter || !w.is_active) return w;
    } catch (err) {
      if (isConditionFailure(err)) return null;
      throw err;
    }
    try {
      const out = await this.client.send(
        new UpdateCommand({
          TableName: this.accountsTable,
          Key: this.key(accountId),
          UpdateExpression: 'SET webhook.is_active = :false, webhook.disabled_at = :now',
          ConditionExpression: 'webhook.#url = :url AND webhook.is_active = :true',
          ExpressionAttributeNames: { '#url': 'url' },
          ExpressionAttributeValues: { ':false': false, ':true': true, ':url': url, ':now': now.toISOString() },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return out.Attributes?.webhook as AccountWebhookConfig;
    } catch (err) {
      if (isConditionFailure(err)) return this.get(accountId);
      throw err;
    }
  }
}

/**
 * The item as written: `next_attempt_at` is the `due` index's sort key, which DynamoDB refuses
 * as NULL, so a delivery with no next attempt simply lacks it (read back as absent → null).
 */
function toItem(record: DeliveryRecord): Record<string, unknown> {
  const { next_attempt_at, ...rest } = record;
  return next_attempt_at ? { ...rest, next_attempt_at } : rest;
}

function fromItem(item: Record<string, unknown> | undefined): DeliveryRecord | null {
  if (!item) return null;
  return { next_attempt_at: null, ...item } as DeliveryRecord;
}

export class DeliveryRepository {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  private key(accountId: string, commandId: string) {
    return deliveryKey(accountId, commandId);
  }

  /** Record a new delivery; false when the command already has one (a repeated event). */
  async create(record: DeliveryRecord): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: toItem(record),
          ConditionExpression: 'attribute_not_exists(#pk) AND attribute_not_exists(#sk)',
          ExpressionAttributeNames: { '#pk': D.partitionKey, '#sk': D.sortKey },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  async get(accountId: string, commandId: string): Promise<DeliveryRecord | null> {
    const out = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: this.key(accountId, commandId), ConsistentRead: true }),
    );
    return fromItem(out.Item);
  }

  /**
   * Take a due delivery for one attempt: its next_attempt_at moves CLAIM_SECONDS ahead (the
   * lease). Null when it is not PENDING or not due (someone else has it, or it is done).
   */
  async claim(accountId: string, commandId: string, now: Date): Promise<DeliveryRecord | null> {
    const at = now.toISOString();
    try {
      const out = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.key(accountId, commandId),
          UpdateExpression: 'SET next_attempt_at = :lease, updated_at = :now',
          ConditionExpression: '#state = :pending AND next_attempt_at <= :now',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: {
            ':pending': 'PENDING',
            ':now': at,
            ':lease': new Date(now.getTime() + CLAIM_SECONDS * 1000).toISOString(),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return fromItem(out.Attributes);
    } catch (err) {
      if (isConditionFailure(err)) return null;
      throw err;
    }
  }

  /**
   * Write the record as it is after an attempt (or a skip, or a redeliver), provided nobody
   * changed it since `expectedUpdatedAt`. False when someone did (their write stands).
   */
  async save(record: DeliveryRecord, expectedUpdatedAt: string): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: toItem(record),
          ConditionExpression: 'updated_at = :expected',
          ExpressionAttributeValues: { ':expected': expectedUpdatedAt },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  /** Deliveries due at `now` (oldest first), from the sparse due index. */
  async listDue(now: Date, limit = 25): Promise<DeliveryRecord[]> {
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: D.dueIndex,
        KeyConditionExpression: '#due = :due AND #next <= :now',
        ExpressionAttributeNames: { '#due': D.duePartitionKey, '#next': D.dueSortKey },
        ExpressionAttributeValues: { ':due': DUE_MARK, ':now': now.toISOString() },
        ScanIndexForward: true,
        Limit: limit,
      }),
    );
    return (out.Items ?? []).map((i) => fromItem(i)!);
  }

  /**
   * The account's deliveries whose last attempt failed, most recently changed first. Reads at
   * most `scan` of the account's latest deliveries to find them.
   */
  async listRecentFailed(accountId: string, limit: number, scan = 500): Promise<DeliveryRecord[]> {
    const found: DeliveryRecord[] = [];
    let startKey: Record<string, unknown> | undefined;
    let read = 0;
    do {
      const out = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: D.byUpdatedIndex,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': D.partitionKey },
          ExpressionAttributeValues: { ':pk': accountId },
          ScanIndexForward: false,
          ExclusiveStartKey: startKey,
          Limit: 100,
        }),
      );
      const items = (out.Items ?? []).map((i) => fromItem(i)!);
      read += items.length;
      found.push(...items.filter(lastAttemptFailed));
      startKey = out.LastEvaluatedKey;
    } while (startKey && found.length < limit && read < scan);
    return found.slice(0, limit);
  }
}
