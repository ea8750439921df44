/** authorizer and reconciler with the SDK clients mocked. */
import { usageKeyValue } from '../../core/control/usage-key.ts';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { Context } from 'aws-lambda';
import 'aws-sdk-client-mock-vitest/extend';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDBDocumentClient, GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import {
  PENDING_MARK,
  PENDING_SHARDS,
  RECONCILE_AFTER_SECONDS,
  pendingShard,
  TASK_TIMEOUT_ALLOWANCE_SECONDS,
} from '../../core/constants.ts';
import { generateApiKey, hashApiKey } from '../../core/api/api-keys.ts';
import type { CommandItem } from '../../core/types.ts';
import { apiEvent, authorizerEvent, call, context, setEnv } from './support.ts';
import { handler as authorizer, stageWildcard } from '../../lambdas/authorizer/index.ts';
import { handler as reconcilerHandler, reconcile } from '../../lambdas/reconciler/index.ts';
import { handler as getCommand } from '../../lambdas/get-command/index.ts';
import { logger } from '../../lambdas/common/logger.ts';

const ddb = mockClient(DynamoDBDocumentClient);
const sfn = mockClient(SFNClient);

beforeEach(() => {
  setEnv();
  ddb.reset();
  sfn.reset();
});

describe('authorizer', () => {
  const key = generateApiKey();
  const record = {
    key_hash: hashApiKey(key),
    prefix: key.slice(0, 12),
    name: 'k',
    account_id: 'acc-1',
    created_at: '2026-01-01T00:00:00.000Z',
  };

  it('allows a known key for the whole stage, with { accountId } in the context', async () => {
    ddb.on(GetCommand).resolves({ Item: record });
    const out = await authorizer(authorizerEvent({ 'X-API-KEY': key }), context);
    expect(ddb).toHaveReceivedCommandWith(GetCommand, { TableName: 'api-keys', Key: { key_hash: hashApiKey(key) } });
    expect(out).toEqual({
      principalId: 'acc-1',
      policyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Action: 'execute-api:Invoke',
            Effect: 'Allow',
            Resource: 'arn:aws:execute-api:us-east-1:123456789012:abc123/prod/*',
          },
        ],
      },
      context: { accountId: 'acc-1' },
      usageIdentifierKey: usageKeyValue('acc-1'),
    });
    expect(out.usageIdentifierKey).not.toBe(usageKeyValue('acc-2'));
  });

  it('accepts the key as Authorization: Bearer (scheme in any case), X-API-KEY first when both are sent', async () => {
    ddb.on(GetCommand).resolves({ Item: record });
    for (const value of [`Bearer ${key}`, `bearer ${key}`, `  BEARER   ${key} `]) {
      await expect(authorizer(authorizerEvent({ Authorization: value }), context)).resolves.toMatchObject({
        context: { accountId: 'acc-1' },
      });
    }
    expect(ddb).toHaveReceivedCommandWith(GetCommand, { Key: { key_hash: hashApiKey(key) } });
    ddb.resetHistory();
    await expect(
      authorizer(authorizerEvent({ 'X-API-KEY': key, Authorization: 'Bearer ffsk_abc' }), context),
    ).resolves.toBeDefined();
    await expect(
      authorizer(authorizerEvent({ 'X-API-KEY': 'ffsk_abc', Authorization: `Bearer ${key}` }), context),
    ).rejects.toThrow(/^Unauthorized$/);
  });

  it('reads the header in any case', async () => {
    ddb.on(GetCommand).resolves({ Item: record });
    for (const name of ['x-api-key', 'X-Api-Key', 'X-API-KEY']) {
      await expect(authorizer(authorizerEvent({ [name]: key }), context)).resolves.toMatchObject({
        context: { accountId: 'acc-1' },
      });
    }
  });

  it.each([
    ['no header', {}],
    ['empty', { 'x-api-key': '' }],
    ['wrong prefix', { 'x-api-key': 'sk_' + 'a'.repeat(64) }],
    ['uppercase hex', { 'x-api-key': 'ffsk_' + 'A'.repeat(64) }],
    ['too short', { 'x-api-key': 'ffsk_abc' }],
    ['Bearer without a key', { authorization: 'Bearer ' }],
    ['Basic scheme', { authorization: `Basic ${key}` }],
    ['Bearer with a malformed key', { authorization: 'Bearer ffsk_abc' }],
  ])('malformed (%s): Unauthorized without a lookup', async (_n, headers) => {
    await expect(authorizer(authorizerEvent(headers), context)).rejects.toThrow(/^Unauthorized$/);
    expect(ddb).not.toHaveReceivedCommand(GetCommand);
  });

  it('unknown key: Unauthorized', async () => {
    ddb.on(GetCommand).resolves({});
    await expect(authorizer(authorizerEvent({ 'x-api-key': generateApiKey() }), context)).rejects.toThrow(
      /^Unauthorized$/,
    );
  });

  it('revoked key: Unauthorized', async () => {
    ddb.on(GetCommand).resolves({ Item: { ...record, revoked_at: '2026-01-02T00:00:00.000Z' } });
    await expect(authorizer(authorizerEvent({ 'x-api-key': key }), context)).rejects.toThrow(/^Unauthorized$/);
  });

  it('a lookup failure is not reported as Unauthorized (it is a 500, not a false 401)', async () => {
    ddb.on(GetCommand).rejects(new Error('throttled'));
    await expect(authorizer(authorizerEvent({ 'x-api-key': key }), context)).rejects.toThrow('throttled');
  });

  it('stageWildcard', () => {
    expect(stageWildcard('arn:aws:execute-api:eu-west-1:1:api/v1stage/GET/api/v1/commands/x')).toBe(
      'arn:aws:execute-api:eu-west-1:1:api/v1stage/*',
    );
    expect(stageWildcard(undefined)).toBe('*');
  });
});

describe('reconciler', () => {
  const now = new Date('2026-01-01T00:10:00.000Z');
  const stuck: CommandItem = {
    account_id: 'acc-1',
    command_id: 'c-stuck',
    status: 'QUEUED',
    command_type: 'FFMPEG_COMMAND',
    created_at: '2026-01-01T00:05:00.000Z',
    original_request: { input_files: {}, output_files: { out_a: 'a.mp4' }, ffmpeg_command: 'x' },
    max_command_run_seconds: 120,
    compute: 'cpu',
    vcpu_count: 1,
    plan: { inputs: [], outputs: [], commands: [] },
    pending: PENDING_MARK,
  };

  /** The pending index as DynamoDB serves it: each shard's query returns that shard's items. */
  const onPendingQuery = (items: Array<Record<string, any>>) => {
    for (let n = 0; n < PENDING_SHARDS; n++) {
      ddb.on(QueryCommand, { ExpressionAttributeValues: { ':p': `pending#${n}` } }).resolves({
        Items: items.filter((i) => pendingShard(i.command_id) === `pending#${n}`),
      });
    }
  };

  it('reads every shard of the pending index', async () => {
    onPendingQuery([]);
    await reconcile(now);
    const shards = ddb.commandCalls(QueryCommand).map((c) => c.args[0].input.ExpressionAttributeValues?.[':p']);
    expect(shards.sort()).toEqual(Array.from({ length: PENDING_SHARDS }, (_, n) => `pending#${n}`).sort());
  });

  it('starts the execution of every pending command older than RECONCILE_AFTER_SECONDS', async () => {
    onPendingQuery([stuck]);
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn', startDate: now });
    const summary = await reconcile(now);
    expect(ddb).toHaveReceivedCommandWith(QueryCommand, {
      TableName: 'commands',
      IndexName: 'pending',
      ExpressionAttributeValues: {
        ':p': pendingShard('c-stuck'),
        ':c': new Date(now.getTime() - RECONCILE_AFTER_SECONDS * 1000).toISOString(),
      },
    });
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, { name: 'c-stuck' });
    const input = JSON.parse(sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input.input!);
    expect(input).toEqual({
      account_id: 'acc-1',
      command_id: 'c-stuck',
      compute: 'cpu',
      task_cpu: '1024',
      task_memory: '2048',
      task_ephemeral_storage_gib: 21,
      task_workspace_max_bytes: String(20 * 1024 ** 3),
      task_timeout_seconds: 120 + TASK_TIMEOUT_ALLOWANCE_SECONDS,
    });
    expect(summary).toEqual({ found: 1, started: 1, alreadyRunning: 0, cleared: 0, failed: 0 });
  });

  it('an execution that already exists counts as running; a failure is counted and the rest continue', async () => {
    onPendingQuery([stuck, { ...stuck, command_id: 'c2' }, { ...stuck, command_id: 'c3' }]);
    sfn
      .on(StartExecutionCommand)
      .rejectsOnce(new ExecutionAlreadyExists({ $metadata: {}, message: 'exists' }))
      .rejectsOnce(new Error('throttled'))
      .resolves({ executionArn: 'arn', startDate: now });
    expect(await reconcile(now)).toEqual({ found: 3, started: 1, alreadyRunning: 1, cleared: 0, failed: 1 });
  });

  it('an item that left QUEUED but kept the mark is cleaned, not started', async () => {
    onPendingQuery([{ ...stuck, status: 'PROCESSING' }]);
    ddb.on(UpdateCommand).resolves({});
    expect(await reconcile(now)).toMatchObject({ found: 1, started: 0, cleared: 1 });
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, {
      Key: { account_id: 'acc-1', command_id: 'c-stuck' },
      UpdateExpression: 'REMOVE #pending, #pending_shard',
    });
  });

  it('nothing pending: nothing started', async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });
    expect(await reconcile(now)).toEqual({ found: 0, started: 0, alreadyRunning: 0, cleared: 0, failed: 0 });
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });
});

describe('log context', () => {
  /** The JSON log lines the shared Powertools logger writes while `fn` runs. */
  async function logLines(fn: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
    const lines: Record<string, unknown>[] = [];
    logger.setLogLevel('INFO'); // setEnv silences the logger
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      for (const l of String(chunk).split('\n').filter(Boolean)) {
        try {
          lines.push(JSON.parse(l));
        } catch {
          /* not a log line */
        }
      }
      return true;
    });
    try {
      await fn();
    } finally {
      spy.mockRestore();
      logger.setLogLevel('SILENT');
    }
    return lines;
  }

  it('a reconciler run after a request carries its own function name, not the request keys', async () => {
    const commandId = '00000000-0000-4000-8000-00000000abcd';
    ddb.on(GetCommand).resolves({});
    ddb.on(QueryCommand).resolves({ Items: [] });
    const request = await logLines(() =>
      call(getCommand, apiEvent({ method: 'GET', pathParameters: { command_id: commandId } })),
    );
    expect(request.find((l) => l.message === 'request done')).toMatchObject({
      function_name: 'test',
      command_id: commandId,
    });

    const reconcilerContext = { awsRequestId: 'rec-1', functionName: 'reconciler-fn' } as unknown as Context;
    const run = await logLines(() => reconcilerHandler({ time: '2026-01-01T00:10:00.000Z' }, reconcilerContext));
    const done = run.find((l) => l.message === 'reconcile done');
    expect(done).toMatchObject({ function_name: 'reconciler-fn', function_request_id: 'rec-1', found: 0 });
    expect(done).not.toHaveProperty('command_id');
    expect(done).not.toHaveProperty('route');
  });

  it("the reconciler takes 'now' from the schedule event's time", async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });
    await reconcilerHandler({ time: '2026-01-01T00:10:00.000Z' }, {
      awsRequestId: 'r',
      functionName: 'f',
    } as unknown as Context);
    expect(ddb).toHaveReceivedCommandWith(QueryCommand, {
      ExpressionAttributeValues: {
        ':p': 'pending#0',
        ':c': new Date(Date.parse('2026-01-01T00:10:00.000Z') - RECONCILE_AFTER_SECONDS * 1000).toISOString(),
      },
    });
  });
});
