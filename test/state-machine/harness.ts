/**
 * The real synthesized command state machine, run by local mode's runner against real dynalite
 * (and s3rver), with the RunTask worker replaceable (the fake worker in fixtures/, or the real
 * one). Shared by test/state-machine and the local-mode integration tests.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { startAwsEndpoint, type AwsEndpoint } from '../../local/aws-endpoint.ts';
import { localAwsEnv, passthroughEnv } from '../../local/env.ts';
import { LocalEventBus, type BusEvent } from '../../local/event-bus.ts';
import {
  LOCAL_CREDENTIALS,
  LOCAL_NAMES,
  LOCAL_REGION,
  startDataServices,
  type DataServices,
} from '../../local/services.ts';
import { renderDefinition } from '../../local/definition.ts';
import { LOCAL_RESOURCE_DEFAULTS, stateMachineArnFor } from '../../local/render.ts';
import { LocalStepFunctions } from '../../local/step-functions.ts';
import type { WorkerCommand } from '../../local/worker-supervisor.ts';
import { TASK_TIMEOUT_ALLOWANCE_SECONDS } from '../../core/constants.ts';
import type { ExecutionInput } from '../../core/types.ts';
import { buildCommandItem, buildExecutionInput } from '../../core/api/command-item.ts';
import { parseFfmpegCommand } from '../../core/command/index.ts';

export const FAKE_WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'fake-worker.mjs');
export const fakeWorker: WorkerCommand = { command: process.execPath, args: [FAKE_WORKER] };

export const NAMES = { ...LOCAL_NAMES, ...LOCAL_RESOURCE_DEFAULTS };
export const ACCOUNT = 'acct-test';

let renderedAsl: unknown;
/** The ASL of the stack, synthesized once per test file. */
export async function renderedDefinition(): Promise<unknown> {
  renderedAsl ??= await renderDefinition(NAMES);
  return renderedAsl;
}

export interface Harness {
  dataDir: string;
  services: DataServices;
  bus: LocalEventBus;
  events: BusEvent[];
  runner: LocalStepFunctions;
  endpoint: AwsEndpoint;
  sfn: SFNClient;
  putCommand(commandId: string, extra?: Record<string, unknown>): Promise<void>;
  getCommand(commandId: string): Promise<Record<string, any> | undefined>;
  executionInput(commandId: string, over?: Partial<ExecutionInput>): ExecutionInput;
  /** StartExecution through the runner's API and wait for the end. */
  run(commandId: string, over?: Partial<ExecutionInput>): ReturnType<LocalStepFunctions['waitForExecution']>;
  eventsFile(): Promise<BusEvent[]>;
  stop(): Promise<void>;
}

export async function startHarness(
  opts: {
    worker?: WorkerCommand;
    heartbeatTimeoutSeconds?: number;
    maxConcurrency?: number;
    /** Local mode's per-account cap in its fair queue. */
    maxRunningPerAccount?: number;
    /** Run the per-account slot states (off in local mode). */
    accountSlots?: boolean;
    /** Another definition than the rendered stack's (a test's variant of it). */
    definition?: unknown;
    workerLog?: (line: string) => void;
    lastWarmIdleMs?: number;
  } = {},
): Promise<Harness> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'ffaas-sm-'));
  const services = await startDataServices({ dataDir });
  const bus = new LocalEventBus(NAMES.eventBusName, path.join(dataDir, 'events.jsonl'));
  const events: BusEvent[] = [];
  bus.on('event', (e: BusEvent) => events.push(e));
  const stateMachineArn = stateMachineArnFor(NAMES.stateMachineName);
  let endpointUrl = '';
  const runner = new LocalStepFunctions({
    definition: opts.definition ?? (await renderedDefinition()),
    stateMachineArn,
    dynamodb: services.dynamodb,
    bus,
    worker: opts.worker ?? fakeWorker,
    maxConcurrency: opts.maxConcurrency ?? 4,
    maxRunningPerAccount: opts.maxRunningPerAccount,
    accountSlots: opts.accountSlots,
    heartbeatTimeoutSeconds: opts.heartbeatTimeoutSeconds,
    lastWarmIdleMs: opts.lastWarmIdleMs,
    workerLog: opts.workerLog ?? (() => undefined),
    workerEnv: () => ({
      ...passthroughEnv(),
      ...localAwsEnv({
        endpoints: {
          dynamodb: services.dynamodbEndpoint,
          s3: services.s3Endpoint,
          sfn: endpointUrl,
          eventbridge: endpointUrl,
        },
        names: LOCAL_NAMES,
        stateMachineArn,
        eventBusName: NAMES.eventBusName,
        allowPrivateUrls: true,
        dataDir,
      }),
      FFAAS_WORK_DIR: path.join(dataDir, 'work'),
    }),
  });
  const endpoint = await startAwsEndpoint({
    sfn: runner,
    events: { PutEvents: (req) => bus.putEvents((req.Entries ?? []) as never) },
  });
  endpointUrl = endpoint.url;
  const sfn = new SFNClient({ endpoint: endpoint.url, region: LOCAL_REGION, credentials: { ...LOCAL_CREDENTIALS } });

  const executionInput = (commandId: string, over: Partial<ExecutionInput> = {}): ExecutionInput => ({
    account_id: ACCOUNT,
    command_id: commandId,
    compute: 'cpu',
    task_cpu: '2048',
    task_memory: '4096',
    task_ephemeral_storage_gib: 21,
    task_workspace_max_bytes: String(15 * 1024 ** 3),
    task_timeout_seconds: 60 + TASK_TIMEOUT_ALLOWANCE_SECONDS,
    ...over,
  });

  return {
    dataDir,
    services,
    bus,
    events,
    runner,
    endpoint,
    sfn,
    executionInput,
    async putCommand(commandId, extra = {}) {
      const now = new Date().toISOString();
      await services.dynamodb.send(
        new PutItemCommand({
          TableName: LOCAL_NAMES.tables.commands,
          Item: marshall(
            {
              account_id: ACCOUNT,
              command_id: commandId,
              status: 'QUEUED',
              command_type: 'FFMPEG_COMMAND',
              created_at: now,
              pending: 'QUEUED',
              max_command_run_seconds: 60,
              compute: 'cpu',
              vcpu_count: 2,
              original_request: { input_files: {}, output_files: {}, ffmpeg_command: 'ffmpeg -version' },
              plan: { inputs: [], outputs: [], commands: [] },
              ...extra,
            },
            { removeUndefinedValues: true },
          ),
        }),
      );
    },
    async getCommand(commandId) {
      const out = await services.dynamodb.send(
        new GetItemCommand({
          TableName: LOCAL_NAMES.tables.commands,
          Key: marshall({ account_id: ACCOUNT, command_id: commandId }),
          ConsistentRead: true,
        }),
      );
      return out.Item ? unmarshall(out.Item) : undefined;
    },
    async run(commandId, over) {
      runner.StartExecution({
        stateMachineArn,
        name: commandId,
        input: JSON.stringify(executionInput(commandId, over)),
      });
      return runner.waitForExecution(commandId);
    },
    async eventsFile() {
      await bus.flush();
      const text = await readFile(path.join(dataDir, 'events.jsonl'), 'utf8').catch(() => '');
      return text
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as BusEvent);
    },
    async stop() {
      sfn.destroy();
      await runner.stop();
      await endpoint.close();
      await services.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Records a RenderIO-shaped command as the submit handler would (parsed, planned, put) and
 * starts its execution on the harness's runner; returns its id.
 */
export async function submitCommand(
  h: Harness,
  request: {
    input_files: Record<string, string>;
    output_files: Record<string, string>;
    ffmpeg_command: string;
    max_command_run_seconds?: number;
  },
): Promise<string> {
  const commandId = crypto.randomUUID();
  const parsed = parseFfmpegCommand({
    commands: [request.ffmpeg_command],
    inputFiles: request.input_files,
    outputFiles: request.output_files,
    gpuAvailable: false,
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.violations));
  const item = buildCommandItem({
    accountId: ACCOUNT,
    commandId,
    commandType: 'FFMPEG_COMMAND',
    request,
    parsed,
    now: new Date(),
  });
  await h.services.dynamodb.send(
    new PutItemCommand({
      TableName: NAMES.tables.commands,
      Item: marshall(item, { removeUndefinedValues: true }),
    }),
  );
  h.runner.StartExecution({
    stateMachineArn: h.runner.stateMachineArn,
    name: commandId,
    input: JSON.stringify(buildExecutionInput(item)),
  });
  return commandId;
}
