/**
 * The worker's CloudWatch metrics, as Embedded Metric Format lines on stdout written by
 * Powertools Metrics: on ECS the awslogs driver ships stdout to CloudWatch Logs, which turns
 * EMF lines into metrics (namespace and names in core/metrics.ts). No X-Ray tracer here: the
 * worker is a plain process without a Lambda segment, and its timings are these metrics.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { ERROR_STATUS_DIMENSION, METRIC, METRICS_NAMESPACE } from '../../core/metrics.ts';
import type { ErrorStatus } from '../../core/constants.ts';

type Unit = (typeof MetricUnit)[keyof typeof MetricUnit];

export interface CommandMeasurements {
  status: 'SUCCESS' | 'FAILED';
  errorStatus?: ErrorStatus;
  /** Seconds from the command's created_at to the worker reading it. */
  queueWaitSeconds?: number;
  runSeconds?: number;
  bytesIn: number;
  bytesOut: number;
  compute: string;
}

/** The metric values of one command (pure; emitCommandMetrics writes them). */
export function commandMetricValues(m: CommandMeasurements): Array<{ name: string; unit: Unit; value: number }> {
  const values: Array<{ name: string; unit: Unit; value: number }> = [
    {
      name: m.status === 'SUCCESS' ? METRIC.commandsSucceeded : METRIC.commandsFailed,
      unit: MetricUnit.Count,
      value: 1,
    },
    { name: METRIC.bytesIn, unit: MetricUnit.Bytes, value: m.bytesIn },
    { name: METRIC.bytesOut, unit: MetricUnit.Bytes, value: m.bytesOut },
  ];
  if (m.queueWaitSeconds !== undefined && m.queueWaitSeconds >= 0) {
    values.push({ name: METRIC.queueWaitSeconds, unit: MetricUnit.Seconds, value: m.queueWaitSeconds });
  }
  if (m.runSeconds !== undefined)
    values.push({ name: METRIC.runSeconds, unit: MetricUnit.Seconds, value: m.runSeconds });
  return values;
}

/**
 * Writes one EMF document for the command: the totals without dimensions but `service` (what the
 * alarms and dashboard read), and CommandsFailed once more by error_status.
 */
export function emitCommandMetrics(
  m: CommandMeasurements,
  metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'ffaas-worker' }),
): void {
  for (const v of commandMetricValues(m)) metrics.addMetric(v.name, v.unit, v.value);
  metrics.addMetadata('compute', m.compute);
  if (m.status === 'FAILED' && m.errorStatus) {
    const byStatus = metrics.singleMetric();
    byStatus.addDimension(ERROR_STATUS_DIMENSION, m.errorStatus);
    byStatus.addMetric(METRIC.commandsFailed, MetricUnit.Count, 1);
  }
  metrics.publishStoredMetrics();
}
