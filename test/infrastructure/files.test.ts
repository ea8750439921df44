/**
 * The AWS side of stored files, presets and retention: tables (keys, TTL), the bucket's
 * lifecycle rules and EventBridge notifications, the ingest state machine and its rule, and
 * the ingest task's least-privilege role.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ENV, LIMITS, TABLE } from '../../core/constants.ts';
import { asArray, definitionOf, resourcesOfType, statementsOfRole, synth } from './synth.ts';
import { expressionsFor, FILE_LIFECYCLE } from '../../store/lifecycle.ts';

const { template, assert } = synth({ gpu: false });
const R = template.Resources as Record<string, any>;
const tableKeyedBy = (sortKey: string) =>
  resourcesOfType(template, 'AWS::DynamoDB::Table').find(([, t]) =>
    t.Properties.KeySchema.some((k: any) => k.KeyType === 'RANGE' && k.AttributeName === sortKey),
  )!;

describe('files and presets: tables', () => {
  it('files: account_id + file_id, newest-first index, TTL on expire_at', () => {
    const [, files] = tableKeyedBy(TABLE.files.sortKey);
    expect(files.Properties.KeySchema).toEqual([
      { AttributeName: TABLE.files.partitionKey, KeyType: 'HASH' },
      { AttributeName: TABLE.files.sortKey, KeyType: 'RANGE' },
    ]);
    expect(files.Properties.TimeToLiveSpecification).toEqual({
      AttributeName: TABLE.files.ttlAttribute,
      Enabled: true,
    });
    expect(files.Properties.GlobalSecondaryIndexes[0]).toMatchObject({
      IndexName: TABLE.files.byCreatedIndex,
      KeySchema: [
        { AttributeName: TABLE.files.partitionKey, KeyType: 'HASH' },
        { AttributeName: TABLE.files.byCreatedSortKey, KeyType: 'RANGE' },
      ],
    });
    expect(files.Properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
  });

  it('presets: account_id + preset_id, no TTL (kept until deleted); commands keep their TTL', () => {
    const [, presets] = tableKeyedBy(TABLE.presets.sortKey);
    expect(presets.Properties.TimeToLiveSpecification).toBeUndefined();
    const [, commands] = tableKeyedBy(TABLE.commands.sortKey);
    expect(commands.Properties.TimeToLiveSpecification).toEqual({
      AttributeName: TABLE.commands.ttlAttribute,
      Enabled: true,
    });
  });
});

describe('retention: bucket lifecycle', () => {
  it('outputs/ and files/ expire after the retention days (default LIMITS.retentionDays)', () => {
    const [, bucket] = resourcesOfType(template, 'AWS::S3::Bucket')[0]!;
    const rules = bucket.Properties.LifecycleConfiguration.Rules;
    expect(rules).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Id: 'expire-outputs',
          Prefix: 'outputs/',
          ExpirationInDays: LIMITS.retentionDays,
          Status: 'Enabled',
        }),
        expect.objectContaining({
          Id: 'expire-files',
          Prefix: 'files/',
          ExpirationInDays: LIMITS.retentionDays,
          Status: 'Enabled',
        }),
      ]),
    );
  });

  it("retentionDays sets the lifecycle rules and the handlers' FFAAS_RETENTION_DAYS together", () => {
    const { template: t } = synth({ retentionDays: 7 });
    const [, bucket] = resourcesOfType(t, 'AWS::S3::Bucket')[0]!;
    for (const id of ['expire-outputs', 'expire-files']) {
      expect(bucket.Properties.LifecycleConfiguration.Rules.find((r: any) => r.Id === id).ExpirationInDays).toBe(7);
    }
    const fns = resourcesOfType(t, 'AWS::Lambda::Function').filter(([id]) => id.startsWith('FfaasApiFn'));
    expect(fns.length).toBeGreaterThan(0);
    for (const [, fn] of fns) expect(fn.Properties.Environment.Variables[ENV.RETENTION_DAYS]).toBe('7');
  });

  it('the bucket sends its events to EventBridge without a custom resource', () => {
    const [, bucket] = resourcesOfType(template, 'AWS::S3::Bucket')[0]!;
    expect(bucket.Properties.NotificationConfiguration).toEqual({
      EventBridgeConfiguration: { EventBridgeEnabled: true },
    });
    assert.resourceCountIs('Custom::S3BucketNotifications', 0);
  });
});

describe('file ingest', () => {
  const { asl } = definitionOf(template, 'ingest');

  it('runs the ingest task (RunTask.sync) and marks the file FAILED when it cannot run or crashes', () => {
    const run = asl.States.RunIngest;
    expect(run.Resource).toContain('ecs:runTask.sync');
    expect(JSON.stringify(run.Parameters)).toContain(ENV.INGEST_INPUT);
    expect(run.Catch[0]).toMatchObject({ ErrorEquals: ['States.ALL'], Next: 'MarkFileFailed' });
    expect(asl.States.IngestExitedCleanly.Default).toBe('MarkFileFailed');
    const mark = asl.States.MarkFileFailed;
    expect(mark.Resource).toContain('dynamodb:updateItem');
    // The store's FILE_LIFECYCLE step, as FileRepository.markFailed writes it: only a PROCESSING file.
    const x = expressionsFor(FILE_LIFECYCLE.markFailed);
    expect(mark.Parameters.ConditionExpression).toBe('#status = :processing');
    expect(mark.Parameters.ConditionExpression).toBe(x.ConditionExpression);
    expect(mark.Parameters.UpdateExpression).toBe(x.UpdateExpression);
    expect(mark.Parameters.ExpressionAttributeValues[':failed']).toEqual({ S: 'FAILED' });
  });

  it('an EventBridge rule starts a probe for objects created under files/', () => {
    assert.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.s3'],
        'detail-type': ['Object Created'],
        detail: { object: { key: [{ prefix: 'files/' }] } },
      },
      Targets: [
        Match.objectLike({
          InputTransformer: Match.objectLike({ InputTemplate: Match.stringLikeRegexp('"mode":"probe"') }),
        }),
      ],
    });
  });

  it('the ingest task has its own role: the files table and files/* only (no commands, no outputs, no task tokens)', () => {
    const [roleId] = resourcesOfType(template, 'AWS::IAM::Role').find(([id]) => id.includes('IngestTaskRole'))!;
    const statements = statementsOfRole(template, roleId);
    const actions = statements.flatMap((s) => asArray<string>(s.Action));
    expect(actions.filter((a) => a.startsWith('states:'))).toEqual([]);
    const [filesTableId] = tableKeyedBy(TABLE.files.sortKey);
    for (const s of statements) {
      for (const r of asArray<any>(s.Resource)) {
        if (asArray<string>(s.Action).some((a) => a.startsWith('dynamodb:')))
          expect(r).toEqual({ 'Fn::GetAtt': [filesTableId, 'Arn'] });
        else expect(r['Fn::Join'][1].at(-1)).toBe('/files/*');
      }
    }
    const [, taskDef] = resourcesOfType(template, 'AWS::ECS::TaskDefinition').find(([id]) =>
      id.includes('IngestTaskDef'),
    )!;
    expect(taskDef.Properties.TaskRoleArn).toEqual({ 'Fn::GetAtt': [roleId, 'Arn'] });
    const container = taskDef.Properties.ContainerDefinitions[0];
    expect(container.ReadonlyRootFilesystem).toBe(true);
    expect(container.Environment).toEqual(expect.arrayContaining([{ Name: ENV.TASK_KIND, Value: 'ingest' }]));
  });

  it('the command worker still only reads files/* (stored-file inputs)', () => {
    const [roleId] = resourcesOfType(template, 'AWS::IAM::Role').find(([id]) => /WorkersTaskRole/.test(id))!;
    const onFiles = statementsOfRole(template, roleId).filter((s) =>
      asArray<any>(s.Resource).some((r) => r['Fn::Join']?.[1]?.at(-1) === '/files/*'),
    );
    expect(onFiles.flatMap((s) => asArray<string>(s.Action))).toEqual(['s3:GetObject']);
    expect(R[roleId]).toBeDefined();
  });
});
