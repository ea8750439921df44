import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { ENV } from '../core/constants.ts';
import { fileKey } from '../store/keys.ts';
import { attributeValue, expressionsFor, FILE_LIFECYCLE } from '../store/lifecycle.ts';
import { SFN_ERRORS } from './pipeline.ts';
import { BUCKET_PREFIX } from './storage.ts';
import type { FfaasWorkers } from './workers.ts';

/** Props of {@link FfaasFiles}. */
export interface FfaasFilesProps {
  readonly filesTable: dynamodb.ITable;
  /** The bucket; it must send its events to EventBridge (FfaasStorage turns that on). */
  readonly bucket: s3.IBucket;
  /** The ingest runs as a task of the worker image (ffprobe, the SSRF-safe fetcher). */
  readonly workers: FfaasWorkers;
  /** Longest an ingest task may run (a 5 GB fetch + probe + upload). @default Duration.hours(1) */
  readonly taskTimeout?: Duration;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** @default false */
  readonly tracing?: boolean;
}

/**
 * Stored files' ingest: every file is probed once, by ffprobe, in a Fargate task of the worker
 * image (the Lambda runtime has no ffprobe, and a JS demuxer would not give the same meta as
 * the outputs' probe). A small state machine runs that task:
 *   - started by the API for store-file (`{"mode": "fetch", account_id, file_id}`): the task
 *     fetches the URL through the SSRF-safe fetcher, stores and probes it;
 *   - started by an EventBridge rule on the bucket's "Object Created" events under `files/`
 *     (`{"mode": "probe", key}`): bytes that landed by upload, presigned PUT or multipart.
 * The task marks the file STORED or FAILED itself; if it cannot run or crashes, the state
 * machine marks the file FAILED (INTERNAL_ERROR), so no file stays PROCESSING.
 */
export class FfaasFiles extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly objectCreatedRule: events.Rule;
  /** The ingest task's definition and role (the worker image, its own permissions). */
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly taskRole: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: FfaasFilesProps) {
    super(scope, id);
    const { workers } = props;

    // Its own role: the files table and files/* only (the command worker keeps read-only files/*).
    this.taskRole = new iam.Role(this, 'IngestTaskRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'ffaas file ingest: its file item, files/* objects',
    });
    this.taskRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'FileItem',
        actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
        resources: [props.filesTable.tableArn],
      }),
    );
    this.taskRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'FileObjects',
        actions: [
          's3:GetObject',
          's3:PutObject',
          's3:DeleteObject',
          's3:AbortMultipartUpload',
          's3:ListMultipartUploadParts',
        ],
        resources: [props.bucket.arnForObjects(`${BUCKET_PREFIX.files}*`)],
      }),
    );
    const ingestTask = workers.addFargateTaskDefinition('IngestTaskDef', {
      taskRole: this.taskRole,
      cpu: 1024,
      memoryLimitMiB: 2048,
      environment: {
        [ENV.TASK_KIND]: 'ingest',
        [ENV.FILES_TABLE]: props.filesTable.tableName,
        [ENV.BUCKET]: props.bucket.bucketName,
      },
    });
    this.taskDefinition = ingestTask.taskDefinition;

    const keyPart = (index: number) =>
      sfn.JsonPath.arrayGetItem(sfn.JsonPath.stringSplit(sfn.JsonPath.stringAt('$.key'), '/'), index);
    const fetchTarget = new sfn.Pass(this, 'FetchTarget', {
      parameters: {
        account_id: sfn.JsonPath.stringAt('$.account_id'),
        file_id: sfn.JsonPath.stringAt('$.file_id'),
        input: sfn.JsonPath.jsonToString(sfn.JsonPath.objectAt('$')),
      },
    });
    // files/<account>/<file_id>/<name>
    const probeTarget = new sfn.Pass(this, 'ProbeTarget', {
      parameters: {
        account_id: keyPart(1),
        file_id: keyPart(2),
        input: sfn.JsonPath.jsonToString(sfn.JsonPath.objectAt('$')),
      },
    });

    // The same conditional write as FileRepository.markFailed, from the store's FILE_LIFECYCLE.
    const failed = expressionsFor(FILE_LIFECYCLE.markFailed);
    const markFailed = new tasks.DynamoUpdateItem(this, 'MarkFileFailed', {
      table: props.filesTable,
      key: fileKey(
        tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$.account_id')),
        tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$.file_id')),
      ),
      updateExpression: failed.UpdateExpression,
      conditionExpression: failed.ConditionExpression,
      expressionAttributeNames: failed.ExpressionAttributeNames,
      expressionAttributeValues: {
        ...Object.fromEntries(
          Object.entries(failed.statusValues).map(([k, v]) => [k, tasks.DynamoAttributeValue.fromString(v)]),
        ),
        [attributeValue('error_status')]: tasks.DynamoAttributeValue.fromString('INTERNAL_ERROR'),
        [attributeValue('error_message')]: tasks.DynamoAttributeValue.fromString('the file could not be processed'),
      },
      resultPath: sfn.JsonPath.DISCARD,
    });
    const done = new sfn.Succeed(this, 'Done');
    markFailed.addCatch(done, { errors: [SFN_ERRORS.conditionalCheckFailed], resultPath: sfn.JsonPath.DISCARD });
    markFailed.next(done);

    const runIngest = new tasks.EcsRunTask(this, 'RunIngest', {
      integrationPattern: sfn.IntegrationPattern.RUN_JOB,
      cluster: workers.cluster,
      taskDefinition: ingestTask.taskDefinition,
      launchTarget: new tasks.EcsFargateLaunchTarget({ platformVersion: ecs.FargatePlatformVersion.LATEST }),
      subnets: workers.taskSubnets,
      securityGroups: [workers.securityGroup],
      assignPublicIp: workers.assignPublicIp,
      taskTimeout: sfn.Timeout.duration(props.taskTimeout ?? Duration.hours(1)),
      containerOverrides: [
        {
          containerDefinition: ingestTask.container,
          environment: [{ name: ENV.INGEST_INPUT, value: sfn.JsonPath.stringAt('$.input') }],
        },
      ],
      resultSelector: { exit_code: sfn.JsonPath.numberAt('$.Containers[0].ExitCode') },
      resultPath: '$.task',
    });
    runIngest.addRetry({
      errors: [...SFN_ERRORS.ecsRetryable],
      interval: Duration.seconds(10),
      maxAttempts: 6,
      backoffRate: 2,
      maxDelay: Duration.minutes(2),
      jitterStrategy: sfn.JitterType.FULL,
    });
    runIngest.addCatch(markFailed, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
    // The task records its own outcome and exits 0; anything else is a crash.
    runIngest.next(
      new sfn.Choice(this, 'IngestExitedCleanly')
        .when(
          sfn.Condition.and(
            sfn.Condition.isPresent('$.task.exit_code'),
            sfn.Condition.numberEquals('$.task.exit_code', 0),
          ),
          done,
        )
        .otherwise(markFailed),
    );

    const definition = new sfn.Choice(this, 'WhichStep')
      .when(sfn.Condition.stringEquals('$.mode', 'fetch'), fetchTarget.next(runIngest))
      .otherwise(probeTarget.next(runIngest));

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stateMachine = new sfn.StateMachine(this, 'IngestStateMachine', {
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      stateMachineType: sfn.StateMachineType.STANDARD,
      timeout: Duration.hours(2),
      logs: { destination: this.logGroup, level: sfn.LogLevel.ERROR, includeExecutionData: false },
      tracingEnabled: props.tracing ?? false,
    });

    // Bytes that land under files/ (upload, presigned PUT, completed multipart upload).
    this.objectCreatedRule = new events.Rule(this, 'FileLanded', {
      description: 'ffaas: probe a stored file once its bytes land',
      eventPattern: {
        source: ['aws.s3'],
        detailType: ['Object Created'],
        detail: {
          bucket: { name: [props.bucket.bucketName] },
          object: { key: [{ prefix: BUCKET_PREFIX.files }] },
        },
      },
      targets: [
        new targets.SfnStateMachine(this.stateMachine, {
          input: events.RuleTargetInput.fromObject({
            mode: 'probe',
            key: events.EventField.fromPath('$.detail.object.key'),
          }),
          retryAttempts: 20,
          maxEventAge: Duration.hours(24),
        }),
      ],
    });
  }
}
