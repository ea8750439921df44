import { Duration } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import type * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ERROR_STATUS_DIMENSION, METRIC, METRICS_NAMESPACE } from '../core/metrics.ts';

/** Thresholds of the alarms; every one has a default an operator can override. */
export interface FfaasAlarmThresholds {
  /** API 5XX responses per 5 minutes. @default 5 */
  readonly api5xx?: number;
  /** API p99 latency (the submit routes check every URL, so not a few ms). @default Duration.seconds(10) */
  readonly apiLatencyP99?: Duration;
  /** Age of the oldest command still waiting for its execution. @default Duration.minutes(10) */
  readonly stuckAge?: Duration;
}

/** Props of {@link FfaasMonitoring}. */
export interface FfaasMonitoringProps {
  readonly stateMachine: sfn.StateMachine;
  readonly restApi: apigw.RestApi;
  /** Every Lambda function of the service (errors and throttles). */
  readonly functions: readonly lambda.IFunction[];
  /** Dead-letter queues whose messages are lost work (e.g. webhook deliveries). @default [] */
  readonly deadLetterQueues?: readonly sqs.IQueue[];
  /** The GPU hosts' Auto Scaling group, when GPU workers exist. @default - no GPU alarms */
  readonly gpuAutoScalingGroup?: autoscaling.AutoScalingGroup;
  /**
   * Where alarms (and GPU launch failures) are sent. Alarms exist either way; without a topic
   * they only show in the console and on the dashboard.
   * @default - no notifications
   */
  readonly alarmTopic?: sns.ITopic;
  readonly thresholds?: FfaasAlarmThresholds;
  /** Name of the dashboard. @default - generated */
  readonly dashboardName?: string;
}

/** A metric of the service's own namespace (core/metrics.ts), as Powertools writes it (dimension `service`). */
export function serviceMetric(
  name: string,
  service: 'ffaas-api' | 'ffaas-worker',
  props: Partial<cloudwatch.MetricProps> = {},
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName: name,
    dimensionsMap: { service, ...props.dimensionsMap },
    period: Duration.minutes(5),
    statistic: cloudwatch.Stats.SUM,
    ...props,
  });
}

/**
 * Alarms and a dashboard for the whole service:
 * - executions failed / timed out / throttled (the state machine itself; a command that fails
 *   is recorded by a succeeding execution, so these mean the service broke),
 * - API 5XX and p99 latency, Lambda errors and throttles (all functions),
 * - commands failing with INTERNAL_ERROR or WORKER_LOST (the worker's metrics),
 * - stuck commands: the reconciler's OldestPendingAgeSeconds (missing data is breaching: a
 *   reconciler that stopped reporting is itself a reason to look),
 * - messages in each dead-letter queue,
 * - GPU scale-out failures: an EventBridge rule on the group's "EC2 Instance Launch
 *   Unsuccessful" events (quota 0, no capacity), alarmed through the rule's TriggeredRules.
 */
export class FfaasMonitoring extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard: cloudwatch.Dashboard;
  /** The rule on the GPU group's launch failures (GPU only). */
  readonly gpuLaunchFailures?: events.Rule;

  constructor(scope: Construct, id: string, props: FfaasMonitoringProps) {
    super(scope, id);
    const t = props.thresholds ?? {};
    const five = Duration.minutes(5);
    const alarm = (
      alarmId: string,
      metric: cloudwatch.IMetric,
      threshold: number,
      description: string,
      extra: Partial<cloudwatch.CreateAlarmOptions> = {},
    ) => {
      const a = new cloudwatch.Alarm(this, alarmId, {
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
        ...extra,
      });
      if (props.alarmTopic) {
        a.addAlarmAction(new cwActions.SnsAction(props.alarmTopic));
        a.addOkAction(new cwActions.SnsAction(props.alarmTopic));
      }
      this.alarms.push(a);
      return a;
    };

    const sm = props.stateMachine;
    alarm(
      'ExecutionsFailed',
      sm.metricFailed({ period: five }),
      1,
      'Command executions failed: the state machine could not record an outcome.',
    );
    alarm('ExecutionsTimedOut', sm.metricTimedOut({ period: five }), 1, 'Command executions timed out.');
    alarm(
      'ExecutionsThrottled',
      sm.metricThrottled({ period: five }),
      1,
      'Step Functions throttled the command state machine.',
    );

    const api = props.restApi;
    alarm(
      'Api5xx',
      api.metricServerError({ period: five, statistic: cloudwatch.Stats.SUM }),
      t.api5xx ?? 5,
      'The API answered 5XX.',
    );
    alarm(
      'ApiLatencyP99',
      api.metricLatency({ period: five, statistic: cloudwatch.Stats.percentile(99) }),
      (t.apiLatencyP99 ?? Duration.seconds(10)).toMilliseconds(),
      'API p99 latency is high.',
      { evaluationPeriods: 3, datapointsToAlarm: 2 },
    );

    const sumOf = (prefix: string, label: string, metrics: cloudwatch.IMetric[]) =>
      new cloudwatch.MathExpression({
        expression: metrics.map((_, i) => `${prefix}${i}`).join(' + ') || '0',
        usingMetrics: Object.fromEntries(metrics.map((m, i) => [`${prefix}${i}`, m])),
        label,
        period: five,
      });
    // An alarm's metric math takes at most 10 metrics: one alarm per group of 10 functions.
    const groups: lambda.IFunction[][] = [];
    for (let i = 0; i < props.functions.length; i += 10) groups.push(props.functions.slice(i, i + 10));
    const throttleSums = groups.map((g, i) =>
      sumOf(
        `throttles${i}_`,
        `Lambda throttles ${i + 1}`,
        g.map((f) => f.metricThrottles({ period: five })),
      ),
    );
    const errorSums = groups.map((g, i) =>
      sumOf(
        `errors${i}_`,
        `Lambda errors ${i + 1}`,
        g.map((f) => f.metricErrors({ period: five })),
      ),
    );
    for (const [i, m] of throttleSums.entries()) {
      alarm(`LambdaThrottles${i || ''}`, m, 1, 'A function of the service was throttled (account concurrency).');
    }
    for (const [i, m] of errorSums.entries()) {
      alarm(
        `LambdaErrors${i || ''}`,
        m,
        1,
        'A function of the service failed (not an API error answer: an unhandled invocation error).',
      );
    }

    for (const status of ['INTERNAL_ERROR', 'WORKER_LOST'] as const) {
      alarm(
        `Commands${status === 'INTERNAL_ERROR' ? 'InternalError' : 'WorkerLost'}`,
        serviceMetric(METRIC.commandsFailed, 'ffaas-worker', { dimensionsMap: { [ERROR_STATUS_DIMENSION]: status } }),
        1,
        `Commands failed with ${status}: a fault of the service, not of the command.`,
      );
    }

    alarm(
      'StuckCommands',
      serviceMetric(METRIC.oldestPendingAgeSeconds, 'ffaas-api', { statistic: cloudwatch.Stats.MAXIMUM }),
      (t.stuckAge ?? Duration.minutes(10)).toSeconds(),
      'A command has waited for its execution too long (or the reconciler stopped reporting).',
      { evaluationPeriods: 2, treatMissingData: cloudwatch.TreatMissingData.BREACHING },
    );

    for (const [i, queue] of (props.deadLetterQueues ?? []).entries()) {
      alarm(
        `DeadLetters${i}`,
        queue.metricApproximateNumberOfMessagesVisible({ period: five, statistic: cloudwatch.Stats.MAXIMUM }),
        1,
        'Messages in a dead-letter queue: work that was given up on.',
      );
    }

    const widgets: cloudwatch.IWidget[][] = [
      [
        new cloudwatch.GraphWidget({
          title: 'Commands',
          left: [
            serviceMetric(METRIC.commandsSubmitted, 'ffaas-api', { label: 'submitted' }),
            serviceMetric(METRIC.commandsSucceeded, 'ffaas-worker', { label: 'succeeded' }),
            serviceMetric(METRIC.commandsFailed, 'ffaas-worker', { label: 'failed' }),
          ],
          width: 8,
        }),
        new cloudwatch.GraphWidget({
          title: 'Queue wait and run time (s)',
          left: [
            serviceMetric(METRIC.queueWaitSeconds, 'ffaas-worker', {
              statistic: cloudwatch.Stats.percentile(90),
              label: 'queue wait p90',
            }),
            serviceMetric(METRIC.runSeconds, 'ffaas-worker', {
              statistic: cloudwatch.Stats.percentile(90),
              label: 'ffmpeg run p90',
            }),
            serviceMetric(METRIC.oldestPendingAgeSeconds, 'ffaas-api', {
              statistic: cloudwatch.Stats.MAXIMUM,
              label: 'oldest pending',
            }),
          ],
          width: 8,
        }),
        new cloudwatch.GraphWidget({
          title: 'Bytes in / out',
          left: [
            serviceMetric(METRIC.bytesIn, 'ffaas-worker', { label: 'in' }),
            serviceMetric(METRIC.bytesOut, 'ffaas-worker', { label: 'out' }),
          ],
          width: 8,
        }),
      ],
      [
        new cloudwatch.GraphWidget({
          title: 'API',
          left: [
            api.metricCount({ period: five }),
            api.metricClientError({ period: five }),
            api.metricServerError({ period: five }),
          ],
          right: [api.metricLatency({ period: five, statistic: cloudwatch.Stats.percentile(99) })],
          width: 8,
        }),
        new cloudwatch.GraphWidget({
          title: 'Executions',
          left: [
            sm.metricStarted({ period: five }),
            sm.metricSucceeded({ period: five }),
            sm.metricFailed({ period: five }),
            sm.metricTimedOut({ period: five }),
          ],
          width: 8,
        }),
        new cloudwatch.GraphWidget({
          title: 'Lambda errors and throttles',
          left: [...errorSums, ...throttleSums],
          width: 8,
        }),
      ],
    ];

    if (props.gpuAutoScalingGroup) {
      const asg = props.gpuAutoScalingGroup;
      const launchFailures = (this.gpuLaunchFailures = new events.Rule(this, 'GpuLaunchFailures', {
        description: 'ffaas: a GPU host could not be launched (G-instance quota, capacity)',
        eventPattern: {
          source: ['aws.autoscaling'],
          detailType: ['EC2 Instance Launch Unsuccessful'],
          detail: { AutoScalingGroupName: [asg.autoScalingGroupName] },
        },
        targets: props.alarmTopic ? [new targets.SnsTopic(props.alarmTopic)] : [],
      }));
      const triggered = new cloudwatch.Metric({
        namespace: 'AWS/Events',
        metricName: 'TriggeredRules',
        dimensionsMap: { RuleName: launchFailures.ruleName },
        period: five,
        statistic: cloudwatch.Stats.SUM,
      });
      alarm(
        'GpuScaleOutFailures',
        triggered,
        1,
        'The GPU Auto Scaling group failed to launch an instance (check the G-instance vCPU quota).',
      );
      widgets.push([
        new cloudwatch.GraphWidget({
          title: 'GPU hosts',
          left: [
            new cloudwatch.Metric({
              namespace: 'AWS/AutoScaling',
              metricName: 'GroupInServiceInstances',
              dimensionsMap: { AutoScalingGroupName: asg.autoScalingGroupName },
              period: Duration.minutes(1),
              statistic: cloudwatch.Stats.MAXIMUM,
            }),
          ],
          right: [triggered],
          width: 12,
        }),
      ]);
    }

    widgets.push([new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24 })]);
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { dashboardName: props.dashboardName, widgets });
  }
}
