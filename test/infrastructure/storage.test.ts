import { Match } from 'aws-cdk-lib/assertions';
import { RemovalPolicy } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { LIMITS, TABLE } from '../../core/constants.ts';
import { synth } from './synth.ts';

describe('storage: tables', () => {
  const { assert } = synth({ gpu: false });

  it('commands table: account_id + command_id, on-demand, PITR, AWS-managed encryption, TTL', () => {
    assert.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: TABLE.commands.partitionKey, KeyType: 'HASH' },
        { AttributeName: TABLE.commands.sortKey, KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
      TimeToLiveSpecification: { AttributeName: TABLE.commands.ttlAttribute, Enabled: true },
    });
  });

  it('commands table has by_created and by_status (KEYS_ONLY: progress writes are not copied) and the sparse, sharded pending index', () => {
    assert.hasResourceProperties('AWS::DynamoDB::Table', {
      GlobalSecondaryIndexes: Match.arrayWith([
        {
          IndexName: TABLE.commands.byCreatedIndex,
          KeySchema: [
            { AttributeName: TABLE.commands.partitionKey, KeyType: 'HASH' },
            { AttributeName: TABLE.commands.byCreatedSortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        },
        {
          IndexName: TABLE.commands.byStatusIndex,
          KeySchema: [
            { AttributeName: TABLE.commands.byStatusPartitionKey, KeyType: 'HASH' },
            { AttributeName: TABLE.commands.byStatusSortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        },
        Match.objectLike({
          IndexName: TABLE.commands.pendingIndex,
          KeySchema: [
            { AttributeName: TABLE.commands.pendingPartitionKey, KeyType: 'HASH' },
            { AttributeName: TABLE.commands.pendingSortKey, KeyType: 'RANGE' },
          ],
        }),
      ]),
    });
  });

  it('api keys and accounts tables are keyed as in TABLE, with PITR and encryption', () => {
    for (const key of [TABLE.apiKeys.partitionKey, TABLE.accounts.partitionKey]) {
      assert.hasResourceProperties('AWS::DynamoDB::Table', {
        KeySchema: [{ AttributeName: key, KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
      });
    }
    // commands, api keys, accounts, files, presets, webhook deliveries, idempotency
    assert.resourceCountIs('AWS::DynamoDB::Table', 7);
  });

  it('tables and bucket are retained by default and destroyable on request', () => {
    for (const type of ['AWS::DynamoDB::Table', 'AWS::S3::Bucket']) {
      for (const r of Object.values(assert.findResources(type))) expect(r.DeletionPolicy).toBe('Retain');
    }
    const destroy = synth({ gpu: false, removalPolicy: RemovalPolicy.DESTROY }).assert;
    for (const type of ['AWS::DynamoDB::Table', 'AWS::S3::Bucket']) {
      for (const r of Object.values(destroy.findResources(type))) expect(r.DeletionPolicy).toBe('Delete');
    }
  });
});

describe('storage: bucket', () => {
  const { assert } = synth({ gpu: false });

  it('blocks public access, encrypts with S3-managed keys, owner-enforced', () => {
    assert.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
    });
  });

  it('denies every request without TLS', () => {
    assert.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Principal: { AWS: '*' },
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('expires outputs/ after the retention period and aborts stale multipart uploads', () => {
    assert.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ Prefix: 'outputs/', ExpirationInDays: LIMITS.retentionDays, Status: 'Enabled' }),
          Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' }),
        ]),
      },
    });
  });

  it('allows GET and PUT through presigned URLs from browsers (CORS)', () => {
    assert.hasResourceProperties('AWS::S3::Bucket', {
      CorsConfiguration: {
        CorsRules: [Match.objectLike({ AllowedMethods: Match.arrayWith(['GET', 'PUT']) })],
      },
    });
  });
});
