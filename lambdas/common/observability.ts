/**
 * Metrics (CloudWatch Embedded Metric Format, flushed once per invocation by the logMetrics
 * middleware) and X-Ray tracing (Powertools Tracer's captureLambdaHandler, in functions deployed
 * with tracing on) for every handler. Names: core/metrics.ts.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { METRIC, METRICS_NAMESPACE } from '../../core/metrics.ts';
import { logger } from './logger.ts';

export const metrics = new Metrics({
  namespace: METRICS_NAMESPACE,
  serviceName: 'ffaas-api',
  // Most requests add no metric: that is normal, not worth a WARN line each time.
  logger: {
    debug: (...a: unknown[]) => logger.debug(String(a[0])),
    info: (...a: unknown[]) => logger.info(String(a[0])),
    warn: (...a: unknown[]) => logger.debug(String(a[0])),
    error: (...a: unknown[]) => logger.error(String(a[0])),
  },
});

/**
 * FFAAS_TRACING is replaced at bundle time (lib/function.ts `define`): with tracing off the
 * tracer's module is dead code and esbuild leaves it out of the bundle; on, it is loaded once.
 */
const tracing = process.env.FFAAS_TRACING === 'true' ? await import('./tracing.ts') : undefined;

/** The middlewares every handler uses, in order: the X-Ray segment (when tracing is on), then metrics. */
export const observability = () =>
  tracing ? [tracing.tracerMiddleware(), logMetrics(metrics)] : [logMetrics(metrics)];

/** One command accepted (run-multiple counts each). */
export function countSubmitted(count = 1): void {
  metrics.addMetric(METRIC.commandsSubmitted, MetricUnit.Count, count);
}

/** What the reconciler saw: the oldest command still waiting for its execution, and what it started. */
export function recordReconcile(oldestPendingAgeSeconds: number, started: number): void {
  metrics.addMetric(METRIC.oldestPendingAgeSeconds, MetricUnit.Seconds, oldestPendingAgeSeconds);
  metrics.addMetric(METRIC.reconcilerStarted, MetricUnit.Count, started);
}
