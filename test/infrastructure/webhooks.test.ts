/**
 * Webhook delivery in the template: the rule on the stack's bus and its pattern, the delivery
 * function as its target, the retry queue and the dead-letter queue, the alarm on the
 * dead-letter queue's depth, IAM scoped to exactly those resources, the deliveries table, and
 * the event schemas in a schema registry.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { App, Stack } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { EVENT_DETAIL_TYPE, ENV, TABLE } from '../../core/constants.ts';
import { EVENT_SCHEMA_FILES } from '../../lib/events.ts';
import { asArray, resourcesOfType, statementsOfRole, synth } from './synth.ts';

const { template, assert } = synth({ gpu: false });
const R = template.Resources as Record<string, any>;
const idOf = (type: string, prefix: string) => {
  const found = resourcesOfType(template, type).filter(([id]) => id.startsWith(prefix));
  expect(found, `${type} ${prefix}`).toHaveLength(1);
  return found[0]![0];
};
const fnId = idOf('AWS::Lambda::Function', 'FfaasWebhooksFnwebhookdelivery');
const retryQueue = idOf('AWS::SQS::Queue', 'FfaasWebhooksRetryQueue');
const dlq = idOf('AWS::SQS::Queue', 'FfaasWebhooksDeadLetterQueue');
const deliveries = idOf('AWS::DynamoDB::Table', 'FfaasWebhooksDeliveriesTable');
const busId = idOf('AWS::Events::EventBus', 'FfaasEventsBus');
const roleOf = (id: string) => R[id].Properties.Role['Fn::GetAtt'][0] as string;
const statements = statementsOfRole(template, roleOf(fnId));
const ref = (id: string) => JSON.stringify(id);

describe('webhooks: rule and target', () => {
  it('a rule on the stack bus for the terminal events of source ffaas targets the delivery function, with the DLQ for undeliverable events', () => {
    const rules = resourcesOfType(template, 'AWS::Events::Rule').filter(
      ([, r]) =>
        r.Properties.EventPattern?.['detail-type'] &&
        JSON.stringify(r.Properties.EventBusName) === JSON.stringify({ Ref: busId }),
    );
    expect(rules).toHaveLength(1);
    const [, rule] = rules[0]!;
    expect(rule.Properties.EventBusName).toEqual({ Ref: busId });
    expect(rule.Properties.EventPattern).toEqual({
      source: ['ffaas'],
      'detail-type': [EVENT_DETAIL_TYPE.SUCCEEDED, EVENT_DETAIL_TYPE.FAILED],
    });
    expect(rule.Properties.State).toBe('ENABLED');
    const [target] = rule.Properties.Targets;
    expect(rule.Properties.Targets).toHaveLength(1);
    expect(target.Arn).toEqual({ 'Fn::GetAtt': [fnId, 'Arn'] });
    expect(target.DeadLetterConfig.Arn).toEqual({ 'Fn::GetAtt': [dlq, 'Arn'] });
    expect(target.RetryPolicy).toEqual({ MaximumEventAgeInSeconds: 86400, MaximumRetryAttempts: 185 });
    // EventBridge may invoke the function (and nothing else may).
    assert.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [fnId, 'Arn'] },
      Principal: 'events.amazonaws.com',
      SourceArn: Match.anyValue(),
    });
  });

  it('the delivery function reads the retry queue (partial batch failures) and sends failed async invocations to the DLQ', () => {
    assert.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [retryQueue, 'Arn'] },
      FunctionName: { Ref: fnId },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    assert.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [dlq, 'Arn'] } } },
    });
    const env = R[fnId].Properties.Environment.Variables;
    expect(env[ENV.WEBHOOK_QUEUE_URL]).toEqual({ Ref: retryQueue });
    expect(env[ENV.WEBHOOK_DLQ_URL]).toEqual({ Ref: dlq });
    expect(env[ENV.WEBHOOK_DELIVERIES_TABLE]).toEqual({ Ref: deliveries });
    expect(R[fnId].Properties.Timeout).toBe(30);
  });
});

describe('webhooks: queues and alarm', () => {
  it('the retry queue redrives to the DLQ after 5 receives; both encrypted and TLS-only; the DLQ keeps 14 days', () => {
    const q = R[retryQueue].Properties;
    expect(q.RedrivePolicy).toEqual({ deadLetterTargetArn: { 'Fn::GetAtt': [dlq, 'Arn'] }, maxReceiveCount: 5 });
    expect(q.VisibilityTimeout).toBe(180);
    expect(q.SqsManagedSseEnabled).toBe(true);
    expect(R[dlq].Properties.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    expect(R[dlq].Properties.SqsManagedSseEnabled).toBe(true);
    for (const queue of [retryQueue, dlq]) {
      assert.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: queue }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    }
  });

  it('an alarm fires when the DLQ holds any message', () => {
    const alarms = resourcesOfType(template, 'AWS::CloudWatch::Alarm').filter(([id]) =>
      id.startsWith('FfaasWebhooksDeadLetterAlarm'),
    );
    expect(alarms).toHaveLength(1);
    const a = alarms[0]![1].Properties;
    expect(a).toMatchObject({
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlq, 'QueueName'] } }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
    });
    expect(a.AlarmActions).toBeUndefined();
  });

  it('with webhookAlarmTopic the alarm notifies that SNS topic', async () => {
    const { FfaasStack, SKIP_BUNDLING_CONTEXT, PLACEHOLDER_WORKER_IMAGE } = await import('../../lib/ffaas-stack.ts');
    const ecs = await import('aws-cdk-lib/aws-ecs');
    const app = new App({ context: { ...SKIP_BUNDLING_CONTEXT } });
    const topicStack = new Stack(app, 'Topics');
    const topic = sns.Topic.fromTopicArn(topicStack, 'Ops', 'arn:aws:sns:us-east-1:123456789012:ops');
    const stack = new FfaasStack(app, 'WithTopic', {
      workerImage: ecs.ContainerImage.fromRegistry(PLACEHOLDER_WORKER_IMAGE),
      webhookAlarmTopic: topic,
      env: undefined,
    });
    const t = app.synth().getStackArtifact(stack.artifactId).template as Record<string, any>;
    const [[, alarm]] = resourcesOfType(t, 'AWS::CloudWatch::Alarm').filter(([id]) =>
      id.startsWith('FfaasWebhooksDeadLetterAlarm'),
    );
    expect(alarm.Properties.AlarmActions).toEqual(['arn:aws:sns:us-east-1:123456789012:ops']);
  });
});

describe('webhooks: IAM of the delivery function', () => {
  it('only: read the command, read/update the account, write deliveries, sign outputs, send to its two queues, consume the retry queue', () => {
    const allowed = statements
      .filter((s) => s.Effect === 'Allow')
      .map((s) => ({ actions: asArray<string>(s.Action).sort(), resources: JSON.stringify(asArray(s.Resource)) }));
    const has = (actions: string[], resourceId: string) =>
      expect(
        allowed.some((s) => actions.every((a) => s.actions.includes(a)) && s.resources.includes(ref(resourceId))),
        `${actions} on ${resourceId}`,
      ).toBe(true);
    const commandsTable = idOf('AWS::DynamoDB::Table', 'FfaasStorageCommandsTable');
    const accountsTable = idOf('AWS::DynamoDB::Table', 'FfaasStorageAccountsTable');
    const bucket = idOf('AWS::S3::Bucket', 'FfaasStorageBucket');
    has(['dynamodb:GetItem'], commandsTable);
    has(['dynamodb:GetItem', 'dynamodb:UpdateItem'], accountsTable);
    has(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], deliveries);
    has(['sqs:SendMessage'], retryQueue);
    has(['sqs:SendMessage'], dlq);
    has(['sqs:ReceiveMessage', 'sqs:DeleteMessage'], retryQueue);
    const key = idOf('AWS::KMS::Key', 'FfaasWebhooksSecretKey');
    has(['kms:Decrypt'], key);
    expect(allowed.filter((s) => s.actions.some((a) => a.startsWith('kms:'))).flatMap((s) => s.actions)).toEqual([
      'kms:Decrypt',
    ]);
    expect(R[key].Properties.EnableKeyRotation).toBe(true);
    expect(R[fnId].Properties.Environment.Variables[ENV.WEBHOOK_KMS_KEY_ID]).toEqual({ 'Fn::GetAtt': [key, 'Arn'] });
    expect(
      allowed.some(
        (s) =>
          s.actions.includes('s3:GetObject') && s.resources.includes(ref(bucket)) && s.resources.includes('/outputs/*'),
      ),
    ).toBe(true);

    const every = allowed.flatMap((s) => s.actions);
    // Nothing beyond those: no writes to commands, no Scan, no deletes, no wildcard actions.
    expect(every.filter((a) => a.includes('*'))).toEqual([]);
    expect(every).not.toContain('dynamodb:Scan');
    expect(every).not.toContain('dynamodb:DeleteItem');
    const onCommands = allowed.filter((s) => s.resources.includes(ref(commandsTable))).flatMap((s) => s.actions);
    expect([...new Set(onCommands)]).toEqual(['dynamodb:GetItem']);
    for (const s of allowed.filter((x) => x.actions.some((a) => a.startsWith('sqs:')))) {
      expect(s.resources.includes(ref(retryQueue)) || s.resources.includes(ref(dlq)), s.resources).toBe(true);
    }
    for (const s of allowed.filter((x) => x.actions.some((a) => a.startsWith('dynamodb:')))) {
      expect(s.resources).not.toContain('"*"');
    }
  });

  it('API handlers: webhook-config touches only the accounts table; redeliver may send only to the retry queue', () => {
    const apiFn = (h: string) => idOf('AWS::Lambda::Function', `FfaasApiFn${h.replace(/-/g, '')}`);
    const accountsTable = idOf('AWS::DynamoDB::Table', 'FfaasStorageAccountsTable');
    const cfg = statementsOfRole(template, roleOf(apiFn('webhook-config'))).filter((s) =>
      asArray<string>(s.Action).some((a) => a.startsWith('dynamodb:')),
    );
    expect(cfg.flatMap((s) => asArray<string>(s.Action)).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem']);
    // Encrypt only: the API can store a secret but never read one back.
    const kmsActions = statementsOfRole(template, roleOf(apiFn('webhook-config')))
      .flatMap((s) => asArray<string>(s.Action))
      .filter((a) => a.startsWith('kms:'));
    expect(kmsActions).toEqual(['kms:Encrypt']);
    expect(JSON.stringify(cfg.map((s) => s.Resource))).toContain(ref(accountsTable));
    const redeliver = statementsOfRole(template, roleOf(apiFn('redeliver-webhook')));
    const sqsStatements = redeliver.filter((s) => asArray<string>(s.Action).some((a) => a.startsWith('sqs:')));
    expect(sqsStatements.flatMap((s) => asArray<string>(s.Action))).toContain('sqs:SendMessage');
    expect(JSON.stringify(sqsStatements.map((s) => s.Resource))).toBe(
      JSON.stringify([{ 'Fn::GetAtt': [retryQueue, 'Arn'] }]),
    );
    const list = statementsOfRole(template, roleOf(apiFn('webhook-deliveries')));
    expect(JSON.stringify(list)).toContain(`/index/${TABLE.webhookDeliveries.byUpdatedIndex}`);
  });
});

describe('webhooks: deliveries table', () => {
  it('is keyed as TABLE.webhookDeliveries with the sparse due index and by_updated, PITR, encrypted, retained', () => {
    const t = R[deliveries];
    expect(t.Properties.KeySchema).toEqual([
      { AttributeName: 'account_id', KeyType: 'HASH' },
      { AttributeName: 'command_id', KeyType: 'RANGE' },
    ]);
    const gsis = Object.fromEntries(
      t.Properties.GlobalSecondaryIndexes.map((g: any) => [g.IndexName, g.KeySchema.map((k: any) => k.AttributeName)]),
    );
    expect(gsis).toEqual({ due: ['due', 'next_attempt_at'], by_updated: ['account_id', 'updated_at'] });
    expect(t.Properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(t.Properties.SSESpecification).toEqual({ SSEEnabled: true });
    expect(t.DeletionPolicy).toBe('Retain');
  });
});

describe('events: schema registry', () => {
  it('registers one JSON Schema (draft 4) per detail-type, the files of docs/events', () => {
    const registries = resourcesOfType(template, 'AWS::EventSchemas::Registry');
    expect(registries).toHaveLength(1);
    const schemas = resourcesOfType(template, 'AWS::EventSchemas::Schema');
    expect(schemas).toHaveLength(3);
    const root = path.resolve(import.meta.dirname, '..', '..');
    for (const [detailType, file] of Object.entries(EVENT_SCHEMA_FILES)) {
      const s = schemas.find(([, x]) => x.Properties.SchemaName === `ffaas@${detailType.replace(/ /g, '')}`);
      expect(s, detailType).toBeDefined();
      expect(s![1].Properties.Type).toBe('JSONSchemaDraft4');
      expect(s![1].Properties.RegistryName).toEqual({ 'Fn::GetAtt': [registries[0]![0], 'RegistryName'] });
      const content = JSON.parse(s![1].Properties.Content);
      expect(content).toEqual(JSON.parse(readFileSync(path.join(root, file), 'utf8')));
      expect(content.properties['detail-type'].enum).toEqual([detailType]);
    }
    expect(Object.keys(EVENT_SCHEMA_FILES).sort()).toEqual(Object.values(EVENT_DETAIL_TYPE).sort());
  });
});
