/**
 * Worker entry point (the container's ENTRYPOINT; in local mode `tsx fargate-task/src/main.ts`).
 *
 * Environment (names in core/constants.ts ENV and config.ts WORKER_ENV):
 *   required  FFAAS_COMMANDS_TABLE, FFAAS_BUCKET, FFAAS_COMMAND_ID, FFAAS_ACCOUNT_ID, FFAAS_TASK_TOKEN
 *   optional  FFAAS_WORK_DIR (default os.tmpdir()), FFAAS_ALLOW_PRIVATE_URLS=1,
 *             FFAAS_FFMPEG_PATH / FFAAS_FFPROBE_PATH (default: found on PATH),
 *             FFAAS_FFMPEG_UID / FFAAS_FFMPEG_GID (run ffmpeg/ffprobe as that user),
 *             FFAAS_MAX_INPUT_BYTES, and the SDK's own (AWS_REGION, AWS_ENDPOINT_URL_DYNAMODB,
 *             AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_SFN, credentials).
 * Exit code: 0 once the result or the failure was reported to Step Functions; 1 when even
 * reporting failed; 2 when the environment is unusable (nothing can be reported).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { ENV, LIMITS } from '../../core/constants.ts';
import { envFlag } from '../../core/env.ts';
import { documentClientFor } from '../../store/clients.ts';
import { workerDynamoClient, workerS3Client } from './clients.ts';
import { DEFAULTS, resolveExecutable, WORKER_ENV } from './config.ts';
import { readWorkerConfig } from './config.ts';
import { parseIngestInput, runIngest } from './ingest.ts';
import { createLogger } from './log.ts';
import { keepWasmAtBaselineTier } from './memory.ts';
import { runCommand } from './run-command.ts';

/**
 * FFAAS_TASK_KIND=ingest: the file ingest task (ingest.ts). Environment: FFAAS_INGEST_INPUT
 * (JSON), FFAAS_FILES_TABLE, FFAAS_BUCKET, and the optional ones above. Exit 0 when the file's
 * outcome is recorded (STORED, FAILED or nothing to do), 1 on an unexpected error (the state
 * machine then marks the file FAILED), 2 when the environment is unusable.
 */
async function ingestMain(): Promise<number> {
  const log = createLogger({ task: 'ingest' });
  const input = parseIngestInput(process.env[ENV.INGEST_INPUT]);
  const filesTable = process.env[ENV.FILES_TABLE];
  const bucket = process.env[ENV.BUCKET];
  if (!input || !filesTable || !bucket) {
    log.error('ingest not started', { reason: `needs ${ENV.INGEST_INPUT}, ${ENV.FILES_TABLE} and ${ENV.BUCKET}` });
    return 2;
  }
  const ddb = documentClientFor(workerDynamoClient());
  const s3 = workerS3Client();
  const id = (v: string | undefined) => (v === undefined || v.trim() === '' ? undefined : Number(v));
  try {
    const outcome = await runIngest(
      {
        ddb,
        s3,
        filesTable,
        bucket,
        workDir: process.env[ENV.WORK_DIR] || (await import('node:os')).tmpdir(),
        allowPrivateUrls: envFlag(process.env[ENV.ALLOW_PRIVATE_URLS]),
        ffprobePath: resolveExecutable(process.env[ENV.FFPROBE_PATH] || 'ffprobe', process.env.PATH),
        ffmpegUid: id(process.env[WORKER_ENV.FFMPEG_UID]),
        ffmpegGid: id(process.env[WORKER_ENV.FFMPEG_GID]),
        probeTimeoutMs: DEFAULTS.probeTimeoutMs,
        maxBytes: LIMITS.maxStoredFileBytes,
        log,
      },
      input,
    );
    log.info('ingest done', { outcome });
    return 0;
  } catch (err) {
    log.error('ingest failed', {
      error: (err as { name?: string })?.name ?? 'Error',
      message: (err as Error)?.message,
    });
    return 1;
  } finally {
    ddb.destroy();
    s3.destroy();
  }
}

/** One command from `env` (the container's environment), start to finish; the exit code. */
async function runOnce(env: NodeJS.ProcessEnv, stop: AbortSignal, reuseClients = false): Promise<number> {
  if (env[ENV.TASK_KIND] === 'ingest') return ingestMain();
  const parsed = readWorkerConfig(env);
  if (!parsed.ok) {
    createLogger().error('worker not started', { reason: parsed.message });
    return 2;
  }
  const config = parsed.config;
  const log = createLogger({ command_id: config.commandId });
  const clients = reuseClients ? warmClientsFor(env) : newClients(env);
  const onStop = () => log.warn('stop signal received');
  stop.addEventListener('abort', onStop, { once: true });
  try {
    const outcome = await runCommand({ ddb: clients.ddb, s3: clients.s3, sfn: clients.sfn, config, log, signal: stop });
    return outcome.reported ? 0 : 1;
  } finally {
    stop.removeEventListener('abort', onStop);
    if (!reuseClients) destroyClients(clients);
  }
}

interface AwsClients {
  ddb: ReturnType<typeof documentClientFor>;
  /** The document client's base client: its destroy() is a no-op, this one closes the connections. */
  ddbBase: DynamoDBClient;
  s3: S3Client;
  sfn: SFNClient;
}

/** The worker's AWS clients, configured from the environment (the SDK reads AWS_* itself). */
function newClients(env: NodeJS.ProcessEnv): AwsClients {
  const ddbBase = workerDynamoClient();
  return {
    ddb: documentClientFor(ddbBase),
    ddbBase,
    s3: workerS3Client(env),
    sfn: new SFNClient({}),
  };
}

function destroyClients(c: AwsClients): void {
  c.ddbBase.destroy();
  c.s3.destroy();
  c.sfn.destroy();
}

/**
 * A warm worker's clients live from one command to the next while the AWS_* environment that
 * configured them is the same: each command saves building three clients (credential and
 * endpoint resolution) and keeps its connections to the endpoints open. Measured in local mode
 * on one-frame commands (bench/worker-focus.ts frames), that was a large share of the worker's
 * own CPU per command. A per-command process (the ECS task) builds and destroys its own.
 */
let warmClients: { key: string; clients: AwsClients } | undefined;

function warmClientsFor(env: NodeJS.ProcessEnv): AwsClients {
  const key = JSON.stringify(
    Object.entries(env)
      .filter(([k]) => k.startsWith('AWS_'))
      .sort(([a], [b]) => (a < b ? -1 : 1)),
  );
  if (warmClients?.key !== key) {
    if (warmClients) destroyClients(warmClients.clients);
    warmClients = { key, clients: newClients(env) };
  }
  return warmClients.clients;
}

/** ECS stops a task with SIGTERM (then SIGKILL after stopTimeout): end FFmpeg, report, exit. */
function stopOnSignal(): AbortController {
  const stop = new AbortController();
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => stop.abort());
  return stop;
}

/**
 * Local mode's warm worker (FFAAS_WORKER_WARM=1, started by local/worker-supervisor.ts with an
 * IPC channel): the bundle is loaded before a command exists, so a command does not wait for a
 * Node start. It takes one command at a time ({ type: 'run', env }: the exact environment a
 * per-command worker would have had), runs it as above and answers { type: 'done', code }. A
 * stop signal ends the command in hand and then the process; the supervisor kills the whole
 * process group (this worker and its FFmpeg) for a timeout or a cancel, never reuses it.
 */
function warmMain(): void {
  const stop = stopOnSignal();
  let busy = false;
  stop.signal.addEventListener('abort', () => {
    if (!busy) process.exit(0);
  });
  process.on('disconnect', () => {
    if (!busy) process.exit(0);
    stop.abort();
  });
  process.on('message', (msg: { type?: string; env?: Record<string, string> }) => {
    if (msg?.type !== 'run' || !msg.env || busy) return;
    busy = true;
    // The command's environment replaces the process's, as a fresh process would have it.
    for (const k of Object.keys(process.env)) delete process.env[k];
    Object.assign(process.env, msg.env);
    runOnce(process.env, stop.signal, true)
      .catch((err: unknown) => {
        createLogger().error('worker crashed', { error: (err as { name?: string })?.name ?? 'Error' });
        return 1;
      })
      .then((code) => {
        busy = false;
        if (stop.signal.aborted || !process.connected) process.exit(code);
        process.send!({ type: 'done', code });
      });
  });
  process.send!({ type: 'ready' });
}

keepWasmAtBaselineTier();
if (process.env.FFAAS_WORKER_WARM === '1' && typeof process.send === 'function') {
  warmMain();
} else {
  runOnce(process.env, stopOnSignal().signal).then(
    (code) => process.exit(code),
    (err: unknown) => {
      createLogger().error('worker crashed', { error: (err as { name?: string })?.name ?? 'Error' });
      process.exit(1);
    },
  );
}
