/**
 * The environment handlers and the worker see in local mode: the same variable names as on AWS
 * (ENV.*) with local resource names, plus AWS_ENDPOINT_URL_* so their unchanged SDK clients talk
 * to dynalite, s3rver and the local Step Functions / EventBridge endpoint.
 */
import { ENV } from '../core/constants.ts';
import { CONTROL_ENV } from '../core/control/settings.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION, type LocalNames } from './services.ts';

export interface LocalEndpoints {
  dynamodb: string;
  s3: string;
  /** The local endpoint (local/aws-endpoint.ts) serves both. */
  sfn: string;
  eventbridge: string;
}

export interface LocalEnvOptions {
  endpoints: LocalEndpoints;
  names: LocalNames;
  stateMachineArn: string;
  eventBusName: string;
  allowPrivateUrls: boolean;
  dataDir: string;
  /** ARN the API starts file ingests with (local/file-ingest.ts serves it). */
  fileIngestStateMachineArn?: string;
  /** Days commands and files are kept (FFAAS_RETENTION_DAYS, passed on when set). */
  retentionDays?: string;
}

export function localAwsEnv(opts: LocalEnvOptions): Record<string, string> {
  return {
    AWS_REGION: LOCAL_REGION,
    AWS_DEFAULT_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    // No instance metadata lookups, no shared config files overriding the endpoints.
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ENDPOINT_URL_DYNAMODB: opts.endpoints.dynamodb,
    AWS_ENDPOINT_URL_S3: opts.endpoints.s3,
    AWS_ENDPOINT_URL_SFN: opts.endpoints.sfn,
    AWS_ENDPOINT_URL_EVENTBRIDGE: opts.endpoints.eventbridge,
    [ENV.COMMANDS_TABLE]: opts.names.tables.commands,
    [ENV.API_KEYS_TABLE]: opts.names.tables.apiKeys,
    [ENV.ACCOUNTS_TABLE]: opts.names.tables.accounts,
    [ENV.WEBHOOK_DELIVERIES_TABLE]: opts.names.tables.webhookDeliveries,
    [CONTROL_ENV.IDEMPOTENCY_TABLE]: opts.names.tables.idempotency,
    [ENV.BUCKET]: opts.names.bucket,
    [ENV.STATE_MACHINE_ARN]: opts.stateMachineArn,
    [ENV.EVENT_BUS_NAME]: opts.eventBusName,
    // Local mode has no GPU workers: compute "gpu" / NVENC commands are refused with 422.
    [ENV.GPU_ENABLED]: 'false',
    // Every submit goes through this one process: the queued cap may use a bound kept here
    // (FFAAS_SINGLE_API_PROCESS=0 counts exactly on every submit, as on AWS).
    [CONTROL_ENV.SINGLE_API_PROCESS]: process.env[CONTROL_ENV.SINGLE_API_PROCESS] === '0' ? '0' : '1',
    [ENV.ALLOW_PRIVATE_URLS]: opts.allowPrivateUrls ? '1' : '0',
    [ENV.DATA_DIR]: opts.dataDir,
    [ENV.FILES_TABLE]: opts.names.tables.files,
    [ENV.PRESETS_TABLE]: opts.names.tables.presets,
    ...(opts.fileIngestStateMachineArn ? { [ENV.FILE_INGEST_STATE_MACHINE_ARN]: opts.fileIngestStateMachineArn } : {}),
    ...(opts.retentionDays ? { [ENV.RETENTION_DAYS]: opts.retentionDays } : {}),
  };
}

/** Variables of the parent's environment a child process needs to run at all. */
export function passthroughEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of [
    'PATH',
    'HOME',
    'TMPDIR',
    'TZ',
    'LANG',
    'LC_ALL',
    'SYSTEMROOT',
    'NODE_EXTRA_CA_CERTS',
    // V8's compile cache (`npm start` sets it): a worker's start skips compiling its bundle.
    'NODE_COMPILE_CACHE',
    // The worker's own settings (fargate-task/src/config.ts WORKER_ENV).
    'FFAAS_DOWNLOAD_TIMEOUT_SECONDS',
  ]) {
    const v = process.env[name];
    if (v !== undefined) out[name] = v;
  }
  return out;
}
