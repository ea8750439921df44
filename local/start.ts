/**
 * The whole service on one machine, in this process (the composition of local mode):
 *   dynalite + s3rver (state under $FFAAS_DATA_DIR, default ./.ffaas)
 *   → the state machine's definition (cached, else synthesized in a child process) and the
 *     worker bundle
 *   → the local Step Functions / EventBridge endpoint and the state machine runner
 *   → restart recovery (lost PROCESSING → WORKER_LOST, QUEUED → started again)
 *   → the API on http://127.0.0.1:$PORT (default 8080; 0 picks a free port)
 * `npm start` (local/main.ts) and tests call startLocalFfaas(). The handlers read their
 * configuration from process.env, which this sets: one instance per process.
 */
import { readControlSettings } from '../core/control/settings.ts';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ENV } from '../core/constants.ts';
import { envFlag } from '../core/env.ts';
import { startAwsEndpoint, type AwsEndpoint, type StepFunctionsApi } from './aws-endpoint.ts';
import { LocalFileIngest, LOCAL_INGEST_STATE_MACHINE_ARN } from './file-ingest.ts';
import { scheduleSweep } from './retention.ts';
import { BUILD_CACHE_DIR } from './build-cache.ts';
import { loadDefinition } from './definition.ts';
import { localAwsEnv, passthroughEnv, type LocalEndpoints } from './env.ts';
import { LocalEventBus } from './event-bus.ts';
import { startHttpServer, type LocalHttpServer } from './http-server.ts';
import { recoverLostCommands, restartQueuedCommands, scheduleReconciler } from './recovery.ts';
import { localSweepPorts, startLocalSweeper } from './sweeper.ts';
import { startWebhookDelivery } from './webhook-delivery.ts';
import { LOCAL_RESOURCE_DEFAULTS, stateMachineArnFor } from './render.ts';
import {
  inProcessCalls,
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
import { serveInProcess, type RequestHandler } from '../store/clients.ts';
import { inProcessRequestHandler } from './in-process-http.ts';
import { LocalStepFunctions } from './step-functions.ts';
import { bundledWorkerCommand } from './worker-bundle.ts';
import { decideLocalSandbox, type LocalSandbox } from './sandbox.ts';
import type { WorkerCommand, WorkerLog } from './worker-supervisor.ts';

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
  /**
   * On shutdown(): how long running commands may finish before the rest are stopped (and run
   * again on the next start). @default $FFAAS_SHUTDOWN_GRACE_SECONDS or 30
   */
  shutdownGraceSeconds?: number;
  /** Where log lines go. @default stderr */
  log?: (line: string) => void;
  /** Where worker output goes. @default log, prefixed with the command id */
  workerLog?: WorkerLog;
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
  /**
   * Graceful stop (SIGTERM): new work is refused (503 with Retry-After), running commands get
   * the grace period to finish, then stop() — whatever still runs is run again on the next start.
   * Resolves with how many commands were left to the next start.
   */
  shutdown(graceSeconds?: number): Promise<{ leftRunning: number }>;
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
    throw new Error(
      `another ffaas (pid ${live.pid}) is running on ${dataDir}${live.url ? ` at ${live.url}` : ''}; stop it or set ${ENV.DATA_DIR}`,
    );
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

  // The definition (a synth in a child process when not cached) and the worker bundle are the
  // slow part of a first start: they start first and run while the data services come up.
  const names = { ...LOCAL_NAMES, ...LOCAL_RESOURCE_DEFAULTS };
  await mkdir(path.join(dataDir, 'work'), { recursive: true });
  const prepared = Promise.all([
    loadDefinition({ names, cacheDir: BUILD_CACHE_DIR }),
    options.worker ?? bundledWorkerCommand(),
  ]);
  prepared.catch(() => undefined); // awaited below; a start failing before that must not leave it unhandled
  // How FFmpeg is isolated (it refuses to start when FFmpeg would run with the service's own
  // rights): its check runs bwrap + ffmpeg (~0.1-0.4 s), overlapped with the rest of the start.
  // Workers read it when they spawn; it is awaited before anything can start one.
  const sandboxDecided = decideLocalSandbox({ workDir: path.join(dataDir, 'work'), maxConcurrency });
  sandboxDecided.catch(() => undefined);
  let sandbox: LocalSandbox | undefined;

  try {
    const services: DataServices = await startDataServices({ dataDir });
    cleanups.push(() => services.stop());

    const bus = new LocalEventBus(names.eventBusName, path.join(dataDir, 'events.jsonl'));
    const [{ asl, fromCache }, worker] = await prepared;
    const stateMachineArn = stateMachineArnFor(names.stateMachineName);

    let endpoints: LocalEndpoints | undefined;
    const handlerEnv = () =>
      localAwsEnv({
        endpoints: endpoints!,
        names: LOCAL_NAMES,
        stateMachineArn,
        eventBusName: names.eventBusName,
        allowPrivateUrls,
        dataDir,
        fileIngestStateMachineArn: LOCAL_INGEST_STATE_MACHINE_ARN,
        retentionDays: process.env[ENV.RETENTION_DAYS],
      });
    const workerLog =
      options.workerLog ??
      ((line: string, info: { commandId?: string }) => log(`[worker ${info.commandId?.slice(0, 8) ?? '?'}] ${line}`));
    const runner = new LocalStepFunctions({
      definition: asl,
      validated: true, // by loadDefinition, when it rendered it
      stateMachineArn,
      dynamodb: services.dynamodb,
      bus,
      maxConcurrency,
      // Per-account cap and round-robin across accounts (FFAAS_ACCOUNT_MAX_RUNNING, docs/CONTROL.md).
      maxRunningPerAccount: readControlSettings().accountMaxRunning,
      heartbeatTimeoutSeconds: options.heartbeatTimeoutSeconds,
      worker,
      workerLog,
      // A warm worker per slot: no Node start on a command's path (local/worker-supervisor.ts).
      warmWorkers: intFromEnv('FFAAS_WARM_WORKERS') ?? maxConcurrency,
      workerEnv: () => ({
        ...passthroughEnv(),
        ...handlerEnv(),
        ...sandbox!.workerEnv,
        [ENV.WORK_DIR]: path.join(dataDir, 'work'),
        // Test hook (docs/FAILURES.md): the S3 endpoint command workers use, so a fault test can
        // put a proxy between them and storage and cut it mid-upload. Unset in normal use.
        ...(process.env.FFAAS_TEST_WORKER_S3_ENDPOINT && {
          AWS_ENDPOINT_URL_S3: process.env.FFAAS_TEST_WORKER_S3_ENDPOINT,
        }),
      }),
    });
    cleanups.push(() => runner.stop());

    // Stored files: store-file's fetch (StartExecution on the ingest ARN) and the probe of bytes
    // that land in s3rver (its ObjectCreated events), as lib/files.ts does on AWS.
    const ingest = new LocalFileIngest({
      worker,
      workerEnv: () => ({
        ...passthroughEnv(),
        ...handlerEnv(),
        ...sandbox!.workerEnv,
        [ENV.WORK_DIR]: path.join(dataDir, 'work'),
      }),
      dynamodb: services.dynamodb,
      filesTable: LOCAL_NAMES.tables.files,
      log: (line) => workerLog(line, { stream: 'stderr' }),
    });
    services.onS3Event((event) => ingest.onS3Event(event));
    cleanups.push(() => ingest.stop());
    const sfnApi: StepFunctionsApi = {
      StartExecution: (req) =>
        req.stateMachineArn === ingest.stateMachineArn ? ingest.StartExecution(req) : runner.StartExecution(req),
      DescribeExecution: (req) => runner.DescribeExecution(req),
      SendTaskSuccess: (req) => runner.SendTaskSuccess(req),
      SendTaskFailure: (req) => runner.SendTaskFailure(req),
      SendTaskHeartbeat: (req) => runner.SendTaskHeartbeat(req),
      StopExecution: (req) => runner.StopExecution(req),
    };

    const aws: AwsEndpoint = await startAwsEndpoint({
      sfn: sfnApi,
      events: { PutEvents: (req) => bus.putEvents((req.Entries ?? []) as never) },
    });
    cleanups.push(() => aws.close());
    // The submit handlers' StartExecution and PutEvents calls, without a socket (the worker's
    // SendTask* calls come over HTTP from its own process).
    if (inProcessCalls()) cleanups.push(serveInProcess(aws.url, inProcessRequestHandler(aws.server) as RequestHandler));
    endpoints = { dynamodb: services.dynamodbEndpoint, s3: services.s3Endpoint, sfn: aws.url, eventbridge: aws.url };

    // The handlers (imported from here on) read their configuration and endpoints from process.env.
    Object.assign(process.env, handlerEnv());
    // The download URL secret: the handlers only (the worker never signs or checks URLs).
    process.env[ENV.URL_SECRET] = await localUrlSecret(dataDir);
    await resetHandlerCaches();

    // Before recovery publishes the FAILED events of lost commands: they get webhooks too.
    const webhooks = await startWebhookDelivery({ bus, log });
    cleanups.push(() => webhooks.stop());

    // Executions that end outside the failure path fail their command (core/sweep.ts).
    cleanups.push(
      startLocalSweeper({
        runner,
        ports: localSweepPorts({ dynamodb: services.dynamodb, table: LOCAL_NAMES.tables.commands, bus }),
        log,
      }),
    );
    sandbox = await sandboxDecided;
    for (const line of sandbox.summary) log(line);
    if (sandbox.warning) log(`WARNING: ${sandbox.warning}`);
    const lost = await recoverLostCommands({
      dynamodb: services.dynamodb,
      table: LOCAL_NAMES.tables.commands,
      bus,
      startExecution: (input) =>
        runner.StartExecution({ stateMachineArn, name: input.command_id, input: JSON.stringify(input) }),
    });
    if (lost.resumed.length > 0)
      log(`recovery: ${lost.resumed.length} command(s) left PROCESSING by a previous run started again`);
    if (lost.failed.length > 0)
      log(`recovery: ${lost.failed.length} command(s) out of attempts marked FAILED (WORKER_LOST)`);
    const ingestsRestarted = await ingest.recover(services.s3, LOCAL_NAMES.bucket);
    if (ingestsRestarted > 0) log(`recovery: restarted the ingest of ${ingestsRestarted} file(s)`);
    const restarted = await restartQueuedCommands();
    if (restarted.started > 0) log(`recovery: restarted ${restarted.started} queued command(s)`);
    cleanups.push(scheduleReconciler(options.reconcileIntervalMs ?? 60_000, log));
    // Retention (dynalite has no TTL, s3rver no lifecycle): the same deletions, by a sweep.
    cleanups.push(
      scheduleSweep({
        dynamodb: services.dynamodb,
        s3: services.s3,
        bucket: LOCAL_NAMES.bucket,
        commandsTable: LOCAL_NAMES.tables.commands,
        filesTable: LOCAL_NAMES.tables.files,
        intervalMs: (Number(process.env.FFAAS_SWEEP_INTERVAL_SECONDS) || 3600) * 1000,
        log,
      }),
    );

    const http: LocalHttpServer = await startHttpServer({ port, log: () => undefined });
    // Download URLs minted outside a request (webhook payloads) start with the API's own origin.
    process.env[ENV.PUBLIC_URL] ??= http.url;
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
    // No worker is started ahead: an idle service holds none (each is ~80 MiB); the first command
    // starts one, kept warm while commands come (local/worker-supervisor.ts).
    let stopping: Promise<void> | undefined;
    const graceDefault = options.shutdownGraceSeconds ?? intFromEnv('FFAAS_SHUTDOWN_GRACE_SECONDS') ?? 30;
    const shutdown = async (graceSeconds = graceDefault) => {
      http.refuseNewWork(Math.max(graceSeconds, 5));
      const deadline = Date.now() + graceSeconds * 1000;
      const busy = () => {
        const s = runner.stats();
        return s.running + s.queued;
      };
      while (busy() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const leftRunning = busy();
      await (stopping ??= cleanup());
      return { leftRunning };
    };
    return {
      url: http.url,
      dataDir,
      endpoints: content,
      runner,
      bus,
      startupMs,
      definitionFromCache: fromCache,
      stop: () => (stopping ??= cleanup()),
      shutdown,
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
  const deps = await import('../lambdas/common/deps.ts');
  deps.resetDeps(); // repositories, SDK clients, configuration and the URL secret
}

/**
 * The HMAC secret of download URLs, random once and kept in the data dir (owner-only), so a
 * restart keeps the URLs it handed out valid until they expire.
 */
export async function localUrlSecret(dataDir: string): Promise<string> {
  const file = path.join(dataDir, 'url-secret');
  try {
    const existing = (await readFile(file, 'utf8')).trim();
    if (existing.length >= 32) return existing;
  } catch {
    /* first start */
  }
  const fresh = randomBytes(32).toString('base64url');
  await writeFile(file, `${fresh}\n`, { mode: 0o600 });
  return fresh;
}
