/** get-command, list-commands, health, validate with the SDK clients mocked. */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import 'aws-sdk-client-mock-vitest/extend';
import { mockClient } from 'aws-sdk-client-mock';
import { BatchGetCommand, DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { CommandItem, StoredOutput } from '../../core/types.ts';
import { encodeCursor } from '../../core/api/list.ts';
import { ACCOUNT, OTHER_ACCOUNT, TEST_URL_SECRET, apiEvent, call, setEnv } from './support.ts';
import { checkDownloadToken } from '../../core/api/download-url.ts';

// The URL check resolves names: mocked here (validate runs it, as submit does).
const net = vi.hoisted(() => ({
  assertPublicUrl: vi.fn(async (_url: string): Promise<{ ok: boolean; reason?: string }> => ({ ok: true })),
  describeHost: (u: string) => new URL(u).host,
}));
vi.mock('../../core/net/policy.ts', () => net);

vi.mock('../../core/command/index.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../core/command/index.ts')>();
  return { ...real, parseFfmpegCommand: vi.fn(real.parseFfmpegCommand) };
});
import { parseFfmpegCommand } from '../../core/command/index.ts';
const parser = { parseFfmpegCommand: vi.mocked(parseFfmpegCommand) };

import { handler as getCommand } from '../../lambdas/get-command/index.ts';
import { handler as listCommands } from '../../lambdas/list-commands/index.ts';
import { handler as health } from '../../lambdas/health/index.ts';
import { handler as validate } from '../../lambdas/validate/index.ts';

const ddb = mockClient(DynamoDBDocumentClient);
const ID = '6f1c2b7e-2a0d-4c3b-9f7e-1d2c3b4a5f60';

const stored = (name: string, extra: Partial<StoredOutput> = {}): StoredOutput => ({
  file_id: `f-${name}`,
  status: 'STORED',
  rendi_store_type: 'OUTPUT',
  is_deleted: false,
  filename: name,
  size_mbytes: 0.1,
  duration: 3,
  file_type: 'video',
  file_format: 'mp4',
  codec: 'h264',
  pixel_format: 'yuv420p',
  mime_type: 'video/mp4',
  width: 320,
  height: 240,
  frame_rate: 25,
  bitrate_video_kb: 300,
  bitrate_audio_kb: 128,
  s3_key: `outputs/${ACCOUNT}/${ID}/${name}`,
  ...extra,
});

function item(overrides: Partial<CommandItem> = {}): CommandItem {
  return {
    account_id: ACCOUNT,
    command_id: ID,
    status: 'SUCCESS',
    command_type: 'FFMPEG_COMMAND',
    created_at: '2026-01-01T00:00:00.000Z',
    started_at: '2026-01-01T00:00:01.000Z',
    finished_at: '2026-01-01T00:00:04.500Z',
    ffmpeg_command_run_seconds: 2,
    original_request: {
      input_files: { in_a: 'https://e.com/a.mp4' },
      output_files: { out_a: 'a.mp4', out_b: 'b.mp4' },
      ffmpeg_command: '-i {{in_a}} {{out_a}} {{out_b}}',
    },
    max_command_run_seconds: 900,
    compute: 'cpu',
    vcpu_count: 2,
    plan: { inputs: [], outputs: [], commands: [] },
    output_files_json: JSON.stringify({ out_a: stored('a.mp4'), out_b: stored('b.mp4', { is_deleted: true }) }),
    ...overrides,
  };
}

beforeEach(() => {
  setEnv();
  ddb.reset();
  parser.parseFfmpegCommand.mockClear();
});

describe('GET /commands/{command_id}', () => {
  /** The download URL's parts: /v/{id}/{token}/{name}, no query string, a token valid until. */
  const downloadUrl = (raw: string) => {
    const url = new URL(raw);
    expect(url.search).toBe('');
    const [, v, id, token, name] = url.pathname.split('/');
    expect(v).toBe('v');
    const check = checkDownloadToken(TEST_URL_SECRET, id!, token!, Math.floor(Date.now() / 1000));
    if (!check.ok) throw new Error(`token refused: ${check.reason}`);
    return { url, id, name, grant: check.grant };
  };

  it('the poll response, scoped by account, with a fresh download URL per stored output', async () => {
    ddb.on(GetCommand).resolves({ Item: item() });
    const res = await call(getCommand, apiEvent({ method: 'GET', pathParameters: { command_id: ID } }));
    expect(res.status).toBe(200);
    expect(ddb).toHaveReceivedCommandWith(GetCommand, {
      TableName: 'commands',
      Key: { account_id: ACCOUNT, command_id: ID },
    });
    expect(res.body).toMatchObject({
      command_id: ID,
      status: 'SUCCESS',
      total_processing_seconds: 4.5,
      progress: null,
      metadata: null,
    });
    const { id, name, grant } = downloadUrl(res.body.output_files.out_a.storage_url);
    expect([id, name]).toEqual([ID, 'a.mp4']);
    expect(grant).toMatchObject({ scope: 'c', accountId: ACCOUNT });
    expect(Math.abs(grant.expiresAt - (Math.floor(Date.now() / 1000) + 3600))).toBeLessThanOrEqual(2);
    expect(res.body.output_files.out_b.storage_url).toBeNull();
    expect(res.body.output_files.out_b.is_deleted).toBe(true);
    expect(JSON.stringify(res.body)).not.toContain('s3_key');
  });

  it('reads the webhook delivery only for a finished command (none is recorded before)', async () => {
    const delivery = {
      account_id: ACCOUNT,
      command_id: ID,
      webhook_id: 'w-1',
      event_type: 'FFmpeg Command Succeeded',
      target: 'command',
      url: 'https://hooks.example.com/x',
      state: 'DELIVERED',
      attempts: 1,
      created_at: '2026-01-01T00:00:05.000Z',
      next_attempt_at: null,
      last_status: 200,
      last_error: null,
      last_attempt_at: '2026-01-01T00:00:05.100Z',
    };
    ddb.on(GetCommand, { TableName: 'commands' }).resolves({ Item: item({ status: 'PROCESSING' }) });
    ddb.on(GetCommand, { TableName: 'deliveries' }).resolves({ Item: delivery });
    const running = await call(getCommand, apiEvent({ method: 'GET', pathParameters: { command_id: ID } }));
    expect(running.status).toBe(200);
    expect(running.body.webhooks).toEqual([]);
    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 1);

    ddb.on(GetCommand, { TableName: 'commands' }).resolves({ Item: item({ status: 'SUCCESS' }) });
    const finished = await call(getCommand, apiEvent({ method: 'GET', pathParameters: { command_id: ID } }));
    expect(ddb).toHaveReceivedCommandWith(GetCommand, {
      TableName: 'deliveries',
      Key: { account_id: ACCOUNT, command_id: ID },
    });
    expect(finished.body.webhooks).toHaveLength(1);
    expect(finished.body.webhooks[0]).toMatchObject({ url: 'https://hooks.example.com/x' });
  });

  it('FFAAS_SIGNED_URL_SECONDS sets the URL lifetime', async () => {
    setEnv({ FFAAS_SIGNED_URL_SECONDS: '600' });
    ddb.on(GetCommand).resolves({ Item: item() });
    const res = await call(getCommand, apiEvent({ method: 'GET', pathParameters: { command_id: ID } }));
    expect(
      Math.abs(
        downloadUrl(res.body.output_files.out_a.storage_url).grant.expiresAt - (Math.floor(Date.now() / 1000) + 600),
      ),
    ).toBeLessThanOrEqual(2);
  });

  it('404 NOT_FOUND for an unknown id and for another account (same answer)', async () => {
    ddb.on(GetCommand).resolves({});
    const missing = await call(getCommand, apiEvent({ method: 'GET', pathParameters: { command_id: ID } }));
    const other = await call(
      getCommand,
      apiEvent({ method: 'GET', pathParameters: { command_id: ID }, accountId: OTHER_ACCOUNT }),
    );
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({
      error: { code: 'NOT_FOUND', message: 'command not found' },
      message: 'command not found',
      detail: 'command not found',
    });
    expect(other).toEqual(missing);
    expect(ddb).toHaveReceivedCommandWith(GetCommand, { Key: { account_id: OTHER_ACCOUNT, command_id: ID } });
  });

  it('404 without a read for an id that cannot be a command id', async () => {
    const res = await call(getCommand, apiEvent({ method: 'GET', pathParameters: { command_id: '../../etc' } }));
    expect(res.status).toBe(404);
    expect(ddb).not.toHaveReceivedCommand(GetCommand);
  });

  it('401 without the authorizer context', async () => {
    expect(
      (await call(getCommand, apiEvent({ method: 'GET', pathParameters: { command_id: ID }, accountId: null }))).status,
    ).toBe(401);
  });

  it('500 envelope when DynamoDB fails', async () => {
    ddb.on(GetCommand).rejects(new Error('boom'));
    const res = await call(getCommand, apiEvent({ method: 'GET', pathParameters: { command_id: ID } }));
    expect(res.status).toBe(500);
    expect(res.body.error.code).toBe('INTERNAL_ERROR');
    expect(res.body.error.message).not.toContain('boom');
    expect(res.body.message).toBe(res.body.error.message);
    expect(res.body.detail).toBe(res.body.error.message);
  });
});

describe('GET /commands', () => {
  const rows = (n: number, from = 0) =>
    Array.from({ length: n }, (_, i) =>
      item({
        command_id: `00000000-0000-4000-8000-${String(from + i).padStart(12, '0')}`,
        created_at: `2026-01-01T00:00:${String(59 - from - i).padStart(2, '0')}.000Z`,
      }),
    );

  /** The KEYS_ONLY index answers keys; BatchGetItem the items (in any order, as DynamoDB does). */
  const serve = (items: ReturnType<typeof rows>) => {
    ddb.on(QueryCommand).resolves({
      Items: items.map((i) => ({ account_id: i.account_id, command_id: i.command_id, created_at: i.created_at })),
    });
    ddb.on(BatchGetCommand).callsFake((input: { RequestItems: Record<string, { Keys: { command_id: string }[] }> }) => {
      const wanted = new Set(input.RequestItems.commands!.Keys.map((k) => k.command_id));
      return { Responses: { commands: items.filter((i) => wanted.has(i.command_id)).reverse() } };
    });
  };

  it('newest first from the by_created index, default limit 20, next_cursor when more follow', async () => {
    serve(rows(21));
    const res = await call(listCommands, apiEvent({ method: 'GET' }));
    expect(res.status).toBe(200);
    expect(ddb).toHaveReceivedCommandWith(QueryCommand, {
      TableName: 'commands',
      IndexName: 'by_created',
      ScanIndexForward: false,
      ExpressionAttributeValues: { ':pk': ACCOUNT },
    });
    expect(res.body.commands).toHaveLength(20);
    expect(res.body.limit).toBe(20);
    expect(res.body.offset).toBe(0);
    expect(res.body.commands[0].output_files.out_a.storage_url).toMatch(/^http:\/\/localhost\/v\/[^?]+\/a\.mp4$/);
    const last = res.body.commands[19];
    expect(res.body.next_cursor).toBe(
      encodeCursor({ account_id: ACCOUNT, command_id: last.command_id, created_at: last.created_at }),
    );
  });

  it('offset skips rows; no next_cursor at the end', async () => {
    serve(rows(5));
    const res = await call(listCommands, apiEvent({ method: 'GET', query: { limit: '2', offset: '3' } }));
    expect(res.body.commands.map((c: { command_id: string }) => c.command_id)).toEqual(
      rows(5)
        .slice(3)
        .map((r) => r.command_id),
    );
    expect(res.body.next_cursor).toBeNull();
  });

  it('status filter and cursor reach the query, on the by_status index', async () => {
    serve([]);
    const cursor = encodeCursor({ account_id: ACCOUNT, command_id: 'c', created_at: '2026-01-01T00:00:00.000Z' });
    const res = await call(listCommands, apiEvent({ method: 'GET', query: { status: 'FAILED', cursor } }));
    expect(res.status).toBe(200);
    expect(ddb).toHaveReceivedCommandWith(QueryCommand, {
      IndexName: 'by_status',
      ExpressionAttributeNames: { '#pk': 'status_key' },
      ExpressionAttributeValues: { ':pk': `${ACCOUNT}#FAILED` },
      ExclusiveStartKey: {
        account_id: ACCOUNT,
        command_id: 'c',
        created_at: '2026-01-01T00:00:00.000Z',
        status_key: `${ACCOUNT}#FAILED`,
      },
    });
  });

  it('422 for limit over 100, a bad status or a negative offset; 400 for a foreign or broken cursor', async () => {
    const queries: Record<string, string>[] = [
      { limit: '101' },
      { limit: 'abc' },
      { status: 'DONE' },
      { offset: '-1' },
    ];
    for (const query of queries) {
      const res = await call(listCommands, apiEvent({ method: 'GET', query }));
      expect(res.status).toBe(422);
      expect(res.body.detail[0].loc[0]).toBe('query');
    }
    const foreign = encodeCursor({ account_id: OTHER_ACCOUNT, command_id: 'c', created_at: 'x' });
    for (const cursor of [foreign, 'not-a-cursor']) {
      const res = await call(listCommands, apiEvent({ method: 'GET', query: { cursor } }));
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('INVALID_REQUEST');
    }
    expect(ddb).not.toHaveReceivedCommand(QueryCommand);
  });
});

describe('GET /health', () => {
  it('200 {status: ok, version}', async () => {
    const res = await call(health, apiEvent({ method: 'GET', accountId: null }));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok', version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
  });
});

describe('POST /validate', () => {
  const request = {
    input_files: { in_a: 'https://example.com/a.mp4' },
    output_files: { out_a: 'a.webm' },
    ffmpeg_command: 'ffmpeg -i {{in_a}} -c:v libvpx-vp9 {{out_a}}',
  };

  it('valid: the argv FFmpeg would run and the compute; nothing recorded, no key needed', async () => {
    const res = await call(validate, apiEvent({ body: request, accountId: null }));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      valid: true,
      args: expect.arrayContaining(['-i', 'in_a.mp4', '-c:v', 'libvpx-vp9', 'a.webm']),
      compute: 'cpu',
    });
    expect(parser.parseFfmpegCommand).toHaveBeenCalledWith({
      commands: [request.ffmpeg_command],
      inputFiles: request.input_files,
      outputFiles: request.output_files,
      compute: 'auto',
      gpuAvailable: false,
    });
    expect(ddb.calls()).toHaveLength(0);
  });

  it('a chain gives one argv per command', async () => {
    const res = await call(
      validate,
      apiEvent({
        body: {
          ...request,
          ffmpeg_command: undefined,
          ffmpeg_commands: ['-i {{in_a}} mid.mp4', '-i mid.mp4 {{out_a}}'],
        },
        accountId: null,
      }),
    );
    expect(res.body.valid).toBe(true);
    expect(res.body.args).toHaveLength(2);
    expect(res.body.args[1]).toEqual(expect.arrayContaining(['-i', 'mid.mp4', 'a.webm']));
  });

  it('maps are required, as on submit', async () => {
    const res = await call(validate, apiEvent({ body: { ffmpeg_command: request.ffmpeg_command }, accountId: null }));
    expect(res.status).toBe(200);
    expect(res.body.valid).toBe(false);
    expect(res.body.errors.map((e: { path: unknown }) => e.path)).toEqual([['input_files'], ['output_files']]);
    expect(res.body.errors[0]).toMatchObject({ code: 'INVALID_REQUEST', message: expect.any(String) });
  });

  it('refuses a private input or webhook URL without saying what it resolves to', async () => {
    net.assertPublicUrl.mockImplementation(async (url: string) =>
      url.includes('internal') ? { ok: false, reason: 'host "internal" resolves to 10.1.2.3 (private)' } : { ok: true },
    );
    const res = await call(
      validate,
      apiEvent({
        body: { ...request, input_files: { in_a: 'http://internal/a.mp4' }, webhook_url: 'http://internal/hook' },
        accountId: null,
      }),
    );
    expect(res.body.valid).toBe(false);
    expect(res.body.errors.map((e: { code: string; path: unknown }) => [e.code, e.path])).toEqual([
      ['VALIDATION_ERROR', ['input_files', 'in_a']],
      ['VALIDATION_ERROR', ['webhook_url']],
    ]);
    expect(JSON.stringify(res.body)).not.toContain('10.1.2.3');
    net.assertPublicUrl.mockImplementation(async () => ({ ok: true }));
  });

  it('a forbidden command: 200 {valid: false, errors: [{code, message}]}', async () => {
    const res = await call(
      validate,
      apiEvent({
        body: { ...request, ffmpeg_command: 'ffmpeg -i {{in_a}} -filter_script x {{out_a}}' },
        accountId: null,
      }),
    );
    expect(res.status).toBe(200);
    expect(res.body.valid).toBe(false);
    expect(res.body.errors).toContainEqual(
      expect.objectContaining({
        code: 'INVALID_REQUEST',
        message: expect.stringContaining('-filter_script'),
        path: ['ffmpeg_command'],
      }),
    );
  });

  it('GPU asked where none is configured: VALIDATION_ERROR', async () => {
    const res = await call(validate, apiEvent({ body: { ...request, compute: 'gpu' }, accountId: null }));
    expect(res.body).toMatchObject({ valid: false, errors: [{ code: 'VALIDATION_ERROR', path: ['compute'] }] });
  });

  it('schema problems are reported the same way; a body that is not JSON is a 400 envelope', async () => {
    const res = await call(validate, apiEvent({ body: { ...request, vcpu_count: 3 }, accountId: null }));
    expect(res.status).toBe(200);
    expect(res.body.valid).toBe(false);
    expect(res.body.errors[0]).toMatchObject({ code: 'VALIDATION_ERROR', path: ['vcpu_count'] });
    expect(parser.parseFfmpegCommand).not.toHaveBeenCalled();
    const bad = await call(validate, apiEvent({ rawBody: 'nope', accountId: null }));
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('INVALID_REQUEST');
  });
});
