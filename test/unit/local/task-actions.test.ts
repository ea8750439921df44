/** local/task-actions.ts: binding Task states by Resource, and the state timeout the engine does not enforce. */
import { describe, expect, it } from 'vitest';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LocalEventBus } from '../../../local/event-bus.ts';
import { HIDDEN, prepareForLocalRun } from '../../../local/prepare.ts';
import {
  bindTaskStates,
  RUN_TASK_RESOURCE,
  taskHandler,
  type LocalAction,
  type TaskBinding,
} from '../../../local/task-actions.ts';

// Never called: binding only picks actions. (A client to nowhere, not a mock.)
const deps = (runTask: LocalAction) => ({
  dynamodb: new DynamoDBClient({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9' }),
  bus: new LocalEventBus('bus', null),
  runTask,
});

const machine = (resource: string) =>
  prepareForLocalRun({ StartAt: 'S', States: { S: { Type: 'Task', Resource: resource, End: true } } });

describe('bindTaskStates', () => {
  it('binds each Task to the action of its Resource', () => {
    const runTask: LocalAction = async () => 'ran';
    const [binding] = bindTaskStates(machine(RUN_TASK_RESOURCE), deps(runTask));
    expect(binding).toMatchObject({ stateName: 'S', resource: RUN_TASK_RESOURCE, action: runTask });
    expect(bindTaskStates(machine('arn:aws:states:::dynamodb:updateItem'), deps(runTask))).toHaveLength(1);
    expect(bindTaskStates(machine('arn:aws:states:::events:putEvents'), deps(runTask))).toHaveLength(1);
  });

  it('fails at start-up, naming the state, for a Resource local mode cannot run', () => {
    expect(() =>
      bindTaskStates(
        machine('arn:aws:states:::lambda:invoke'),
        deps(async () => null),
      ),
    ).toThrow('local mode has no action for Task state "S" (Resource arn:aws:states:::lambda:invoke)');
  });
});

describe('taskHandler', () => {
  const execution = (signal = new AbortController().signal) => ({ name: 'e', arn: 'arn:e', signal });
  const bind = (action: LocalAction): TaskBinding => ({ stateName: 'S', resource: RUN_TASK_RESOURCE, action });

  it('passes the state`s own Parameters and its heartbeat to the action', async () => {
    let seen: unknown;
    const handler = taskHandler(
      bind(async (params, ctx) => {
        seen = { params, heartbeat: ctx.heartbeatSeconds, state: ctx.stateName };
        return 'ok';
      }),
      execution(),
    );
    await expect(handler({ [HIDDEN.params]: { a: 1 }, [HIDDEN.heartbeat]: 9 })).resolves.toBe('ok');
    expect(seen).toEqual({ params: { a: 1 }, heartbeat: 9, state: 'S' });
  });

  it('fails with States.Timeout after TimeoutSeconds and aborts the action`s signal', async () => {
    let signal!: AbortSignal;
    const handler = taskHandler(
      bind((_p, ctx) => {
        signal = ctx.signal;
        return new Promise(() => undefined);
      }),
      execution(),
    );
    await expect(handler({ [HIDDEN.params]: {}, [HIDDEN.timeout]: 1 })).rejects.toMatchObject({
      name: 'States.Timeout',
      message: 'state S ran longer than 1 s',
    });
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toMatchObject({ name: 'States.Timeout' });
  });

  it('aborts the action when the execution stops', async () => {
    const stop = new AbortController();
    let signal!: AbortSignal;
    const handler = taskHandler(
      bind((_p, ctx) => {
        signal = ctx.signal;
        return new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));
      }),
      execution(stop.signal),
    );
    const run = handler({ [HIDDEN.params]: {} });
    stop.abort();
    await expect(run).rejects.toMatchObject({ name: 'States.Aborted', message: 'execution stopped' });
    expect(signal.aborted).toBe(true);
  });
});
