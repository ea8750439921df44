/**
 * The worker's AWS clients. DynamoDB gets more attempts than the SDK's 3: a write the worker
 * gives up on (startAttempt, storeOutputs) costs the whole run, and throttling is the error
 * retrying helps most (the SDK backs off throttling errors with a longer base delay).
 */
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';

/** Attempts per DynamoDB call of the worker (throttling, 5xx, network). */
export const WORKER_DYNAMODB_MAX_ATTEMPTS = 6;

/** `config`: tests point it at a local endpoint; in the task the environment says everything. */
export function workerDynamoClient(config: Omit<DynamoDBClientConfig, 'maxAttempts'> = {}): DynamoDBClient {
  return new DynamoDBClient({ ...config, maxAttempts: WORKER_DYNAMODB_MAX_ATTEMPTS });
}
