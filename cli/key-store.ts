/**
 * Where `ffaas keys …` reads and writes API keys: the local instance on a data dir (through its
 * live endpoints, or by opening the data dir itself when nothing runs on it), or a deployed
 * stack (table names from its CloudFormation outputs, or given directly).
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ApiKeyRepository } from '../store/api-key-repository.ts';
import { documentClientFor } from '../store/clients.ts';
import { STACK_OUTPUTS } from '../lib/outputs.ts';
import { ensureAccountUsageKey } from './usage-plan.ts';
import { openLocalData } from '../local/index.ts';

export type KeyStoreTarget =
  | { kind: 'local'; dataDir?: string }
  | { kind: 'stack'; stackName: string; region?: string }
  | { kind: 'tables'; apiKeysTable: string; accountsTable: string; region?: string };

export interface KeyStore {
  repository: ApiKeyRepository;
  /** Human-readable description of where the keys live. */
  where: string;
  /** After a key is created: a deployed stack's per-account usage-plan key (cli/usage-plan.ts). */
  onAccount?(accountId: string): Promise<string | undefined>;
  close(): Promise<void>;
}

export async function openKeyStore(target: KeyStoreTarget): Promise<KeyStore> {
  if (target.kind === 'local') return openLocal(target.dataDir);
  const region = target.region;
  let tables: { apiKeys: string; accounts: string; usagePlanId?: string };
  let where: string;
  if (target.kind === 'stack') {
    tables = await tablesOfStack(target.stackName, region);
    where = `stack ${target.stackName}`;
  } else {
    tables = { apiKeys: target.apiKeysTable, accounts: target.accountsTable };
    where = `tables ${target.apiKeysTable}, ${target.accountsTable}`;
  }
  const client = new DynamoDBClient(region ? { region } : {});
  return {
    repository: new ApiKeyRepository(documentClientFor(client), tables),
    where,
    onAccount: async (accountId) => {
      if (!tables.usagePlanId) return undefined;
      const done = await ensureAccountUsageKey({ usagePlanId: tables.usagePlanId, accountId, region });
      return `account ${accountId}: usage-plan key ${done}`;
    },
    close: async () => client.destroy(),
  };
}

/** The local instance's data dir, through local mode's public face (its live dynalite, or the data dir opened for this command). */
async function openLocal(dataDir?: string): Promise<KeyStore> {
  const data = await openLocalData(dataDir);
  return {
    repository: new ApiKeyRepository(documentClientFor(data.dynamodb), data.tables),
    where: data.where,
    close: () => data.close(),
  };
}

async function tablesOfStack(
  stackName: string,
  region?: string,
): Promise<{ apiKeys: string; accounts: string; usagePlanId?: string }> {
  const cfn = new CloudFormationClient(region ? { region } : {});
  try {
    const out = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
    const outputs = new Map((out.Stacks?.[0]?.Outputs ?? []).map((o) => [o.OutputKey, o.OutputValue]));
    const apiKeys = outputs.get(STACK_OUTPUTS.apiKeysTableName);
    const accounts = outputs.get(STACK_OUTPUTS.accountsTableName);
    if (!apiKeys || !accounts) {
      throw new Error(
        `stack ${stackName} has no ${STACK_OUTPUTS.apiKeysTableName}/${STACK_OUTPUTS.accountsTableName} outputs: is it an ffaas stack?`,
      );
    }
    return { apiKeys, accounts, usagePlanId: outputs.get(STACK_OUTPUTS.usagePlanId) };
  } finally {
    cfn.destroy();
  }
}
