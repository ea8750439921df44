/**
 * SDK clients, created once per container. Endpoints come from AWS_ENDPOINT_URL_* (SDK v3
 * reads them itself), which is how local mode points them at dynalite, s3rver and its
 * Step Functions endpoint.
 */
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import { KMSClient } from '@aws-sdk/client-kms';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';

/** A client's `requestHandler`, as the SDK's config takes it. */
export type RequestHandler = NonNullable<DynamoDBClientConfig['requestHandler']>;

/**
 * Request handlers by endpoint URL for the clients made in this process. Local mode runs
 * dynalite and its Step Functions/EventBridge endpoint in the process of the handlers and hands
 * their calls over without a socket (local/in-process-http.ts). Empty on AWS.
 */
const inProcess = new Map<string, RequestHandler>();

/** Serve clients of `endpoint` made in this process with `handler`; returns the undo. */
export function serveInProcess(endpoint: string, handler: RequestHandler): () => void {
  inProcess.set(endpoint, handler);
  return () => {
    if (inProcess.get(endpoint) === handler) inProcess.delete(endpoint);
  };
}

/** `{ requestHandler }` when the service's endpoint (AWS_ENDPOINT_URL_<service>) is served in this process, else nothing. */
export function transportFor(service: 'DYNAMODB' | 'SFN' | 'EVENTBRIDGE'): { requestHandler?: RequestHandler } {
  const handler = inProcess.size > 0 ? inProcess.get(process.env[`AWS_ENDPOINT_URL_${service}`] ?? '') : undefined;
  return handler ? { requestHandler: handler } : {};
}

let ddb: DynamoDBDocumentClient | undefined;
let s3: S3Client | undefined;
let sfn: SFNClient | undefined;
let sqs: SQSClient | undefined;
let kms: KMSClient | undefined;
let eventBridge: EventBridgeClient | undefined;

export function documentClient(): DynamoDBDocumentClient {
  ddb ??= documentClientFor(new DynamoDBClient(transportFor('DYNAMODB')));
  return ddb;
}

/** The document client every repository takes, over a given client (CLI, local mode, tests). */
export function documentClientFor(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

export function s3Client(): S3Client {
  // Path-style addressing when an endpoint is given: s3rver (and presigned URLs against it)
  // does not serve virtual-hosted bucket names.
  s3 ??= new S3Client({ forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL_S3) });
  return s3;
}

export function sfnClient(): SFNClient {
  // The SDK's standard retry (3 attempts with backoff) before the submit gives up and leaves
  // the command to the reconciler.
  sfn ??= new SFNClient({ maxAttempts: 3, ...transportFor('SFN') });
  return sfn;
}

export function sqsClient(): SQSClient {
  sqs ??= new SQSClient({ maxAttempts: 3 });
  return sqs;
}

export function kmsClient(): KMSClient {
  kms ??= new KMSClient({ maxAttempts: 3 });
  return kms;
}

export function eventBridgeClient(): EventBridgeClient {
  eventBridge ??= new EventBridgeClient(transportFor('EVENTBRIDGE'));
  return eventBridge;
}

/** Drop the cached clients (tests that change the environment). */
export function resetClients(): void {
  ddb = undefined;
  s3 = undefined;
  sfn = undefined;
  sqs = undefined;
  kms = undefined;
  eventBridge = undefined;
}
