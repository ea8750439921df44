/**
 * What the handlers use, created once per container on first use (clients from the
 * environment, table names from the config). Tests replace pieces with aws-sdk-client-mock
 * on the client classes and call resetDeps() after changing the environment.
 */
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { config, required, resetConfig } from './config.ts';
import { documentClient, resetClients, s3Client, sfnClient } from '../../store/clients.ts';
import { CommandRepository } from '../../store/command-repository.ts';
import { ApiKeyRepository } from '../../store/api-key-repository.ts';
import { ExecutionStarter } from './execution-starter.ts';
import { resetUrlSecret } from './downloads.ts';

let commands: CommandRepository | undefined;
let apiKeys: ApiKeyRepository | undefined;
let executions: ExecutionStarter | undefined;

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
  resetUrlSecret();
  resetConfig();
  resetClients();
}
