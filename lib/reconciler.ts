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

/** Props of {@link FfaasReconciler}. */
export interface FfaasReconcilerProps {
  readonly commandsTable: dynamodb.ITable;
  readonly stateMachine: sfn.IStateMachine;
  /** Same environment as the API functions. */
  readonly environment: Record<string, string>;
  /** How often it runs. @default Duration.minutes(1) */
  readonly interval?: Duration;
  readonly logRetention?: logs.RetentionDays;
  readonly tracing?: boolean;
}

/**
 * The guarantee that no accepted command stays QUEUED forever: a scheduled Lambda (`reconciler`)
 * queries the sparse `pending` index for commands accepted more than RECONCILE_AFTER_SECONDS ago
 * whose execution never marked them PROCESSING, and starts their execution (named by
 * command_id, so a start that did happen is not duplicated).
 */
export class FfaasReconciler extends Construct {
  readonly function: FfaasFunction;
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: FfaasReconcilerProps) {
    super(scope, id);
    this.function = new FfaasFunction(this, 'Fn-reconciler', {
      handler: 'reconciler',
      environment: props.environment,
      timeout: Duration.seconds(60),
      logRetention: props.logRetention,
      tracing: props.tracing,
    });
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:Query'],
        resources: [`${props.commandsTable.tableArn}/index/${TABLE.commands.pendingIndex}`],
      }),
    );
    // UpdateItem: clearPending (the conditional REMOVE of a stale mark, store/lifecycle.ts).
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
        resources: [props.commandsTable.tableArn],
      }),
    );
    props.stateMachine.grantStartExecution(this.function);

    this.rule = new events.Rule(this, 'Schedule', {
      description: 'ffaas: start executions of commands stuck in QUEUED',
      schedule: events.Schedule.rate(props.interval ?? Duration.minutes(1)),
      targets: [new targets.LambdaFunction(this.function, { retryAttempts: 0 })],
    });
  }
}
