/**
 * Names of the service's CloudWatch metrics (Embedded Metric Format, written by Powertools
 * Metrics in the Lambdas and the worker), shared by the emitters and the alarms/dashboard
 * (lib/monitoring.ts). Dimension `service` is set by Powertools from POWERTOOLS_SERVICE_NAME.
 */
export const METRICS_NAMESPACE = 'ffaas';

export const METRIC = {
  /** Commands accepted by a submit route (one per command; run-multiple counts each). */
  commandsSubmitted: 'CommandsSubmitted',
  /** Worker outcome: success. */
  commandsSucceeded: 'CommandsSucceeded',
  /** Worker outcome: failure, with dimension error_status. */
  commandsFailed: 'CommandsFailed',
  /** Seconds from created_at to the worker starting (queueing, RunTask, image pull, scale-out). */
  queueWaitSeconds: 'QueueWaitSeconds',
  /** Seconds ffmpeg ran. */
  runSeconds: 'RunSeconds',
  /** Bytes downloaded (inputs) and uploaded (outputs) by the worker. */
  bytesIn: 'BytesIn',
  bytesOut: 'BytesOut',
  /** Reconciler: age in seconds of the oldest command still waiting for its execution (0 when none). */
  oldestPendingAgeSeconds: 'OldestPendingAgeSeconds',
  /** Reconciler: executions it had to start. */
  reconcilerStarted: 'ReconcilerStarted',
} as const;

/** The dimension of CommandsFailed. */
export const ERROR_STATUS_DIMENSION = 'error_status';
