/**
 * API keys (table key: key_hash) and the accounts they belong to. Only the SHA-256 of a key is
 * stored, with its first 12 characters to name it in `keys list` / `keys revoke`.
 */
import { GetCommand, PutCommand, ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { TABLE } from '../core/constants.ts';
import { apiKeyPrefix, generateApiKey, hashApiKey, isWellFormedApiKey } from '../core/api/api-keys.ts';
import { newAccountId } from '../core/api/ids.ts';
import { isConditionFailure } from './errors.ts';
import { accountKey, apiKeyKey } from './keys.ts';

export interface ApiKeyRecord {
  key_hash: string;
  /** First 12 characters of the key (`ffsk_` + 7 hex). */
  prefix: string;
  name: string;
  account_id: string;
  created_at: string;
  revoked_at?: string;
}

export interface AccountRecord {
  account_id: string;
  created_at: string;
}

export interface CreatedApiKey {
  /** The full key: shown once, never stored. */
  key: string;
  prefix: string;
  accountId: string;
  name: string;
  /** Whether the account was created by this call. */
  accountCreated: boolean;
}

export class ApiKeyNotFoundError extends Error {
  constructor(prefix: string) {
    super(`no API key matches ${JSON.stringify(prefix)}`);
    this.name = 'ApiKeyNotFoundError';
  }
}

export class AmbiguousApiKeyPrefixError extends Error {
  constructor(
    prefix: string,
    readonly matches: string[],
  ) {
    super(`${matches.length} API keys match ${JSON.stringify(prefix)} (${matches.join(', ')}); give more of the key`);
    this.name = 'AmbiguousApiKeyPrefixError';
  }
}

export class ApiKeyRepository {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tables: { apiKeys: string; accounts: string },
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /** Create a key for `accountId` (the account is created when new) or for a new account. */
  async create(input: { name: string; accountId?: string }): Promise<CreatedApiKey> {
    const now = this.clock().toISOString();
    const accountId = input.accountId ?? newAccountId();
    const accountCreated = await this.ensureAccount(accountId, now);
    const key = generateApiKey();
    const record: ApiKeyRecord = {
      key_hash: hashApiKey(key),
      prefix: apiKeyPrefix(key),
      name: input.name,
      account_id: accountId,
      created_at: now,
    };
    await this.client.send(
      new PutCommand({
        TableName: this.tables.apiKeys,
        Item: record,
        ConditionExpression: 'attribute_not_exists(#h)',
        ExpressionAttributeNames: { '#h': TABLE.apiKeys.partitionKey },
      }),
    );
    return { key, prefix: record.prefix, accountId, name: input.name, accountCreated };
  }

  /** Put the account item unless it exists; true when it was created now. */
  async ensureAccount(accountId: string, now = this.clock().toISOString()): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tables.accounts,
          Item: { account_id: accountId, created_at: now } satisfies AccountRecord,
          ConditionExpression: 'attribute_not_exists(#a)',
          ExpressionAttributeNames: { '#a': TABLE.accounts.partitionKey },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  async getAccount(accountId: string): Promise<AccountRecord | null> {
    const out = await this.client.send(new GetCommand({ TableName: this.tables.accounts, Key: accountKey(accountId) }));
    return (out.Item as AccountRecord | undefined) ?? null;
  }

  /** Every key (hashes included; callers show prefix, name, account and dates). Oldest first. */
  async list(): Promise<ApiKeyRecord[]> {
    const records: ApiKeyRecord[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.client.send(
        new ScanCommand({ TableName: this.tables.apiKeys, ExclusiveStartKey: startKey }),
      );
      records.push(...((out.Items as ApiKeyRecord[] | undefined) ?? []));
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return records.sort((a, b) => a.created_at.localeCompare(b.created_at));
  }

  /**
   * Revoke the key named by `prefix` (any leading part of the key of at least 5 characters,
   * or the whole key). None matches: ApiKeyNotFoundError; several: AmbiguousApiKeyPrefixError.
   * Revoking an already revoked key keeps its first revoked_at.
   */
  async revoke(prefix: string): Promise<ApiKeyRecord> {
    let target: ApiKeyRecord | null;
    if (isWellFormedApiKey(prefix)) {
      target = await this.findByHash(hashApiKey(prefix));
      if (!target) throw new ApiKeyNotFoundError(apiKeyPrefix(prefix));
    } else {
      const wanted = prefix.trim();
      if (wanted.length === 0) throw new ApiKeyNotFoundError(prefix);
      const matches = (await this.list()).filter((r) =>
        wanted.length <= r.prefix.length ? r.prefix.startsWith(wanted) : wanted.startsWith(r.prefix),
      );
      if (matches.length === 0) throw new ApiKeyNotFoundError(prefix);
      if (matches.length > 1)
        throw new AmbiguousApiKeyPrefixError(
          prefix,
          matches.map((m) => m.prefix),
        );
      target = matches[0]!;
    }
    if (target.revoked_at) return target;
    const revokedAt = this.clock().toISOString();
    const out = await this.client.send(
      new UpdateCommand({
        TableName: this.tables.apiKeys,
        Key: apiKeyKey(target.key_hash),
        UpdateExpression: 'SET revoked_at = if_not_exists(revoked_at, :t)',
        ConditionExpression: 'attribute_exists(#h)',
        ExpressionAttributeNames: { '#h': TABLE.apiKeys.partitionKey },
        ExpressionAttributeValues: { ':t': revokedAt },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return out.Attributes as ApiKeyRecord;
  }

  async findByHash(hash: string): Promise<ApiKeyRecord | null> {
    const out = await this.client.send(new GetCommand({ TableName: this.tables.apiKeys, Key: apiKeyKey(hash) }));
    return (out.Item as ApiKeyRecord | undefined) ?? null;
  }
}
