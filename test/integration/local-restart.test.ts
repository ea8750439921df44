/**
 * Restart safety of local mode (startLocalFfaas on one data dir, twice): a command left
 * PROCESSING by the dead process is run again (resume) and completes, one that has used its
 * MAX_ATTEMPTS becomes FAILED / WORKER_LOST with its FAILED event, a QUEUED one is started again
 * and completes, keys and items survive, and endpoints.json exists only
 * while an instance runs (a stale one with a dead pid is ignored).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import {
  endpointsFilePath,
  readLiveEndpoints,
  startLocalFfaas,
  type EndpointsFile,
  type LocalFfaas,
} from '../../local/index.ts';
import { MAX_ATTEMPTS } from '../../core/constants.ts';
import { fakeWorker } from '../state-machine/harness.ts';

let dataDir: string;
let app: LocalFfaas | undefined;
beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'ffaas-restart-'));
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

function client(ep: EndpointsFile): DynamoDBClient {
  return new DynamoDBClient({ endpoint: ep.endpoints.dynamodb, region: ep.region, credentials: { ...ep.credentials } });
}

const item = (command_id: string, status: string, extra: Record<string, unknown> = {}) =>
  marshall({
    ...extra,
    account_id: 'acct-r',
    command_id,
    status,
    command_type: 'FFMPEG_COMMAND',
    created_at: new Date().toISOString(),
    ...(status === 'QUEUED' ? { pending: 'QUEUED' } : { started_at: new Date().toISOString() }),
    max_command_run_seconds: 60,
    compute: 'cpu',
    vcpu_count: 2,
    original_request: { input_files: {}, output_files: {} },
    plan: { inputs: [], outputs: [], commands: [] },
  });

it('recovers lost and queued commands on restart', async () => {
  // A stale endpoints.json of a dead process does not block the start.
  await writeFile(
    path.join(dataDir, 'endpoints.json'),
    JSON.stringify({ pid: 999_999_999, url: 'http://127.0.0.1:1' }),
  );
  app = await start();
  const ep = app.endpoints;
  expect(await readLiveEndpoints(dataDir)).toMatchObject({
    pid: process.pid,
    url: app.url,
    tables: { commands: 'ffaas-commands' },
  });
  expect((await fetch(`${app.url}/api/v1/health`)).status).toBe(200);

  // What a process that died mid-flight leaves behind.
  const interrupted = `success--interrupted-${crypto.randomUUID()}`;
  const lost = `success--lost-${crypto.randomUUID()}`;
  const queued = `success--queued-${crypto.randomUUID()}`;
  let ddb = client(ep);
  await ddb.send(
    new PutItemCommand({ TableName: ep.tables.commands, Item: item(interrupted, 'PROCESSING', { attempts: 1 }) }),
  );
  await ddb.send(
    new PutItemCommand({ TableName: ep.tables.commands, Item: item(lost, 'PROCESSING', { attempts: MAX_ATTEMPTS }) }),
  );
  await ddb.send(new PutItemCommand({ TableName: ep.tables.commands, Item: item(queued, 'QUEUED') }));
  ddb.destroy();
  await app.stop();
  app = undefined;
  await expect(readFile(endpointsFilePath(dataDir), 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });

  app = await start();
  ddb = client(app.endpoints);
  const get = async (command_id: string) =>
    unmarshall(
      (
        await ddb.send(
          new GetItemCommand({
            TableName: app!.endpoints.tables.commands,
            Key: marshall({ account_id: 'acct-r', command_id }),
            ConsistentRead: true,
          }),
        )
      ).Item!,
    );

  const lostItem = await get(lost);
  expect(lostItem).toMatchObject({ status: 'FAILED', error_status: 'WORKER_LOST' });
  expect(lostItem.finished_at).toBeTruthy();
  const events = (await readFile(path.join(dataDir, 'events.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  expect(events.filter((e) => e.detail.command_id === lost)).toMatchObject([
    { 'detail-type': 'FFmpeg Command Failed', detail: { error_status: 'WORKER_LOST' } },
  ]);

  await app.runner.waitForExecution(queued);
  expect(await get(queued)).toMatchObject({ status: 'SUCCESS' });
  // Run again, not lost: the fake worker counts its attempt as the worker does.
  await app.runner.waitForExecution(interrupted);
  const resumed = await get(interrupted);
  expect(resumed).toMatchObject({ status: 'SUCCESS', attempts: 2 });
  expect(resumed.resumed_at).toBeTruthy();
  expect(events.filter((e) => e.detail.command_id === interrupted)).toEqual([]);
  ddb.destroy();
}, 120_000);
