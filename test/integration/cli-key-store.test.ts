/**
 * `ffaas keys … --stack NAME` finds a deployed stack's tables by its CloudFormation outputs.
 * CloudFormation is mocked (no AWS account here); DynamoDB is a real dynalite standing in for
 * the stack's tables, reached the way a deployed one is: through the SDK's endpoint settings.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { openKeyStore } from '../../cli/key-store.ts';
import { hashApiKey } from '../../core/api/api-keys.ts';
import { STACK_OUTPUTS } from '../../lib/outputs.ts';
import { createTables } from '../../store/tables.ts';
import { startDynalite, TEST_CREDENTIALS, type DynaliteHandle } from '../helpers/index.ts';

const STACK_TABLES = {
  commands: 'Ffaas-Commands-1A2B',
  apiKeys: 'Ffaas-ApiKeys-3C4D',
  accounts: 'Ffaas-Accounts-5E6F',
};

describe('key store of a deployed stack', () => {
  let db: DynaliteHandle;
  const cfn = mockClient(CloudFormationClient);

  beforeAll(async () => {
    db = await startDynalite();
    await createTables(db.client, STACK_TABLES);
    vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', db.endpoint);
    vi.stubEnv('AWS_ACCESS_KEY_ID', TEST_CREDENTIALS.accessKeyId);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', TEST_CREDENTIALS.secretAccessKey);
  });
  afterEach(() => cfn.reset());
  afterAll(async () => {
    vi.unstubAllEnvs();
    await db.stop();
  });

  it('writes keys into the tables named by the stack outputs', async () => {
    cfn.on(DescribeStacksCommand, { StackName: 'Ffaas' }).resolves({
      Stacks: [
        {
          StackName: 'Ffaas',
          CreationTime: new Date(),
          StackStatus: 'CREATE_COMPLETE',
          Outputs: [
            { OutputKey: STACK_OUTPUTS.apiKeysTableName, OutputValue: STACK_TABLES.apiKeys },
            { OutputKey: STACK_OUTPUTS.accountsTableName, OutputValue: STACK_TABLES.accounts },
            { OutputKey: STACK_OUTPUTS.commandsTableName, OutputValue: STACK_TABLES.commands },
          ],
        },
      ],
    });
    const store = await openKeyStore({ kind: 'stack', stackName: 'Ffaas', region: 'eu-west-1' });
    try {
      const created = await store.repository.create({ name: 'deployed', accountId: 'acct-1' });
      expect(store.where).toBe('stack Ffaas');
      const stored = await store.repository.findByHash(hashApiKey(created.key));
      expect(stored).toMatchObject({ name: 'deployed', account_id: 'acct-1' });
      const rows = await db.doc.send(new ScanCommand({ TableName: STACK_TABLES.apiKeys }));
      expect(rows.Items?.map((i) => i.name)).toEqual(['deployed']);
    } finally {
      await store.close();
    }
  });

  it('says so when the stack is not an ffaas stack', async () => {
    cfn.on(DescribeStacksCommand).resolves({
      Stacks: [{ StackName: 'Other', CreationTime: new Date(), StackStatus: 'CREATE_COMPLETE', Outputs: [] }],
    });
    await expect(openKeyStore({ kind: 'stack', stackName: 'Other' })).rejects.toThrow(/is it an ffaas stack/);
  });
});
