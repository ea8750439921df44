import { Duration, Names, RemovalPolicy } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as events from 'aws-cdk-lib/aws-events';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import {
  ENV,
  ERROR_STATUS,
  EVENT_DETAIL_TYPE,
  EVENT_SOURCE,
  MAX_ATTEMPTS,
  STARTUP_TIMEOUT_SECONDS,
  STATE,
  type CommandStatus,
  type ErrorStatus,
} from '../core/constants.ts';
import { CONTROL_DEFAULTS } from '../core/control/settings.ts';
import {
  ACQUIRE_SLOT,
  RELEASE_SLOT,
  SLOT_WAIT_DEFAULTS,
  SLOTS_SORT_KEY,
  slotWaitAttempts,
  type SlotExpressions,
} from '../store/account-slots.ts';
import { commandKey } from '../store/keys.ts';
import {
  attributeValue,
  LIFECYCLE,
  transitionExpressions,
  type LifecycleStep,
  type TransitionValues,
} from '../store/lifecycle.ts';
import type { FfaasWorkers } from './workers.ts';
import { SizedFargateRunTask } from './run-task.ts';

/** Error names the Step Functions service integrations raise, as used in Retry and Catch. */
export const SFN_ERRORS = {
  conditionalCheckFailed: 'DynamoDB.ConditionalCheckFailedException',
  dynamoRetryable: [
    'DynamoDB.ProvisionedThroughputExceededException',
    'DynamoDB.RequestLimitExceeded',
    'DynamoDB.ThrottlingException',
    'DynamoDB.InternalServerErrorException',
  ],
  /**
   * RunTask errors worth retrying, then named NO_CAPACITY. A RunTask call that answers 200
   * with a non-empty `failures` list (no Fargate capacity, RESOURCE:* on EC2, ENI or agent
   * problems) raises `AmazonECS.Unknown` in Step Functions; API errors of ECS raise
   * `ECS.<ExceptionName>` (server errors, limits, throttling).
   */
  ecsRetryable: [
    'AmazonECS.Unknown',
    'ECS.AmazonECSException',
    'ECS.ServerException',
    'ECS.LimitExceededException',
    'ECS.ThrottlingException',
  ],
  eventsRetryable: ['EventBridge.FailedEntry', 'EventBridge.EventBridgeException', 'EventBridge.InternalException'],
  workerLost: [sfn.Errors.HEARTBEAT_TIMEOUT, sfn.Errors.TIMEOUT],
  /**
   * A lost worker whose command is safe to start again (inputs are URLs, outputs are
   * overwritten by the next attempt): no heartbeat (task stopped, host lost, worker crashed or
   * never started) or the worker's own WORKER_LOST (SIGTERM: Spot interruption, scale-in).
   */
  rerun: [sfn.Errors.HEARTBEAT_TIMEOUT, 'WORKER_LOST'],
} as const;

/** Props of {@link FfaasPipeline}. */
export interface FfaasPipelineProps {
  readonly commandsTable: dynamodb.ITable;
  readonly eventBus: events.IEventBus;
  /** Cluster, task definitions and networking the Run states use; the GPU branch exists iff it has a GPU task definition. */
  readonly workers: FfaasWorkers;
  /** Log level of the execution logs. @default sfn.LogLevel.ERROR */
  readonly logLevel?: sfn.LogLevel;
  /** Retention of the execution logs. @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** X-Ray tracing of executions. @default false */
  readonly tracing?: boolean;
  /** Name of the state machine. @default - generated */
  readonly stateMachineName?: string;
  /**
   * Commands of one account running at once (AcquireSlot, docs/CONTROL.md): the same setting as
   * local mode's FFAAS_ACCOUNT_MAX_RUNNING. @default CONTROL_DEFAULTS.accountMaxRunning
   */
  readonly accountMaxRunning?: number;
  /** How often a command waiting for a slot tries again (one state transition each). @default Duration.seconds(SLOT_WAIT_DEFAULTS.waitSeconds) */
  readonly slotWaitInterval?: Duration;
  /** Longest wait for a slot; past it the command fails with TIMEOUT. @default Duration.seconds(SLOT_WAIT_DEFAULTS.maxWaitSeconds) */
  readonly slotMaxWait?: Duration;
}

const STATUS = (s: CommandStatus) => tasks.DynamoAttributeValue.fromString(s);

/** The state machine's own lifecycle steps (store/lifecycle.ts names their states). */
type MachineStep = 'markProcessing' | 'resumeProcessing' | 'recordSuccess' | 'recordFailure';

/**
 * The command state machine (Standard). One execution per command, named by command_id, with
 * ExecutionInput as input. State names are STATE.*; local mode and tests address them by name.
 *
 *   UseAccountSlots ─▶ AcquireSlot (retried while the account's slots are all taken; too long ─▶ NameQueueTimeout ─▶ RecordFailure)
 *        │ (local mode: account_slots false)          │
 *        └───────────────────────────────────────────▶ MarkProcessing
 *
 *   MarkProcessing ─▶ PublishStarted ─▶ [ChooseCompute] ─▶ RunOnFargate | RunOnGpu ─▶ RecordSuccess ─▶ PublishSucceeded
 *        │                                   │ (HeartbeatTimeout/WORKER_LOST: re-run, MAX_ATTEMPTS in all)
 *        │                                   │ RunTask capacity errors after retries ─▶ NameNoCapacity ─┐
 *        │                                   │ HeartbeatTimeout/Timeout ─▶ NameWorkerLost ─┤
 *        │                                   │ worker's ERROR_STATUS ──────────────────────┤
 *        │                                   │ anything else ─▶ NameInternalError ─────────┤
 *        └── not QUEUED ─▶ AlreadyFinished                                  RecordFailure ◀┘ ─▶ PublishFailed
 *
 * Every way out after AcquireSlot gives the slot back: PublishSucceeded ─▶ ReleaseSlotAfterSuccess,
 * PublishFailed ─▶ ReleaseSlotAfterFailure, and ReleaseSlotAndFinish before AlreadyFinished; an
 * execution that ends outside this graph has its slot given back by the sweeper.
 *
 * Without GPU workers there is no ChooseCompute and no RunOnGpu: MarkProcessing goes straight
 * to RunOnFargate (the API refuses compute "gpu" when GPU is off).
 */
export class FfaasPipeline extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: FfaasPipelineProps) {
    super(scope, id);
    const { commandsTable: table, eventBus, workers } = props;

    const key = commandKey(
      tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$.account_id')),
      tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$.command_id')),
    );
    const enteredTime = tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$$.State.EnteredTime'));
    /** The DynamoDB task of a lifecycle step: condition and update generated from the transition table. */
    const lifecycleStep = <S extends MachineStep & LifecycleStep>(
      step: S,
      values: NoInfer<Omit<TransitionValues<S>, 'status_key'>> & Record<string, tasks.DynamoAttributeValue>,
      props: Pick<tasks.DynamoUpdateItemProps, 'returnValues' | 'resultSelector' | 'resultPath'>,
    ) => {
      const x = transitionExpressions(step);
      const expressionAttributeValues: Record<string, tasks.DynamoAttributeValue> = {};
      for (const [placeholder, status] of Object.entries(x.statusValues))
        expressionAttributeValues[placeholder] = STATUS(status);
      for (const [attribute, value] of Object.entries(values))
        expressionAttributeValues[attributeValue(attribute)] = value;
      // The by_status partition `<account_id>#<status>` moves with the status (statusKey).
      const t = LIFECYCLE[step] as { to?: CommandStatus; set: readonly string[] };
      if (t.to && t.set.includes('status_key')) {
        expressionAttributeValues[attributeValue('status_key')] = tasks.DynamoAttributeValue.fromString(
          sfn.JsonPath.format(`{}#${t.to}`, sfn.JsonPath.stringAt('$.account_id')),
        );
      }
      return new tasks.DynamoUpdateItem(this, LIFECYCLE[step].state, {
        table,
        key,
        conditionExpression: x.ConditionExpression,
        updateExpression: x.UpdateExpression,
        expressionAttributeNames: x.ExpressionAttributeNames,
        expressionAttributeValues,
        ...props,
      });
    };
    const dynamoRetry: sfn.RetryProps = {
      errors: [...SFN_ERRORS.dynamoRetryable],
      interval: Duration.seconds(1),
      maxAttempts: 6,
      backoffRate: 2,
      jitterStrategy: sfn.JitterType.FULL,
    };

    const alreadyFinished = new sfn.Succeed(this, STATE.AlreadyFinished, {
      comment:
        'The command is no longer in the status this step expects (a duplicate or late execution): nothing to do.',
    });

    // ---- per-account slots (store/account-slots.ts, docs/CONTROL.md) -------------------------
    const maxRunning = props.accountMaxRunning ?? CONTROL_DEFAULTS.accountMaxRunning;
    if (!Number.isInteger(maxRunning) || maxRunning < 1)
      throw new Error(`accountMaxRunning must be a positive integer, got ${maxRunning}`);
    const slotWait = props.slotWaitInterval ?? Duration.seconds(SLOT_WAIT_DEFAULTS.waitSeconds);
    const slotMaxWait = props.slotMaxWait ?? Duration.seconds(SLOT_WAIT_DEFAULTS.maxWaitSeconds);
    const slotKey = commandKey(
      tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$.account_id')),
      tasks.DynamoAttributeValue.fromString(SLOTS_SORT_KEY),
    );
    /** A write of the account's slots item; expressions from store/account-slots.ts. */
    const slotStep = (id: string, x: SlotExpressions, extra: Record<string, tasks.DynamoAttributeValue> = {}) =>
      new tasks.DynamoUpdateItem(this, id, {
        table,
        key: slotKey,
        conditionExpression: x.ConditionExpression,
        updateExpression: x.UpdateExpression,
        expressionAttributeNames: x.ExpressionAttributeNames,
        expressionAttributeValues: {
          // A String Set of the one command id (States.Array; CDK types the set as string[]).
          ':holder': tasks.DynamoAttributeValue.fromStringSet(
            sfn.JsonPath.array(sfn.JsonPath.stringAt('$.command_id')) as unknown as string[],
          ),
          ':command_id': tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$.command_id')),
          ...extra,
        },
        resultPath: sfn.JsonPath.DISCARD,
      });
    const noSlotHeld = new sfn.Succeed(this, STATE.NoSlotHeld, {
      comment: 'The command held no slot (local mode skips them, or it never got one): nothing to give back.',
    });
    // Other errors after the retries fail the execution; the sweeper then gives the slot back.
    const releaseSlot = (id: string, next?: sfn.State) => {
      const release = slotStep(id, RELEASE_SLOT);
      release.addRetry(dynamoRetry);
      release.addCatch(next ?? noSlotHeld, {
        errors: [SFN_ERRORS.conditionalCheckFailed],
        resultPath: sfn.JsonPath.DISCARD,
      });
      if (next) release.next(next);
      return release;
    };
    /** Every way to AlreadyFinished passes here: a late or duplicate execution may hold a slot. */
    const releaseAndFinish = releaseSlot(STATE.ReleaseSlotAndFinish, alreadyFinished);

    // ---- failure path -------------------------------------------------------------------------
    const recordFailure = lifecycleStep(
      'recordFailure',
      {
        finished_at: enteredTime,
        error_status: tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$.error.Error')),
        error_message: tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$.error.Cause')),
      },
      {
        returnValues: tasks.DynamoReturnValues.UPDATED_NEW,
        resultSelector: { finished_at: sfn.JsonPath.stringAt('$.Attributes.finished_at.S') },
        resultPath: '$.recorded',
      },
    );
    recordFailure.addRetry(dynamoRetry);
    recordFailure.addCatch(releaseAndFinish, {
      errors: [SFN_ERRORS.conditionalCheckFailed],
      resultPath: sfn.JsonPath.DISCARD,
    });

    const publishFailed = this.publish(STATE.PublishFailed, eventBus, EVENT_DETAIL_TYPE.FAILED, {
      command_id: sfn.JsonPath.stringAt('$.command_id'),
      account_id: sfn.JsonPath.stringAt('$.account_id'),
      status: 'FAILED',
      finished_at: sfn.JsonPath.stringAt('$.recorded.finished_at'),
      error_status: sfn.JsonPath.stringAt('$.error.Error'),
      error_message: sfn.JsonPath.stringAt('$.error.Cause'),
    });
    recordFailure.next(publishFailed);
    publishFailed.next(releaseSlot(STATE.ReleaseSlotAfterFailure));

    const nameWorkerLost = new sfn.Pass(this, STATE.NameWorkerLost, {
      comment: 'No heartbeat after every re-run (or past the task timeout): the worker died or hung.',
      parameters: {
        Error: 'WORKER_LOST' satisfies ErrorStatus,
        Cause: sfn.JsonPath.format(
          `The worker stopped responding ({}); the command was abandoned after up to ${MAX_ATTEMPTS} attempts.`,
          sfn.JsonPath.stringAt('$.error.Error'),
        ),
      },
      resultPath: '$.error',
    });
    nameWorkerLost.next(recordFailure);

    const nameNoCapacity = new sfn.Pass(this, STATE.NameNoCapacity, {
      comment: 'RunTask kept failing after its retries: no capacity, ECS limits or throttling. The cause names it.',
      parameters: {
        Error: 'NO_CAPACITY' satisfies ErrorStatus,
        Cause: sfn.JsonPath.format(
          'The worker could not be started: ECS refused to run the task after retries ({}: {}).',
          sfn.JsonPath.stringAt('$.error.Error'),
          sfn.JsonPath.stringAt('$.error.Cause'),
        ),
      },
      resultPath: '$.error',
    });
    nameNoCapacity.next(recordFailure);

    const nameInternalError = new sfn.Pass(this, STATE.NameInternalError, {
      comment: 'An error of the service itself (not of the command): keep what happened as the cause.',
      parameters: {
        Error: 'INTERNAL_ERROR' satisfies ErrorStatus,
        // The whole caught error as JSON: its name and Cause, and no failure when Cause is absent.
        Cause: sfn.JsonPath.jsonToString(sfn.JsonPath.objectAt('$.error')),
      },
      resultPath: '$.error',
    });
    nameInternalError.next(recordFailure);

    // ---- success path -------------------------------------------------------------------------
    const recordSuccess = lifecycleStep(
      'recordSuccess',
      {
        finished_at: enteredTime,
        ffmpeg_command_run_seconds: tasks.DynamoAttributeValue.numberFromString(
          sfn.JsonPath.format('{}', sfn.JsonPath.stringAt('$.result.ffmpeg_command_run_seconds')),
        ),
        // output_files_json is on the item already: the worker stores it beside the result.
      },
      {
        returnValues: tasks.DynamoReturnValues.UPDATED_NEW,
        resultSelector: { finished_at: sfn.JsonPath.stringAt('$.Attributes.finished_at.S') },
        resultPath: '$.recorded',
      },
    );
    recordSuccess.addRetry(dynamoRetry);
    recordSuccess.addCatch(releaseAndFinish, {
      errors: [SFN_ERRORS.conditionalCheckFailed],
      resultPath: sfn.JsonPath.DISCARD,
    });
    recordSuccess.addCatch(nameInternalError, { errors: [sfn.Errors.ALL], resultPath: '$.error' });

    const publishSucceeded = recordSuccess.next(
      this.publish(STATE.PublishSucceeded, eventBus, EVENT_DETAIL_TYPE.SUCCEEDED, {
        command_id: sfn.JsonPath.stringAt('$.command_id'),
        account_id: sfn.JsonPath.stringAt('$.account_id'),
        status: 'SUCCESS',
        finished_at: sfn.JsonPath.stringAt('$.recorded.finished_at'),
        ffmpeg_command_run_seconds: sfn.JsonPath.numberAt('$.result.ffmpeg_command_run_seconds'),
        output_files: sfn.JsonPath.objectAt('$.result.output_files'),
      }),
    );
    publishSucceeded.next(releaseSlot(STATE.ReleaseSlotAfterSuccess));

    // ---- run -------------------------------------------------------------------------------
    const containerEnvironment = [
      { name: ENV.COMMAND_ID, value: sfn.JsonPath.stringAt('$.command_id') },
      { name: ENV.ACCOUNT_ID, value: sfn.JsonPath.stringAt('$.account_id') },
      { name: ENV.TASK_TOKEN, value: sfn.JsonPath.taskToken },
    ];
    // ---- faults: start-up limit, RunTask retries, re-runs of a lost worker (docs/FAILURES.md) ----
    // HeartbeatSeconds is the start-up limit: the worker heartbeats from its first line, so the
    // first beat ends start-up (GPU from zero instances, cold image pull). The shorter
    // "silent while running" limit is the sweeper's: it fails a recorded worker's token with
    // WORKER_LOST when its heartbeat_at is stale, which the re-run Retry below takes (docs/FAILURES.md).
    const runCommon = {
      integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
      cluster: workers.cluster,
      taskTimeout: sfn.Timeout.at('$.task_timeout_seconds'),
      resultPath: '$.result',
    };
    const wireRun = (run: tasks.EcsRunTask, options: { retry?: boolean } = {}) => {
      if (options.retry !== false)
        run.addRetry({
          errors: [...SFN_ERRORS.ecsRetryable],
          interval: Duration.seconds(10),
          maxAttempts: 8,
          backoffRate: 2,
          maxDelay: Duration.minutes(2),
          jitterStrategy: sfn.JitterType.FULL,
        });
      // A new task (and task token) for a lost worker: MAX_ATTEMPTS starts in all.
      run.addRetry({
        errors: [...SFN_ERRORS.rerun],
        interval: Duration.seconds(2),
        maxAttempts: MAX_ATTEMPTS - 1,
        backoffRate: 2,
      });
      run.addCatch(nameNoCapacity, { errors: [...SFN_ERRORS.ecsRetryable], resultPath: '$.error' });
      run.addCatch(nameWorkerLost, { errors: [...SFN_ERRORS.workerLost], resultPath: '$.error' });
      // The worker reports its own failures with SendTaskFailure(error = ERROR_STATUS, cause = message).
      run.addCatch(recordFailure, { errors: [...ERROR_STATUS], resultPath: '$.error' });
      run.addCatch(nameInternalError, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
      run.next(recordSuccess);
      return run;
    };

    const fargateRun = (id: string, capacityProvider?: 'FARGATE' | 'FARGATE_SPOT') =>
      new SizedFargateRunTask(this, id, {
        ...runCommon,
        heartbeatTimeout: sfn.Timeout.duration(Duration.seconds(STARTUP_TIMEOUT_SECONDS.cpu)),
        taskDefinition: workers.fargateTaskDefinition,
        launchTarget: new tasks.EcsFargateLaunchTarget({
          platformVersion: ecs.FargatePlatformVersion.LATEST,
          ...(capacityProvider
            ? { capacityProviderOptions: tasks.CapacityProviderOptions.custom([{ capacityProvider, weight: 1 }]) }
            : {}),
        }),
        subnets: workers.taskSubnets,
        securityGroups: [workers.securityGroup],
        assignPublicIp: workers.assignPublicIp,
        // ExecutionInput.task_cpu / task_memory / task_ephemeral_storage_gib: core/sizing.ts.
        cpu: sfn.JsonPath.stringAt('$.task_cpu'),
        memoryMiB: sfn.JsonPath.stringAt('$.task_memory'),
        containerOverrides: [
          {
            containerDefinition: workers.fargateContainer,
            // The workspace quota of this command's disk (the GPU hosts keep the task definition's).
            environment: [
              ...containerEnvironment,
              { name: ENV.WORKSPACE_MAX_BYTES, value: sfn.JsonPath.stringAt('$.task_workspace_max_bytes') },
            ],
          },
        ],
      });
    let runOnFargate: sfn.IChainable;
    if (workers.fargateSpot) {
      // Spot first; when Spot has no capacity (RunTask failure, ECS.AmazonECSException after a
      // short retry) the same task runs on on-demand Fargate.
      const onDemand = wireRun(fargateRun(STATE.RunOnFargateOnDemand, 'FARGATE'));
      const spot = fargateRun(STATE.RunOnFargate, 'FARGATE_SPOT');
      spot.addRetry({
        errors: [...SFN_ERRORS.ecsRetryable],
        interval: Duration.seconds(5),
        maxAttempts: 2,
        backoffRate: 2,
      });
      spot.addCatch(onDemand, { errors: [...SFN_ERRORS.ecsRetryable], resultPath: sfn.JsonPath.DISCARD });
      runOnFargate = wireRun(spot, { retry: false });
    } else {
      runOnFargate = wireRun(fargateRun(STATE.RunOnFargate));
    }

    let afterMark: sfn.IChainable = runOnFargate;
    if (workers.gpuTaskDefinition && workers.gpuContainer && workers.gpuCapacityProvider) {
      const awsVpc = workers.gpuTaskDefinition.networkMode === 'awsvpc';
      const runOnGpu = wireRun(
        new tasks.EcsRunTask(this, STATE.RunOnGpu, {
          ...runCommon,
          heartbeatTimeout: sfn.Timeout.duration(Duration.seconds(STARTUP_TIMEOUT_SECONDS.gpu)),
          taskDefinition: workers.gpuTaskDefinition,
          // A capacity provider strategy, not launch type EC2: the provider scales the GPU group
          // from zero and the task waits in PROVISIONING instead of failing for lack of hosts.
          launchTarget: new tasks.EcsEc2LaunchTarget({
            capacityProviderOptions: tasks.CapacityProviderOptions.custom([
              { capacityProvider: workers.gpuCapacityProvider.capacityProviderName, weight: 1 },
            ]),
          }),
          ...(awsVpc ? { subnets: workers.taskSubnets, securityGroups: [workers.securityGroup] } : {}),
          // No task-size override: a GPU task takes the instance's one GPU; its size is the host's.
          containerOverrides: [{ containerDefinition: workers.gpuContainer, environment: containerEnvironment }],
        }),
      );
      afterMark = new sfn.Choice(this, STATE.ChooseCompute)
        .when(sfn.Condition.stringEquals('$.compute', 'gpu'), runOnGpu)
        .otherwise(runOnFargate);
    }

    // ---- start -----------------------------------------------------------------------------
    // started_at comes back for the Started event (the same value the poll shows).
    const markProcessing = lifecycleStep(
      'markProcessing',
      { started_at: enteredTime },
      {
        returnValues: tasks.DynamoReturnValues.UPDATED_NEW,
        resultSelector: { started_at: sfn.JsonPath.stringAt('$.Attributes.started_at.S') },
        resultPath: '$.marked',
      },
    );
    markProcessing.addRetry(dynamoRetry);
    // ---- faults: resume a command whose execution was lost while PROCESSING ---------------
    // Local mode starts such a command's execution again with `resume` (local/recovery.ts): it
    // is no longer QUEUED, so MarkProcessing's condition fails and it resumes here instead.
    const resumeProcessing = lifecycleStep(
      'resumeProcessing',
      { resumed_at: enteredTime },
      { resultPath: sfn.JsonPath.DISCARD },
    );
    resumeProcessing.addRetry(dynamoRetry);
    resumeProcessing.addCatch(releaseAndFinish, {
      errors: [SFN_ERRORS.conditionalCheckFailed],
      resultPath: sfn.JsonPath.DISCARD,
    });
    resumeProcessing.addCatch(nameInternalError, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
    resumeProcessing.next(afterMark);
    const resumeOrFinish = new sfn.Choice(this, STATE.ResumeOrFinish, {
      comment: 'Not QUEUED: a resumed execution goes on if the command is still PROCESSING; a duplicate ends.',
    })
      .when(
        sfn.Condition.and(sfn.Condition.isPresent('$.resume'), sfn.Condition.booleanEquals('$.resume', true)),
        resumeProcessing,
      )
      .otherwise(releaseAndFinish);

    markProcessing.addCatch(resumeOrFinish, {
      errors: [SFN_ERRORS.conditionalCheckFailed],
      resultPath: sfn.JsonPath.DISCARD,
    });
    markProcessing.addCatch(nameInternalError, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
    // Subscribers can track work in flight; losing this event must never fail the command.
    const publishStarted = this.publish(STATE.PublishStarted, eventBus, EVENT_DETAIL_TYPE.STARTED, {
      command_id: sfn.JsonPath.stringAt('$.command_id'),
      account_id: sfn.JsonPath.stringAt('$.account_id'),
      status: 'PROCESSING',
      started_at: sfn.JsonPath.stringAt('$.marked.started_at'),
      compute: sfn.JsonPath.stringAt('$.compute'),
    });
    publishStarted.addCatch(afterMark as sfn.State, { errors: [sfn.Errors.ALL], resultPath: sfn.JsonPath.DISCARD });
    markProcessing.next(publishStarted);
    publishStarted.next(afterMark);

    // The command waits QUEUED here while its account's slots are all taken: the acquire is
    // retried every slotWait (no backoff: the longest waiter must not poll less often), each
    // retry one state transition (docs/COSTS.md), for at most slotMaxWait.
    const nameQueueTimeout = new sfn.Pass(this, STATE.NameQueueTimeout, {
      comment: "Every one of the account's slots stayed taken for the whole slot wait: TIMEOUT.",
      parameters: {
        Error: 'TIMEOUT' satisfies ErrorStatus,
        Cause: `The command waited ${slotMaxWait.toHumanString()} for one of its account's ${maxRunning} running slots; all stayed taken by the account's other commands.`,
      },
      resultPath: '$.error',
    });
    nameQueueTimeout.next(recordFailure);
    const acquireSlot = slotStep(STATE.AcquireSlot, ACQUIRE_SLOT, {
      ':max': tasks.DynamoAttributeValue.fromNumber(maxRunning),
    });
    acquireSlot.addRetry({
      errors: [SFN_ERRORS.conditionalCheckFailed],
      interval: slotWait,
      maxAttempts: slotWaitAttempts(slotWait.toSeconds(), slotMaxWait.toSeconds()),
      backoffRate: 1,
    });
    acquireSlot.addRetry(dynamoRetry);
    acquireSlot.addCatch(nameQueueTimeout, { errors: [SFN_ERRORS.conditionalCheckFailed], resultPath: '$.error' });
    acquireSlot.addCatch(nameInternalError, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
    acquireSlot.next(markProcessing);
    const useAccountSlots = new sfn.Choice(this, STATE.UseAccountSlots, {
      comment:
        'Local mode caps each account in its own fair queue and starts executions with account_slots false; on AWS the input never has it.',
    })
      .when(
        sfn.Condition.and(
          sfn.Condition.isPresent('$.account_slots'),
          sfn.Condition.booleanEquals('$.account_slots', false),
        ),
        markProcessing,
      )
      .otherwise(acquireSlot);

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      // Under /aws/vendedlogs/: Step Functions then needs no entry in the account-wide CloudWatch
      // Logs resource policy, whose 5120-character limit other stacks' log groups can exhaust.
      logGroupName: `/aws/vendedlogs/states/${Names.uniqueResourceName(this, { maxLength: 200 })}`,
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName: props.stateMachineName,
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromChainable(useAccountSlots),
      comment: 'ffaas: run one FFmpeg command on a worker and record the outcome',
      logs: { destination: this.logGroup, level: props.logLevel ?? sfn.LogLevel.ERROR, includeExecutionData: true },
      tracingEnabled: props.tracing ?? false,
    });
    // The worker answers the task token (and heartbeats) itself.
    this.stateMachine.grantTaskResponse(workers.taskRole);
  }

  private publish(id: string, bus: events.IEventBus, detailType: string, detail: Record<string, unknown>) {
    const put = new tasks.EventBridgePutEvents(this, id, {
      entries: [{ eventBus: bus, source: EVENT_SOURCE, detailType, detail: sfn.TaskInput.fromObject(detail) }],
      resultPath: sfn.JsonPath.DISCARD,
    });
    put.addRetry({
      errors: [...SFN_ERRORS.eventsRetryable],
      interval: Duration.seconds(1),
      maxAttempts: 5,
      backoffRate: 2,
      jitterStrategy: sfn.JitterType.FULL,
    });
    return put;
  }
}
