/**
 * POST /commands/{id}/cancel on AWS (lambdas/cancel-command), with the SDK clients mocked: after
 * the cancel write it stops the execution, stops the worker's ECS task (the ARN the worker
 * recorded on the item) in the workers' cluster, gives back the account slot, deletes outputs
 * and publishes the FAILED event.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import 'aws-sdk-client-mock-vitest/extend';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ECSClient, StopTaskCommand } from '@aws-sdk/client-ecs';
import { SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { DeleteObjectsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { ENV } from '../../core/constants.ts';
import type { CommandItem } from '../../core/types.ts';
import { SLOTS_SORT_KEY } from '../../store/account-slots.ts';
import { ACCOUNT, STATE_MACHINE_ARN, apiEvent, call, setEnv } from './support.ts';
import { handler as cancel } from '../../lambdas/cancel-command/index.ts';

const ddb = mockClient(DynamoDBDocumentClient);
const ecs = mockClient(ECSClient);
const sfn = mockClient(SFNClient);
const s3 = mockClient(S3Client);
const bus = mockClient(EventBridgeClient);
const ID = '6f1c2b7e-2a0d-4c3b-9f7e-1d2c3b4a5f61';
const CLUSTER = 'arn:aws:ecs:us-east-1:123456789012:cluster/ffaas-workers';
const TASK = 'arn:aws:ecs:us-east-1:123456789012:task/ffaas-workers/0123456789abcdef';

const item = (over: Partial<CommandItem> = {}): CommandItem => ({
  account_id: ACCOUNT,
  command_id: ID,
  status: 'PROCESSING',
  command_type: 'FFMPEG_COMMAND',
  created_at: '2026-01-01T00:00:00.000Z',
  started_at: '2026-01-01T00:00:01.000Z',
  original_request: { input_files: {}, output_files: {}, ffmpeg_command: 'x' },
  max_command_run_seconds: 60,
  compute: 'cpu',
  vcpu_count: 2,
  plan: { inputs: [], outputs: [], commands: [] } as unknown as CommandItem['plan'],
  ...over,
});

function mockStore(worker: Partial<CommandItem>) {
  // First read: PROCESSING; after the cancel write: FAILED / CANCELLED, still with the worker's task.
  ddb
    .on(GetCommand)
    .resolvesOnce({ Item: item(worker) })
    .resolves({ Item: item({ ...worker, status: 'FAILED', error_status: 'CANCELLED' }) });
  ddb.on(UpdateCommand).resolves({});
  sfn.on(StopExecutionCommand).resolves({});
  ecs.on(StopTaskCommand).resolves({});
  s3.on(ListObjectsV2Command).resolves({ Contents: [] });
  s3.on(DeleteObjectsCommand).resolves({});
  bus.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: '1' }] });
}

const post = () =>
  call(cancel, apiEvent({ method: 'POST', pathParameters: { command_id: ID }, path: `/api/v1/commands/${ID}/cancel` }));

describe('cancel on AWS: the worker task is stopped', () => {
  beforeEach(() => {
    for (const m of [ddb, ecs, sfn, s3, bus]) m.reset();
    setEnv({ [ENV.WORKER_CLUSTER_ARN]: CLUSTER, [ENV.EVENT_BUS_NAME]: 'bus' });
  });

  it('stops the execution, then StopTask on the recorded task in the workers cluster, and gives back the slot', async () => {
    mockStore({ worker_task_arn: TASK });
    const res = await post();
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('FAILED');
    expect(sfn).toHaveReceivedCommandWith(StopExecutionCommand, {
      executionArn: `${STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${ID}`,
    });
    expect(ecs).toHaveReceivedCommandTimes(StopTaskCommand, 1);
    expect(ecs).toHaveReceivedCommandWith(StopTaskCommand, { cluster: CLUSTER, task: TASK });
    // The slot release: the account's slots item, removing this command.
    const updates = ddb.commandCalls(UpdateCommand).map((c) => c.args[0].input);
    const release = updates.find((u) => (u.Key as Record<string, string>).command_id === SLOTS_SORT_KEY);
    expect(release?.UpdateExpression).toBe('DELETE #running :holder');
    expect([...(release!.ExpressionAttributeValues![':holder'] as Set<string>)]).toEqual([ID]);
    expect(bus).toHaveReceivedCommandTimes(PutEventsCommand, 1);
  });

  it('no recorded task (QUEUED, or the worker not started yet): no StopTask', async () => {
    mockStore({ status: 'QUEUED' });
    expect((await post()).status).toBe(200);
    expect(ecs).not.toHaveReceivedCommand(StopTaskCommand);
    expect(sfn).toHaveReceivedCommandTimes(StopExecutionCommand, 1);
  });

  it('a StopTask that fails does not fail the cancel (the heartbeat still stops the worker)', async () => {
    mockStore({ worker_task_arn: TASK });
    ecs.on(StopTaskCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    const res = await post();
    expect(res.status).toBe(200);
    expect(res.body.error_status).toBe('CANCELLED');
    expect(bus).toHaveReceivedCommandTimes(PutEventsCommand, 1);
  });

  it('without a cluster (local mode) there is no StopTask', async () => {
    delete process.env[ENV.WORKER_CLUSTER_ARN];
    mockStore({ worker_task_arn: TASK });
    expect((await post()).status).toBe(200);
    expect(ecs).not.toHaveReceivedCommand(StopTaskCommand);
  });
});
