/**
 * The state machine's DynamoDB tasks against the lifecycle table (store/lifecycle.ts): each
 * task writing the commands table is a step of the table, its condition admits exactly the
 * step's `from` statuses and its update sets exactly the step's `to` status. Read from the
 * synthesized ASL, resolving placeholders through the task's own names and values.
 */
import { describe, expect, it } from 'vitest';
import { SLOTS_SORT_KEY } from '../../store/account-slots.ts';
import { LIFECYCLE, type Transition } from '../../store/lifecycle.ts';
import { definitionOf, synth } from './synth.ts';

const machineSteps = Object.entries(LIFECYCLE as Record<string, Transition>).filter(([, t]) => t.state);

for (const gpu of [false, true]) {
  const { asl } = definitionOf(synth({ gpu }).template);
  // The command item's writes (the per-account slots item's are test/infrastructure/account-slots.test.ts's).
  const dynamoTasks = Object.entries(asl.States as Record<string, any>).filter(
    ([, st]) =>
      String(st.Resource ?? '').includes(':states:::dynamodb:') && st.Parameters?.Key?.command_id?.S !== SLOTS_SORT_KEY,
  );

  /** The literal status a placeholder (`#status`, `:queued`) stands for in the task. */
  const resolve = (params: any, placeholder: string): string => {
    if (placeholder.startsWith('#')) return params.ExpressionAttributeNames[placeholder];
    const v = params.ExpressionAttributeValues[placeholder];
    expect(v, `${placeholder} is a literal string`).toHaveProperty('S');
    return v.S;
  };

  describe(`state machine DynamoDB tasks follow the lifecycle table (gpu ${gpu})`, () => {
    it('every DynamoDB task of the machine is a step of the table, and every machine step is in the machine', () => {
      expect(dynamoTasks.map(([name]) => name).sort()).toEqual(machineSteps.map(([, t]) => t.state).sort());
      for (const [, st] of dynamoTasks) expect(st.Resource).toMatch(/:states:::dynamodb:updateItem$/);
    });

    it.each(machineSteps)('%s: condition admits exactly its from statuses, update sets its to status', (_step, t) => {
      const p = asl.States[t.state!].Parameters;
      const cond = /^(#\w+) (?:= (:\w+)|IN \(([^)]*)\))$/.exec(p.ConditionExpression);
      expect(cond, p.ConditionExpression).not.toBeNull();
      expect(resolve(p, cond![1]!)).toBe('status');
      const admitted = cond![2] ? [cond![2]] : cond![3]!.split(',').map((x) => x.trim());
      expect(admitted.map((x) => resolve(p, x)).sort()).toEqual([...t.from].sort());

      const sets = /^SET (.*?)(?: REMOVE (.*))?$/.exec(p.UpdateExpression);
      expect(sets, p.UpdateExpression).not.toBeNull();
      const assignments = sets![1]!.split(',').map((a) => a.trim().split(' = ') as [string, string]);
      const statusSet = assignments.filter(([n]) => resolve(p, n) === 'status');
      if (t.to) {
        expect(statusSet).toHaveLength(1);
        expect(resolve(p, statusSet[0]![1])).toBe(t.to);
      } else expect(statusSet).toHaveLength(0);
      expect(
        assignments
          .map(([n]) => resolve(p, n))
          .filter((n) => n !== 'status')
          .sort(),
      ).toEqual([...t.set].sort());
      const removed = (sets![2] ?? '')
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean)
        .map((n) => resolve(p, n));
      expect(removed.sort()).toEqual([...t.remove].sort());
    });
  });
}
