/**
 * Local mode's execution queue: at most maxConcurrency executions run at once, the rest wait in
 * FIFO order with their commands still QUEUED, and 20 StartExecution calls arriving at once
 * through the local Step Functions endpoint all run to SUCCESS.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { EVENT_DETAIL_TYPE } from '../../core/constants.ts';
import type { ExecutionRecord } from '../../local/step-functions.ts';
import { startHarness, type Harness } from '../state-machine/harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ maxConcurrency: 2 });
});
afterAll(async () => {
  await h?.stop();
});

it('runs 20 simultaneous submissions, never more than 2 at once, in FIFO order', async () => {
  const ids = Array.from({ length: 20 }, (_, i) => `success--${String(i).padStart(2, '0')}-${crypto.randomUUID()}`);
  await Promise.all(ids.map((cid) => h.putCommand(cid)));

  let running = 0;
  let maxRunning = 0;
  const startOrder: string[] = [];
  h.runner.on('executionStarted', (e: ExecutionRecord) => {
    running++;
    maxRunning = Math.max(maxRunning, running);
    startOrder.push(e.name);
  });
  h.runner.on('executionFinished', (e: ExecutionRecord) => {
    if (e.stopDate && startOrder.includes(e.name)) running--;
  });

  // Sequential calls fix the arrival order for the FIFO check; the concurrent burst below
  // checks that nothing is lost when they all land together.
  const first = ids.slice(0, 10);
  for (const cid of first) {
    await h.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: h.runner.stateMachineArn,
        name: cid,
        input: JSON.stringify(h.executionInput(cid)),
      }),
    );
  }
  await Promise.all(
    ids.slice(10).map((cid) =>
      h.sfn.send(
        new StartExecutionCommand({
          stateMachineArn: h.runner.stateMachineArn,
          name: cid,
          input: JSON.stringify(h.executionInput(cid)),
        }),
      ),
    ),
  );

  // Right after the burst, the tail still waits: its commands are QUEUED, not PROCESSING.
  expect(h.runner.stats().running).toBeLessThanOrEqual(2);
  expect(h.runner.stats().queued).toBeGreaterThan(10);
  expect((await h.getCommand(ids[19]))?.status).toBe('QUEUED');

  const done = await Promise.all(ids.map((cid) => h.runner.waitForExecution(cid)));
  expect(done.map((e) => e.status)).toEqual(ids.map(() => 'SUCCEEDED'));
  for (const cid of ids) expect((await h.getCommand(cid))?.status).toBe('SUCCESS');
  expect(maxRunning).toBe(2);
  expect(startOrder.slice(0, 10)).toEqual(first);
  expect(new Set(startOrder)).toEqual(new Set(ids));
  // One FFmpeg Command Started and one terminal event per command.
  const events = h.events.filter((e) => ids.includes((e.detail as { command_id: string }).command_id));
  expect(events.filter((e) => e['detail-type'] === EVENT_DETAIL_TYPE.STARTED)).toHaveLength(20);
  expect(events.filter((e) => e['detail-type'] === EVENT_DETAIL_TYPE.SUCCEEDED)).toHaveLength(20);
}, 120_000);
