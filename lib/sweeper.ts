import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { TABLE } from '../core/constants.ts';
import { FfaasFunction } from './function.ts';

/** Props of {@link FfaasSweeper}. */
export interface FfaasSweeperProps {
  readonly commandsTable: dynamodb.ITable;
  readonly stateMachine: sfn.IStateMachine;
  /** The service bus: the sweeper publishes the FAILED event there (the webhook follows it). */
  readonly eventBus: events.IEventBus;
  /** Same environment as the API functions. */
  readonly environment: Record<string, string>;
  /** How often the periodic check runs. @default Duration.minutes(5) */
  readonly interval?: Duration;
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
      environment: props.environment,
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
      description: 'ffaas: fail commands whose execution ended without recording it (missed events)',
      schedule: events.Schedule.rate(props.interval ?? Duration.minutes(5)),
      targets: [new targets.LambdaFunction(fn, { retryAttempts: 0 })],
    });
  }
}
