/**
 * Webhook handlers with the SDK clients mocked: webhook-config, command-webhooks,
 * redeliver-webhook, webhook-deliveries, and the delivery function (bus event and retry-queue
 * messages). The URL check and the HTTP POST are mocked; everything else is the real code.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import 'aws-sdk-client-mock-vitest/extend';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { Webhook } from 'standardwebhooks';
import type { SQSEvent } from 'aws-lambda';
import type { CommandItem } from '../../core/types.ts';
import { newDelivery, type DeliveryRecord } from '../../core/webhooks/delivery.ts';
import { ACCOUNT, OTHER_ACCOUNT, apiEvent, call, context, setEnv } from './support.ts';

const net = vi.hoisted(() => ({ assertPublicUrl: vi.fn(), checkUrl: vi.fn(), describeHost: (u: string) => u }));
vi.mock('../../core/net/policy.ts', () => net);
const fetcher = vi.hoisted(() => ({ safeFetch: vi.fn() }));
vi.mock('../../core/net/fetch.ts', async (importOriginal) => ({
  ...(await importOriginal<object>()),
  safeFetch: fetcher.safeFetch,
}));

import { handler as webhookConfig } from '../../lambdas/webhook-config/index.ts';
import { handler as commandWebhooks } from '../../lambdas/command-webhooks/index.ts';
import { handler as getCommand } from '../../lambdas/get-command/index.ts';
import { handler as redeliver } from '../../lambdas/redeliver-webhook/index.ts';
import { handler as deliveriesList } from '../../lambdas/webhook-deliveries/index.ts';
import { handler as deliver, resetDeliverer } from '../../lambdas/webhook-delivery/index.ts';

const ddb = mockClient(DynamoDBDocumentClient);
const sqs = mockClient(SQSClient);
const kms = mockClient(KMSClient);
const ID = '6f1c2b7e-2a0d-4c3b-9f7e-1d2c3b4a5f60';
const QUEUE = 'https://sqs.us-east-1.amazonaws.com/123456789012/retry';
const DLQ = 'https://sqs.us-east-1.amazonaws.com/123456789012/dead';
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

const command = (overrides: Partial<CommandItem> = {}): CommandItem => ({
  account_id: ACCOUNT,
  command_id: ID,
  status: 'SUCCESS',
  command_type: 'FFMPEG_COMMAND',
  created_at: '2026-01-01T00:00:00.000Z',
  finished_at: '2026-01-01T00:00:03.000Z',
  original_request: { input_files: {}, output_files: {} },
  max_command_run_seconds: 900,
  compute: 'cpu',
  vcpu_count: 2,
  plan: { inputs: [], outputs: [], commands: [] },
  ...overrides,
});
const accountItem = (webhook: Record<string, unknown> = {}) => ({
  Item: {
    webhook: {
      url: 'https://hooks.example.com/a',
      secret: SECRET,
      is_active: true,
      consecutive_failures: 0,
      disabled_at: null,
      updated_at: 't',
      ...webhook,
    },
  },
});
const delivery = (overrides: Partial<DeliveryRecord> = {}): DeliveryRecord => ({
  ...newDelivery({
    accountId: ACCOUNT,
    commandId: ID,
    webhookId: `msg_${ID}`,
    eventType: 'FFmpeg Command Succeeded',
    target: 'account',
    url: 'https://hooks.example.com/a',
    now: new Date(Date.now() - 1000),
  }),
  ...overrides,
});

beforeEach(() => {
  setEnv({ FFAAS_WEBHOOK_DELIVERIES_TABLE: 'deliveries', FFAAS_WEBHOOK_QUEUE_URL: QUEUE, FFAAS_WEBHOOK_DLQ_URL: DLQ });
  resetDeliverer();
  ddb.reset();
  sqs.reset();
  kms.reset();
  net.assertPublicUrl.mockReset().mockResolvedValue({ ok: true });
  fetcher.safeFetch.mockReset();
});

describe('PUT/GET/DELETE /webhook-config', () => {
  it('PUT without a secret generates a whsec_ one, stores the config on the account item, answers it once', async () => {
    ddb.on(UpdateCommand).resolves({});
    const res = await call(webhookConfig, apiEvent({ method: 'PUT', body: { url: 'https://hooks.example.com/a' } }));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      success: true,
      url: 'https://hooks.example.com/a',
      secret: expect.stringMatching(/^whsec_/),
    });
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, {
      TableName: 'accounts',
      Key: { account_id: ACCOUNT },
      UpdateExpression: 'SET webhook = :w',
      ExpressionAttributeValues: {
        ':w': expect.objectContaining({
          url: 'https://hooks.example.com/a',
          secret: res.body.secret,
          is_active: true,
          consecutive_failures: 0,
          disabled_at: null,
        }),
      },
    });
    expect(net.assertPublicUrl).toHaveBeenCalledWith('https://hooks.example.com/a', { allowPrivate: false });
  });

  it("with the stack's KMS key, the stored secret is the KMS ciphertext (account as context), never the secret", async () => {
    setEnv({
      FFAAS_WEBHOOK_DELIVERIES_TABLE: 'deliveries',
      FFAAS_WEBHOOK_KMS_KEY_ID: 'arn:aws:kms:us-east-1:123456789012:key/k',
    });
    kms.on(EncryptCommand).resolves({ CiphertextBlob: Buffer.from('SEALED') });
    ddb.on(UpdateCommand).resolves({});
    const res = await call(webhookConfig, apiEvent({ method: 'PUT', body: { url: 'https://hooks.example.com/a' } }));
    expect(res.status).toBe(200);
    expect(kms).toHaveReceivedCommandWith(EncryptCommand, { EncryptionContext: { account_id: ACCOUNT } });
    const stored = ddb.commandCalls(UpdateCommand)[0]!.args[0].input.ExpressionAttributeValues![':w'].secret;
    expect(stored).toBe(`kms:v1:${Buffer.from('SEALED').toString('base64')}`);
    expect(JSON.stringify(ddb.calls().map((c) => c.args[0].input))).not.toContain(res.body.secret);
  });

  it('PUT with a refused URL: 422 with the field, nothing stored; a bad body: 422/400', async () => {
    net.assertPublicUrl.mockResolvedValue({
      ok: false,
      reason: 'address 127.0.0.1 (loopback), which is not a public address',
    });
    const res = await call(webhookConfig, apiEvent({ method: 'PUT', body: { url: 'http://127.0.0.1/x' } }));
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ code: 'VALIDATION_ERROR', details: [{ path: ['url'] }] });
    expect(ddb).not.toHaveReceivedCommand(UpdateCommand);
    expect((await call(webhookConfig, apiEvent({ method: 'PUT', body: { url: 'ftp://x' } }))).status).toBe(422);
    expect(
      (await call(webhookConfig, apiEvent({ method: 'PUT', body: { url: 'https://a/b', secret: 'short' } }))).status,
    ).toBe(400);
    expect((await call(webhookConfig, apiEvent({ method: 'PUT', rawBody: '{' }))).status).toBe(400);
  });

  it('GET never returns the secret; DELETE removes it', async () => {
    ddb
      .on(GetCommand, { TableName: 'accounts' })
      .resolves(accountItem({ is_active: false, consecutive_failures: 50, disabled_at: '2026-01-02T00:00:00.000Z' }));
    const res = await call(webhookConfig, apiEvent({ method: 'GET' }));
    expect(res.body).toEqual({
      configured: true,
      url: 'https://hooks.example.com/a',
      is_active: false,
      consecutive_failures: 50,
      disabled_at: '2026-01-02T00:00:00.000Z',
    });
    expect(JSON.stringify(res.body)).not.toContain('whsec_');
    ddb.on(UpdateCommand).resolves({});
    expect((await call(webhookConfig, apiEvent({ method: 'DELETE' }))).body).toEqual({ success: true, deleted: true });
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, {
      TableName: 'accounts',
      UpdateExpression: 'REMOVE webhook',
      ConditionExpression: 'attribute_exists(webhook)',
    });
    ddb.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: 'x', $metadata: {} }));
    expect((await call(webhookConfig, apiEvent({ method: 'DELETE' }))).body).toEqual({ success: true, deleted: false });
  });
});

describe('GET /commands/{id}/webhooks, GET /webhook-deliveries, POST …/redeliver', () => {
  it("shows the delivery of the account's command; another account gets 404", async () => {
    ddb.on(GetCommand).resolves({});
    ddb
      .on(GetCommand, { TableName: 'commands', Key: { account_id: ACCOUNT, command_id: ID } })
      .resolves({ Item: command() });
    ddb
      .on(GetCommand, { TableName: 'deliveries', Key: { account_id: ACCOUNT, command_id: ID } })
      .resolves({ Item: delivery({ attempts: 2, last_status_code: 500 }) });
    const res = await call(commandWebhooks, apiEvent({ method: 'GET', pathParameters: { command_id: ID } }));
    expect(res.status).toBe(200);
    expect(res.body.webhooks).toEqual([
      expect.objectContaining({ webhook_id: `msg_${ID}`, status: 'PENDING', attempts: 2, last_status_code: 500 }),
    ]);
    const other = await call(
      commandWebhooks,
      apiEvent({ method: 'GET', pathParameters: { command_id: ID }, accountId: OTHER_ACCOUNT }),
    );
    expect(other.status).toBe(404);
    // The poll carries them too (docs/API.md: `webhooks`).
    const poll = await call(getCommand, apiEvent({ method: 'GET', pathParameters: { command_id: ID } }));
    expect(poll.body.webhooks).toEqual(res.body.webhooks);
    ddb.on(GetCommand, { TableName: 'deliveries', Key: { account_id: ACCOUNT, command_id: ID } }).resolves({});
    expect(
      (await call(getCommand, apiEvent({ method: 'GET', pathParameters: { command_id: ID } }))).body.webhooks,
    ).toEqual([]);
  });

  it('lists recent failed deliveries from the by_updated index', async () => {
    ddb.on(QueryCommand).resolves({
      Items: [
        delivery({ state: 'FAILED', attempts: 8, last_error: 'HTTP 500' }),
        delivery({ state: 'DELIVERED', attempts: 1 }),
      ],
    });
    const res = await call(deliveriesList, apiEvent({ method: 'GET', query: { limit: '5' } }));
    expect(res.body.deliveries).toHaveLength(1);
    expect(res.body.deliveries[0]).toMatchObject({ status: 'FAILED', attempts: 8 });
    expect(ddb).toHaveReceivedCommandWith(QueryCommand, {
      TableName: 'deliveries',
      IndexName: 'by_updated',
      ScanIndexForward: false,
      ExpressionAttributeValues: { ':pk': ACCOUNT },
    });
    expect((await call(deliveriesList, apiEvent({ method: 'GET', query: { limit: '0' } }))).status).toBe(422);
  });

  it('redeliver reopens a FAILED delivery (same webhook-id) and queues it now; 422 while the command runs', async () => {
    const failed = delivery({
      state: 'FAILED',
      attempts: 8,
      schedule_attempts: 8,
      next_attempt_at: null,
      due: undefined,
    });
    ddb.on(GetCommand, { TableName: 'commands' }).resolves({ Item: command() });
    ddb.on(GetCommand, { TableName: 'deliveries' }).resolves({ Item: failed });
    ddb.on(PutCommand).resolves({});
    sqs.on(SendMessageCommand).resolves({});
    const res = await call(redeliver, apiEvent({ method: 'POST', pathParameters: { command_id: ID } }));
    expect(res.status).toBe(200);
    expect(res.body.webhook).toMatchObject({ webhook_id: `msg_${ID}`, status: 'PENDING', attempts: 8 });
    expect(ddb).toHaveReceivedCommandWith(PutCommand, {
      TableName: 'deliveries',
      Item: expect.objectContaining({ state: 'PENDING', schedule_attempts: 0, due: 'PENDING' }),
      ConditionExpression: 'updated_at = :expected',
      ExpressionAttributeValues: { ':expected': failed.updated_at },
    });
    expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, { QueueUrl: QUEUE, DelaySeconds: 0 });
    expect(JSON.parse(sqs.commandCalls(SendMessageCommand)[0]!.args[0].input.MessageBody!)).toMatchObject({
      account_id: ACCOUNT,
      command_id: ID,
      webhook_id: `msg_${ID}`,
    });

    ddb.on(GetCommand, { TableName: 'commands' }).resolves({ Item: command({ status: 'PROCESSING' }) });
    expect((await call(redeliver, apiEvent({ method: 'POST', pathParameters: { command_id: ID } }))).status).toBe(422);
  });
});

describe('the delivery function', () => {
  const busEvent = (detailType = 'FFmpeg Command Succeeded') => ({
    version: '0',
    id: 'e-1',
    'detail-type': detailType,
    source: 'ffaas',
    account: '123456789012',
    time: '2026-01-01T00:00:03Z',
    region: 'us-east-1',
    resources: [],
    detail: { command_id: ID, account_id: ACCOUNT, status: 'SUCCESS', finished_at: '2026-01-01T00:00:03.000Z' },
  });
  const sqsEvent = (bodies: unknown[]): SQSEvent => ({
    Records: bodies.map(
      (b, i) =>
        ({ messageId: `m-${i}`, body: typeof b === 'string' ? b : JSON.stringify(b) }) as SQSEvent['Records'][number],
    ),
  });

  function wire(opts: { delivery?: DeliveryRecord; status?: number; webhookUrl?: string } = {}) {
    ddb
      .on(GetCommand, { TableName: 'commands' })
      .resolves({ Item: command(opts.webhookUrl ? { webhook_url: opts.webhookUrl } : {}) });
    ddb.on(GetCommand, { TableName: 'accounts' }).resolves(accountItem());
    ddb.on(PutCommand).resolves({});
    ddb.on(UpdateCommand, { TableName: 'deliveries' }).callsFake((input) => ({
      Attributes: { ...(opts.delivery ?? delivery()), updated_at: input.ExpressionAttributeValues[':now'] },
    }));
    ddb
      .on(UpdateCommand, { TableName: 'accounts' })
      .resolves({ Attributes: accountItem({ consecutive_failures: 1 }).Item });
    sqs.on(SendMessageCommand).resolves({});
    fetcher.safeFetch.mockResolvedValue({
      status: opts.status ?? 200,
      headers: {},
      body: Buffer.from('ok'),
      finalHost: 'h',
      attempts: 1,
    });
  }

  it('bus event → records the delivery, POSTs the signed body once through the SSRF-safe fetcher, marks it DELIVERED', async () => {
    wire();
    await deliver(busEvent() as never, context);
    expect(ddb).toHaveReceivedCommandWith(PutCommand, {
      TableName: 'deliveries',
      ConditionExpression: 'attribute_not_exists(#pk) AND attribute_not_exists(#sk)',
    });
    expect(fetcher.safeFetch).toHaveBeenCalledTimes(1);
    const [url, init, options] = fetcher.safeFetch.mock.calls[0]!;
    expect(url).toBe('https://hooks.example.com/a');
    expect(options).toMatchObject({
      allowPrivate: false,
      maxBytes: 1024,
      truncateBody: true,
      timeoutMs: 10_000,
      maxRedirects: 0,
      redirect: 'return',
      retries: 0,
    });
    expect(new Webhook(SECRET).verify(init.body, init.headers)).toMatchObject({
      data: { command_id: ID, status: 'SUCCESS' },
    });
    expect(init.headers['webhook-id']).toBe(`msg_${ID}`);
    const saved = ddb.commandCalls(PutCommand).at(-1)!.args[0].input.Item!;
    expect(saved).toMatchObject({ state: 'DELIVERED', attempts: 1, last_status_code: 200 });
    expect(saved.next_attempt_at).toBeUndefined();
    expect(sqs).not.toHaveReceivedCommand(SendMessageCommand);
  });

  it('a failed attempt queues the retry (delay from the schedule) BEFORE recording it, and counts the account failure', async () => {
    wire({ status: 500 });
    const log: string[] = [];
    ddb
      .on(PutCommand)
      .callsFake((input) => (log.push(input.ConditionExpression.startsWith('updated_at') ? 'save' : 'create'), {}));
    sqs.on(SendMessageCommand).callsFake(() => (log.push('queue'), {}));
    await deliver(busEvent() as never, context);
    expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, { QueueUrl: QUEUE, DelaySeconds: 5 });
    // A crash between the two costs an extra attempt, never a lost one.
    expect(log).toEqual(['create', 'queue', 'save']);
    const saved = ddb.commandCalls(PutCommand).at(-1)!.args[0].input.Item!;
    expect(saved).toMatchObject({
      state: 'PENDING',
      attempts: 1,
      last_status_code: 500,
      last_error: 'HTTP 500',
      due: 'PENDING',
    });
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, {
      TableName: 'accounts',
      UpdateExpression: 'SET webhook.consecutive_failures = webhook.consecutive_failures + :one',
    });
  });

  it('the last failed attempt goes to the dead-letter queue', async () => {
    wire({ status: 502, delivery: delivery({ attempts: 7, schedule_attempts: 7 }) });
    const res = await deliver(
      sqsEvent([
        { account_id: ACCOUNT, command_id: ID, webhook_id: `msg_${ID}`, not_before: new Date().toISOString() },
      ]) as never,
      context,
    );
    expect(res).toEqual({ batchItemFailures: [] });
    expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, { QueueUrl: DLQ });
    expect(sqs).not.toHaveReceivedCommandWith(SendMessageCommand, { QueueUrl: QUEUE });
    expect(ddb.commandCalls(PutCommand).at(-1)!.args[0].input.Item).toMatchObject({ state: 'FAILED', attempts: 8 });
  });

  it('a message due in more than 15 min goes back with the longest delay; nothing is sent', async () => {
    wire();
    const later = new Date(Date.now() + 3 * 3600 * 1000).toISOString();
    await deliver(
      sqsEvent([{ account_id: ACCOUNT, command_id: ID, webhook_id: `msg_${ID}`, not_before: later }]) as never,
      context,
    );
    expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, { QueueUrl: QUEUE, DelaySeconds: 900 });
    expect(fetcher.safeFetch).not.toHaveBeenCalled();
  });

  it('a DynamoDB failure reports the message as failed (SQS redelivers it); a malformed message is dropped', async () => {
    ddb.on(UpdateCommand).rejects(new Error('throttled'));
    const res = await deliver(
      sqsEvent([
        '{not json',
        { account_id: ACCOUNT, command_id: ID, webhook_id: 'w', not_before: new Date().toISOString() },
        { hello: 1 },
      ]) as never,
      context,
    );
    expect(res).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-0' }, { itemIdentifier: 'm-1' }] });
  });

  it('a command without a webhook_url on an account without a config sends nothing and records nothing', async () => {
    ddb.on(GetCommand, { TableName: 'commands' }).resolves({ Item: command() });
    ddb.on(GetCommand, { TableName: 'accounts' }).resolves({ Item: {} });
    await deliver(busEvent('FFmpeg Command Failed') as never, context);
    expect(ddb).not.toHaveReceivedCommand(PutCommand);
    expect(fetcher.safeFetch).not.toHaveBeenCalled();
  });
});
