/**
 * The worker's AWS clients. DynamoDB gets more attempts than the SDK's 3: a write the worker
 * gives up on (startAttempt, storeOutputs) costs the whole run, and throttling is the error
 * retrying helps most (the SDK backs off throttling errors with a longer base delay).
 */
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { createLogger, type Logger } from './log.ts';

/** Attempts per DynamoDB call of the worker (throttling, 5xx, network). */
export const WORKER_DYNAMODB_MAX_ATTEMPTS = 6;

/** `config`: tests point it at a local endpoint; in the task the environment says everything. */
export function workerDynamoClient(config: Omit<DynamoDBClientConfig, 'maxAttempts'> = {}): DynamoDBClient {
  return new DynamoDBClient({ ...config, maxAttempts: WORKER_DYNAMODB_MAX_ATTEMPTS });
}

/**
 * The SDK's own warnings (a streamed upload the SDK will not retry itself, which upload.ts
 * retries) as the worker's JSON log lines, not bare console lines beside them.
 */
function sdkLogger(log: Logger = createLogger({ source: 'aws-sdk' })) {
  const text = (args: unknown[]) => args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ');
  return {
    debug() {},
    info() {},
    warn: (...args: unknown[]) => log.warn(text(args)),
    error: (...args: unknown[]) => log.error(text(args)),
  };
}

/** The worker's S3 client: path-style addressing when `env` sets an endpoint (local mode, tests). */
export function workerS3Client(env: NodeJS.ProcessEnv = process.env, config: S3ClientConfig = {}): S3Client {
  return new S3Client({ forcePathStyle: Boolean(env.AWS_ENDPOINT_URL_S3), logger: sdkLogger(), ...config });
}
