/**
 * The sweeper's silent-worker check on AWS (lambdas/sweeper checkRunningWorkers), SDK clients
 * mocked: a RUNNING execution whose command's heartbeat_at is older than the limit gets
 * SendTaskFailure WORKER_LOST on the recorded token (the Run state re-runs it), its ECS task
 * stopped and the worker forgotten; a young execution or a live worker is left alone.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import 'aws-sdk-client-mock-vitest/extend';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ECSClient, StopTaskCommand } from '@aws-sdk/client-ecs';
import {
  DescribeExecutionCommand,
  ListExecutionsCommand,
  SFNClient,
  SendTaskFailureCommand,
} from '@aws-sdk/client-sfn';
import { ENV } from '../../core/constants.ts';
import { checkRunningWorkers, workerSilentSeconds, type SweepSummary } from '../../lambdas/sweeper/index.ts';
import { ACCOUNT, STATE_MACHINE_ARN, setEnv } from './support.ts';

const ddb = mockClient(DynamoDBDocumentClient);
const sfn = mockClient(SFNClient);
const ecs = mockClient(ECSClient);
const CLUSTER = 'arn:aws:ecs:us-east-1:123456789012:cluster/ffaas-workers';
const TASK = 'arn:aws:ecs:us-east-1:123456789012:task/ffaas-workers/abc';
const now = new Date('2026-01-01T01:00:00.000Z');
const execArn = (id: string) => `${STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${id}`;

function setUp(heartbeatAt: string, startedAgoSeconds = 600, id = `c-${Math.random()}`) {
  sfn.on(ListExecutionsCommand).resolves({
    executions: [
      {
        executionArn: execArn(id),
        stateMachineArn: STATE_MACHINE_ARN,
        name: id,
        status: 'RUNNING',
        startDate: new Date(now.getTime() - startedAgoSeconds * 1000),
      },
    ],
  });
  sfn
    .on(DescribeExecutionCommand)
    .resolves({ input: JSON.stringify({ account_id: ACCOUNT, command_id: id }), status: 'RUNNING' } as never);
  ddb.on(GetCommand).resolves({
    Item: {
      account_id: ACCOUNT,
      command_id: id,
      status: 'PROCESSING',
      task_token: 'tok-1',
      heartbeat_at: heartbeatAt,
      worker_task_arn: TASK,
    },
  });
  ddb.on(UpdateCommand).resolves({});
  sfn.on(SendTaskFailureCommand).resolves({});
  ecs.on(StopTaskCommand).resolves({});
  return id;
}
const summary = (): SweepSummary => ({ swept: 0, looked: 0, failed: 0, silent: 0 });

describe('sweeper: workers silent while running', () => {
  beforeEach(() => {
    for (const m of [ddb, sfn, ecs]) m.reset();
    setEnv({ [ENV.WORKER_CLUSTER_ARN]: CLUSTER, [ENV.WORKER_SILENT_SECONDS]: '90' });
  });

  it("fails a silent worker's task as WORKER_LOST, stops its ECS task and forgets it", async () => {
    const id = setUp('2026-01-01T00:57:00.000Z');
    const s = summary();
    await checkRunningWorkers(now, new SFNClient({}), STATE_MACHINE_ARN, s);
    expect(s.silent).toBe(1);
    expect(sfn).toHaveReceivedCommandWith(ListExecutionsCommand, { statusFilter: 'RUNNING' });
    expect(sfn).toHaveReceivedCommandWith(SendTaskFailureCommand, { taskToken: 'tok-1', error: 'WORKER_LOST' });
    expect(ecs).toHaveReceivedCommandWith(StopTaskCommand, { cluster: CLUSTER, task: TASK });
    const forget = ddb.commandCalls(UpdateCommand)[0]!.args[0].input;
    expect(forget.Key).toEqual({ account_id: ACCOUNT, command_id: id });
    expect(forget.UpdateExpression).toBe('REMOVE #task_token, #heartbeat_at');
    expect(forget.ConditionExpression).toBe('(#status = :processing) AND #also = :also');
    expect(forget.ExpressionAttributeValues?.[':also']).toBe('tok-1');
  });

  it('a worker that beat within the limit, or an execution younger than it, is left alone', async () => {
    setUp('2026-01-01T00:59:30.000Z');
    await checkRunningWorkers(now, new SFNClient({}), STATE_MACHINE_ARN, summary());
    expect(sfn).not.toHaveReceivedCommand(SendTaskFailureCommand);
    sfn.reset();
    ddb.reset();
    setUp('2026-01-01T00:00:00.000Z', 30);
    await checkRunningWorkers(now, new SFNClient({}), STATE_MACHINE_ARN, summary());
    expect(sfn).not.toHaveReceivedCommand(DescribeExecutionCommand);
    expect(ddb).not.toHaveReceivedCommand(GetCommand);
    expect(sfn).not.toHaveReceivedCommand(SendTaskFailureCommand);
  });

  it('a dead token is only forgotten (that attempt had already ended)', async () => {
    setUp('2026-01-01T00:50:00.000Z');
    sfn.on(SendTaskFailureCommand).rejects(Object.assign(new Error('gone'), { name: 'TaskTimedOut' }));
    const s = summary();
    await checkRunningWorkers(now, new SFNClient({}), STATE_MACHINE_ARN, s);
    expect(s.silent).toBe(0);
    expect(s.failed).toBe(0);
    expect(ddb).toHaveReceivedCommandTimes(UpdateCommand, 1);
  });

  it('the limit comes from FFAAS_WORKER_SILENT_SECONDS, else 90 s', () => {
    expect(workerSilentSeconds({ [ENV.WORKER_SILENT_SECONDS]: '45' })).toBe(45);
    expect(workerSilentSeconds({})).toBe(90);
    expect(workerSilentSeconds({ [ENV.WORKER_SILENT_SECONDS]: 'x' })).toBe(90);
  });
});
