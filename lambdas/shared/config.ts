/** The handlers' configuration, read from the environment (names in ENV) once per container. */
import { ENV, LIMITS } from '../../core/constants.ts';
import { retentionDays } from '../../core/api/files.ts';
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
