/**
 * A real DynamoDB API (dynalite) in the test process: `const db = await startDynalite()`,
 * then `await db.createTable(name, def)` (or `db.createCommandsTable(name)`), use `db.client` /
 * `db.doc`, and `await db.stop()` in afterAll. With a `path`, conditional writes behave as on
 * AWS (ConditionalCheckFailedException); the default is a fresh temp dir, removed on stop.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateTableCommand, DynamoDBClient, type CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';
import { TABLE } from '../../core/constants.ts';
import { TEST_CREDENTIALS, TEST_REGION } from './aws.ts';
import { closeServer, listenLocal } from './listen.ts';

export interface DynaliteHandle {
  endpoint: string;
  client: DynamoDBClient;
  /** Document client (removeUndefinedValues on). */
  doc: DynamoDBDocumentClient;
  createTable(name: string, def: Omit<CreateTableCommandInput, 'TableName'>): Promise<void>;
  /** The commands table with its key names from TABLE (no indexes: enough for item access). */
  createCommandsTable(name: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startDynalite(opts: { path?: string } = {}): Promise<DynaliteHandle> {
  const ownDir = opts.path ? undefined : await mkdtemp(path.join(tmpdir(), 'ffaas-dynalite-'));
  const server: Server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, path: opts.path ?? ownDir });
  const port = await listenLocal(server);
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({ endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS });
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  const createTable: DynaliteHandle['createTable'] = async (name, def) => {
    await client.send(new CreateTableCommand({ TableName: name, ...def }));
  };
  return {
    endpoint,
    client,
    doc,
    createTable,
    createCommandsTable: (name) =>
      createTable(name, {
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: TABLE.commands.partitionKey, AttributeType: 'S' },
          { AttributeName: TABLE.commands.sortKey, AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: TABLE.commands.partitionKey, KeyType: 'HASH' },
          { AttributeName: TABLE.commands.sortKey, KeyType: 'RANGE' },
        ],
      }),
    async stop() {
      client.destroy();
      await closeServer(server);
      if (ownDir) await rm(ownDir, { recursive: true, force: true });
    },
  };
}
