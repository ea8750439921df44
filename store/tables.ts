/**
 * The three tables' definitions, derived from TABLE, and `createTables` for local mode and
 * tests (dynalite). The CDK stack declares the same keys, indexes and projections:
 *   commands: PK account_id (S), SK command_id (S), TTL expire_at;
 *     GSI by_created: PK account_id (S), SK created_at (S), KEYS_ONLY (list reads items by key);
 *     GSI by_status:  PK status_key (S) `<account>#<status>`, SK created_at (S), KEYS_ONLY;
 *     GSI pending:    PK pending_shard (S) `pending#<0..7>`, SK created_at (S), projection ALL
 *                     (sparse: only items waiting for their execution; the reconciler reads
 *                     whole items from every shard).
 *   api keys: PK key_hash (S).   accounts: PK account_id (S).
 *   files: PK account_id (S), SK file_id (S), TTL expire_at;
 *     GSI by_created: PK account_id (S), SK created_at (S), projection ALL.
 *   presets: PK account_id (S), SK preset_id (S).
 *   webhook deliveries: PK account_id (S), SK command_id (S);
 *     GSI due:        PK due (S), SK next_attempt_at (S), ALL (sparse: PENDING deliveries only);
 *     GSI by_updated: PK account_id (S), SK updated_at (S), ALL.
 *   (the accounts item holds the webhook config as its `webhook`).
 * All on-demand (PAY_PER_REQUEST).
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  ListTablesCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { TABLE } from '../core/constants.ts';
import { isAwsError } from './errors.ts';
import { IDEMPOTENCY_TABLE } from '../core/control/settings.ts';

export interface TableNames {
  commands: string;
  apiKeys: string;
  accounts: string;
  /** Stored files and presets (created when named). */
  files?: string;
  presets?: string;
  /** Optional so that callers needing only the first three need not name it. */
  webhookDeliveries?: string;
  /** Idempotency records (Powertools' DynamoDB persistence layer): PK id (S), TTL expiration. */
  idempotency?: string;
}

export type TableDefinition = Omit<CreateTableCommandInput, 'TableName'>;

const T = TABLE.commands;
const F = TABLE.files;
const W = TABLE.webhookDeliveries;

export const TABLE_DEFINITIONS: Record<keyof Required<TableNames>, TableDefinition> = {
  idempotency: {
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [{ AttributeName: IDEMPOTENCY_TABLE.partitionKey, AttributeType: 'S' }],
    KeySchema: [{ AttributeName: IDEMPOTENCY_TABLE.partitionKey, KeyType: 'HASH' }],
  },
  commands: {
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: T.partitionKey, AttributeType: 'S' },
      { AttributeName: T.sortKey, AttributeType: 'S' },
      { AttributeName: T.byCreatedSortKey, AttributeType: 'S' },
      { AttributeName: T.pendingPartitionKey, AttributeType: 'S' },
      { AttributeName: T.byStatusPartitionKey, AttributeType: 'S' },
      // T.pendingSortKey and T.byStatusSortKey are created_at, already defined above.
    ],
    KeySchema: [
      { AttributeName: T.partitionKey, KeyType: 'HASH' },
      { AttributeName: T.sortKey, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: T.byCreatedIndex,
        KeySchema: [
          { AttributeName: T.partitionKey, KeyType: 'HASH' },
          { AttributeName: T.byCreatedSortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'KEYS_ONLY' },
      },
      {
        IndexName: T.byStatusIndex,
        KeySchema: [
          { AttributeName: T.byStatusPartitionKey, KeyType: 'HASH' },
          { AttributeName: T.byStatusSortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'KEYS_ONLY' },
      },
      {
        IndexName: T.pendingIndex,
        KeySchema: [
          { AttributeName: T.pendingPartitionKey, KeyType: 'HASH' },
          { AttributeName: T.pendingSortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ],
  },
  apiKeys: {
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [{ AttributeName: TABLE.apiKeys.partitionKey, AttributeType: 'S' }],
    KeySchema: [{ AttributeName: TABLE.apiKeys.partitionKey, KeyType: 'HASH' }],
  },
  accounts: {
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [{ AttributeName: TABLE.accounts.partitionKey, AttributeType: 'S' }],
    KeySchema: [{ AttributeName: TABLE.accounts.partitionKey, KeyType: 'HASH' }],
  },
  files: {
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: F.partitionKey, AttributeType: 'S' },
      { AttributeName: F.sortKey, AttributeType: 'S' },
      { AttributeName: F.byCreatedSortKey, AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: F.partitionKey, KeyType: 'HASH' },
      { AttributeName: F.sortKey, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: F.byCreatedIndex,
        KeySchema: [
          { AttributeName: F.partitionKey, KeyType: 'HASH' },
          { AttributeName: F.byCreatedSortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ],
  },
  webhookDeliveries: {
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: W.partitionKey, AttributeType: 'S' },
      { AttributeName: W.sortKey, AttributeType: 'S' },
      { AttributeName: W.duePartitionKey, AttributeType: 'S' },
      { AttributeName: W.dueSortKey, AttributeType: 'S' },
      { AttributeName: W.byUpdatedSortKey, AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: W.partitionKey, KeyType: 'HASH' },
      { AttributeName: W.sortKey, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: W.dueIndex,
        KeySchema: [
          { AttributeName: W.duePartitionKey, KeyType: 'HASH' },
          { AttributeName: W.dueSortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
      {
        IndexName: W.byUpdatedIndex,
        KeySchema: [
          { AttributeName: W.partitionKey, KeyType: 'HASH' },
          { AttributeName: W.byUpdatedSortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ],
  },
  presets: {
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: TABLE.presets.partitionKey, AttributeType: 'S' },
      { AttributeName: TABLE.presets.sortKey, AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: TABLE.presets.partitionKey, KeyType: 'HASH' },
      { AttributeName: TABLE.presets.sortKey, KeyType: 'RANGE' },
    ],
  },
};

/**
 * Create the tables that do not exist yet and wait until they are ACTIVE. Idempotent: an
 * existing table is left as it is. One ListTables first, so that a restart (every table there)
 * costs one call and a DescribeTable per table rather than a refused CreateTable each: in local
 * mode that was 70-100 ms of every start. TTL is not set here: dynalite does not implement
 * UpdateTimeToLive (and local mode keeps commands anyway).
 */
export async function createTables(client: DynamoDBClient, names: TableNames): Promise<void> {
  const existing = new Set<string>();
  let ExclusiveStartTableName: string | undefined;
  do {
    const page = await client.send(new ListTablesCommand({ ExclusiveStartTableName }));
    for (const name of page.TableNames ?? []) existing.add(name);
    ExclusiveStartTableName = page.LastEvaluatedTableName;
  } while (ExclusiveStartTableName);
  for (const kind of Object.keys(TABLE_DEFINITIONS) as (keyof TableNames)[]) {
    const TableName = names[kind];
    if (!TableName) continue;
    if (!existing.has(TableName)) {
      try {
        await client.send(new CreateTableCommand({ TableName, ...TABLE_DEFINITIONS[kind] }));
      } catch (err) {
        // another process created it since the listing
        if (!isAwsError(err, 'ResourceInUseException')) throw err;
      }
    }
    for (let i = 0; ; i++) {
      const out = await client.send(new DescribeTableCommand({ TableName }));
      const indexesActive = (out.Table?.GlobalSecondaryIndexes ?? []).every((g) => g.IndexStatus === 'ACTIVE');
      if (out.Table?.TableStatus === 'ACTIVE' && indexesActive) break;
      if (i > 300) throw new Error(`table ${TableName} did not become ACTIVE`);
      // dynalite makes a table ACTIVE on its next timer tick: look again soon, then every 100 ms.
      await new Promise((r) => setTimeout(r, Math.min(100, 2 ** i)));
    }
  }
}
