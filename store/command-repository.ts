/**
 * The commands table: one item per command, keyed by account_id + command_id (keys.ts).
 * Every write of the item is a step of the lifecycle (lifecycle.ts): `create` is `submit`, and
 * each other step has its own method, a conditional update generated from the transition table.
 * A step whose condition fails returns false and changes nothing.
 */
import {
  BatchGetCommand,
  type BatchGetCommandInput,
  type BatchGetCommandOutput,
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  type QueryCommandOutput,
  ScanCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import {
  PENDING_SHARDS,
  TABLE,
  pendingShard,
  statusKey,
  type CommandStatus,
  type ErrorStatus,
} from '../core/constants.ts';
import type { CommandItem, Progress, WorkerTimings } from '../core/types.ts';
import type { ListCursorKey } from '../core/api/list.ts';
import { ACQUIRE_SLOT, RELEASE_SLOT, SLOTS_ATTRIBUTE, SLOTS_SORT_KEY } from './account-slots.ts';
import { isConditionFailure } from './errors.ts';
import { commandKey } from './keys.ts';
import {
  attributeValue,
  LIFECYCLE,
  transitionExpressions,
  type LifecycleStep,
  type TransitionValues,
} from './lifecycle.ts';

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

  /**
   * Write a new command; refuses (CommandExistsError) when the id is taken. The index keys are
   * derived here: `status_key` from the status, `pending_shard` when it carries `pending`.
   */
  async create(item: CommandItem): Promise<void> {
    const { pending_shard: _shard, status_key: _status, ...rest } = item;
    const stored: CommandItem = {
      ...rest,
      status_key: statusKey(item.account_id, item.status),
      ...(item.pending !== undefined ? { pending_shard: pendingShard(item.command_id) } : {}),
    };
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: stored,
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
   * The account's commands, newest first: on the by_created index, or with `status` on the
   * by_status index (partition `<account>#<status>`), so a status filter reads only matching
   * rows. Both indexes are KEYS_ONLY (progress writes are not copied to them): the page's
   * keys come from the index, its items from BatchGetItem.
   */
  async listByAccount(accountId: string, options: ListOptions): Promise<ListPage> {
    const offset = options.offset ?? 0;
    const want = offset + options.limit + 1;
    const keys: { account_id: string; command_id: string; created_at: string }[] = [];
    const byStatus = options.status !== undefined;
    const partition = byStatus
      ? { name: T.byStatusPartitionKey, value: statusKey(accountId, options.status!) }
      : { name: T.partitionKey, value: accountId };
    let startKey: Record<string, unknown> | undefined = options.cursor
      ? {
          ...commandKey(options.cursor.account_id, options.cursor.command_id),
          [T.byCreatedSortKey]: options.cursor.created_at,
          ...(byStatus ? { [T.byStatusPartitionKey]: partition.value } : {}),
        }
      : undefined;
    do {
      const out = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: byStatus ? T.byStatusIndex : T.byCreatedIndex,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': partition.name },
          ExpressionAttributeValues: { ':pk': partition.value },
          ScanIndexForward: false,
          ExclusiveStartKey: startKey,
          Limit: Math.min(1000, want - keys.length),
        }),
      );
      keys.push(...((out.Items as typeof keys | undefined) ?? []));
      startKey = out.LastEvaluatedKey;
    } while (startKey && keys.length < want);

    const pageKeys = keys.slice(offset, offset + options.limit);
    const items = await this.getMany(
      accountId,
      pageKeys.map((k) => k.command_id),
    );
    const more = keys.length > offset + options.limit;
    const last = pageKeys[pageKeys.length - 1];
    return {
      items,
      next:
        more && last ? { account_id: last.account_id, command_id: last.command_id, created_at: last.created_at } : null,
    };
  }

  /**
   * How many of the account's commands wait for their execution to start (they carry `pending`),
   * counted on the sparse pending index: it holds only waiting commands of all accounts, so the
   * read is bounded by the queue caps, not by the account's history.
   */
  async countQueued(accountId: string): Promise<number> {
    const counts = await Promise.all(
      Array.from({ length: PENDING_SHARDS }, async (_, n) => {
        let count = 0;
        await this.queryPages(
          {
            IndexName: T.pendingIndex,
            KeyConditionExpression: '#shard = :shard',
            FilterExpression: '#pk = :pk',
            ExpressionAttributeNames: { '#shard': T.pendingPartitionKey, '#pk': T.partitionKey },
            ExpressionAttributeValues: { ':shard': `pending#${n}`, ':pk': accountId },
            Select: 'COUNT',
          },
          (out) => {
            count += out.Count ?? 0;
          },
        );
        return count;
      }),
    );
    return counts.reduce((a, b) => a + b, 0);
  }

  /**
   * Every command of the account created in [from, to] (ISO-8601), oldest first (usage, spend
   * guards): keys from the KEYS_ONLY by_created index, items by BatchGetItem.
   */
  async listCreatedBetween(accountId: string, from: string, to: string): Promise<CommandItem[]> {
    const ids: string[] = [];
    await this.queryPages(
      {
        IndexName: T.byCreatedIndex,
        KeyConditionExpression: '#pk = :pk AND #created BETWEEN :from AND :to',
        ExpressionAttributeNames: { '#pk': T.partitionKey, '#created': T.byCreatedSortKey },
        ExpressionAttributeValues: { ':pk': accountId, ':from': from, ':to': to },
      },
      (out) => {
        for (const row of (out.Items as CommandItem[] | undefined) ?? []) ids.push(row.command_id);
      },
    );
    return this.getMany(accountId, ids);
  }

  /**
   * Items of one account by id, in the order given (ids whose item is gone are skipped). Strongly
   * consistent, so a page never shows an older status than a poll; unprocessed keys are retried.
   */
  async getMany(accountId: string, commandIds: string[]): Promise<CommandItem[]> {
    const found = new Map<string, CommandItem>();
    for (let i = 0; i < commandIds.length; i += 100) {
      let request: BatchGetCommandInput['RequestItems'] = {
        [this.tableName]: {
          Keys: commandIds.slice(i, i + 100).map((id) => commandKey(accountId, id)),
          ConsistentRead: true,
        },
      };
      for (let attempt = 0; request && Object.keys(request).length > 0; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)));
        const out: BatchGetCommandOutput = await this.client.send(new BatchGetCommand({ RequestItems: request }));
        for (const item of (out.Responses?.[this.tableName] as CommandItem[] | undefined) ?? [])
          found.set(item.command_id, item);
        request = out.UnprocessedKeys;
        if (attempt > 8) throw new Error('BatchGetItem left keys unprocessed after 9 attempts');
      }
    }
    return commandIds.map((id) => found.get(id)).filter((i): i is CommandItem => i !== undefined);
  }

  /**
   * Commands accepted before `olderThan` (ISO-8601) whose execution has not marked them yet,
   * oldest first, at most `limit`: every shard of the sparse pending index (PENDING_SHARDS
   * partitions `pending#<n>`), merged by created_at. The index projects every attribute, so
   * these are whole items (an item is in it only for the seconds before MarkProcessing, so
   * progress writes never reach it).
   */
  async listPending(olderThan: string, limit = 100): Promise<CommandItem[]> {
    const shards = await Promise.all(
      Array.from({ length: PENDING_SHARDS }, (_, n) => this.queryPendingShard(`pending#${n}`, olderThan, limit)),
    );
    return shards
      .flat()
      .sort((a, b) => (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : 0))
      .slice(0, limit);
  }

  private async queryPendingShard(shard: string, olderThan: string, limit: number): Promise<CommandItem[]> {
    const items: CommandItem[] = [];
    await this.queryPages(
      {
        IndexName: T.pendingIndex,
        KeyConditionExpression: '#p = :p AND #c < :c',
        ExpressionAttributeNames: { '#p': T.pendingPartitionKey, '#c': T.pendingSortKey },
        ExpressionAttributeValues: { ':p': shard, ':c': olderThan },
        ScanIndexForward: true,
      },
      (out) => {
        items.push(...((out.Items as CommandItem[] | undefined) ?? []));
      },
      () => limit - items.length,
    );
    return items;
  }

  /**
   * Every page of a query on this table, handed to `onPage`; `room` (when given) is the most
   * rows still wanted: the next page asks for no more, and paging stops at 0.
   */
  private async queryPages(
    input: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey' | 'Limit'>,
    onPage: (out: QueryCommandOutput) => void,
    room?: () => number,
  ): Promise<void> {
    let startKey: Record<string, unknown> | undefined;
    do {
      const limit = room?.();
      if (limit !== undefined && limit <= 0) return;
      const out = await this.client.send(
        new QueryCommand({ TableName: this.tableName, ...input, ExclusiveStartKey: startKey, Limit: limit }),
      );
      onPage(out);
      startKey = out.LastEvaluatedKey;
    } while (startKey);
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
    result: { finishedAt: string; ffmpegCommandRunSeconds: number },
  ): Promise<boolean> {
    return this.transition('recordSuccess', accountId, commandId, {
      finished_at: result.finishedAt,
      ffmpeg_command_run_seconds: result.ffmpegCommandRunSeconds,
    });
  }

  /**
   * A worker starts on the PROCESSING command: `attempts` goes up by one, with the worker's task
   * token and first heartbeat_at. The item as written (its `attempts` is this attempt's number);
   * undefined when it is not there or not PROCESSING.
   */
  async startAttempt(
    accountId: string,
    commandId: string,
    attempt: { taskToken: string; at: string },
  ): Promise<CommandItem | undefined> {
    const written = await this.update(
      'startAttempt',
      accountId,
      commandId,
      { task_token: attempt.taskToken, heartbeat_at: attempt.at },
      { returnItem: true },
    );
    return written ?? undefined;
  }

  /** The worker's ECS task ARN (lifecycle step recordWorkerTask). */
  recordWorkerTask(accountId: string, commandId: string, taskArn: string): Promise<boolean> {
    return this.transition('recordWorkerTask', accountId, commandId, { worker_task_arn: taskArn });
  }

  /** A heartbeat of the PROCESSING command's worker; false once it is no longer PROCESSING. */
  stampHeartbeat(accountId: string, commandId: string, at: string): Promise<boolean> {
    return this.transition('stampHeartbeat', accountId, commandId, { heartbeat_at: at });
  }

  /** Forget the worker whose task token is `taskToken` (the sweeper failed its task); false when another has recorded itself since. */
  forgetWorker(accountId: string, commandId: string, taskToken: string): Promise<boolean> {
    return this.transition('forgetWorker', accountId, commandId, {}, { attribute: 'task_token', equals: taskToken });
  }

  /**
   * The worker's result on the PROCESSING command, beside its task result: the full outputs, its
   * phase timings and FFmpeg's last progress (null when FFmpeg reported none).
   */
  storeOutputs(
    accountId: string,
    commandId: string,
    result: { outputFilesJson: string; timings: WorkerTimings; progress: Progress | null },
  ): Promise<boolean> {
    return this.transition('storeOutputs', accountId, commandId, {
      output_files_json: result.outputFilesJson,
      timings: result.timings,
      progress: result.progress,
    });
  }

  /** QUEUED | PROCESSING → FAILED by the sweeper (the execution ended without recording it). */
  sweep(accountId: string, commandId: string, failure: CommandFailure): Promise<boolean> {
    return this.transition('sweep', accountId, commandId, failureValues(failure));
  }

  /** QUEUED | PROCESSING → FAILED (the state machine's RecordFailure does the same write). */
  recordFailure(accountId: string, commandId: string, failure: CommandFailure): Promise<boolean> {
    return this.transition('recordFailure', accountId, commandId, failureValues(failure));
  }

  /** QUEUED | PROCESSING → FAILED / CANCELLED; false when it had already finished (or is gone). */
  cancel(accountId: string, commandId: string, failure: CommandFailure): Promise<boolean> {
    return this.transition('cancel', accountId, commandId, failureValues(failure));
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
   * Gives items without `status_key` their index keys (`status_key`, and `pending_shard` when
   * they carry `pending`), by a scan: for local mode's data dirs written before those indexes.
   * Conditional on the status still being the one read, so a concurrent step is not undone.
   */
  async backfillIndexKeys(): Promise<number> {
    let fixed = 0;
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.client.send(
        new ScanCommand({
          TableName: this.tableName,
          // Not the per-account slots items (no status of their own).
          FilterExpression: 'attribute_not_exists(#sk_status) AND #sk <> :slots',
          ExpressionAttributeValues: { ':slots': SLOTS_SORT_KEY },
          ProjectionExpression: '#pk, #sk, #status, #pending',
          ExpressionAttributeNames: {
            '#sk_status': 'status_key',
            '#pk': T.partitionKey,
            '#sk': T.sortKey,
            '#status': 'status',
            '#pending': 'pending',
          },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const i of (out.Items ?? []) as Array<
        Pick<CommandItem, 'account_id' | 'command_id' | 'status' | 'pending'>
      >) {
        try {
          await this.client.send(
            new UpdateCommand({
              TableName: this.tableName,
              Key: commandKey(i.account_id, i.command_id),
              ConditionExpression: '#status = :status',
              UpdateExpression:
                i.pending !== undefined ? 'SET #sk_status = :k, #shard = :shard' : 'SET #sk_status = :k',
              ExpressionAttributeNames: {
                '#status': 'status',
                '#sk_status': 'status_key',
                ...(i.pending !== undefined ? { '#shard': 'pending_shard' } : {}),
              },
              ExpressionAttributeValues: {
                ':status': i.status,
                ':k': statusKey(i.account_id, i.status),
                ...(i.pending !== undefined ? { ':shard': pendingShard(i.command_id) } : {}),
              },
            }),
          );
          fixed++;
        } catch (err) {
          if (!isConditionFailure(err)) throw err;
        }
      }
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return fixed;
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
  // ---- per-account slots (store/account-slots.ts; the state machine takes and gives them on AWS) ----

  /** Take one of the account's `max` running slots for the command; false when all are taken. */
  async acquireSlot(accountId: string, commandId: string, max: number): Promise<boolean> {
    return this.slotWrite(ACQUIRE_SLOT, accountId, commandId, { ':max': max });
  }

  /**
   * Give the command's slot back (idempotent): the sweeper and the cancel handler call it for
   * executions that ended without the state machine's own release. False when it held none.
   */
  async releaseSlot(accountId: string, commandId: string): Promise<boolean> {
    return this.slotWrite(RELEASE_SLOT, accountId, commandId, {});
  }

  /** The command ids holding one of the account's slots now. */
  async slotHolders(accountId: string): Promise<string[]> {
    const out = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: commandKey(accountId, SLOTS_SORT_KEY), ConsistentRead: true }),
    );
    const held = out.Item?.[SLOTS_ATTRIBUTE] as Set<string> | undefined;
    return held ? [...held].sort() : [];
  }

  private async slotWrite(
    x: typeof ACQUIRE_SLOT,
    accountId: string,
    commandId: string,
    extra: Record<string, unknown>,
  ): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: commandKey(accountId, SLOTS_SORT_KEY),
          ConditionExpression: x.ConditionExpression,
          UpdateExpression: x.UpdateExpression,
          ExpressionAttributeNames: x.ExpressionAttributeNames,
          ExpressionAttributeValues: { ':holder': new Set([commandId]), ':command_id': commandId, ...extra },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  private async transition<S extends Exclude<LifecycleStep, 'submit'>>(
    step: S,
    accountId: string,
    commandId: string,
    values: NoInfer<Omit<TransitionValues<S>, 'status_key'>>,
    /** An extra condition: the attribute still has this value (a compare-and-swap on it). */
    also?: { attribute: string; equals: unknown },
  ): Promise<boolean> {
    return (await this.update(step, accountId, commandId, values, { also })) !== null;
  }

  /**
   * A lifecycle step's conditional write. Null when its condition failed; else, with
   * `returnItem`, the item as written (ReturnValues ALL_NEW), without it undefined.
   */
  private async update<S extends Exclude<LifecycleStep, 'submit'>>(
    step: S,
    accountId: string,
    commandId: string,
    values: NoInfer<Omit<TransitionValues<S>, 'status_key'>>,
    opts: { also?: { attribute: string; equals: unknown }; returnItem?: boolean },
  ): Promise<CommandItem | undefined | null> {
    const x = transitionExpressions(step);
    const attributeValues: Record<string, unknown> = { ...x.statusValues, ...x.counterValues };
    const { also } = opts;
    if (also) {
      x.ConditionExpression = `(${x.ConditionExpression}) AND #also = :also`;
      x.ExpressionAttributeNames['#also'] = also.attribute;
      attributeValues[':also'] = also.equals;
    }
    for (const [attribute, value] of Object.entries(values)) attributeValues[attributeValue(attribute)] = value;
    // The by_status partition moves with the status.
    const t = LIFECYCLE[step] as { to?: CommandStatus; set: readonly string[] };
    if (t.to && t.set.includes('status_key'))
      attributeValues[attributeValue('status_key')] = statusKey(accountId, t.to);
    try {
      const res = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: commandKey(accountId, commandId),
          ConditionExpression: x.ConditionExpression,
          UpdateExpression: x.UpdateExpression,
          ExpressionAttributeNames: x.ExpressionAttributeNames,
          ExpressionAttributeValues: attributeValues,
          ...(opts.returnItem ? { ReturnValues: 'ALL_NEW' as const } : {}),
        }),
      );
      return opts.returnItem ? (res.Attributes as CommandItem) : undefined;
    } catch (err) {
      if (isConditionFailure(err)) return null;
      throw err;
    }
  }
}

export interface CommandFailure {
  finishedAt: string;
  errorStatus: ErrorStatus;
  errorMessage: string;
}

const failureValues = (f: CommandFailure): Omit<TransitionValues<'recordFailure'>, 'status_key'> => ({
  finished_at: f.finishedAt,
  error_status: f.errorStatus,
  error_message: f.errorMessage,
});
