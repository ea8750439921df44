/**
 * The worker records who runs the attempt (lifecycle steps startAttempt, recordWorkerTask,
 * stampHeartbeat): its task token, its ECS task ARN read from the task metadata endpoint (a
 * loopback server standing in for ECS_CONTAINER_METADATA_URI_V4) and heartbeat_at with every
 * beat. Against dynalite, s3rver and the local Step Functions endpoint, with Debian's ffmpeg.
 */
import http from 'node:http';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFfmpegCommand } from '../../../core/command/index.ts';
import { TABLE } from '../../../core/constants.ts';
import type { CommandItem } from '../../../core/types.ts';
import { resolveExecutable, type WorkerConfig } from '../../../fargate-task/src/config.ts';
import { silentLogger } from '../../../fargate-task/src/log.ts';
import { runCommand } from '../../../fargate-task/src/run-command.ts';
import { ecsTaskArn } from '../../../fargate-task/src/task-metadata.ts';
import {
  closeServer,
  listenLocal,
  startDynalite,
  startS3rver,
  startSfnEndpoint,
  type DynaliteHandle,
  type S3rverHandle,
  type SfnEndpoint,
} from '../../helpers/index.ts';

const TABLE_NAME = 'ffaas-commands-identity';
const BUCKET = 'ffaas-worker-identity';
const ACCOUNT = 'acct-1';
const TASK_ARN = 'arn:aws:ecs:us-east-1:123456789012:task/ffaas-cluster/0123456789abcdef0123456789abcdef';

let db: DynaliteHandle;
let s3: S3rverHandle;
let sfn: SfnEndpoint;
let metadata: http.Server;
let metadataUri: string;
let metadataHits = 0;
let workRoot: string;
let finished = false;

beforeAll(async () => {
  [db, s3, sfn] = await Promise.all([startDynalite(), startS3rver({ buckets: [BUCKET] }), startSfnEndpoint()]);
  await db.createCommandsTable(TABLE_NAME);
  metadata = http.createServer((req, res) => {
    metadataHits++;
    if (req.url === '/v4/abc/task') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ Cluster: 'ffaas-cluster', TaskARN: TASK_ARN, Family: 'worker' }));
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  metadataUri = `http://127.0.0.1:${await listenLocal(metadata)}/v4/abc`;
  workRoot = await mkdtemp(path.join(tmpdir(), 'ffaas-identity-'));
  await chmod(workRoot, 0o755);
});

afterAll(async () => {
  await Promise.all([db?.stop(), s3?.stop(), sfn?.stop(), metadata && closeServer(metadata)]);
  if (workRoot) await rm(workRoot, { recursive: true, force: true });
});

const itemOf = async (commandId: string) =>
  (
    await db.doc.send(
      new GetCommand({
        TableName: TABLE_NAME,
        Key: { [TABLE.commands.partitionKey]: ACCOUNT, [TABLE.commands.sortKey]: commandId },
        ConsistentRead: true,
      }),
    )
  ).Item as CommandItem;

async function run(
  commandId: string,
  config: Partial<WorkerConfig>,
  onSpawn?: () => void,
  opts: { ddb?: typeof db.doc; attempts?: number } = {},
) {
  const parsed = parseFfmpegCommand({
    commands: [
      'ffmpeg -filter_complex testsrc2=duration=2:size=320x240:rate=25 -c:v libx264 -preset slower {{out_video}}',
    ],
    inputFiles: {},
    outputFiles: { out_video: 'out.mp4' },
    gpuAvailable: false,
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.violations));
  const item: CommandItem = {
    account_id: ACCOUNT,
    command_id: commandId,
    status: 'PROCESSING',
    command_type: 'FFMPEG_COMMAND',
    created_at: new Date().toISOString(),
    original_request: { input_files: {}, output_files: {}, ffmpeg_command: 'lavfi' },
    max_command_run_seconds: 60,
    compute: 'cpu',
    vcpu_count: 2,
    plan: parsed.plan,
    ...(opts.attempts !== undefined ? { attempts: opts.attempts } : {}),
  };
  await db.doc.send(new PutCommand({ TableName: TABLE_NAME, Item: item }));
  return runCommand({
    ddb: opts.ddb ?? db.doc,
    s3: s3.client,
    sfn: sfn.client,
    log: silentLogger,
    hooks: { onFfmpegSpawn: () => onSpawn?.() },
    config: {
      commandsTable: TABLE_NAME,
      bucket: BUCKET,
      accountId: ACCOUNT,
      commandId,
      taskToken: `token-${commandId}`,
      workDir: workRoot,
      allowPrivateUrls: true,
      ffmpegPath: resolveExecutable('ffmpeg'),
      ffprobePath: resolveExecutable('ffprobe'),
      heartbeatIntervalMs: 150,
      progressIntervalMs: 200,
      killGraceMs: 1_000,
      probeTimeoutMs: 20_000,
      maxOutputBytes: 100 * 1024 * 1024,
      download: { maxBytes: 1024 * 1024, timeoutMs: 5_000, maxRedirects: 3, retries: 0, retryDelayMs: 50 },
      ...config,
    },
  });
}

describe('worker identity and liveness on the item', () => {
  it('records its task token, its ECS task ARN and a heartbeat_at that moves with the beats', async () => {
    const commandId = `identity-${Date.now()}`;
    let atSpawn: CommandItem | undefined;
    const spawned = new Promise<void>((resolve) => {
      void run(commandId, { ecsMetadataUri: metadataUri }, () => {
        void itemOf(commandId).then((i) => {
          atSpawn = i;
          resolve();
        });
      }).then((outcome) => (done = outcome));
    });
    let done: Awaited<ReturnType<typeof run>> | undefined;
    await spawned;
    expect(atSpawn?.task_token).toBe(`token-${commandId}`);
    expect(atSpawn?.worker_task_arn).toBe(TASK_ARN);
    expect(Date.parse(atSpawn!.heartbeat_at!)).toBeGreaterThan(Date.now() - 60_000);
    while (!done) await new Promise((r) => setTimeout(r, 50));
    expect(done.status).toBe('SUCCESS');
    const after = await itemOf(commandId);
    expect(Date.parse(after.heartbeat_at!)).toBeGreaterThan(Date.parse(atSpawn!.heartbeat_at!));
    expect(
      sfn.callsOf('SendTaskHeartbeat').filter((c) => c.body.taskToken === `token-${commandId}`).length,
    ).toBeGreaterThan(1);
  });

  it('outside ECS (no metadata endpoint) records no task ARN; a beat never writes a finished command', async () => {
    const commandId = `identity-local-${Date.now()}`;
    const outcome = await run(commandId, {});
    expect(outcome.status).toBe('SUCCESS');
    const item = await itemOf(commandId);
    expect(item.worker_task_arn).toBeUndefined();
    expect(item.task_token).toBe(`token-${commandId}`);
    // Finished (the state machine's RecordSuccess would do this): stampHeartbeat is conditional on PROCESSING.
    await db.doc.send(
      new PutCommand({ TableName: TABLE_NAME, Item: { ...item, status: 'SUCCESS', heartbeat_at: 'x' } }),
    );
    const { CommandRepository } = await import('../../../store/command-repository.ts');
    expect(
      await new CommandRepository(db.doc, TABLE_NAME).stampHeartbeat(ACCOUNT, commandId, new Date().toISOString()),
    ).toBe(false);
    expect((await itemOf(commandId)).heartbeat_at).toBe('x');
  });

  it('reads its command only through the write that starts the attempt, which counts it', async () => {
    const sent: string[] = [];
    const counting = new Proxy(db.doc, {
      get(target, prop, receiver) {
        if (prop !== 'send') return Reflect.get(target, prop, receiver);
        return (command: { constructor: { name: string } }, ...rest: unknown[]) => {
          sent.push(command.constructor.name);
          return (target.send as (...a: unknown[]) => unknown)(command, ...rest);
        };
      },
    });
    const first = `identity-reads-${Date.now()}`;
    expect((await run(first, {}, undefined, { ddb: counting })).status).toBe('SUCCESS');
    expect(sent).not.toContain('GetCommand');
    expect(sent[0]).toBe('UpdateCommand');
    expect((await itemOf(first)).attempts).toBe(1);
    // A re-run (an earlier attempt died): the count goes on from the item's.
    const rerun = `identity-rerun-${Date.now()}`;
    expect((await run(rerun, {}, undefined, { attempts: 2 })).status).toBe('SUCCESS');
    expect((await itemOf(rerun)).attempts).toBe(3);
  });

  it('a command that is not PROCESSING (or gone) is refused before anything runs, saying which', async () => {
    const commandId = `identity-refused-${Date.now()}`;
    let spawned = false;
    const { CommandRepository } = await import('../../../store/command-repository.ts');
    // Written PROCESSING by run(), then finished by someone else before the worker starts.
    const outcome = await run(commandId, {}, () => (spawned = true), {
      ddb: new Proxy(db.doc, {
        get(target, prop, receiver) {
          if (prop !== 'send') return Reflect.get(target, prop, receiver);
          return async (command: unknown, ...rest: unknown[]) => {
            if ((command as { constructor: { name: string } }).constructor.name === 'UpdateCommand' && !finished) {
              finished = true;
              await db.doc.send(
                new PutCommand({
                  TableName: TABLE_NAME,
                  Item: { ...(await itemOf(commandId)), status: 'FAILED' },
                }),
              );
            }
            return (target.send as (...a: unknown[]) => unknown)(command, ...rest);
          };
        },
      }),
    });
    expect(outcome.status).toBe('FAILED');
    expect(outcome.error?.message).toMatch(/the command is FAILED, not PROCESSING/);
    expect(spawned).toBe(false);
    expect((await itemOf(commandId)).attempts).toBeUndefined();
    expect(
      await new CommandRepository(db.doc, TABLE_NAME).startAttempt(ACCOUNT, 'no-such', { taskToken: 't', at: 'x' }),
    ).toBeUndefined();
  });

  it('ecsTaskArn: the TaskARN of /task; null when the endpoint is missing, wrong or unreachable', async () => {
    expect(await ecsTaskArn(metadataUri)).toBe(TASK_ARN);
    expect(await ecsTaskArn(`${metadataUri}/`)).toBe(TASK_ARN);
    expect(await ecsTaskArn(undefined)).toBeNull();
    expect(await ecsTaskArn(metadataUri.replace('/v4/abc', '/v4/other'))).toBeNull();
    const hits = metadataHits;
    expect(await ecsTaskArn('http://127.0.0.1:1/v4')).toBeNull();
    expect(metadataHits).toBe(hits);
  });
});
