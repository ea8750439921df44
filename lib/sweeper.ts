import { Duration } from 'aws-cdk-lib';
import { Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { stopWorkerTaskStatement } from './workers.ts';
import { ENV, TABLE, WORKER_SILENT_TIMEOUT_SECONDS } from '../core/constants.ts';
import { FfaasFunction } from './function.ts';

/** Props of {@link FfaasSweeper}. */
export interface FfaasSweeperProps {
  readonly commandsTable: dynamodb.ITable;
  readonly stateMachine: sfn.IStateMachine;
  /** The service bus: the sweeper publishes the FAILED event there (the webhook follows it). */
  readonly eventBus: events.IEventBus;
  /** Same environment as the API functions. */
  readonly environment: Record<string, string>;
  /** How often the periodic check runs (it also enforces the silent-worker limit). @default Duration.minutes(1) */
  readonly interval?: Duration;
  /**
   * The "worker silent while running" limit: a running worker whose last heartbeat is older has
   * its task failed as WORKER_LOST and re-run (docs/FAILURES.md).
   * @default Duration.seconds(WORKER_SILENT_TIMEOUT_SECONDS)
   */
  readonly workerSilentTimeout?: Duration;
  /** The workers' cluster: a silent worker's task is stopped there. @default - no StopTask */
  readonly workerCluster?: ecs.ICluster;
  readonly logRetention?: logs.RetentionDays;
  readonly tracing?: boolean;
}

/** The execution statuses whose command the sweeper fails when still QUEUED/PROCESSING. */
export const SWEPT_EXECUTION_STATUSES = ['FAILED', 'TIMED_OUT', 'ABORTED'] as const;

/**
 * The guarantee that no command stays QUEUED or PROCESSING after its execution has ended
 * (lambdas/sweeper, rules in core/sweep.ts): a rule on the DEFAULT bus for this state machine's
 * "Step Functions Execution Status Change" events in SWEPT_EXECUTION_STATUSES (the fast path),
 * and a schedule that catches what an event missed (docs/FAILURES.md).
 */
export class FfaasSweeper extends Construct {
  readonly function: FfaasFunction;
  readonly statusRule: events.Rule;
  readonly scheduleRule: events.Rule;

  constructor(scope: Construct, id: string, props: FfaasSweeperProps) {
    super(scope, id);
    this.function = new FfaasFunction(this, 'Fn-sweeper', {
      handler: 'sweeper',
      environment: {
        ...props.environment,
        [ENV.WORKER_SILENT_SECONDS]: String(
          (props.workerSilentTimeout ?? Duration.seconds(WORKER_SILENT_TIMEOUT_SECONDS)).toSeconds(),
        ),
      },
      timeout: Duration.seconds(120),
      logRetention: props.logRetention,
      tracing: props.tracing,
    });
    const fn = this.function;
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:Query'],
        resources: [`${props.commandsTable.tableArn}/index/${TABLE.commands.pendingIndex}`],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['dynamodb:UpdateItem'], resources: [props.commandsTable.tableArn] }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['states:ListExecutions'], resources: [props.stateMachine.stateMachineArn] }),
    );
    props.stateMachine.grantExecution(fn, 'states:DescribeExecution');
    // The silent-worker check: read the command, fail the worker's task, stop its ECS task.
    fn.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['dynamodb:GetItem'], resources: [props.commandsTable.tableArn] }),
    );
    props.stateMachine.grantTaskResponse(fn);
    if (props.workerCluster) fn.addToRolePolicy(stopWorkerTaskStatement(this, props.workerCluster));
    props.eventBus.grantPutEventsTo(fn);

    this.statusRule = new events.Rule(this, 'ExecutionEnded', {
      description: 'ffaas: fail the command of an execution that ended outside its failure path',
      // The default bus: Step Functions sends its status-change events there.
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: { status: [...SWEPT_EXECUTION_STATUSES], stateMachineArn: [props.stateMachine.stateMachineArn] },
      },
      targets: [new targets.LambdaFunction(fn, { retryAttempts: 8, maxEventAge: Duration.hours(2) })],
    });
    this.scheduleRule = new events.Rule(this, 'Schedule', {
      description: 'ffaas: fail commands whose execution ended without recording it; re-run silent workers',
      schedule: events.Schedule.rate(props.interval ?? Duration.minutes(1)),
      targets: [new targets.LambdaFunction(fn, { retryAttempts: 0 })],
    });
  }
}
