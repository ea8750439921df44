import { describe, expect, it } from 'vitest';
import { COMMAND_STATUS } from '../../../core/constants.ts';
import {
  expressionsFor,
  LIFECYCLE,
  STATUS_RANK,
  transitionExpressions,
  type LifecycleStep,
  type Transition,
} from '../../../store/lifecycle.ts';

const steps = Object.entries(LIFECYCLE) as [LifecycleStep, Transition][];

describe('lifecycle table', () => {
  it.each(steps)('%s never moves a status backwards', (_name, t) => {
    if (!t.to) return;
    for (const from of t.from) expect(STATUS_RANK[t.to]).toBeGreaterThanOrEqual(STATUS_RANK[from]);
  });

  it('no step leaves a final status for another status', () => {
    for (const [, t] of steps) {
      for (const from of t.from) {
        if (from === 'SUCCESS' || from === 'FAILED') expect(t.to).toBeUndefined();
      }
    }
  });

  it('every status is reached by some step, and only submit creates the item', () => {
    const reached = new Set(steps.map(([, t]) => t.to).filter(Boolean));
    for (const s of COMMAND_STATUS) expect(reached).toContain(s);
    expect(steps.filter(([, t]) => t.from.length === 0).map(([n]) => n)).toEqual(['submit']);
  });
});

describe('transitionExpressions', () => {
  it('one from status: an equality; several: IN', () => {
    expect(transitionExpressions('markProcessing').ConditionExpression).toBe('#status = :queued');
    expect(transitionExpressions('recordFailure').ConditionExpression).toBe('#status IN (:queued, :processing)');
  });

  it('sets the target status and every listed attribute, removes the listed ones', () => {
    const x = transitionExpressions('recordFailure');
    expect(x.UpdateExpression).toBe(
      'SET #status = :failed, #finished_at = :finished_at, #error_status = :error_status, #error_message = :error_message, #status_key = :status_key REMOVE #pending, #pending_shard',
    );
    expect(x.statusValues).toEqual({ ':queued': 'QUEUED', ':processing': 'PROCESSING', ':failed': 'FAILED' });
    expect(x.ExpressionAttributeNames).toMatchObject({
      '#status': 'status',
      '#pending': 'pending',
      '#error_status': 'error_status',
    });
  });

  it('a counter goes up by one in the same write, from 0 when absent', () => {
    const x = transitionExpressions('startAttempt');
    expect(x.UpdateExpression).toBe(
      'SET #task_token = :task_token, #heartbeat_at = :heartbeat_at, #attempts = if_not_exists(#attempts, :zero) + :one',
    );
    expect(x.counterValues).toEqual({ ':zero': 0, ':one': 1 });
    expect(transitionExpressions('stampHeartbeat').counterValues).toBeUndefined();
  });

  it('a step without a target status leaves status alone', () => {
    expect(transitionExpressions('writeProgress').UpdateExpression).toBe('SET #progress = :progress');
    expect(transitionExpressions('clearPending').UpdateExpression).toBe('REMOVE #pending, #pending_shard');
    expect(transitionExpressions('clearPending').ConditionExpression).toBe(
      '#status IN (:processing, :success, :failed)',
    );
  });
});

describe('expressionsFor (another table with its own statuses)', () => {
  it('generates the same shape of condition and update', () => {
    const x = expressionsFor<'PENDING' | 'DELIVERED'>({
      from: ['PENDING'],
      to: 'DELIVERED',
      by: 'x',
      set: ['delivered_at'],
      remove: [],
    });
    expect(x.ConditionExpression).toBe('#status = :pending');
    expect(x.UpdateExpression).toBe('SET #status = :delivered, #delivered_at = :delivered_at');
    expect(x.statusValues).toEqual({ ':pending': 'PENDING', ':delivered': 'DELIVERED' });
  });

  it('refuses a transition from no status (that is a conditional put)', () => {
    expect(() => expressionsFor({ from: [], to: 'QUEUED', by: 'x', set: [], remove: [] })).toThrow(/conditional put/);
  });
});

describe('docs/LIFECYCLE.md', () => {
  it('lists every step of the table with its from, to, sets and removes', async () => {
    const { readFile } = await import('node:fs/promises');
    const page = await readFile(new URL('../../../docs/LIFECYCLE.md', import.meta.url), 'utf8');
    const rows = new Map(
      page
        .split('\n')
        .filter((l) => l.startsWith('| ') && !l.startsWith('| step'))
        .map((l) =>
          l
            .split('|')
            .slice(1, -1)
            .map((c) => c.trim()),
        )
        .map((c) => [c[0]!, c] as const),
    );
    const list = (cell: string) =>
      cell
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x && !x.startsWith('('));
    expect([...rows.keys()].sort()).toEqual(steps.map(([n]) => n).sort());
    for (const [name, t] of steps) {
      const [, from, to, , sets, removes] = rows.get(name)!;
      expect(list(from!), name).toEqual([...t.from]);
      expect(to, name).toBe(t.to ?? '(unchanged)');
      if (name !== 'submit')
        expect(list(sets!), name).toEqual([...t.set, ...(t.increment ?? []).map((a) => `${a} + 1`)]);
      expect(list(removes!), name).toEqual([...t.remove]);
    }
  });
});
