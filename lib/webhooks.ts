import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV, TABLE, WEBHOOK_EVENT_PATTERN } from '../core/constants.ts';
import { FfaasFunction } from './function.ts';
import { BUCKET_PREFIX } from './storage.ts';

/** Props of {@link FfaasWebhooks}. */
export interface FfaasWebhooksProps {
  /** The bus the state machine publishes command events on. */
  readonly eventBus: events.IEventBus;
  readonly commandsTable: dynamodb.ITable;
  /** The webhook config lives on the account item. */
  readonly accountsTable: dynamodb.ITable;
  /** Outputs are signed (presigned GET) into each delivery's body. */
  readonly bucket: s3.IBucket;
  /** The environment of the service's functions (table names, bucket, switches). */
  readonly environment: Record<string, string>;
  /** Removal policy of the deliveries table. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /** Physical name of the deliveries table. @default - generated */
  readonly deliveriesTableName?: string;
  /**
   * Notified when the dead-letter queue holds deliveries (alarm on its depth).
   * @default - the alarm has no action
   */
  readonly alarmTopic?: sns.ITopic;
  /** How long the dead-letter queue keeps deliveries for inspection and redrive. @default Duration.days(14) (the SQS maximum) */
  readonly deadLetterRetention?: Duration;
  readonly logRetention?: logs.RetentionDays;
  readonly tracing?: boolean;
}

/**
 * Webhook delivery driven by the bus:
 *   rule (source ffaas, FFmpeg Command Succeeded | Failed) → delivery function → POST
 *   failure → a message on the retry queue, delayed by SQS (≤ 15 min per hop; longer waits are
 *   re-sent with the remaining delay) → the same function → … → schedule spent → dead-letter queue.
 * Why SQS delays rather than Step Functions or EventBridge Scheduler: one message per pending
 * retry and nothing to clean up (a Standard execution or a schedule per delivery costs more and
 * must be deleted); at-least-once with the record's conditional claim giving exactly one sender
 * per attempt; and the dead-letter queue is an SQS queue either way, redriven with SQS's own
 * "start DLQ redrive" to the retry queue.
 * The deliveries table is the durable state (attempts, last status, next attempt); the queue
 * only says when to look again. An alarm fires when the dead-letter queue is not empty.
 */
export class FfaasWebhooks extends Construct {
  readonly deliveriesTable: dynamodb.Table;
  readonly retryQueue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly function: FfaasFunction;
  readonly rule: events.Rule;
  readonly deadLetterAlarm: cloudwatch.Alarm;
  /** Encrypts the accounts' webhook secrets at rest (the API encrypts, this function decrypts). */
  readonly secretKey: kms.Key;

  constructor(scope: Construct, id: string, props: FfaasWebhooksProps) {
    super(scope, id);
    const W = TABLE.webhookDeliveries;
    const S = dynamodb.AttributeType.STRING;

    this.deliveriesTable = new dynamodb.Table(this, 'DeliveriesTable', {
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      tableName: props.deliveriesTableName,
      partitionKey: { name: W.partitionKey, type: S },
      sortKey: { name: W.sortKey, type: S },
    });
    this.deliveriesTable.addGlobalSecondaryIndex({
      indexName: W.dueIndex,
      partitionKey: { name: W.duePartitionKey, type: S },
      sortKey: { name: W.dueSortKey, type: S },
      projectionType: dynamodb.ProjectionType.ALL,
    });
    this.deliveriesTable.addGlobalSecondaryIndex({
      indexName: W.byUpdatedIndex,
      partitionKey: { name: W.partitionKey, type: S },
      sortKey: { name: W.byUpdatedSortKey, type: S },
      projectionType: dynamodb.ProjectionType.ALL,
    });

    this.secretKey = new kms.Key(this, 'SecretKey', {
      description: 'ffaas: encrypts webhook signing secrets at rest',
      enableKeyRotation: true,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      retentionPeriod: props.deadLetterRetention ?? Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    const functionTimeout = Duration.seconds(30);
    this.retryQueue = new sqs.Queue(this, 'RetryQueue', {
      // Lambda's advice for SQS sources: at least six times the function's timeout.
      visibilityTimeout: Duration.seconds(functionTimeout.toSeconds() * 6),
      retentionPeriod: Duration.days(4),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // A message the function keeps failing on (DynamoDB or SQS unreachable) is not lost.
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: 5 },
    });

    this.function = new FfaasFunction(this, 'Fn-webhook-delivery', {
      handler: 'webhook-delivery',
      environment: {
        ...props.environment,
        [ENV.WEBHOOK_DELIVERIES_TABLE]: this.deliveriesTable.tableName,
        [ENV.WEBHOOK_QUEUE_URL]: this.retryQueue.queueUrl,
        [ENV.WEBHOOK_DLQ_URL]: this.deadLetterQueue.queueUrl,
        [ENV.WEBHOOK_KMS_KEY_ID]: this.secretKey.keyArn,
      },
      timeout: functionTimeout,
      logRetention: props.logRetention,
      tracing: props.tracing,
    });
    const allow = (actions: string[], resources: string[]) =>
      this.function.addToRolePolicy(new iam.PolicyStatement({ actions, resources }));
    allow(['dynamodb:GetItem'], [props.commandsTable.tableArn]);
    allow(['dynamodb:GetItem', 'dynamodb:UpdateItem'], [props.accountsTable.tableArn]);
    allow(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], [this.deliveriesTable.tableArn]);
    // Fresh presigned URLs of the outputs in each body.
    allow(['s3:GetObject'], [props.bucket.arnForObjects(`${BUCKET_PREFIX.outputs}*`)]);
    // Decrypt only (the API encrypts): the secret is read to sign, nowhere else.
    allow(['kms:Decrypt'], [this.secretKey.keyArn]);
    this.retryQueue.grantSendMessages(this.function);
    this.deadLetterQueue.grantSendMessages(this.function);
    this.function.addEventSource(new SqsEventSource(this.retryQueue, { batchSize: 10, reportBatchItemFailures: true }));
    // An event the function failed on twice (asynchronous invocation) goes to the dead-letter
    // queue too; the function understands those records when they are redriven.
    this.function.configureAsyncInvoke({
      retryAttempts: 2,
      maxEventAge: Duration.hours(6),
      onFailure: new destinations.SqsDestination(this.deadLetterQueue),
    });

    this.rule = new events.Rule(this, 'CommandFinishedRule', {
      description: 'ffaas: deliver the webhook of every finished command',
      eventBus: props.eventBus,
      eventPattern: { source: WEBHOOK_EVENT_PATTERN.source, detailType: WEBHOOK_EVENT_PATTERN['detail-type'] },
      targets: [
        new targets.LambdaFunction(this.function, {
          retryAttempts: 185,
          maxEventAge: Duration.hours(24),
          deadLetterQueue: this.deadLetterQueue,
        }),
      ],
    });

    this.deadLetterAlarm = new cloudwatch.Alarm(this, 'DeadLetterAlarm', {
      alarmDescription: 'ffaas: webhook deliveries failed for good (inspect and redrive the dead-letter queue)',
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: 'Maximum',
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (props.alarmTopic) {
      this.deadLetterAlarm.addAlarmAction(new cwActions.SnsAction(props.alarmTopic));
      this.deadLetterAlarm.addOkAction(new cwActions.SnsAction(props.alarmTopic));
    }
  }
}
