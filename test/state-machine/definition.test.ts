/**
 * Every path of the REAL synthesized command state machine (FfaasStack's DefinitionString,
 * rendered to ASL), executed by aws-local-stepfunctions with local mode's Task actions:
 * DynamoDB updates against real dynalite, RunTask → a fake worker process that answers the task
 * token through the local Step Functions endpoint with the real SDK, PutEvents → the local bus.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  StartExecutionCommand,
  StopExecutionCommand,
  DescribeExecutionCommand,
} from '@aws-sdk/client-sfn';
import { LOCAL_NAMES } from '../../local/services.ts';
import { localSweepPorts, startLocalSweeper } from '../../local/sweeper.ts';
import { EVENT_DETAIL_TYPE, EVENT_SOURCE, MAX_ATTEMPTS, STATE } from '../../core/constants.ts';
import { mintTaskToken, prepareForLocalRun, taskStates } from '../../local/prepare.ts';
import { renderedDefinition, startHarness, type Harness } from './harness.ts';

const id = (mode: string) => `${mode}--${crypto.randomUUID()}`;

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ heartbeatTimeoutSeconds: 2 });
});
afterAll(async () => {
  await h?.stop();
});

const allEventsFor = (commandId: string) =>
  h.events.filter((e) => (e.detail as { command_id: string }).command_id === commandId);
/** The terminal events (the Started event of QUEUED → PROCESSING is checked on its own). */
const eventsFor = (commandId: string) =>
  allEventsFor(commandId).filter((e) => e['detail-type'] !== EVENT_DETAIL_TYPE.STARTED);

describe('rendered definition', () => {
  it('is plain ASL with local names and every Task bound to a local action', async () => {
    const asl = (await renderedDefinition()) as any;
    const text = JSON.stringify(asl);
    expect(text).not.toMatch(/"Ref"|Fn::/);
    expect(asl.StartAt).toBe(STATE.UseAccountSlots);
    expect(asl.States[STATE.MarkProcessing].Parameters.TableName).toBe('ffaas-commands');
    const resources = taskStates(asl).map((t) => t.resource);
    expect(resources).toContain('arn:aws:states:::ecs:runTask.waitForTaskToken');
    expect(resources).toContain('arn:aws:states:::dynamodb:updateItem');
    expect(resources).toContain('arn:aws:states:::events:putEvents');
  });

  it('moves timeouts into hidden Parameters the local actions enforce', async () => {
    const prepared = prepareForLocalRun(await renderedDefinition()) as any;
    const run = prepared.States[STATE.RunOnFargate];
    expect(run.TimeoutSecondsPath).toBeUndefined();
    expect(run.HeartbeatSeconds).toBeUndefined();
    expect(run.Parameters['__ffaas_timeout_seconds.$']).toBe('$.task_timeout_seconds');
    expect(run.Parameters.__ffaas_heartbeat_seconds).toBeGreaterThan(0);
  });
});

describe('executions', () => {
  it('success: QUEUED → PROCESSING → SUCCESS with timings, outputs and one SUCCEEDED event', async () => {
    const cid = id('success');
    await h.putCommand(cid);
    const exec = await h.run(cid);
    expect(exec.status).toBe('SUCCEEDED');
    const item = await h.getCommand(cid);
    expect(item).toMatchObject({ status: 'SUCCESS', ffmpeg_command_run_seconds: 1.25 });
    expect(item?.pending).toBeUndefined();
    expect(Date.parse(item!.started_at)).toBeGreaterThan(0);
    expect(Date.parse(item!.finished_at)).toBeGreaterThanOrEqual(Date.parse(item!.started_at));
    expect(JSON.parse(item!.output_files_json).out_video).toMatchObject({ file_id: 'f-1', filename: 'out.mp4' });

    const events = eventsFor(cid);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ source: EVENT_SOURCE, 'detail-type': EVENT_DETAIL_TYPE.SUCCEEDED });
    expect(events[0].detail).toMatchObject({
      command_id: cid,
      account_id: 'acct-test',
      status: 'SUCCESS',
      finished_at: item!.finished_at,
      ffmpeg_command_run_seconds: 1.25,
      output_files: { out_video: { file_id: 'f-1' } },
    });
    const all = allEventsFor(cid);
    expect(all.map((e) => e['detail-type'])).toEqual([EVENT_DETAIL_TYPE.STARTED, EVENT_DETAIL_TYPE.SUCCEEDED]);
    expect(all[0]).toMatchObject({ source: EVENT_SOURCE });
    expect(all[0].detail).toEqual({
      command_id: cid,
      account_id: 'acct-test',
      status: 'PROCESSING',
      started_at: item!.started_at,
      compute: 'cpu',
    });
    const onDisk = (await h.eventsFile()).filter((e) => (e.detail as { command_id: string }).command_id === cid);
    expect(onDisk).toHaveLength(2);
  });

  it('worker reports FFMPEG_FAILED → FAILED with error_status, message and a FAILED event', async () => {
    const cid = id('fail_FFMPEG_FAILED');
    await h.putCommand(cid);
    await h.run(cid);
    const item = await h.getCommand(cid);
    expect(item).toMatchObject({
      status: 'FAILED',
      error_status: 'FFMPEG_FAILED',
      error_message: 'fake failure: FFMPEG_FAILED',
    });
    expect(item?.finished_at).toBeTruthy();
    const events = eventsFor(cid);
    expect(events).toHaveLength(1);
    expect(events[0]['detail-type']).toBe(EVENT_DETAIL_TYPE.FAILED);
    expect(events[0].detail).toMatchObject({
      status: 'FAILED',
      error_status: 'FFMPEG_FAILED',
      error_message: 'fake failure: FFMPEG_FAILED',
    });
  });

  it('download failure → INPUT_DOWNLOAD_FAILED', async () => {
    const cid = id('fail_INPUT_DOWNLOAD_FAILED');
    await h.putCommand(cid);
    await h.run(cid);
    expect(await h.getCommand(cid)).toMatchObject({ status: 'FAILED', error_status: 'INPUT_DOWNLOAD_FAILED' });
  });

  it('an error name the definition does not know → INTERNAL_ERROR', async () => {
    const cid = id('fail_SomethingOdd');
    await h.putCommand(cid);
    await h.run(cid);
    const item = await h.getCommand(cid);
    expect(item).toMatchObject({ status: 'FAILED', error_status: 'INTERNAL_ERROR' });
    expect(item?.error_message).toContain('SomethingOdd');
  });

  it('past task_timeout_seconds (TimeoutSecondsPath) → WORKER_LOST (States.Timeout), worker killed', async () => {
    const cid = id('slow');
    await h.putCommand(cid);
    const t0 = Date.now();
    await h.run(cid, { task_timeout_seconds: 1 });
    expect(Date.now() - t0).toBeLessThan(2000);
    const item = await h.getCommand(cid);
    expect(item).toMatchObject({ status: 'FAILED', error_status: 'WORKER_LOST' });
    expect(item?.error_message).toContain('States.Timeout');
    await expect.poll(() => h.runner.stats().workers, { timeout: 5000 }).toBe(0);
  });

  it('a worker that never reports or heartbeats → started again, then WORKER_LOST after MAX_ATTEMPTS heartbeat timeouts', async () => {
    const cid = id('hang');
    await h.putCommand(cid);
    const t0 = Date.now();
    await h.run(cid);
    const elapsed = Date.now() - t0;
    // 3 starts × 2 s heartbeat timeout + the re-run waits (2 s, 4 s).
    expect(elapsed).toBeGreaterThanOrEqual(3 * 1900 + 6000);
    expect(elapsed).toBeLessThan(20_000);
    const item = await h.getCommand(cid);
    expect(item).toMatchObject({ status: 'FAILED', error_status: 'WORKER_LOST', attempts: MAX_ATTEMPTS });
    expect(item?.error_message).toContain('States.HeartbeatTimeout');
    expect(item?.error_message).toContain(`after up to ${MAX_ATTEMPTS} attempts`);
    await expect.poll(() => h.runner.stats().workers, { timeout: 5000 }).toBe(0);
  });

  it('a worker that dies without reporting → started again at once, WORKER_LOST after MAX_ATTEMPTS', async () => {
    const cid = id('exit');
    await h.putCommand(cid);
    const t0 = Date.now();
    await h.run(cid);
    // Each death is seen when the process exits (not after a heartbeat timeout); the re-run
    // waits (2 s, 4 s) and three process starts remain.
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(await h.getCommand(cid)).toMatchObject({ status: 'FAILED', error_status: 'WORKER_LOST' });
    expect(eventsFor(cid)).toHaveLength(1);
  });

  it('a worker that dies on its first attempt is started again and the command succeeds (attempts 2)', async () => {
    const cid = id('flaky');
    await h.putCommand(cid);
    const exec = await h.run(cid);
    expect(exec.status).toBe('SUCCEEDED');
    const item = await h.getCommand(cid);
    expect(item).toMatchObject({ status: 'SUCCESS', attempts: 2 });
    expect(JSON.parse(item!.output_files_json).out_video).toMatchObject({ file_id: 'f-1' });
    expect(eventsFor(cid).map((e) => e['detail-type'])).toEqual([EVENT_DETAIL_TYPE.SUCCEEDED]);
  });

  it('an execution started with `resume` for a PROCESSING command runs it again (ResumeProcessing)', async () => {
    const cid = id('success');
    await h.putCommand(cid, { status: 'PROCESSING', pending: undefined, started_at: '2020-01-01T00:00:00.000Z' });
    const exec = await h.run(cid, { resume: true });
    expect(exec.status).toBe('SUCCEEDED');
    const item = await h.getCommand(cid);
    expect(item).toMatchObject({ status: 'SUCCESS', started_at: '2020-01-01T00:00:00.000Z' });
    expect(Date.parse(item!.resumed_at)).toBeGreaterThan(Date.parse('2020-01-02'));
  });

  it.each(['SUCCESS', 'FAILED', 'PROCESSING'])(
    'MarkProcessing on a %s command → AlreadyFinished, nothing changes',
    async (status) => {
      const cid = id('success');
      await h.putCommand(cid, {
        status,
        pending: undefined,
        finished_at: status === 'PROCESSING' ? undefined : '2020-01-01T00:00:00.000Z',
      });
      const before = await h.getCommand(cid);
      const exec = await h.run(cid);
      expect(exec.status).toBe('SUCCEEDED');
      expect(await h.getCommand(cid)).toEqual(before);
      expect(eventsFor(cid)).toHaveLength(0);
    },
  );

  it('a missing command (no item) ends without creating one', async () => {
    const cid = id('success');
    await h.run(cid);
    expect(await h.getCommand(cid)).toBeUndefined();
  });
});

describe('sweeper (local mode)', () => {
  it('an execution aborted while its worker runs → the command ends FAILED with a clear error and one FAILED event', async () => {
    const stop = startLocalSweeper({
      runner: h.runner,
      ports: localSweepPorts({ dynamodb: h.services.dynamodb, table: LOCAL_NAMES.tables.commands, bus: h.bus }),
      log: () => undefined,
    });
    try {
      const cid = id('slow');
      await h.putCommand(cid);
      const { executionArn } = await h.sfn.send(
        new StartExecutionCommand({
          stateMachineArn: h.runner.stateMachineArn,
          name: cid,
          input: JSON.stringify(h.executionInput(cid)),
        }),
      );
      await expect.poll(async () => (await h.getCommand(cid))?.status, { timeout: 10_000 }).toBe('PROCESSING');
      await h.sfn.send(new StopExecutionCommand({ executionArn, error: 'operator', cause: 'stopped by hand' }));
      await expect.poll(async () => (await h.getCommand(cid))?.status, { timeout: 10_000 }).toBe('FAILED');
      const item = await h.getCommand(cid);
      expect(item).toMatchObject({ error_status: 'INTERNAL_ERROR' });
      expect(item?.error_message).toMatch(/stopped before the command finished \(operator: stopped by hand\)/);
      expect(item?.pending).toBeUndefined();
      await expect.poll(() => eventsFor(cid).length).toBe(1);
      expect(eventsFor(cid)[0]!.detail).toMatchObject({ status: 'FAILED', error_status: 'INTERNAL_ERROR' });
    } finally {
      stop();
    }
  });
});

describe('Step Functions API over the local endpoint', () => {
  it('StartExecution is idempotent by name; another input is ExecutionAlreadyExists', async () => {
    const cid = id('hang');
    await h.putCommand(cid);
    const input = JSON.stringify(h.executionInput(cid));
    const arn = h.runner.stateMachineArn;
    const a = await h.sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: cid, input }));
    const b = await h.sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: cid, input }));
    expect(b.executionArn).toBe(a.executionArn);
    await expect(
      h.sfn.send(
        new StartExecutionCommand({
          stateMachineArn: arn,
          name: cid,
          input: JSON.stringify(h.executionInput(cid, { compute: 'gpu' })),
        }),
      ),
    ).rejects.toMatchObject({ name: 'ExecutionAlreadyExists' });
    const running = await h.sfn.send(new DescribeExecutionCommand({ executionArn: a.executionArn }));
    expect(running.status).toBe('RUNNING');
    await h.runner.waitForExecution(cid);
    const done = await h.sfn.send(new DescribeExecutionCommand({ executionArn: a.executionArn }));
    expect(done.status).toBe('SUCCEEDED');
    await expect(
      h.sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: cid, input })),
    ).rejects.toMatchObject({
      name: 'ExecutionAlreadyExists',
    });
    await expect(
      h.sfn.send(new StartExecutionCommand({ stateMachineArn: `${arn}-other`, name: cid, input })),
    ).rejects.toMatchObject({
      name: 'StateMachineDoesNotExist',
    });
  });

  it('unknown tokens are TaskDoesNotExist; a token whose task ended is TaskTimedOut', async () => {
    await expect(
      h.sfn.send(new SendTaskSuccessCommand({ taskToken: mintTaskToken(), output: '{}' })),
    ).rejects.toMatchObject({
      name: 'TaskDoesNotExist',
    });
    // Catch the token of a worker that will time out, then answer late.
    const cid = id('slow');
    await h.putCommand(cid);
    const seen = new Promise<string>((resolve) => {
      const orig = (h.runner as any).runTask.bind(h.runner);
      (h.runner as any).runTask = (params: any, ctx: any) => {
        const env = params.Overrides.ContainerOverrides[0].Environment as { Name: string; Value: string }[];
        resolve(env.find((e) => e.Name === 'FFAAS_TASK_TOKEN')!.Value);
        return orig(params, ctx);
      };
    });
    const done = h.run(cid, { task_timeout_seconds: 1 });
    const token = await seen;
    await h.sfn.send(new SendTaskHeartbeatCommand({ taskToken: token }));
    await done;
    delete (h.runner as any).runTask;
    await expect(h.sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' }))).rejects.toMatchObject({
      name: 'TaskTimedOut',
    });
    await expect(h.sfn.send(new SendTaskHeartbeatCommand({ taskToken: token }))).rejects.toMatchObject({
      name: 'TaskTimedOut',
    });
  });
});
