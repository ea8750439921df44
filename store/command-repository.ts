/** The commands table: one item per command, keyed by account_id + command_id. */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { PENDING_MARK, TABLE, type CommandStatus } from '../core/constants.ts';
import type { CommandItem } from '../core/types.ts';
import type { ListCursorKey } from '../core/api/list.ts';

const T = TABLE.commands;

export class CommandExistsError extends Error {
  constructor(commandId: string) {
    super(`command ${commandId} already exists`);
    this.name = 'CommandExistsError';
  }
}

export interface ListOptions {
  limit: number;
  /** Rows to skip after the start (after the cursor when one is given). */
  offset?: number;
  /** Start after this row (the decoded next_cursor of a previous page). */
  cursor?: ListCursorKey;
  status?: CommandStatus;
}

export interface ListPage {
  items: CommandItem[];
  /** Key of the last returned row when more rows follow, else null. */
  next: ListCursorKey | null;
}

/** What the reconciler needs of a pending command (the index projects every attribute). */
export type PendingCommand = CommandItem;

export class CommandRepository {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Write a new command; refuses (CommandExistsError) when the id is taken. */
  async create(item: CommandItem): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: 'attribute_not_exists(#pk) AND attribute_not_exists(#sk)',
          ExpressionAttributeNames: { '#pk': T.partitionKey, '#sk': T.sortKey },
        }),
      );
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException || (err as Error)?.name === 'ConditionalCheckFailedException') {
        throw new CommandExistsError(item.command_id);
      }
      throw err;
    }
  }

  /** The account's command, or null (another account's command is as missing as none). */
  async get(accountId: string, commandId: string): Promise<CommandItem | null> {
    const out = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { [T.partitionKey]: accountId, [T.sortKey]: commandId },
        ConsistentRead: true,
      }),
    );
    return (out.Item as CommandItem | undefined) ?? null;
  }

  /**
   * The account's commands, newest first, on the by_created index. DynamoDB applies Limit
   * before a filter, so this keeps querying until it has offset + limit (+1 to know whether
   * more follow) matching rows or the partition ends.
   */
  async listByAccount(accountId: string, options: ListOptions): Promise<ListPage> {
    const offset = options.offset ?? 0;
    const want = offset + options.limit + 1;
    const rows: CommandItem[] = [];
    let startKey: Record<string, unknown> | undefined = options.cursor
      ? {
          [T.partitionKey]: options.cursor.account_id,
          [T.sortKey]: options.cursor.command_id,
          [T.byCreatedSortKey]: options.cursor.created_at,
        }
      : undefined;
    const names: Record<string, string> = { '#pk': T.partitionKey };
    const values: Record<string, unknown> = { ':pk': accountId };
    let filter: string | undefined;
    if (options.status) {
      names['#status'] = 'status';
      values[':status'] = options.status;
      filter = '#status = :status';
    }
    do {
      const out = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: T.byCreatedIndex,
          KeyConditionExpression: '#pk = :pk',
          FilterExpression: filter,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ScanIndexForward: false,
          ExclusiveStartKey: startKey,
          Limit: Math.min(1000, Math.max(want - rows.length, options.status ? 100 : 1)),
        }),
      );
      rows.push(...((out.Items as CommandItem[] | undefined) ?? []));
      startKey = out.LastEvaluatedKey;
    } while (startKey && rows.length < want);

    const items = rows.slice(offset, offset + options.limit);
    const more = rows.length > offset + options.limit;
    const last = items[items.length - 1];
    return {
      items,
      next: more && last ? { account_id: last.account_id, command_id: last.command_id, created_at: last.created_at } : null,
    };
  }

  /**
   * Commands accepted before `olderThan` (ISO-8601) whose execution has not marked them yet:
   * the sparse pending index holds only items that still carry `pending`.
   */
  async listPending(olderThan: string, limit = 100): Promise<PendingCommand[]> {
    const items: PendingCommand[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: T.pendingIndex,
          KeyConditionExpression: '#p = :p AND #c < :c',
          ExpressionAttributeNames: { '#p': T.pendingPartitionKey, '#c': T.pendingSortKey },
          ExpressionAttributeValues: { ':p': PENDING_MARK, ':c': olderThan },
          ScanIndexForward: true,
          ExclusiveStartKey: startKey,
          Limit: limit - items.length,
        }),
      );
      items.push(...((out.Items as PendingCommand[] | undefined) ?? []));
      startKey = out.LastEvaluatedKey;
    } while (startKey && items.length < limit);
    return items;
  }

  /**
   * Drop `pending` from a command that is no longer QUEUED (the execution moved it on but the
   * mark stayed), so the reconciler stops looking at it. Returns false when it is still QUEUED
   * or gone.
   */
  async clearPending(accountId: string, commandId: string): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [T.partitionKey]: accountId, [T.sortKey]: commandId },
          UpdateExpression: 'REMOVE #p',
          ConditionExpression: 'attribute_exists(#pk) AND #status <> :queued',
          ExpressionAttributeNames: { '#p': T.pendingPartitionKey, '#pk': T.partitionKey, '#status': 'status' },
          ExpressionAttributeValues: { ':queued': 'QUEUED' },
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException || (err as Error)?.name === 'ConditionalCheckFailedException') return false;
      throw err;
    }
  }

  /**
   * Replace the stored outputs of a finished command (DELETE /commands/{id}/files marks them
   * deleted). Conditional on the command being SUCCESS or FAILED and on the outputs being the
   * ones read (`expectedJson`), so a concurrent RecordSuccess is never overwritten. Returns
   * false when the condition failed.
   */
  async replaceOutputs(accountId: string, commandId: string, expectedJson: string, outputsJson: string): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [T.partitionKey]: accountId, [T.sortKey]: commandId },
          UpdateExpression: 'SET output_files_json = :new',
          ConditionExpression: '#status IN (:success, :failed) AND output_files_json = :old',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':new': outputsJson, ':old': expectedJson, ':success': 'SUCCESS', ':failed': 'FAILED' },
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException || (err as Error)?.name === 'ConditionalCheckFailedException') return false;
      throw err;
    }
  }

  /** Finished commands whose TTL has passed (local mode's sweep; DynamoDB TTL does it on AWS). */
  async listExpired(nowEpoch: number, limit = 100): Promise<CommandItem[]> {
    const items: CommandItem[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.client.send(
        new ScanCommand({
          TableName: this.tableName,
          FilterExpression: '#ttl < :now AND #status IN (:success, :failed)',
          ExpressionAttributeNames: { '#ttl': T.ttlAttribute, '#status': 'status' },
          ExpressionAttributeValues: { ':now': nowEpoch, ':success': 'SUCCESS', ':failed': 'FAILED' },
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...((out.Items as CommandItem[] | undefined) ?? []));
      startKey = out.LastEvaluatedKey;
    } while (startKey && items.length < limit);
    return items.slice(0, limit);
  }

  async delete(accountId: string, commandId: string): Promise<void> {
    await this.client.send(new DeleteCommand({ TableName: this.tableName, Key: { [T.partitionKey]: accountId, [T.sortKey]: commandId } }));
  }
}
