/** The handlers' configuration, read from the environment (names in ENV) once per container. */
import { ENV, LIMITS } from '../../core/constants.ts';
import { retentionDays } from '../../core/api/files.ts';
import { webhookSettings, type WebhookSettings } from '../../core/webhooks/schedule.ts';
import { envFlag } from '../../core/env.ts';
import { CONTROL_ENV } from '../../core/control/settings.ts';

export interface Config {
  commandsTable: string;
  apiKeysTable: string;
  accountsTable: string;
  idempotencyTable: string;
  bucket: string;
  stateMachineArn: string;
  eventBusName: string;
  gpuEnabled: boolean;
  allowPrivateUrls: boolean;
  signedUrlSeconds: number;
  filesTable: string;
  presetsTable: string;
  fileIngestStateMachineArn: string;
  /** Days commands, outputs and files are kept (FFAAS_RETENTION_DAYS). */
  retentionDays: number;
  webhookDeliveriesTable: string;
  /** AWS only: the retry queue and the dead-letter queue of webhook deliveries (empty in local mode). */
  webhookQueueUrl: string;
  webhookDlqUrl: string;
  /** AWS: the KMS key of webhook secrets. */
  webhookKmsKeyId: string;
  /** Local mode: the data dir (holds the webhook secrets key file). */
  dataDir: string;
  webhooks: WebhookSettings;
}

/** Read the environment now (tests call this after setting process.env). */
export function readConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const seconds = Number(env[ENV.SIGNED_URL_SECONDS]);
  return {
    commandsTable: env[ENV.COMMANDS_TABLE] ?? '',
    apiKeysTable: env[ENV.API_KEYS_TABLE] ?? '',
    accountsTable: env[ENV.ACCOUNTS_TABLE] ?? '',
    idempotencyTable: env[CONTROL_ENV.IDEMPOTENCY_TABLE] ?? '',
    bucket: env[ENV.BUCKET] ?? '',
    stateMachineArn: env[ENV.STATE_MACHINE_ARN] ?? '',
    eventBusName: env[ENV.EVENT_BUS_NAME] ?? '',
    gpuEnabled: envFlag(env[ENV.GPU_ENABLED]),
    allowPrivateUrls: envFlag(env[ENV.ALLOW_PRIVATE_URLS]),
    signedUrlSeconds: Number.isInteger(seconds) && seconds > 0 ? seconds : LIMITS.signedUrlSeconds,
    filesTable: env[ENV.FILES_TABLE] ?? '',
    presetsTable: env[ENV.PRESETS_TABLE] ?? '',
    fileIngestStateMachineArn: env[ENV.FILE_INGEST_STATE_MACHINE_ARN] ?? '',
    retentionDays: retentionDays(env[ENV.RETENTION_DAYS]),
    webhookDeliveriesTable: env[ENV.WEBHOOK_DELIVERIES_TABLE] ?? '',
    webhookQueueUrl: env[ENV.WEBHOOK_QUEUE_URL] ?? '',
    webhookDlqUrl: env[ENV.WEBHOOK_DLQ_URL] ?? '',
    webhookKmsKeyId: env[ENV.WEBHOOK_KMS_KEY_ID] ?? '',
    dataDir: env[ENV.DATA_DIR] ?? '',
    webhooks: webhookSettings({
      backoffSeconds: env[ENV.WEBHOOK_BACKOFF_SECONDS],
      backoffScale: env[ENV.WEBHOOK_BACKOFF_SCALE],
      disableAfter: env[ENV.WEBHOOK_DISABLE_AFTER],
    }),
  };
}

let cached: Config | undefined;

export function config(): Config {
  cached ??= readConfig();
  return cached;
}

/** A value the handler cannot work without; a deployment bug, so a 500 with a clear log. */
export function required(name: keyof Config): string {
  const value = config()[name];
  if (typeof value !== 'string' || value === '') throw new Error(`configuration ${name} is not set`);
  return value;
}

/** Forget the cached configuration (tests). */
export function resetConfig(): void {
  cached = undefined;
}
