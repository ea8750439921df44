/**
 * SDK clients, created once per container. Endpoints come from AWS_ENDPOINT_URL_* (SDK v3
 * reads them itself), which is how local mode points them at dynalite, s3rver and its
 * Step Functions endpoint.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import { KMSClient } from '@aws-sdk/client-kms';

let ddb: DynamoDBDocumentClient | undefined;
let s3: S3Client | undefined;
let sfn: SFNClient | undefined;
let sqs: SQSClient | undefined;
let kms: KMSClient | undefined;

export function documentClient(): DynamoDBDocumentClient {
  ddb ??= documentClientFor(new DynamoDBClient({}));
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
  sfn ??= new SFNClient({ maxAttempts: 3 });
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

/** Drop the cached clients (tests that change the environment). */
export function resetClients(): void {
  ddb = undefined;
  s3 = undefined;
  sfn = undefined;
  sqs = undefined;
  kms = undefined;
}
