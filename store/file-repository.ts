/**
 * The files table: one item per stored file, keyed by account_id + file_id (another account's
 * file reads as missing), listed newest first on the by_created index. Status moves only
 * forward (PROCESSING → STORED | FAILED): every transition is conditional on PROCESSING.
 */
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { TABLE } from '../core/constants.ts';
import type { FileErrorStatus, FileItem, FileProbe } from '../core/api/files.ts';
import { unlessConditionFails } from './errors.ts';
import { fileKey } from './keys.ts';
import { attributeValue, expressionsFor, FILE_LIFECYCLE, type FileLifecycleStep } from './lifecycle.ts';

const F = TABLE.files;

export class FileRepository {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Write a new file item (its id is fresh: a taken id is a bug, thrown as is). */
  async create(item: FileItem): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: item,
        ConditionExpression: 'attribute_not_exists(#pk) AND attribute_not_exists(#sk)',
        ExpressionAttributeNames: { '#pk': F.partitionKey, '#sk': F.sortKey },
      }),
    );
  }

  async get(accountId: string, fileId: string): Promise<FileItem | null> {
    const out = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: fileKey(accountId, fileId), ConsistentRead: true }),
    );
    return (out.Item as FileItem | undefined) ?? null;
  }

  /** The account's files, newest first; `limit` + `offset` as RenderIO and Rendi page them. */
  async list(accountId: string, opts: { limit: number; offset: number }): Promise<FileItem[]> {
    const want = opts.offset + opts.limit;
    const rows: FileItem[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: F.byCreatedIndex,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': F.partitionKey },
          ExpressionAttributeValues: { ':pk': accountId },
          ScanIndexForward: false,
          ExclusiveStartKey: startKey,
          Limit: Math.min(1000, want - rows.length),
        }),
      );
      rows.push(...((out.Items as FileItem[] | undefined) ?? []));
      startKey = out.LastEvaluatedKey;
    } while (startKey && rows.length < want);
    return rows.slice(opts.offset, want);
  }

  /** PROCESSING → STORED with the probe's facts; false when the file is no longer PROCESSING. */
  markStored(accountId: string, fileId: string, probe: FileProbe, sizeBytes: number, now: Date): Promise<boolean> {
    return this.transition('markStored', accountId, fileId, {
      probe,
      size_bytes: sizeBytes,
      stored_at: now.toISOString(),
    });
  }

  /** PROCESSING → FAILED with why; false when the file is no longer PROCESSING. */
  markFailed(accountId: string, fileId: string, status: FileErrorStatus, message: string): Promise<boolean> {
    return this.transition('markFailed', accountId, fileId, {
      error_status: status,
      error_message: message.slice(0, 2000),
    });
  }

  /** One step of FILE_LIFECYCLE as a conditional update (store/lifecycle.ts generates it). */
  private async transition(
    step: FileLifecycleStep,
    accountId: string,
    fileId: string,
    values: Record<string, unknown>,
  ): Promise<boolean> {
    const x = expressionsFor(FILE_LIFECYCLE[step]);
    const attributeValues: Record<string, unknown> = { ...x.statusValues };
    for (const [attribute, value] of Object.entries(values)) attributeValues[attributeValue(attribute)] = value;
    return unlessConditionFails(() =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: fileKey(accountId, fileId),
          ConditionExpression: x.ConditionExpression,
          UpdateExpression: x.UpdateExpression,
          ExpressionAttributeNames: x.ExpressionAttributeNames,
          ExpressionAttributeValues: attributeValues,
        }),
      ),
    );
  }

  /** Remove the item (the objects go first, by the caller); returns the item that was removed. */
  async delete(accountId: string, fileId: string): Promise<FileItem | null> {
    const out = await this.client.send(
      new DeleteCommand({
        TableName: this.tableName,
        Key: fileKey(accountId, fileId),
        ReturnValues: 'ALL_OLD',
      }),
    );
    return (out.Attributes as FileItem | undefined) ?? null;
  }

  /** Items whose TTL has passed (local mode's sweep; DynamoDB's TTL does this on AWS). */
  async listExpired(nowEpoch: number, limit = 100): Promise<FileItem[]> {
    const items: FileItem[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.client.send(
        new ScanCommand({
          TableName: this.tableName,
          FilterExpression: '#ttl < :now',
          ExpressionAttributeNames: { '#ttl': F.ttlAttribute },
          ExpressionAttributeValues: { ':now': nowEpoch },
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...((out.Items as FileItem[] | undefined) ?? []));
      startKey = out.LastEvaluatedKey;
    } while (startKey && items.length < limit);
    return items.slice(0, limit);
  }

  /** Every PROCESSING file (local mode's restart recovery; a scan, fine for one machine's data). */
  async listProcessing(): Promise<FileItem[]> {
    const items: FileItem[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.client.send(
        new ScanCommand({
          TableName: this.tableName,
          FilterExpression: '#s = :p',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':p': 'PROCESSING' },
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...((out.Items as FileItem[] | undefined) ?? []));
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return items;
  }
}
