/**
 * What the handlers use, created once per container on first use (clients from the
 * environment, table names from the config). Tests replace pieces with aws-sdk-client-mock
 * on the client classes and call resetDeps() after changing the environment.
 */
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { config, required, resetConfig } from './config.ts';
import { documentClient, kmsClient, resetClients, s3Client, sfnClient } from '../../store/clients.ts';
import { CommandRepository } from '../../store/command-repository.ts';
import { ApiKeyRepository } from '../../store/api-key-repository.ts';
import { ExecutionStarter } from './execution-starter.ts';
import { FileRepository } from '../../store/file-repository.ts';
import { PresetRepository } from '../../store/preset-repository.ts';
import { FileIngestStarter } from './file-ingest-starter.ts';
import { DeliveryRepository, WebhookConfigRepository } from '../../store/webhook-repository.ts';
import { KmsSecretBox, LocalSecretBox, PlainSecretBox, localKey, type SecretBox } from './secret-box.ts';
import path from 'node:path';
import { resetUrlSecret } from './downloads.ts';

let commands: CommandRepository | undefined;
let apiKeys: ApiKeyRepository | undefined;
let executions: ExecutionStarter | undefined;
let files: FileRepository | undefined;
let presets: PresetRepository | undefined;
let ingest: FileIngestStarter | undefined;

export function fileRepository(): FileRepository {
  files ??= new FileRepository(documentClient(), required('filesTable'));
  return files;
}

export function presetRepository(): PresetRepository {
  presets ??= new PresetRepository(documentClient(), required('presetsTable'));
  return presets;
}

export function fileIngestStarter(): FileIngestStarter {
  ingest ??= new FileIngestStarter(sfnClient(), required('fileIngestStateMachineArn'));
  return ingest;
}

/** The bucket and, in local mode, the S3 endpoint's host: how storage URLs are recognised. */
export function bucketLocation(): { bucket: string; endpointHost?: string } {
  const endpoint = process.env.AWS_ENDPOINT_URL_S3;
  let endpointHost: string | undefined;
  try {
    endpointHost = endpoint ? new URL(endpoint).host : undefined;
  } catch {
    endpointHost = undefined;
  }
  return { bucket: required('bucket'), ...(endpointHost ? { endpointHost } : {}) };
}

let webhookConfigs: WebhookConfigRepository | undefined;
let deliveries: DeliveryRepository | undefined;
let secrets: SecretBox | undefined;

/** KMS on AWS, the data dir's key in local mode (lambdas/common/secret-box.ts). */
export function secretBox(): SecretBox {
  const { webhookKmsKeyId, dataDir } = config();
  secrets ??= webhookKmsKeyId
    ? new KmsSecretBox(kmsClient(), webhookKmsKeyId)
    : dataDir
      ? new LocalSecretBox(localKey(path.join(dataDir, 'webhook-secrets.key')))
      : new PlainSecretBox();
  return secrets;
}

export function webhookConfigRepository(): WebhookConfigRepository {
  webhookConfigs ??= new WebhookConfigRepository(documentClient(), required('accountsTable'));
  return webhookConfigs;
}

export function deliveryRepository(): DeliveryRepository {
  deliveries ??= new DeliveryRepository(documentClient(), required('webhookDeliveriesTable'));
  return deliveries;
}

export function commandRepository(): CommandRepository {
  commands ??= new CommandRepository(documentClient(), required('commandsTable'));
  return commands;
}

export function apiKeyRepository(): ApiKeyRepository {
  apiKeys ??= new ApiKeyRepository(documentClient(), {
    apiKeys: required('apiKeysTable'),
    accounts: required('accountsTable'),
  });
  return apiKeys;
}

export function executionStarter(): ExecutionStarter {
  executions ??= new ExecutionStarter(sfnClient(), required('stateMachineArn'));
  return executions;
}

/** A presigned GET URL of an object in the service's bucket, valid for the configured time. */
export async function signGetUrl(key: string, fileName?: string): Promise<string> {
  const command = new GetObjectCommand({
    Bucket: required('bucket'),
    Key: key,
    ...(fileName ? { ResponseContentDisposition: `attachment; filename="${fileName.replace(/["\\]/g, '_')}"` } : {}),
  });
  return getSignedUrl(s3Client(), command, { expiresIn: config().signedUrlSeconds });
}

export function resetDeps(): void {
  commands = undefined;
  apiKeys = undefined;
  executions = undefined;
  files = undefined;
  presets = undefined;
  ingest = undefined;
  webhookConfigs = undefined;
  deliveries = undefined;
  secrets = undefined;
  resetUrlSecret();
  resetConfig();
  resetClients();
}
