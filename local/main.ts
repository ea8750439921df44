/**
 * `npm start`: the whole service on one machine.
 *   dynalite + s3rver (state under $FFAAS_DATA_DIR, default ./.ffaas)
 *   → the local Step Functions / EventBridge endpoint and the state machine runner
 *   → restart recovery (lost PROCESSING → WORKER_LOST, QUEUED → started again)
 *   → the API on http://127.0.0.1:$PORT (default 8080; 0 picks a free port)
 * Prints `ffaas listening on <url>` (a spawner reads the port from it), where the data lives,
 * how to create a key and how long the start took. SIGINT/SIGTERM stop it cleanly.
 *
 * `startLocalFfaas()` does the same in-process, for tests. The handlers read their
 * configuration from process.env, which this sets: one instance per process.
 */
import { spawnSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ENV } from '../core/constants.ts';
import { startAwsEndpoint, type AwsEndpoint } from './aws-endpoint.ts';
import { localAwsEnv, passthroughEnv, type LocalEndpoints } from './env.ts';
import { LocalEventBus } from './event-bus.ts';
import { startHttpServer, type LocalHttpServer } from './http-server.ts';
import { bundledWorkerCommand } from './worker-bundle.ts';
import { failLostCommands, restartQueuedCommands, scheduleReconciler } from './recovery.ts';
import { startWebhookDelivery } from './webhook-delivery.ts';
import {
  LOCAL_CREDENTIALS,
  LOCAL_NAMES,
  LOCAL_REGION,
  readLiveEndpoints,
  removeEndpointsFile,
  resolveDataDir,
  startDataServices,
  writeEndpointsFile,
  type DataServices,
  type EndpointsFile,
} from './services.ts';
import {
  LOCAL_RESOURCE_DEFAULTS,
  LocalStepFunctions,
  loadDefinition,
  stateMachineArnFor,
  type WorkerCommand,
} from './state-machine.ts';
import { envFlag } from '../core/env.ts';

export interface LocalFfaasOptions {
  /** HTTP port; 0 picks a free one. @default $PORT or 8080 */
  port?: number;
  /** @default $FFAAS_DATA_DIR or ./.ffaas */
  dataDir?: string;
  /** Accept loopback/private/link-local URLs (inputs, store-file, webhooks). @default $FFAAS_ALLOW_PRIVATE_URLS */
  allowPrivateUrls?: boolean;
  /** Executions running at once; more wait in FIFO order. @default $FFAAS_MAX_CONCURRENCY or the CPU count */
  maxConcurrency?: number;
  /** Overrides the state machine's HeartbeatSeconds (tests). */
  heartbeatTimeoutSeconds?: number;
  /** How often the reconciler runs. @default 60 s */
  reconcileIntervalMs?: number;
  /** The RunTask worker command (tests: a fake worker). @default the worker's esbuild bundle (local/worker-bundle.ts) */
  worker?: WorkerCommand;
  /** Where log lines go. @default stderr */
  log?: (line: string) => void;
  /** Where worker output goes. @default log, prefixed with the command id */
  workerLog?: (line: string, info: { commandId?: string; stream: 'stdout' | 'stderr' }) => void;
}

export interface LocalFfaas {
  /** Base URL of the API, e.g. http://127.0.0.1:8080 (routes under /api/v1 and /v1). */
  url: string;
  dataDir: string;
  endpoints: EndpointsFile;
  runner: LocalStepFunctions;
  bus: LocalEventBus;
  /** Milliseconds from the call to listening. */
  startupMs: number;
  /** Whether the state machine definition came from the data dir's cache (else synthesized). */
  definitionFromCache: boolean;
  stop(): Promise<void>;
}

function intFromEnv(name: string): number | undefined {
  const v = process.env[name];
  if (v === undefined || v.trim() === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${v}"`);
  return n;
}

export async function startLocalFfaas(options: LocalFfaasOptions = {}): Promise<LocalFfaas> {
  const t0 = performance.now();
  const log = options.log ?? ((line: string) => console.error(line));
  const dataDir = resolveDataDir(options.dataDir);
  const port = options.port ?? intFromEnv(ENV.PORT) ?? 8080;
  const allowPrivateUrls = options.allowPrivateUrls ?? envFlag(process.env[ENV.ALLOW_PRIVATE_URLS]);
  const maxConcurrency = options.maxConcurrency ?? intFromEnv('FFAAS_MAX_CONCURRENCY') ?? os.cpus().length;

  const live = await readLiveEndpoints(dataDir);
  if (live && live.pid !== process.pid) {
    throw new Error(`another ffaas (pid ${live.pid}) is running on ${dataDir}${live.url ? ` at ${live.url}` : ''}; stop it or set ${ENV.DATA_DIR}`);
  }

  const cleanups: (() => Promise<void> | void)[] = [];
  const cleanup = async () => {
    for (const fn of cleanups.splice(0).reverse()) {
      try {
        await fn();
      } catch (err) {
        log(`shutdown: ${(err as Error).message}`);
      }
    }
  };

  try {
    const services: DataServices = await startDataServices({ dataDir });
    await mkdir(path.join(dataDir, 'work'), { recursive: true });
    cleanups.push(() => services.stop());

    const names = { ...LOCAL_NAMES, ...LOCAL_RESOURCE_DEFAULTS };
    const bus = new LocalEventBus(names.eventBusName, path.join(dataDir, 'events.jsonl'));
    const [{ asl, fromCache }, worker] = await Promise.all([
      loadDefinition({ names, cacheDir: dataDir }),
      options.worker ?? bundledWorkerCommand(dataDir),
    ]);
    const stateMachineArn = stateMachineArnFor(names.stateMachineName);

    let endpoints: LocalEndpoints | undefined;
    const handlerEnv = () =>
      localAwsEnv({ endpoints: endpoints!, names: LOCAL_NAMES, stateMachineArn, eventBusName: names.eventBusName, allowPrivateUrls, dataDir });
    const workerLog =
      options.workerLog ?? ((line: string, info: { commandId?: string }) => log(`[worker ${info.commandId?.slice(0, 8) ?? '?'}] ${line}`));
    const runner = new LocalStepFunctions({
      definition: asl,
      stateMachineArn,
      dynamodb: services.dynamodb,
      bus,
      maxConcurrency,
      heartbeatTimeoutSeconds: options.heartbeatTimeoutSeconds,
      worker,
      workerLog,
      workerEnv: () => ({ ...passthroughEnv(), ...handlerEnv(), [ENV.WORK_DIR]: path.join(dataDir, 'work') }),
    });
    cleanups.push(() => runner.stop());

    const aws: AwsEndpoint = await startAwsEndpoint({
      sfn: runner,
      events: { PutEvents: (req) => bus.putEvents((req.Entries ?? []) as never) },
    });
    cleanups.push(() => aws.close());
    endpoints = { dynamodb: services.dynamodbEndpoint, s3: services.s3Endpoint, sfn: aws.url, eventbridge: aws.url };

    // The handlers (imported from here on) read their configuration and endpoints from process.env.
    Object.assign(process.env, handlerEnv());
    await resetHandlerCaches();

    // Before recovery publishes the FAILED events of lost commands: they get webhooks too.
    const webhooks = await startWebhookDelivery({ bus, log });
    cleanups.push(() => webhooks.stop());

    const lost = await failLostCommands({ dynamodb: services.dynamodb, table: LOCAL_NAMES.tables.commands, bus });
    if (lost.length > 0) log(`recovery: ${lost.length} command(s) left PROCESSING by a previous run marked FAILED (WORKER_LOST)`);
    const restarted = await restartQueuedCommands();
    if (restarted.started > 0) log(`recovery: restarted ${restarted.started} queued command(s)`);
    cleanups.push(scheduleReconciler(options.reconcileIntervalMs ?? 60_000, log));

    const http: LocalHttpServer = await startHttpServer({ port, log: () => undefined });
    cleanups.push(() => http.close());

    const content: EndpointsFile = {
      pid: process.pid,
      started_at: new Date().toISOString(),
      url: http.url,
      region: LOCAL_REGION,
      credentials: { ...LOCAL_CREDENTIALS },
      endpoints,
      tables: { ...LOCAL_NAMES.tables },
      bucket: LOCAL_NAMES.bucket,
      state_machine_arn: stateMachineArn,
      event_bus_name: names.eventBusName,
    };
    await writeEndpointsFile(dataDir, content);
    cleanups.push(() => removeEndpointsFile(dataDir));

    const startupMs = Math.round(performance.now() - t0);
    void http.warm();
    let stopping: Promise<void> | undefined;
    return {
      url: http.url,
      dataDir,
      endpoints: content,
      runner,
      bus,
      startupMs,
      definitionFromCache: fromCache,
      stop: () => (stopping ??= cleanup()),
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/**
 * Handlers keep SDK clients and configuration per "container" (module state). A second start
 * in the same process (tests) has new endpoints: drop what the previous one cached.
 */
async function resetHandlerCaches(): Promise<void> {
  const deps = await import('../lambdas/shared/deps.ts');
  deps.resetDeps(); // repositories, SDK clients and configuration
}

function ffmpegMissing(): string | null {
  for (const tool of ['ffmpeg', 'ffprobe']) {
    if (spawnSync(tool, ['-version'], { stdio: 'ignore' }).status !== 0) {
      return `${tool} not found: install it with \`sudo apt-get install -y ffmpeg\` (macOS: \`brew install ffmpeg\`)`;
    }
  }
  return null;
}

async function main(): Promise<void> {
  const missing = ffmpegMissing();
  if (missing) {
    console.error(missing);
    process.exit(1);
  }
  let app: LocalFfaas;
  try {
    app = await startLocalFfaas();
  } catch (err) {
    console.error(`ffaas could not start: ${(err as Error).message}`);
    process.exit(1);
  }
  console.log(`ffaas listening on ${app.url}`);
  console.log(`  API:       ${app.url}/api/v1 (also ${app.url}/v1)`);
  console.log(`  data:      ${app.dataDir} (dynamodb/, s3/, events.jsonl)`);
  console.log(`  API key:   npx ffaas keys create --name me`);
  console.log(`  workers:   up to ${app.runner.maxConcurrency} at once`);
  console.log(`  started in ${app.startupMs} ms${app.definitionFromCache ? ' (state machine from cache)' : ' (state machine synthesized)'}`);

  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      console.error('forced exit');
      process.exit(1);
    }
    console.error(`${sig}: stopping (running commands are abandoned; they are marked WORKER_LOST on the next start)`);
    app.stop().then(
      () => process.exit(0),
      (err) => {
        console.error(`stop failed: ${(err as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  void main();
}
