/**
 * run-ffmpeg-command, run-chained-ffmpeg-commands, run-multiple-ffmpeg-commands with the SDK
 * clients mocked. The URL check is mocked (it resolves names); the command parser is the real
 * one, wrapped in a spy so the tests can see what the handler passed it.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import 'aws-sdk-client-mock-vitest/extend';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand, SFNServiceException } from '@aws-sdk/client-sfn';
import { LIMITS, PENDING_MARK, TASK_TIMEOUT_ALLOWANCE_SECONDS } from '../../core/constants.ts';
import type { CommandItem, ExecutionInput } from '../../core/types.ts';
import { apiEvent, call, setEnv, STATE_MACHINE_ARN } from './support.ts';

const net = vi.hoisted(() => ({ assertPublicUrl: vi.fn() }));
vi.mock('../../core/net/policy.ts', () => net);

vi.mock('../../core/command/index.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../core/command/index.ts')>();
  return { ...real, parseFfmpegCommand: vi.fn(real.parseFfmpegCommand) };
});
import { parseFfmpegCommand } from '../../core/command/index.ts';
const parser = { parseFfmpegCommand: vi.mocked(parseFfmpegCommand) };

import { handler as runOne } from '../../lambdas/run-ffmpeg-command/index.ts';
import { handler as runChained } from '../../lambdas/run-chained-ffmpeg-commands/index.ts';
import { handler as runMultiple } from '../../lambdas/run-multiple-ffmpeg-commands/index.ts';

const ddb = mockClient(DynamoDBDocumentClient);
const sfn = mockClient(SFNClient);

const body = {
  input_files: { in_video: 'https://example.com/a.mp4' },
  output_files: { out_video: 'result.webm' },
  ffmpeg_command: 'ffmpeg -i {{in_video}} -c:v libvpx-vp9 {{out_video}}',
};

function putItems(): CommandItem[] {
  return ddb.commandCalls(PutCommand).map((c) => c.args[0].input.Item as CommandItem);
}
function startInputs(): { name?: string; input: ExecutionInput; stateMachineArn?: string }[] {
  return sfn.commandCalls(StartExecutionCommand).map((c) => ({
    name: c.args[0].input.name,
    stateMachineArn: c.args[0].input.stateMachineArn,
    input: JSON.parse(c.args[0].input.input ?? '{}') as ExecutionInput,
  }));
}

beforeEach(() => {
  setEnv();
  ddb.reset();
  sfn.reset();
  ddb.on(PutCommand).resolves({});
  // Admission's queued count (lambdas/common/admission.ts): an empty queue.
  ddb.on(QueryCommand).resolves({ Count: 0 });
  sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:exec', startDate: new Date() });
  net.assertPublicUrl.mockReset().mockResolvedValue({ ok: true });
  parser.parseFfmpegCommand.mockClear();
});
afterEach(() => vi.restoreAllMocks());

describe('POST /run-ffmpeg-command', () => {
  it('records the command QUEUED with pending, starts its execution by name, answers {command_id}', async () => {
    const res = await call(
      runOne,
      apiEvent({ body: { ...body, metadata: { p: 1 }, vcpu_count: 4, max_command_run_seconds: 60 } }),
    );
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(res.body).toEqual({ command_id: expect.stringMatching(/^[0-9a-f-]{36}$/), vcpu_count: 4 });
    const id = res.body.command_id;

    expect(ddb).toHaveReceivedCommandTimes(PutCommand, 1);
    const put = ddb.commandCalls(PutCommand)[0]!.args[0].input;
    expect(put.TableName).toBe('commands');
    expect(put.ConditionExpression).toMatch(/attribute_not_exists/);
    expect(putItems()[0]).toMatchObject({
      account_id: 'acc-1',
      command_id: id,
      status: 'QUEUED',
      command_type: 'FFMPEG_COMMAND',
      pending: PENDING_MARK,
      metadata: { p: 1 },
      vcpu_count: 4,
      max_command_run_seconds: 60,
      compute: 'cpu',
      original_request: body,
    });

    expect(startInputs()).toEqual([
      {
        name: id,
        stateMachineArn: STATE_MACHINE_ARN,
        input: {
          account_id: 'acc-1',
          command_id: id,
          compute: 'cpu',
          task_cpu: '4096',
          task_memory: '8192',
          task_ephemeral_storage_gib: 21,
          task_workspace_max_bytes: String(15 * 1024 ** 3),
          task_timeout_seconds: 60 + TASK_TIMEOUT_ALLOWANCE_SECONDS,
        },
      },
    ]);
    expect(parser.parseFfmpegCommand).toHaveBeenCalledWith({
      commands: [body.ffmpeg_command],
      inputFiles: body.input_files,
      outputFiles: body.output_files,
      compute: 'auto',
      gpuAvailable: false,
    });
  });

  it('StartExecution failing after retries still answers 200; the item stays recorded with pending for the reconciler', async () => {
    sfn
      .on(StartExecutionCommand)
      .rejects(
        new SFNServiceException({ name: 'ServiceUnavailable', $fault: 'server', $metadata: {}, message: 'down' }),
      );
    const res = await call(runOne, apiEvent({ body }));
    expect(res.status).toBe(200);
    expect(putItems()).toHaveLength(1);
    expect(putItems()[0]).toMatchObject({ command_id: res.body.command_id, status: 'QUEUED', pending: PENDING_MARK });
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
  });

  it('ExecutionAlreadyExists counts as started', async () => {
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ $metadata: {}, message: 'exists' }));
    expect((await call(runOne, apiEvent({ body }))).status).toBe(200);
  });

  it('400 INVALID_REQUEST: body not JSON', async () => {
    const res = await call(runOne, apiEvent({ rawBody: '{"input_files":' }));
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: { code: 'INVALID_REQUEST', message: 'request body is not valid JSON' },
      message: 'request body is not valid JSON',
      detail: 'request body is not valid JSON',
    });
    expect(ddb).not.toHaveReceivedCommand(PutCommand);
  });

  it('400 INVALID_REQUEST: no body, missing fields, bad aliases (details with paths)', async () => {
    expect((await call(runOne, apiEvent({}))).body.error.code).toBe('INVALID_REQUEST');
    const res = await call(
      runOne,
      apiEvent({ body: { input_files: { video: 'https://e.com/a' }, output_files: { out_a: 'a.mp4' } } }),
    );
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('INVALID_REQUEST');
    expect(res.body.error.details.map((d: { path: unknown[] }) => d.path.join('.')).sort()).toEqual([
      'ffmpeg_command',
      'input_files.video',
    ]);
    expect(res.body.message).toBe(res.body.error.message);
    expect(res.body.detail.map((d: { loc: unknown[] }) => d.loc.join('.')).sort()).toEqual([
      'body.ffmpeg_command',
      'body.input_files.video',
    ]);
    expect(ddb).not.toHaveReceivedCommand(PutCommand);
  });

  it('400 INVALID_REQUEST: a forbidden command, named by the parser; nothing recorded', async () => {
    const res = await call(
      runOne,
      apiEvent({ body: { ...body, ffmpeg_command: 'ffmpeg -dump_attachment:t x -i {{in_video}} {{out_video}}' } }),
    );
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({
      code: 'INVALID_REQUEST',
      details: [{ path: ['ffmpeg_command'], message: expect.stringContaining('-dump_attachment') }],
    });
    expect(ddb).not.toHaveReceivedCommand(PutCommand);
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  it('422 VALIDATION_ERROR: metadata, timeout, vcpu, URL scheme, with FastAPI detail', async () => {
    const res = await call(
      runOne,
      apiEvent({
        body: {
          ...body,
          metadata: { a: { nested: true } },
          max_command_run_seconds: 4000,
          vcpu_count: 3,
          input_files: { in_video: 'ftp://e.com/a' },
        },
      }),
    );
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('VALIDATION_ERROR');
    const locs = res.body.detail.map((d: { loc: unknown[] }) => d.loc.join('.')).sort();
    expect(locs).toEqual([
      'body.input_files.in_video',
      'body.max_command_run_seconds',
      'body.metadata.a',
      'body.vcpu_count',
    ]);
    expect(ddb).not.toHaveReceivedCommand(PutCommand);
  });

  it('422 VALIDATION_ERROR: an input or webhook URL to a private address; nothing recorded', async () => {
    net.assertPublicUrl.mockImplementation(async (url: string) =>
      url.includes('169.254') || url.includes('10.0.0.1') ? { ok: false, reason: 'address is private' } : { ok: true },
    );
    const res = await call(
      runOne,
      apiEvent({
        body: {
          ...body,
          input_files: { in_video: 'http://169.254.169.254/latest/meta-data' },
          webhook_url: 'http://10.0.0.1/hook',
        },
      }),
    );
    expect(res.status).toBe(422);
    expect(res.body.error.details.map((d: { path: unknown[] }) => d.path.join('.'))).toEqual([
      'input_files.in_video',
      'webhook_url',
    ]);
    expect(res.body.detail[0].loc).toEqual(['body', 'input_files', 'in_video']);
    expect(ddb).not.toHaveReceivedCommand(PutCommand);
    expect(net.assertPublicUrl).toHaveBeenCalledWith('http://169.254.169.254/latest/meta-data', {
      allowPrivate: false,
    });
  });

  it('FFAAS_ALLOW_PRIVATE_URLS=1 is passed to the URL check; FFAAS_GPU_ENABLED to the parser (NVENC routes to gpu)', async () => {
    setEnv({ FFAAS_ALLOW_PRIVATE_URLS: '1', FFAAS_GPU_ENABLED: 'true' });
    const res = await call(
      runOne,
      apiEvent({ body: { ...body, ffmpeg_command: 'ffmpeg -i {{in_video}} -c:v h264_nvenc {{out_video}}' } }),
    );
    expect(res.status).toBe(200);
    expect(net.assertPublicUrl).toHaveBeenCalledWith(body.input_files.in_video, { allowPrivate: true });
    expect(parser.parseFfmpegCommand).toHaveBeenCalledWith(
      expect.objectContaining({ gpuAvailable: true, compute: 'auto' }),
    );
    expect(putItems()[0]!.compute).toBe('gpu');
    expect(startInputs()[0]!.input.compute).toBe('gpu');
  });

  it('422 VALIDATION_ERROR when GPU is asked where none is configured', async () => {
    for (const patch of [
      { compute: 'gpu' },
      { ffmpeg_command: 'ffmpeg -i {{in_video}} -c:v h264_nvenc {{out_video}}' },
    ]) {
      const res = await call(runOne, apiEvent({ body: { ...body, ...patch } }));
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe('VALIDATION_ERROR');
      expect(res.body.detail).toEqual([
        { loc: ['body', 'compute'], msg: expect.stringContaining('no GPU'), type: 'gpu-unavailable' },
      ]);
    }
    expect(ddb).not.toHaveReceivedCommand(PutCommand);
  });

  it("the stored plan is the parser's: argv with workspace names and forced options", async () => {
    await call(runOne, apiEvent({ body }));
    const plan = putItems()[0]!.plan;
    expect(plan.inputs).toEqual([{ alias: 'in_video', url: body.input_files.in_video, local_name: 'in_video.mp4' }]);
    expect(plan.outputs).toEqual([{ alias: 'out_video', local_name: 'result.webm' }]);
    expect(plan.commands).toHaveLength(1);
    expect(plan.commands[0]).toEqual(
      expect.arrayContaining(['-i', 'in_video.mp4', '-c:v', 'libvpx-vp9', 'result.webm']),
    );
    expect(plan.commands[0]).not.toContain('ffmpeg');
  });

  it('413 PAYLOAD_TOO_LARGE over 256 KiB', async () => {
    const res = await call(runOne, apiEvent({ body: { ...body, metadata: { big: 'x'.repeat(LIMITS.maxBodyBytes) } } }));
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('401 without an account in the authorizer context', async () => {
    const res = await call(runOne, apiEvent({ body, accountId: null }));
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('UNAUTHORIZED');
  });

  it('500 INTERNAL_ERROR when the write fails: no stack, no internals in the message', async () => {
    const boom = new Error('connect ECONNREFUSED 10.1.2.3:443 at /var/task/index.js:1');
    ddb.on(PutCommand).rejects(boom);
    const res = await call(runOne, apiEvent({ body }));
    expect(res.status).toBe(500);
    expect(res.body).toEqual({
      error: { code: 'INTERNAL_ERROR', message: 'internal error (request aws-req-1)' },
      message: 'internal error (request aws-req-1)',
      detail: 'internal error (request aws-req-1)',
    });
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  it('a duplicate id (conditional put refused) is a 500, never an overwrite', async () => {
    ddb.on(PutCommand).rejects(new ConditionalCheckFailedException({ $metadata: {}, message: 'exists' }));
    expect((await call(runOne, apiEvent({ body }))).status).toBe(500);
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });
});

describe('POST /run-chained-ffmpeg-commands', () => {
  const chained = {
    input_files: body.input_files,
    output_files: body.output_files,
    ffmpeg_commands: ['-i {{in_video}} mid.mp4', '-i mid.mp4 {{out_video}}'],
  };

  it('one CHAINED_COMMAND item and one execution', async () => {
    const res = await call(runChained, apiEvent({ body: chained }));
    expect(res.status).toBe(200);
    expect(putItems()).toHaveLength(1);
    expect(putItems()[0]).toMatchObject({
      command_type: 'CHAINED_COMMAND',
      original_request: chained,
      pending: PENDING_MARK,
    });
    expect(startInputs().map((s) => s.name)).toEqual([res.body.command_id]);
    expect(parser.parseFfmpegCommand).toHaveBeenCalledWith(
      expect.objectContaining({ commands: chained.ffmpeg_commands }),
    );
  });

  it('400 on a chained body without ffmpeg_commands; 422 over 10', async () => {
    expect((await call(runChained, apiEvent({ body }))).status).toBe(400);
    expect(
      (
        await call(
          runChained,
          apiEvent({ body: { ...chained, ffmpeg_commands: Array(11).fill('-i {{in_video}} {{out_video}}') } }),
        )
      ).status,
    ).toBe(422);
  });

  it('a violation in the second command points at it', async () => {
    const res = await call(
      runChained,
      apiEvent({
        body: { ...chained, ffmpeg_commands: [chained.ffmpeg_commands[0], '-i concat:mid.mp4 {{out_video}}'] },
      }),
    );
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].path).toEqual(['ffmpeg_commands', 1]);
  });
});

describe('POST /run-multiple-ffmpeg-commands', () => {
  it('one MULTIPLE_COMMAND item and one execution per command, ids in order', async () => {
    const second = { ...body, output_files: { out_video: 'b.mp4' }, metadata: { n: 2 } };
    const res = await call(runMultiple, apiEvent({ body: { commands: [body, second] } }));
    expect(res.status).toBe(200);
    expect(res.body.command_ids).toHaveLength(2);
    const items = putItems();
    expect(items.map((i) => i.command_id)).toEqual(res.body.command_ids);
    expect(items.every((i) => i.command_type === 'MULTIPLE_COMMAND' && i.pending === PENDING_MARK)).toBe(true);
    expect(items[1]!.metadata).toEqual({ n: 2 });
    expect(
      startInputs()
        .map((s) => s.name)
        .sort(),
    ).toEqual([...res.body.command_ids].sort());
  });

  it('validates all before recording any: a bad second command records nothing', async () => {
    const bad = { ...body, ffmpeg_command: 'ffmpeg -i {{in_video}} -filter_script /etc/passwd {{out_video}}' };
    const res = await call(runMultiple, apiEvent({ body: { commands: [body, bad] } }));
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].path).toEqual(['commands', 1, 'ffmpeg_command']);
    expect(ddb).not.toHaveReceivedCommand(PutCommand);
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  it('a private URL in any command: 422 naming it, nothing recorded', async () => {
    net.assertPublicUrl.mockImplementation(async (url: string) =>
      url.includes('127.0.0.1') ? { ok: false, reason: 'loopback' } : { ok: true },
    );
    const res = await call(
      runMultiple,
      apiEvent({ body: { commands: [body, { ...body, input_files: { in_video: 'http://127.0.0.1/a.mp4' } }] } }),
    );
    expect(res.status).toBe(422);
    expect(res.body.detail[0].loc).toEqual(['body', 'commands', 1, 'input_files', 'in_video']);
    expect(ddb).not.toHaveReceivedCommand(PutCommand);
  });

  it('one failing StartExecution does not fail the request', async () => {
    sfn
      .on(StartExecutionCommand)
      .rejectsOnce(new Error('throttled'))
      .resolves({ executionArn: 'a', startDate: new Date() });
    const res = await call(runMultiple, apiEvent({ body: { commands: [body, body] } }));
    expect(res.status).toBe(200);
    expect(putItems()).toHaveLength(2);
  });
});
