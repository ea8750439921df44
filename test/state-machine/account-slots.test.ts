/**
 * Per-account concurrency on AWS (docs/CONTROL.md): the REAL synthesized state machine's
 * UseAccountSlots / AcquireSlot / ReleaseSlot* states, run by local mode's runner on dynalite
 * with the slot states turned on (local mode itself skips them: its fair queue caps accounts)
 * and the fair queue set wide open, so only the slots cap. The one change to the definition: the
 * slot wait interval is 1 s instead of 10 s (and the longest wait a few seconds where a test
 * needs the TIMEOUT), so the tests run in seconds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DescribeExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { CONTROL_DEFAULTS } from '../../core/control/settings.ts';
import { STATE } from '../../core/constants.ts';
import { documentClientFor } from '../../store/clients.ts';
import { CommandRepository } from '../../store/command-repository.ts';
import { LOCAL_NAMES } from '../../local/services.ts';
import { localSweepPorts, startLocalSweeper } from '../../local/sweeper.ts';
import { ACCOUNT, renderedDefinition, startHarness, type Harness } from './harness.ts';

const MAX = CONTROL_DEFAULTS.accountMaxRunning;
const id = (mode: string) => `${mode}--${crypto.randomUUID()}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The rendered definition with a 1 s slot wait (and at most `maxAttempts` tries when given). */
async function fastSlots(maxAttempts?: number): Promise<unknown> {
  const asl = structuredClone(await renderedDefinition()) as any;
  const retry = asl.States[STATE.AcquireSlot].Retry.find((r: any) =>
    r.ErrorEquals.includes('DynamoDB.ConditionalCheckFailedException'),
  );
  retry.IntervalSeconds = 1;
  if (maxAttempts !== undefined) retry.MaxAttempts = maxAttempts;
  return asl;
}

let h: Harness;
let commands: CommandRepository;
const start = (commandId: string, account = ACCOUNT) =>
  h.runner.StartExecution({
    stateMachineArn: h.runner.stateMachineArn,
    name: commandId,
    input: JSON.stringify({ ...h.executionInput(commandId), account_id: account }),
  });
const statusOf = async (commandId: string, account = ACCOUNT) => (await commands.get(account, commandId))?.status;

describe('per-account slots (slot states on)', () => {
  beforeAll(async () => {
    h = await startHarness({
      definition: await fastSlots(),
      accountSlots: true,
      maxConcurrency: 12,
      maxRunningPerAccount: 12,
      heartbeatTimeoutSeconds: 5,
    });
    commands = new CommandRepository(documentClientFor(h.services.dynamodb), LOCAL_NAMES.tables.commands);
  });
  afterAll(async () => {
    await h?.stop();
  });

  it(`at most ${MAX} of one account run at once, the rest wait QUEUED and all finish; another account is not held up`, async () => {
    const mine = Array.from({ length: MAX + 3 }, () => id('sleepy'));
    for (const c of mine) await h.putCommand(c);
    const other = id('success');
    await h.putCommand(other, { account_id: 'acct-other' });
    for (const c of mine) start(c);
    await sleep(300);
    start(other, 'acct-other');

    let most = 0;
    let sawWaiting = false;
    let otherDoneWhileWaiting = false;
    const deadline = Date.now() + 60_000;
    for (;;) {
      const statuses = await Promise.all(mine.map((c) => statusOf(c)));
      const processing = statuses.filter((s) => s === 'PROCESSING').length;
      const queued = statuses.filter((s) => s === 'QUEUED').length;
      most = Math.max(most, processing);
      if (queued > 0 && processing > 0) sawWaiting = true;
      if (queued > 0 && (await statusOf(other, 'acct-other')) === 'SUCCESS') otherDoneWhileWaiting = true;
      expect((await commands.slotHolders(ACCOUNT)).length).toBeLessThanOrEqual(MAX);
      if (statuses.every((s) => s === 'SUCCESS')) break;
      expect(Date.now()).toBeLessThan(deadline);
      await sleep(100);
    }
    expect(most).toBeLessThanOrEqual(MAX);
    expect(most).toBe(MAX);
    expect(sawWaiting).toBe(true);
    // The other account's command ran beside the first account's backlog.
    expect(otherDoneWhileWaiting).toBe(true);
    for (const c of mine) expect((await h.runner.waitForExecution(c)).status).toBe('SUCCEEDED');
    // Every way out gave its slot back.
    expect(await commands.slotHolders(ACCOUNT)).toEqual([]);
    expect(await commands.slotHolders('acct-other')).toEqual([]);
  });

  it('a failed command and a late (already finished) execution give their slots back', async () => {
    const failed = id('fail_FFMPEG_FAILED');
    await h.putCommand(failed);
    expect((await h.run(failed)).status).toBe('SUCCEEDED');
    expect(await statusOf(failed)).toBe('FAILED');

    const finished = id('success');
    await h.putCommand(finished, { status: 'SUCCESS' });
    const e = await h.run(finished);
    expect(e.status).toBe('SUCCEEDED');
    expect(await commands.slotHolders(ACCOUNT)).toEqual([]);
  });

  it('an execution stopped while it held a slot: the sweeper gives the slot back', async () => {
    const stopSweeper = startLocalSweeper({
      runner: h.runner,
      ports: localSweepPorts({ dynamodb: h.services.dynamodb, table: LOCAL_NAMES.tables.commands, bus: h.bus }),
      log: () => undefined,
    });
    try {
      const c = id('hang');
      await h.putCommand(c);
      const { executionArn } = start(c);
      const until = Date.now() + 10_000;
      while ((await statusOf(c)) !== 'PROCESSING') {
        expect(Date.now()).toBeLessThan(until);
        await sleep(50);
      }
      expect(await commands.slotHolders(ACCOUNT)).toEqual([c]);
      await h.sfn.send(new StopExecutionCommand({ executionArn, error: 'test', cause: 'stopped by the test' }));
      expect((await h.runner.waitForExecution(c)).status).toBe('ABORTED');
      while ((await commands.slotHolders(ACCOUNT)).length > 0) {
        expect(Date.now()).toBeLessThan(until);
        await sleep(50);
      }
      expect(await statusOf(c)).toBe('FAILED');
    } finally {
      stopSweeper();
    }
  });

  it('a command whose account is at its cap waits QUEUED and, stopped (cancelled) there, takes no slot', async () => {
    const holders = Array.from({ length: MAX }, () => crypto.randomUUID());
    for (const x of holders) expect(await commands.acquireSlot(ACCOUNT, x, MAX)).toBe(true);
    expect(await commands.acquireSlot(ACCOUNT, crypto.randomUUID(), MAX)).toBe(false);
    const c = id('success');
    await h.putCommand(c);
    const { executionArn } = start(c);
    await sleep(2500);
    expect(await statusOf(c)).toBe('QUEUED');
    const d = await h.sfn.send(new DescribeExecutionCommand({ executionArn }));
    expect(d.status).toBe('RUNNING');
    await h.sfn.send(new StopExecutionCommand({ executionArn }));
    expect((await h.runner.waitForExecution(c)).status).toBe('ABORTED');
    expect(await commands.slotHolders(ACCOUNT)).toEqual([...holders].sort());
    // A slot freed: the next command starts.
    expect(await commands.releaseSlot(ACCOUNT, holders[0]!)).toBe(true);
    expect(await commands.releaseSlot(ACCOUNT, holders[0]!)).toBe(false);
    const next = id('success');
    await h.putCommand(next);
    expect((await h.run(next)).status).toBe('SUCCEEDED');
    expect(await statusOf(next)).toBe('SUCCESS');
    expect(await commands.slotHolders(ACCOUNT)).toEqual([holders[1]!]);
    await commands.releaseSlot(ACCOUNT, holders[1]!);
  });
});

describe('per-account slots: the longest wait', () => {
  beforeAll(async () => {
    h = await startHarness({ definition: await fastSlots(2), accountSlots: true, maxRunningPerAccount: 12 });
    commands = new CommandRepository(documentClientFor(h.services.dynamodb), LOCAL_NAMES.tables.commands);
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('a command that never gets a slot ends FAILED / TIMEOUT naming the cap, and holds nothing', async () => {
    const holders = Array.from({ length: MAX }, () => crypto.randomUUID());
    for (const x of holders) await commands.acquireSlot(ACCOUNT, x, MAX);
    const c = id('success');
    await h.putCommand(c);
    expect((await h.run(c)).status).toBe('SUCCEEDED');
    const item = await commands.get(ACCOUNT, c);
    expect(item?.status).toBe('FAILED');
    expect(item?.error_status).toBe('TIMEOUT');
    expect(item?.error_message).toMatch(new RegExp(`${MAX} running slots`));
    expect(await commands.slotHolders(ACCOUNT)).toEqual([...holders].sort());
  });
});

describe('local mode skips the slots', () => {
  beforeAll(async () => {
    h = await startHarness({ maxRunningPerAccount: 12 });
    commands = new CommandRepository(documentClientFor(h.services.dynamodb), LOCAL_NAMES.tables.commands);
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('runs with account_slots false: no slots item is written, even when the account is over the AWS cap', async () => {
    const cs = Array.from({ length: MAX + 1 }, () => id('sleepy'));
    for (const c of cs) await h.putCommand(c);
    const runs = cs.map((c) => h.run(c));
    let most = 0;
    while (most <= MAX) {
      const statuses = await Promise.all(cs.map((c) => statusOf(c)));
      most = Math.max(most, statuses.filter((s) => s === 'PROCESSING').length);
      if (statuses.every((s) => s === 'SUCCESS')) break;
      await sleep(50);
    }
    await Promise.all(runs);
    // The fair queue (12 here) was the cap, not the slots.
    expect(most).toBeGreaterThan(MAX);
    const raw = await documentClientFor(h.services.dynamodb).send(
      new (await import('@aws-sdk/lib-dynamodb')).GetCommand({
        TableName: LOCAL_NAMES.tables.commands,
        Key: { account_id: ACCOUNT, command_id: '#slots' },
      }),
    );
    expect(raw.Item).toBeUndefined();
  });
});
