/**
 * Per-account concurrency in the synthesized state machine (docs/CONTROL.md): AcquireSlot and
 * the ReleaseSlot* states take their expressions from store/account-slots.ts, the wait is a
 * bounded Retry, and every way out of the graph after AcquireSlot passes a release.
 */
import { Duration } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { STATE } from '../../core/constants.ts';
import { CONTROL_DEFAULTS } from '../../core/control/settings.ts';
import {
  ACQUIRE_SLOT,
  RELEASE_SLOT,
  SLOT_WAIT_DEFAULTS,
  SLOTS_SORT_KEY,
  slotWaitAttempts,
} from '../../store/account-slots.ts';
import { definitionOf, synth } from './synth.ts';

const CCF = 'DynamoDB.ConditionalCheckFailedException';
const RELEASES = [STATE.ReleaseSlotAfterSuccess, STATE.ReleaseSlotAfterFailure, STATE.ReleaseSlotAndFinish];

/** The states a state can go to next (Next, Default, Choices, Catch). */
const successors = (st: any): string[] => [
  ...(st.Next ? [st.Next] : []),
  ...(st.Default ? [st.Default] : []),
  ...(st.Choices ?? []).map((c: any) => c.Next),
  ...(st.Catch ?? []).map((c: any) => c.Next),
];

for (const gpu of [false, true]) {
  const { asl } = definitionOf(synth({ gpu }).template);
  const S = asl.States;

  describe(`per-account slots (gpu ${gpu})`, () => {
    it('starts at UseAccountSlots: AcquireSlot unless the input says account_slots false (local mode)', () => {
      expect(asl.StartAt).toBe(STATE.UseAccountSlots);
      const choice = S[STATE.UseAccountSlots];
      expect(choice.Type).toBe('Choice');
      expect(choice.Default).toBe(STATE.AcquireSlot);
      expect(choice.Choices).toEqual([
        {
          And: [
            { Variable: '$.account_slots', IsPresent: true },
            { Variable: '$.account_slots', BooleanEquals: false },
          ],
          Next: STATE.MarkProcessing,
        },
      ]);
      expect(S[STATE.AcquireSlot].Next).toBe(STATE.MarkProcessing);
    });

    it("AcquireSlot: the account's slots item, ACQUIRE_SLOT's expressions, the cap and the command as a one-name set", () => {
      const p = S[STATE.AcquireSlot].Parameters;
      expect(S[STATE.AcquireSlot].Resource).toMatch(/:states:::dynamodb:updateItem$/);
      expect(p.Key).toEqual({ account_id: { 'S.$': '$.account_id' }, command_id: { S: SLOTS_SORT_KEY } });
      expect(p.TableName).toMatch(/CommandsTable/);
      expect(p.ConditionExpression).toBe(ACQUIRE_SLOT.ConditionExpression);
      expect(p.UpdateExpression).toBe(ACQUIRE_SLOT.UpdateExpression);
      expect(p.ExpressionAttributeNames).toEqual(ACQUIRE_SLOT.ExpressionAttributeNames);
      expect(Object.keys(p.ExpressionAttributeValues).sort()).toEqual([...ACQUIRE_SLOT.values].sort());
      expect(p.ExpressionAttributeValues[':holder']).toEqual({ 'SS.$': 'States.Array($.command_id)' });
      expect(p.ExpressionAttributeValues[':command_id']).toEqual({ 'S.$': '$.command_id' });
      expect(p.ExpressionAttributeValues[':max']).toEqual({ N: String(CONTROL_DEFAULTS.accountMaxRunning) });
      expect(S[STATE.AcquireSlot].ResultPath).toBeNull();
    });

    it('AcquireSlot waits by a bounded Retry without backoff, then TIMEOUT; other errors → NameInternalError', () => {
      const st = S[STATE.AcquireSlot];
      const wait = st.Retry.find((r: any) => r.ErrorEquals.includes(CCF));
      expect(wait).toEqual({
        ErrorEquals: [CCF],
        IntervalSeconds: SLOT_WAIT_DEFAULTS.waitSeconds,
        MaxAttempts: slotWaitAttempts(SLOT_WAIT_DEFAULTS.waitSeconds, SLOT_WAIT_DEFAULTS.maxWaitSeconds),
        BackoffRate: 1,
      });
      // Throttling retried too.
      expect(st.Retry.some((r: any) => r.ErrorEquals.includes('DynamoDB.ThrottlingException'))).toBe(true);
      expect(st.Catch.find((c: any) => c.ErrorEquals.includes(CCF)).Next).toBe(STATE.NameQueueTimeout);
      expect(st.Catch.find((c: any) => c.ErrorEquals.includes('States.ALL')).Next).toBe(STATE.NameInternalError);
      const named = S[STATE.NameQueueTimeout];
      expect(named.Parameters.Error).toBe('TIMEOUT');
      expect(named.Parameters.Cause).toMatch(/running slots/);
      expect(named.Next).toBe(STATE.RecordFailure);
    });

    it.each(RELEASES)(
      "%s: RELEASE_SLOT's expressions; holding none (ConditionalCheckFailed) is not an error",
      (name) => {
        const st = S[name];
        const p = st.Parameters;
        expect(st.Resource).toMatch(/:states:::dynamodb:updateItem$/);
        expect(p.Key).toEqual({ account_id: { 'S.$': '$.account_id' }, command_id: { S: SLOTS_SORT_KEY } });
        expect(p.ConditionExpression).toBe(RELEASE_SLOT.ConditionExpression);
        expect(p.UpdateExpression).toBe(RELEASE_SLOT.UpdateExpression);
        expect(Object.keys(p.ExpressionAttributeValues).sort()).toEqual([...RELEASE_SLOT.values].sort());
        const caught = st.Catch.find((c: any) => c.ErrorEquals.includes(CCF));
        expect(caught.Next).toBe(st.Next ?? STATE.NoSlotHeld);
        // Other errors are not caught: the execution fails and the sweeper releases the slot.
        expect(st.Catch.some((c: any) => c.ErrorEquals.includes('States.ALL'))).toBe(false);
        expect(st.Retry.some((r: any) => r.ErrorEquals.includes('DynamoDB.ThrottlingException'))).toBe(true);
      },
    );

    it('the releases come after the terminal event: PublishSucceeded / PublishFailed → release → end', () => {
      expect(S[STATE.PublishSucceeded].Next).toBe(STATE.ReleaseSlotAfterSuccess);
      expect(S[STATE.PublishFailed].Next).toBe(STATE.ReleaseSlotAfterFailure);
      expect(S[STATE.ReleaseSlotAfterSuccess].End).toBe(true);
      expect(S[STATE.ReleaseSlotAfterFailure].End).toBe(true);
      expect(S[STATE.ReleaseSlotAndFinish].Next).toBe(STATE.AlreadyFinished);
    });

    it('every path from AcquireSlot to an end of the graph passes a release', () => {
      const ends: string[][] = [];
      const walk = (name: string, path: string[]) => {
        if (path.includes(name)) return; // the graph has no cycles after AcquireSlot; be safe anyway
        const st = S[name];
        expect(st, `state ${name}`).toBeDefined();
        const next = successors(st);
        const here = [...path, name];
        if (next.length === 0 || st.End || st.Type === 'Succeed' || st.Type === 'Fail') ends.push(here);
        for (const n of next) walk(n, here);
      };
      walk(STATE.AcquireSlot, []);
      expect(ends.length).toBeGreaterThan(5);
      for (const p of ends) {
        expect(
          p.some((s) => (RELEASES as string[]).includes(s)),
          `path without a release: ${p.join(' → ')}`,
        ).toBe(true);
      }
    });
  });
}

describe('per-account slots: settings', () => {
  it('accountMaxRunning sets the cap in AcquireSlot', () => {
    const { asl } = definitionOf(synth({ accountMaxRunning: 7 }).template);
    expect(asl.States[STATE.AcquireSlot].Parameters.ExpressionAttributeValues[':max']).toEqual({ N: '7' });
  });

  it('slotWaitAttempts bounds the wait and refuses nonsense', () => {
    expect(slotWaitAttempts(10, 6 * 3600)).toBe(2160);
    expect(slotWaitAttempts(7, 20)).toBe(3);
    expect(() => slotWaitAttempts(0, 10)).toThrow();
    expect(() => slotWaitAttempts(10, 5)).toThrow();
    expect(Duration.seconds(SLOT_WAIT_DEFAULTS.waitSeconds).toSeconds()).toBeGreaterThanOrEqual(1);
  });
});
