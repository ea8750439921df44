import type { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { ENV, LIMITS } from '../core/constants.ts';
import { CONTROL_ENV } from '../core/control/settings.ts';
import { FfaasApi, type FfaasApiThrottle } from './api.ts';
import { FfaasConsoleSite } from './console-site.ts';
import { FfaasDownloadUrls } from './download-urls.ts';
import { FfaasEvents } from './events.ts';
import { FfaasFiles } from './files.ts';
import { acknowledgeNagFindings } from './nag.ts';
import { FfaasPipeline } from './pipeline.ts';
import { FfaasMonitoring, type FfaasAlarmThresholds } from './monitoring.ts';
import { FfaasReconciler } from './reconciler.ts';
import { FfaasSweeper } from './sweeper.ts';
import { FfaasStorage } from './storage.ts';
import { FfaasWebhooks } from './webhooks.ts';
import { FfaasWorkers, type FfaasGpuOptions } from './workers.ts';

/** Props of {@link Ffaas}. Every prop is optional: `new Ffaas(stack, 'Ffaas')` is a working service. */
export interface FfaasProps {
  /**
   * GPU workers (NVENC) on an EC2 capacity provider that scales from zero. `true` uses the
   * defaults of FfaasGpuOptions. When off, the API refuses `compute: "gpu"` (422) and the state
   * machine has no GPU branch.
   * @default false
   */
  readonly gpu?: boolean | FfaasGpuOptions;
  /**
   * VPC of the workers. @default - a new public-subnet-only VPC without NAT; see FfaasWorkersProps.vpc
   */
  readonly vpc?: ec2.IVpc;
  /** Where worker tasks run inside `vpc`. @default - private subnets with egress if any, else public */
  readonly workerSubnets?: ec2.SubnetSelection;
  /** Removal policy of the tables and the bucket. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /** Physical names (optional; generated names are recommended). */
  readonly commandsTableName?: string;
  readonly apiKeysTableName?: string;
  readonly accountsTableName?: string;
  readonly filesTableName?: string;
  readonly presetsTableName?: string;
  readonly bucketName?: string;
  readonly eventBusName?: string;
  /** Stage throttling of the API. @default { rateLimit: 50, burstLimit: 100 } */
  readonly apiThrottle?: FfaasApiThrottle;
  /**
   * Per-account throttle: a usage plan, one API Gateway key per account (docs/CONTROL.md).
   * @default { rateLimit: 10, burstLimit: 20 }; false: off
   */
  readonly apiAccountThrottle?: FfaasApiThrottle | false;
  /** Authorizer cache per API key (a revoked key keeps working this long). @default Duration.minutes(5) */
  readonly authorizerCacheTtl?: Duration;
  /**
   * Days command records, their outputs and stored files are kept (DynamoDB TTL, S3 lifecycle);
   * the poll's and the file's `expires_at` say when. @default LIMITS.retentionDays
   */
  readonly retentionDays?: number;
  /** Lifetime of the presigned URLs the API mints. @default LIMITS.signedUrlSeconds */
  readonly signedUrlSeconds?: number;
  /**
   * Worker image. For a prebuilt image by URI use `workerImageFromUri` (lib/worker-image.ts),
   * which grants the ECR pull. @default - built from fargate-task/Dockerfile with the repository root as context
   */
  readonly workerImage?: ecs.ContainerImage;
  /** CPU architecture of the Fargate workers (ARM64: Graviton). @default ecs.CpuArchitecture.X86_64 */
  readonly workerArchitecture?: ecs.CpuArchitecture;
  /** Fargate Spot first, on-demand Fargate when Spot has no capacity. @default false */
  readonly fargateSpot?: boolean;
  /** Where alarms notify (lib/monitoring.ts). @default - alarms without notifications */
  readonly alarmTopic?: sns.ITopic;
  /** Alarm thresholds. @default - see FfaasAlarmThresholds */
  readonly alarmThresholds?: FfaasAlarmThresholds;
  /** X-Ray tracing of the API, functions and state machine. @default false */
  readonly tracing?: boolean;
  /** Retention of every log group of the service. @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** Notified when webhook deliveries land in the dead-letter queue. @default - the alarm has no action */
  readonly webhookAlarmTopic?: sns.ITopic;
  /**
   * Commands of one account running at once; the rest wait QUEUED (the state machine's
   * AcquireSlot, docs/CONTROL.md). Local mode's FFAAS_ACCOUNT_MAX_RUNNING.
   * @default CONTROL_DEFAULTS.accountMaxRunning
   */
  readonly accountMaxRunning?: number;
  /**
   * The web console as a static site (S3 + CloudFront, lib/console-site.ts), opening connected to
   * this API, which then answers CORS requests from the console's origin.
   * @default false
   */
  readonly console?: boolean;
  /**
   * Origin of download URLs (`https://media.example.com`), for a custom domain or CDN in front
   * of the API: set as FFAAS_PUBLIC_URL on every function.
   * @default - API responses use the request's origin; webhook bodies the API's execute-api URL
   */
  readonly publicUrl?: string;
}

/**
 * The whole service as one construct: storage, event bus, workers, the command state machine,
 * the API, the reconciler and webhook delivery. Put it in any stack; FfaasStack is the ready-made one.
 */
export class Ffaas extends Construct {
  readonly storage: FfaasStorage;
  readonly events: FfaasEvents;
  readonly workers: FfaasWorkers;
  readonly pipeline: FfaasPipeline;
  readonly files: FfaasFiles;
  readonly api: FfaasApi;
  readonly reconciler: FfaasReconciler;
  readonly webhooks: FfaasWebhooks;
  /** Fails commands whose execution ended outside the state machine's failure path. */
  readonly sweeper: FfaasSweeper;
  /** Alarms (to the alarm topic) and the dashboard. */
  readonly monitoring: FfaasMonitoring;
  /** The console's static site (prop `console`). */
  readonly consoleSite?: FfaasConsoleSite;
  /** Whether the GPU workers exist. */
  readonly gpuEnabled: boolean;

  constructor(scope: Construct, id: string, props: FfaasProps = {}) {
    super(scope, id);
    this.gpuEnabled = !!props.gpu;

    this.storage = new FfaasStorage(this, 'Storage', {
      removalPolicy: props.removalPolicy,
      commandsTableName: props.commandsTableName,
      apiKeysTableName: props.apiKeysTableName,
      accountsTableName: props.accountsTableName,
      filesTableName: props.filesTableName,
      presetsTableName: props.presetsTableName,
      bucketName: props.bucketName,
      retentionDays: props.retentionDays,
    });
    this.events = new FfaasEvents(this, 'Events', { eventBusName: props.eventBusName });
    this.workers = new FfaasWorkers(this, 'Workers', {
      commandsTable: this.storage.commandsTable,
      bucket: this.storage.bucket,
      vpc: props.vpc,
      taskSubnets: props.workerSubnets,
      image: props.workerImage,
      gpu: props.gpu,
      cpuArchitecture: props.workerArchitecture,
      fargateSpot: props.fargateSpot,
      logRetention: props.logRetention,
    });
    this.pipeline = new FfaasPipeline(this, 'Pipeline', {
      commandsTable: this.storage.commandsTable,
      eventBus: this.events.bus,
      workers: this.workers,
      logRetention: props.logRetention,
      tracing: props.tracing,
      accountMaxRunning: props.accountMaxRunning,
    });

    this.files = new FfaasFiles(this, 'Files', {
      filesTable: this.storage.filesTable,
      bucket: this.storage.bucket,
      workers: this.workers,
      logRetention: props.logRetention,
      tracing: props.tracing,
    });

    const environment: Record<string, string> = {
      [ENV.COMMANDS_TABLE]: this.storage.commandsTable.tableName,
      [ENV.API_KEYS_TABLE]: this.storage.apiKeysTable.tableName,
      [ENV.ACCOUNTS_TABLE]: this.storage.accountsTable.tableName,
      [CONTROL_ENV.IDEMPOTENCY_TABLE]: this.storage.idempotencyTable.tableName,
      [ENV.BUCKET]: this.storage.bucket.bucketName,
      [ENV.STATE_MACHINE_ARN]: this.pipeline.stateMachine.stateMachineArn,
      [ENV.EVENT_BUS_NAME]: this.events.bus.eventBusName,
      [ENV.GPU_ENABLED]: this.gpuEnabled ? 'true' : 'false',
      [ENV.SIGNED_URL_SECONDS]: String(props.signedUrlSeconds ?? LIMITS.signedUrlSeconds),
      [ENV.FILES_TABLE]: this.storage.filesTable.tableName,
      [ENV.PRESETS_TABLE]: this.storage.presetsTable.tableName,
      [ENV.FILE_INGEST_STATE_MACHINE_ARN]: this.files.stateMachine.stateMachineArn,
      [ENV.RETENTION_DAYS]: String(this.storage.retentionDays),
      // The cancel handler stops a worker's task there; the sweeper stops a silent worker's.
      [ENV.WORKER_CLUSTER_ARN]: this.workers.cluster.clusterArn,
      ...(props.publicUrl ? { [ENV.PUBLIC_URL]: props.publicUrl } : {}),
    };
    this.webhooks = new FfaasWebhooks(this, 'Webhooks', {
      eventBus: this.events.bus,
      commandsTable: this.storage.commandsTable,
      accountsTable: this.storage.accountsTable,
      bucket: this.storage.bucket,
      environment,
      removalPolicy: props.removalPolicy,
      alarmTopic: props.webhookAlarmTopic ?? props.alarmTopic,
      logRetention: props.logRetention,
      tracing: props.tracing,
    });
    // The API reads deliveries and schedules redeliveries.
    environment[ENV.WEBHOOK_DELIVERIES_TABLE] = this.webhooks.deliveriesTable.tableName;
    environment[ENV.WEBHOOK_QUEUE_URL] = this.webhooks.retryQueue.queueUrl;
    environment[ENV.WEBHOOK_KMS_KEY_ID] = this.webhooks.secretKey.keyArn;
    if (props.console) this.consoleSite = new FfaasConsoleSite(this, 'Console', {});
    this.api = new FfaasApi(this, 'Api', {
      corsOrigin: this.consoleSite?.url,
      commandsTable: this.storage.commandsTable,
      apiKeysTable: this.storage.apiKeysTable,
      filesTable: this.storage.filesTable,
      presetsTable: this.storage.presetsTable,
      fileIngest: this.files.stateMachine,
      idempotencyTable: this.storage.idempotencyTable,
      bucket: this.storage.bucket,
      stateMachine: this.pipeline.stateMachine,
      accountsTable: this.storage.accountsTable,
      webhookDeliveriesTable: this.webhooks.deliveriesTable,
      webhookQueue: this.webhooks.retryQueue,
      webhookSecretKey: this.webhooks.secretKey,
      eventBus: this.events.bus,
      workerCluster: this.workers.cluster,
      environment,
      throttle: props.apiThrottle,
      accountThrottle: props.apiAccountThrottle,
      authorizerCacheTtl: props.authorizerCacheTtl,
      logRetention: props.logRetention,
      tracing: props.tracing,
    });
    this.consoleSite?.deploy(this.api.restApi.url);
    this.consoleSite?.allowBrowserAccess(this.storage.bucket);
    // Webhook bodies carry download URLs but answer no request: give them the origin and secret.
    new FfaasDownloadUrls(this, 'DownloadUrls', {
      secret: this.api.downloadUrlSecret,
      origin: props.publicUrl ?? this.api.restApi.url,
      functions: [this.webhooks.function],
    });
    this.reconciler = new FfaasReconciler(this, 'Reconciler', {
      commandsTable: this.storage.commandsTable,
      stateMachine: this.pipeline.stateMachine,
      environment,
      logRetention: props.logRetention,
      tracing: props.tracing,
    });

    this.sweeper = new FfaasSweeper(this, 'Sweeper', {
      commandsTable: this.storage.commandsTable,
      stateMachine: this.pipeline.stateMachine,
      eventBus: this.events.bus,
      workerCluster: this.workers.cluster,
      environment,
      logRetention: props.logRetention,
      tracing: props.tracing,
    });

    const functions = [
      ...Object.values(this.api.functions),
      this.api.authorizerFunction,
      this.reconciler.function,
      this.sweeper.function,
      this.webhooks.function,
    ];
    this.monitoring = new FfaasMonitoring(this, 'Monitoring', {
      stateMachine: this.pipeline.stateMachine,
      restApi: this.api.restApi,
      functions,
      gpuAutoScalingGroup: this.workers.gpuCapacityProvider?.autoScalingGroup as
        | autoscaling.AutoScalingGroup
        | undefined,
      alarmTopic: props.alarmTopic,
      thresholds: props.alarmThresholds,
    });

    acknowledgeNagFindings({
      root: this,
      bucket: this.storage.bucket,
      restApi: this.api.restApi,
      openMethods: this.api.openMethods,
      stateMachine: this.pipeline.stateMachine,
      otherStateMachines: [this.files.stateMachine],
      taskDefinitions: [
        this.workers.fargateTaskDefinition,
        this.files.taskDefinition,
        ...(this.workers.gpuTaskDefinition ? [this.workers.gpuTaskDefinition] : []),
      ],
      gpuAutoScalingGroup: this.workers.gpuCapacityProvider?.autoScalingGroup,
      tracing: props.tracing ?? false,
      functions,
      webhooks: { deadLetterQueue: this.webhooks.deadLetterQueue, deliveryFunction: this.webhooks.function },
      apiStage: this.api.restApi.deploymentStage,
      rulesWithoutDlq: [
        this.reconciler.rule,
        this.files.objectCreatedRule,
        this.sweeper.statusRule,
        this.sweeper.scheduleRule,
        ...(this.monitoring.gpuLaunchFailures ? [this.monitoring.gpuLaunchFailures] : []),
      ],
    });
  }
}
