/** local/prepare.ts: the patches that make aws-local-stepfunctions run the definition as AWS does. */
import { describe, expect, it } from 'vitest';
import {
  HIDDEN,
  LIBRARY_TASK_TIMEOUT_SECONDS,
  localContextObject,
  prepareForLocalRun,
  taskStates,
  unpackTaskInput,
} from '../../../local/prepare.ts';

const asl = {
  StartAt: 'A',
  States: {
    A: {
      Type: 'Task',
      Resource: 'r:a',
      TimeoutSecondsPath: '$.t',
      HeartbeatSeconds: 30,
      Parameters: { 'x.$': '$.x' },
      Next: 'M',
    },
    M: {
      Type: 'Map',
      ItemProcessor: { StartAt: 'B', States: { B: { Type: 'Task', Resource: 'r:b', TimeoutSeconds: 5, End: true } } },
      Next: 'P',
    },
    P: {
      Type: 'Parallel',
      Branches: [
        { StartAt: 'C', States: { C: { Type: 'Task', Resource: 'r:c', HeartbeatSecondsPath: '$.hb', End: true } } },
      ],
      End: true,
    },
  },
};

describe('prepareForLocalRun', () => {
  it('moves every Task timeout and heartbeat (nested ones too) into hidden Parameters, leaving the input untouched', () => {
    const original = structuredClone(asl);
    const prepared = prepareForLocalRun(asl);
    expect(asl).toEqual(original);
    const [a, b, c] = ['A', 'B', 'C'].map((n) => taskStates(prepared).find((t) => t.name === n)!.state);
    expect(a.Parameters).toEqual({
      [HIDDEN.params]: { 'x.$': '$.x' },
      [`${HIDDEN.timeout}.$`]: '$.t',
      [HIDDEN.heartbeat]: 30,
    });
    expect(b.Parameters).toEqual({ [`${HIDDEN.params}.$`]: '$', [HIDDEN.timeout]: 5 });
    expect(c.Parameters).toEqual({ [`${HIDDEN.params}.$`]: '$', [`${HIDDEN.heartbeat}.$`]: '$.hb' });
    for (const s of [a, b, c]) {
      expect(s.TimeoutSeconds).toBe(LIBRARY_TASK_TIMEOUT_SECONDS);
      expect(s).not.toHaveProperty('TimeoutSecondsPath');
      expect(s).not.toHaveProperty('HeartbeatSeconds');
      expect(s).not.toHaveProperty('HeartbeatSecondsPath');
    }
    expect(LIBRARY_TASK_TIMEOUT_SECONDS * 1000).toBeLessThan(2 ** 31);
  });
});

describe('unpackTaskInput', () => {
  it('returns the state`s own Parameters and the resolved timeout and heartbeat', () => {
    expect(unpackTaskInput({ [HIDDEN.params]: { x: 1 }, [HIDDEN.timeout]: 7, [HIDDEN.heartbeat]: 3 }, 'S')).toEqual({
      params: { x: 1 },
      timeoutSeconds: 7,
      heartbeatSeconds: 3,
    });
    expect(unpackTaskInput({ [HIDDEN.params]: 'p' }, 'S')).toEqual({
      params: 'p',
      timeoutSeconds: undefined,
      heartbeatSeconds: undefined,
    });
  });

  it('fails with States.Runtime when a resolved value is not a positive integer, as AWS does', () => {
    for (const bad of [0, -1, 1.5, '10', null]) {
      expect(() => unpackTaskInput({ [HIDDEN.timeout]: bad }, 'S')).toThrow(
        expect.objectContaining({
          name: 'States.Runtime',
          message: expect.stringMatching(/TimeoutSeconds of state S/),
        }),
      );
    }
    expect(() => unpackTaskInput({ [HIDDEN.heartbeat]: 0 }, 'S')).toThrow(
      expect.objectContaining({ name: 'States.Runtime' }),
    );
  });
});

describe('localContextObject', () => {
  it('supplies $$.State.EnteredTime (now) and a fresh $$.Task.Token on every read', () => {
    const ctx = localContextObject({ arn: 'arn:e', name: 'e' }, { arn: 'arn:sm', name: 'sm' });
    expect(ctx.Execution).toMatchObject({ Id: 'arn:e', Name: 'e' });
    expect(ctx.StateMachine).toEqual({ Id: 'arn:sm', Name: 'sm' });
    expect(Math.abs(Date.parse(ctx.State.EnteredTime) - Date.now())).toBeLessThan(1000);
    const t1 = ctx.Task.Token;
    const t2 = ctx.Task.Token;
    expect(t1).toMatch(/^ffaas-local-[A-Za-z0-9_-]{64}$/);
    expect(t2).not.toBe(t1);
  });
});
