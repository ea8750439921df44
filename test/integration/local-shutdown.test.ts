/**
 * Local mode's graceful stop (what SIGTERM does): new work is refused with 503 and Retry-After,
 * a command still running when the grace period ends is left PROCESSING (not swept, not
 * WORKER_LOST), and the next start runs it again to SUCCESS with one more attempt.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { startLocalFfaas, type LocalFfaas } from '../../local/index.ts';
import { fakeWorker } from '../state-machine/harness.ts';

let dataDir: string;
let app: LocalFfaas | undefined;
beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'ffaas-shutdown-'));
});
afterAll(async () => {
  await app?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

const start = () =>
  startLocalFfaas({
    port: 0,
    dataDir,
    worker: fakeWorker,
    maxConcurrency: 2,
    log: () => undefined,
    workerLog: () => undefined,
  });

it('SIGTERM: 503 for new work, the running command is left to the next start, which runs it to SUCCESS', async () => {
  app = await start();
  const ep = app.endpoints;
  const ddb = () =>
    new DynamoDBClient({
      endpoint: app!.endpoints.endpoints.dynamodb,
      region: ep.region,
      credentials: { ...ep.credentials },
    });
  const cid = `sleepy--${crypto.randomUUID()}`;
  const item = {
    account_id: 'acct-s',
    command_id: cid,
    status: 'QUEUED',
    pending: 'QUEUED',
    command_type: 'FFMPEG_COMMAND',
    created_at: new Date().toISOString(),
    max_command_run_seconds: 60,
    compute: 'cpu',
    vcpu_count: 2,
    original_request: { input_files: {}, output_files: {} },
    plan: { inputs: [], outputs: [], commands: [] },
  };
  let c = ddb();
  await c.send(new PutItemCommand({ TableName: ep.tables.commands, Item: marshall(item) }));
  const get = async () =>
    unmarshall(
      (
        await c.send(
          new GetItemCommand({
            TableName: ep.tables.commands,
            Key: marshall({ account_id: 'acct-s', command_id: cid }),
            ConsistentRead: true,
          }),
        )
      ).Item!,
    );
  app.runner.StartExecution({
    stateMachineArn: ep.state_machine_arn,
    name: cid,
    input: JSON.stringify({
      account_id: 'acct-s',
      command_id: cid,
      compute: 'cpu',
      task_cpu: '2048',
      task_memory: '4096',
      task_ephemeral_storage_gib: 21,
      task_workspace_max_bytes: String(15 * 1024 ** 3),
      task_timeout_seconds: 120,
    }),
  });
  await expect.poll(async () => (await get()).attempts, { timeout: 20_000, interval: 50 }).toBe(1);

  const stopping = app.shutdown(0.3);
  const refused = await fetch(`${app.url}/api/v1/run-ffmpeg-command`, {
    method: 'POST',
    body: '{}',
    headers: { 'content-type': 'application/json' },
  });
  expect(refused.status).toBe(503);
  expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
  expect(await refused.json()).toMatchObject({ error: { code: 'SERVICE_UNAVAILABLE' } });
  expect(await stopping).toEqual({ leftRunning: 1 });
  app = undefined;
  c.destroy();

  app = await start();
  c = ddb();
  expect((await get()).status).not.toBe('FAILED');
  await app.runner.waitForExecution(cid);
  const done = await get();
  expect(done).toMatchObject({ status: 'SUCCESS', attempts: 2 });
  const events = (await readFile(path.join(dataDir, 'events.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  // One terminal event (the Started events of its two runs aside).
  expect(
    events
      .filter((e) => e.detail.command_id === cid && e['detail-type'] !== 'FFmpeg Command Started')
      .map((e) => e['detail-type']),
  ).toEqual(['FFmpeg Command Succeeded']);
  c.destroy();
}, 120_000);
