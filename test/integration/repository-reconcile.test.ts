/**
 * The "no accepted command stays QUEUED" guarantee end to end on a real DynamoDB API:
 * run-ffmpeg-command with StartExecution failing still answers 200 and leaves the item in the
 * pending index; the reconciler, once RECONCILE_AFTER_SECONDS have passed, starts that
 * execution by name. Step Functions is mocked (the call is what matters), the URL check too; the command
 * parser is the real one.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import 'aws-sdk-client-mock-vitest/extend';
import { mockClient } from 'aws-sdk-client-mock';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { PENDING_MARK, RECONCILE_AFTER_SECONDS } from '../../core/constants.ts';
import { startDynalite, type DynaliteHandle } from '../helpers/index.ts';
import { createTables } from '../../store/tables.ts';
import { CommandRepository } from '../../store/command-repository.ts';
import { apiEvent, call, setEnv } from '../handlers/support.ts';

const net = vi.hoisted(() => ({ assertPublicUrl: vi.fn(async () => ({ ok: true as const })) }));
vi.mock('../../core/net/policy.ts', () => net);

import { handler as runOne } from '../../lambdas/run-ffmpeg-command/index.ts';
import { reconcile } from '../../lambdas/reconciler/index.ts';

const names = { commands: 'rc-commands', apiKeys: 'rc-api-keys', accounts: 'rc-accounts' };
const sfn = mockClient(SFNClient);
let db: DynaliteHandle;

beforeAll(async () => {
  db = await startDynalite();
  await createTables(db.client, names);
});
afterAll(async () => {
  await db?.stop();
});
beforeEach(() => {
  setEnv({
    AWS_ENDPOINT_URL_DYNAMODB: db.endpoint,
    FFAAS_COMMANDS_TABLE: names.commands,
    FFAAS_API_KEYS_TABLE: names.apiKeys,
    FFAAS_ACCOUNTS_TABLE: names.accounts,
  });
  sfn.reset();
});

describe('a command whose StartExecution failed', () => {
  it('is accepted, stays pending, and the reconciler starts it', async () => {
    sfn.on(StartExecutionCommand).rejects(new Error('states.us-east-1.amazonaws.com unreachable'));
    const res = await call(
      runOne,
      apiEvent({
        body: {
          input_files: { in_a: 'https://example.com/a.mp4' },
          output_files: { out_a: 'a.mp4' },
          ffmpeg_command: 'ffmpeg -i {{in_a}} {{out_a}}',
        },
      }),
    );
    expect(res.status).toBe(200);
    const id: string = res.body.command_id;

    const repo = new CommandRepository(db.doc, names.commands);
    const stored = await repo.get('acc-1', id);
    expect(stored).toMatchObject({ status: 'QUEUED', pending: PENDING_MARK });

    // Too early: the reconciler leaves fresh submits to their own StartExecution.
    sfn.reset();
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:exec', startDate: new Date() });
    expect((await reconcile(new Date())).started).toBe(0);
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);

    const later = new Date(Date.parse(stored!.created_at) + (RECONCILE_AFTER_SECONDS + 1) * 1000);
    const summary = await reconcile(later);
    expect(summary).toMatchObject({ started: 1, failed: 0 });
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, { name: id });
    const input = JSON.parse(sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input.input!);
    expect(input).toMatchObject({ account_id: 'acc-1', command_id: id, compute: 'cpu' });
  });
});
