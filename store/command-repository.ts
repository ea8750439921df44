/**
 * The commands table: one item per command, keyed by account_id + command_id (keys.ts).
 * Every write of the item is a step of the lifecycle (lifecycle.ts): `create` is `submit`, and
 * each other step has its own method, a conditional update generated from the transition table.
 * A step whose condition fails returns false and changes nothing.
 */
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { PENDING_MARK, TABLE, type CommandStatus, type ErrorStatus } from '../core/constants.ts';
import type { CommandItem, Progress, WorkerTimings } from '../core/types.ts';
import type { ListCursorKey } from '../core/api/list.ts';
import { isConditionFailure } from './errors.ts';
import { commandKey } from './keys.ts';
import { attributeValue, transitionExpressions, type LifecycleStep, type TransitionValues } from './lifecycle.ts';

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
      if (isConditionFailure(err)) throw new CommandExistsError(item.command_id);
      throw err;
    }
  }

  /** The account's command, or null (another account's command is as missing as none). */
  async get(accountId: string, commandId: string): Promise<CommandItem | null> {
    const out = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: commandKey(accountId, commandId),
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
      ? { ...commandKey(options.cursor.account_id, options.cursor.command_id), [T.byCreatedSortKey]: options.cursor.created_at }
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
   * the sparse pending index holds only items that still carry `pending` (and projects every
   * attribute, so these are whole items).
   */
  async listPending(olderThan: string, limit = 100): Promise<CommandItem[]> {
    const items: CommandItem[] = [];
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
      items.push(...((out.Items as CommandItem[] | undefined) ?? []));
      startKey = out.LastEvaluatedKey;
    } while (startKey && items.length < limit);
    return items;
  }

  /**
   * Drop `pending` from a command that is no longer QUEUED (the execution moved it on but the
   * mark stayed), so the reconciler stops looking at it. Returns false when it is still QUEUED
   * or gone.
   */
  clearPending(accountId: string, commandId: string): Promise<boolean> {
    return this.transition('clearPending', accountId, commandId, {});
  }

  /** QUEUED → PROCESSING (the state machine's MarkProcessing does the same write). */
  markProcessing(accountId: string, commandId: string, startedAt: string): Promise<boolean> {
    return this.transition('markProcessing', accountId, commandId, { started_at: startedAt });
  }

  /** Progress of a PROCESSING command; false once it is no longer PROCESSING. */
  writeProgress(accountId: string, commandId: string, progress: Progress): Promise<boolean> {
    return this.transition('writeProgress', accountId, commandId, { progress });
  }

  /** The worker's phase timings of a PROCESSING command; false once it is no longer PROCESSING. */
  recordTimings(accountId: string, commandId: string, timings: WorkerTimings): Promise<boolean> {
    return this.transition('recordTimings', accountId, commandId, { timings });
  }

  /** PROCESSING → SUCCESS (the state machine's RecordSuccess does the same write). */
  recordSuccess(
    accountId: string,
    commandId: string,
    result: { finishedAt: string; ffmpegCommandRunSeconds: number; outputFilesJson: string },
  ): Promise<boolean> {
    return this.transition('recordSuccess', accountId, commandId, {
      finished_at: result.finishedAt,
      ffmpeg_command_run_seconds: result.ffmpegCommandRunSeconds,
      output_files_json: result.outputFilesJson,
    });
  }

  /** QUEUED | PROCESSING → FAILED (the state machine's RecordFailure does the same write). */
  recordFailure(accountId: string, commandId: string, failure: CommandFailure): Promise<boolean> {
    return this.transition('recordFailure', accountId, commandId, failureValues(failure));
  }

  /** PROCESSING → FAILED when its worker is known dead (local mode after a restart). */
  abandonProcessing(accountId: string, commandId: string, failure: CommandFailure): Promise<boolean> {
    return this.transition('abandonProcessing', accountId, commandId, failureValues(failure));
  }

  /** SUCCESS | FAILED: rewrite the outputs (DELETE /commands/{id}/files marks them deleted). */
  deleteOutputs(accountId: string, commandId: string, outputFilesJson: string): Promise<boolean> {
    return this.transition('deleteOutputs', accountId, commandId, { output_files_json: outputFilesJson });
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

  /** Remove an expired command's item (local mode's retention sweep, after its objects). */
  async delete(accountId: string, commandId: string): Promise<void> {
    await this.client.send(new DeleteCommand({ TableName: this.tableName, Key: commandKey(accountId, commandId) }));
  }

  /**
   * Keys of every command in `status`, by a scan: for local mode's small tables only (there
   * is no index by status; on AWS nothing needs this).
   */
  async scanKeysByStatus(status: CommandStatus): Promise<{ account_id: string; command_id: string }[]> {
    const keys: { account_id: string; command_id: string }[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.client.send(
        new ScanCommand({
          TableName: this.tableName,
          FilterExpression: '#status = :status',
          ProjectionExpression: '#pk, #sk',
          ExpressionAttributeNames: { '#status': 'status', '#pk': T.partitionKey, '#sk': T.sortKey },
          ExpressionAttributeValues: { ':status': status },
          ExclusiveStartKey: startKey,
        }),
      );
      keys.push(...((out.Items as { account_id: string; command_id: string }[] | undefined) ?? []));
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return keys;
  }

  /** One lifecycle step as a conditional update; false when the item is not in a `from` status. */
  private async transition<S extends Exclude<LifecycleStep, 'submit'>>(
    step: S,
    accountId: string,
    commandId: string,
    values: NoInfer<TransitionValues<S>>,
  ): Promise<boolean> {
    const x = transitionExpressions(step);
    const attributeValues: Record<string, unknown> = { ...x.statusValues };
    for (const [attribute, value] of Object.entries(values)) attributeValues[attributeValue(attribute)] = value;
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: commandKey(accountId, commandId),
          ConditionExpression: x.ConditionExpression,
          UpdateExpression: x.UpdateExpression,
          ExpressionAttributeNames: x.ExpressionAttributeNames,
          ExpressionAttributeValues: attributeValues,
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }
}

export interface CommandFailure {
  finishedAt: string;
  errorStatus: ErrorStatus;
  errorMessage: string;
}

const failureValues = (f: CommandFailure): TransitionValues<'recordFailure'> => ({
  finished_at: f.finishedAt,
  error_status: f.errorStatus,
  error_message: f.errorMessage,
});
