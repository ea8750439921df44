/** The presets table: one item per preset, keyed by account_id + preset_id. */
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { TABLE } from '../core/constants.ts';
import type { PresetItem } from '../core/api/presets.ts';
import { presetKey } from './keys.ts';

const P = TABLE.presets;

export class PresetRepository {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async create(item: PresetItem): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: item,
        ConditionExpression: 'attribute_not_exists(#pk) AND attribute_not_exists(#sk)',
        ExpressionAttributeNames: { '#pk': P.partitionKey, '#sk': P.sortKey },
      }),
    );
  }

  async get(accountId: string, presetId: string): Promise<PresetItem | null> {
    const out = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: presetKey(accountId, presetId), ConsistentRead: true }),
    );
    return (out.Item as PresetItem | undefined) ?? null;
  }

  /** Every preset of the account (bounded by LIMITS.maxPresets), newest first. */
  async list(accountId: string): Promise<PresetItem[]> {
    const items: PresetItem[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': P.partitionKey },
          ExpressionAttributeValues: { ':pk': accountId },
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...((out.Items as PresetItem[] | undefined) ?? []));
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return items.sort((a, b) => b.created_at.localeCompare(a.created_at));
  }

  /** Count of the account's presets (for LIMITS.maxPresets). */
  async count(accountId: string): Promise<number> {
    let n = 0;
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': P.partitionKey },
          ExpressionAttributeValues: { ':pk': accountId },
          Select: 'COUNT',
          ExclusiveStartKey: startKey,
        }),
      );
      n += out.Count ?? 0;
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return n;
  }

  /** true when a preset was removed. */
  async delete(accountId: string, presetId: string): Promise<boolean> {
    const out = await this.client.send(
      new DeleteCommand({
        TableName: this.tableName,
        Key: presetKey(accountId, presetId),
        ReturnValues: 'ALL_OLD',
      }),
    );
    return out.Attributes !== undefined;
  }
}
