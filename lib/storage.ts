import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { LIMITS, TABLE } from '../core/constants.ts';
import { IDEMPOTENCY_TABLE } from '../core/control/settings.ts';

/** Key prefixes of the bucket, for lifecycle rules and prefix-scoped IAM (S3_KEYS spells the keys). */
export const BUCKET_PREFIX = {
  outputs: 'outputs/',
  files: 'files/',
} as const;

/** Props of {@link FfaasStorage}. */
export interface FfaasStorageProps {
  /**
   * What happens to the tables and the bucket when the stack is deleted. With DESTROY the bucket
   * must be empty for the deletion to succeed (no auto-delete custom resource is added).
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /** Physical names; leave unset to let CloudFormation name them (recommended). */
  readonly commandsTableName?: string;
  readonly apiKeysTableName?: string;
  readonly accountsTableName?: string;
  readonly filesTableName?: string;
  readonly presetsTableName?: string;
  readonly bucketName?: string;
  /**
   * Origins allowed to GET/PUT objects through presigned URLs from a browser.
   * @default ['*'] (a presigned URL is already the credential)
   */
  readonly corsAllowedOrigins?: string[];
  /**
   * Days after which outputs (`outputs/`) and stored files (`files/`) are deleted by S3
   * lifecycle rules; the handlers give command and file items the same TTL (FFAAS_RETENTION_DAYS).
   * @default LIMITS.retentionDays
   */
  readonly retentionDays?: number;
}

/**
 * Where the service keeps its state: the commands, API keys and accounts tables (on-demand,
 * point-in-time recovery, AWS-managed encryption) and the bucket of outputs and stored files
 * (no public access, TLS only, S3-managed encryption, outputs expire).
 */
export class FfaasStorage extends Construct {
  readonly commandsTable: dynamodb.Table;
  readonly apiKeysTable: dynamodb.Table;
  readonly accountsTable: dynamodb.Table;
  readonly filesTable: dynamodb.Table;
  readonly presetsTable: dynamodb.Table;
  /** Idempotency-Key records of the submit routes (Powertools' layout: PK id, TTL expiration). */
  readonly idempotencyTable: dynamodb.Table;
  readonly bucket: s3.Bucket;
  /** Days outputs, files and command records are kept. */
  readonly retentionDays: number;

  constructor(scope: Construct, id: string, props: FfaasStorageProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.retentionDays = props.retentionDays ?? LIMITS.retentionDays;
    const common = {
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy,
    } as const;
    const S = dynamodb.AttributeType.STRING;

    this.commandsTable = new dynamodb.Table(this, 'CommandsTable', {
      ...common,
      tableName: props.commandsTableName,
      partitionKey: { name: TABLE.commands.partitionKey, type: S },
      sortKey: { name: TABLE.commands.sortKey, type: S },
      timeToLiveAttribute: TABLE.commands.ttlAttribute,
    });
    this.commandsTable.addGlobalSecondaryIndex({
      indexName: TABLE.commands.byCreatedIndex,
      partitionKey: { name: TABLE.commands.partitionKey, type: S },
      sortKey: { name: TABLE.commands.byCreatedSortKey, type: S },
      // Keys only: the list reads its page's items by key, so progress writes (every few
      // seconds per running command) are not copied into the index.
      projectionType: dynamodb.ProjectionType.KEYS_ONLY,
    });
    this.commandsTable.addGlobalSecondaryIndex({
      indexName: TABLE.commands.byStatusIndex,
      partitionKey: { name: TABLE.commands.byStatusPartitionKey, type: S },
      sortKey: { name: TABLE.commands.byStatusSortKey, type: S },
      projectionType: dynamodb.ProjectionType.KEYS_ONLY,
    });
    // Sparse and sharded: only items that carry `pending_shard` (accepted, not yet PROCESSING)
    // are in it, spread over PENDING_SHARDS partitions so a burst of submits has no hot key.
    // ALL, so the reconciler can rebuild the execution input without a GetItem per entry; an
    // item leaves it at MarkProcessing, before any progress write.
    this.commandsTable.addGlobalSecondaryIndex({
      indexName: TABLE.commands.pendingIndex,
      partitionKey: { name: TABLE.commands.pendingPartitionKey, type: S },
      sortKey: { name: TABLE.commands.pendingSortKey, type: S },
      projectionType: dynamodb.ProjectionType.ALL,
    });

    this.apiKeysTable = new dynamodb.Table(this, 'ApiKeysTable', {
      ...common,
      tableName: props.apiKeysTableName,
      partitionKey: { name: TABLE.apiKeys.partitionKey, type: S },
    });
    this.accountsTable = new dynamodb.Table(this, 'AccountsTable', {
      ...common,
      tableName: props.accountsTableName,
      partitionKey: { name: TABLE.accounts.partitionKey, type: S },
    });
    // Records expire after 24 h (TTL attribute `expiration`).
    this.idempotencyTable = new dynamodb.Table(this, 'IdempotencyTable', {
      ...common,
      partitionKey: { name: IDEMPOTENCY_TABLE.partitionKey, type: S },
      timeToLiveAttribute: IDEMPOTENCY_TABLE.ttlAttribute,
    });

    this.filesTable = new dynamodb.Table(this, 'FilesTable', {
      ...common,
      tableName: props.filesTableName,
      partitionKey: { name: TABLE.files.partitionKey, type: S },
      sortKey: { name: TABLE.files.sortKey, type: S },
      timeToLiveAttribute: TABLE.files.ttlAttribute,
    });
    this.filesTable.addGlobalSecondaryIndex({
      indexName: TABLE.files.byCreatedIndex,
      partitionKey: { name: TABLE.files.partitionKey, type: S },
      sortKey: { name: TABLE.files.byCreatedSortKey, type: S },
      projectionType: dynamodb.ProjectionType.ALL,
    });
    this.presetsTable = new dynamodb.Table(this, 'PresetsTable', {
      ...common,
      tableName: props.presetsTableName,
      partitionKey: { name: TABLE.presets.partitionKey, type: S },
      sortKey: { name: TABLE.presets.sortKey, type: S },
    });

    this.bucket = new s3.Bucket(this, 'Bucket', {
      bucketName: props.bucketName,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      encryption: s3.BucketEncryption.S3_MANAGED,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy,
      lifecycleRules: [
        {
          id: 'expire-outputs',
          prefix: BUCKET_PREFIX.outputs,
          expiration: Duration.days(Math.ceil(this.retentionDays)),
        },
        {
          id: 'expire-files',
          prefix: BUCKET_PREFIX.files,
          expiration: Duration.days(Math.ceil(this.retentionDays)),
        },
        { id: 'abort-incomplete-multipart', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      cors: [
        {
          allowedMethods: [s3.HttpMethods.GET, s3.HttpMethods.PUT, s3.HttpMethods.HEAD],
          allowedOrigins: props.corsAllowedOrigins ?? ['*'],
          allowedHeaders: ['*'],
          exposedHeaders: ['ETag'],
          maxAge: 3600,
        },
      ],
    });
    // Object Created events to EventBridge: bytes landing under files/ start their probe
    // (lib/files.ts). Set on the CloudFormation resource itself: the `eventBridgeEnabled` prop
    // would add a custom-resource Lambda for what is a plain bucket property.
    (this.bucket.node.defaultChild as s3.CfnBucket).notificationConfiguration = {
      eventBridgeConfiguration: { eventBridgeEnabled: true },
    };
  }
}
