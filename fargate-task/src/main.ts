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
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { documentClientFor } from '../../store/clients.ts';
import { readWorkerConfig } from './config.ts';
import { createLogger } from './log.ts';
import { runCommand } from './run-command.ts';

async function main(): Promise<number> {
  const parsed = readWorkerConfig(process.env);
  if (!parsed.ok) {
    createLogger().error('worker not started', { reason: parsed.message });
    return 2;
  }
  const config = parsed.config;
  const log = createLogger({ command_id: config.commandId });
  const ddb = documentClientFor(new DynamoDBClient({}));
  const s3 = new S3Client({ forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL_S3) });
  const sfn = new SFNClient({});

  // ECS stops a task with SIGTERM (then SIGKILL after stopTimeout): end FFmpeg, report, exit.
  const stop = new AbortController();
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.once(sig, () => {
      log.warn('stop signal received', { signal: sig });
      stop.abort();
    });
  }

  const outcome = await runCommand({ ddb, s3, sfn, config, log, signal: stop.signal });
  ddb.destroy();
  s3.destroy();
  sfn.destroy();
  return outcome.reported ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    createLogger().error('worker crashed', { error: (err as { name?: string })?.name ?? 'Error' });
    process.exit(1);
  },
);
