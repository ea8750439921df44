/**
 * The sweeper's rules (no AWS imports): a command whose execution has ENDED while the command
 * is still QUEUED or PROCESSING will never be finished by that execution — it failed outside
 * the state machine's Catch graph (`States.Runtime`, `States.DataLimitExceeded`), timed out as
 * a whole, or was aborted. The sweeper moves it to FAILED (the store's `sweep` step), publishes
 * the FAILED event (which the webhook delivery follows) and thereby clears `pending`.
 *
 * Run by lambdas/sweeper (EventBridge execution status-change events + a schedule) and by local
 * mode (local/sweeper.ts, on its own executions' ends). Ports are injected: this module only
 * decides and orders the writes.
 */
import type { ErrorStatus } from './constants.ts';
import { commandEventEntry } from './events.ts';

/** Execution statuses of Step Functions. */
export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING_REDRIVE';

/** What the sweeper knows of an execution (from the status-change event or DescribeExecution). */
export interface EndedExecution {
  status: ExecutionStatus | string;
  /** Error name and cause of a FAILED execution (e.g. States.DataLimitExceeded). */
  error?: string | null;
  cause?: string | null;
}

export interface SweepFailure {
  errorStatus: ErrorStatus;
  errorMessage: string;
}

const MAX_CAUSE_IN_MESSAGE = 500;

/**
 * The failure to record for a command whose execution is in `e`, or null when the execution has
 * not ended (RUNNING, or PENDING_REDRIVE which may still be redriven) — then nothing is swept.
 * A SUCCEEDED execution whose command is not terminal ended without recording it (a bug, or a
 * duplicate execution): INTERNAL_ERROR as well.
 */
export function failureForEndedExecution(e: EndedExecution): SweepFailure | null {
  const detail = [e.error, e.cause ? clip(e.cause) : undefined].filter(Boolean).join(': ');
  switch (e.status) {
    case 'RUNNING':
    case 'PENDING_REDRIVE':
      return null;
    case 'TIMED_OUT':
      return {
        errorStatus: 'TIMEOUT',
        errorMessage: 'The execution of the command timed out before the command finished.',
      };
    case 'ABORTED':
      return {
        errorStatus: 'INTERNAL_ERROR',
        errorMessage: `The execution of the command was stopped before the command finished${detail ? ` (${detail})` : ''}.`,
      };
    case 'FAILED':
      if (e.error === 'States.DataLimitExceeded') {
        return {
          errorStatus: 'INTERNAL_ERROR',
          errorMessage: `The command's result exceeded the Step Functions payload limit (${detail}).`,
        };
      }
      return {
        errorStatus: 'INTERNAL_ERROR',
        errorMessage: `The execution of the command failed outside its failure handling (${detail || 'no cause given'}).`,
      };
    default:
      return {
        errorStatus: 'INTERNAL_ERROR',
        errorMessage: `The execution of the command ended (${e.status}) without recording an outcome.`,
      };
  }
}

function clip(s: string): string {
  return s.length <= MAX_CAUSE_IN_MESSAGE ? s : `${s.slice(0, MAX_CAUSE_IN_MESSAGE)}…`;
}

/** The command an execution runs: its input (ExecutionInput) names it. null when it does not. */
export function commandOfExecutionInput(
  input: string | null | undefined,
): { account_id: string; command_id: string } | null {
  if (!input) return null;
  try {
    const v = JSON.parse(input) as { account_id?: unknown; command_id?: unknown };
    return typeof v.account_id === 'string' && typeof v.command_id === 'string'
      ? { account_id: v.account_id, command_id: v.command_id }
      : null;
  } catch {
    return null;
  }
}

/** What the sweeper needs from the store and the bus. */
export interface SweepPorts {
  /** The store's `sweep` step: QUEUED | PROCESSING → FAILED; false when already terminal (or gone). */
  sweep(
    accountId: string,
    commandId: string,
    failure: { finishedAt: string; errorStatus: ErrorStatus; errorMessage: string },
  ): Promise<boolean>;
  /** Puts the entries on the service bus; throws when the bus refused one (after its own retries). */
  publish(entries: ReturnType<typeof commandEventEntry>[]): Promise<void>;
  /**
   * Gives back the per-account slot the command's execution held (store/account-slots.ts);
   * idempotent, a no-op when it held none. An execution that ended outside its own graph never
   * reached its ReleaseSlot state.
   */
  releaseSlot(accountId: string, commandId: string): Promise<unknown>;
}

export type SweepOutcome = 'swept' | 'not-ended' | 'already-terminal' | 'unknown-command';

/**
 * Sweep one command whose execution is `execution`. Writes first, then publishes: a write that
 * lost (the command finished meanwhile) publishes nothing; a publish that throws is thrown to
 * the caller (EventBridge retries the event / the next scheduled run finds nothing to write,
 * so the caller logs and alarms on it — see docs/FAILURES.md).
 */
export async function sweepCommand(
  ports: SweepPorts,
  command: { account_id: string; command_id: string } | null,
  execution: EndedExecution,
  now: Date = new Date(),
): Promise<SweepOutcome> {
  if (!command) return 'unknown-command';
  const failure = failureForEndedExecution(execution);
  if (!failure) return 'not-ended';
  const finishedAt = now.toISOString();
  const swept = await ports.sweep(command.account_id, command.command_id, { finishedAt, ...failure });
  if (swept)
    await ports.publish([
      commandEventEntry({
        command_id: command.command_id,
        account_id: command.account_id,
        status: 'FAILED',
        finished_at: finishedAt,
        error_status: failure.errorStatus,
        error_message: failure.errorMessage,
      }),
    ]);
  // The execution has ended, whatever the command's status: any slot it held is free. (After
  // the publish: if that throws, the retried event or the next run lands here again.)
  await ports.releaseSlot(command.account_id, command.command_id);
  return swept ? 'swept' : 'already-terminal';
}

// ---- the "worker silent while running" limit (docs/FAILURES.md) ------------------------------

/** What the silent-worker check reads of a command item. */
export interface WorkerOnItem {
  account_id: string;
  command_id: string;
  status: string;
  task_token?: string;
  heartbeat_at?: string;
  worker_task_arn?: string;
}

/**
 * Seconds the command's worker has been silent past `limitSeconds`, or null when it is not a
 * silent running worker: only a PROCESSING command whose worker recorded itself (task token and
 * heartbeat_at, lifecycle step startAttempt) is judged, so start-up (RunTask → the worker's
 * first heartbeat) stays under the Run state's own start-up limit.
 */
export function silentSeconds(item: WorkerOnItem | null | undefined, now: Date, limitSeconds: number): number | null {
  if (!item || item.status !== 'PROCESSING' || !item.task_token || !item.heartbeat_at) return null;
  const last = Date.parse(item.heartbeat_at);
  if (Number.isNaN(last)) return null;
  const silent = (now.getTime() - last) / 1000;
  return silent > limitSeconds ? Math.round(silent) : null;
}

export interface SilentWorkerPorts {
  /** SendTaskFailure on the worker's task token; 'gone' when the token is no longer waiting. */
  failTask(taskToken: string, error: ErrorStatus, cause: string): Promise<'failed' | 'gone'>;
  /** Stop the worker's ECS task (a hung worker must not run beside its re-run); absent without ECS. */
  stopTask?(taskArn: string): Promise<void>;
  /** Lifecycle step forgetWorker, conditional on the token read. */
  forgetWorker(accountId: string, commandId: string, taskToken: string): Promise<boolean>;
}

export type SilentOutcome = 'alive' | 'failed' | 'gone';

/**
 * The check for one command: a worker silent past the limit has its task failed as WORKER_LOST
 * (the Run state's Retry then starts the command again, up to MAX_ATTEMPTS, and only then does it
 * end FAILED / WORKER_LOST), its ECS task stopped, and is forgotten on the item, so the next
 * attempt's worker is judged on its own heartbeats. A dead token (the attempt already ended)
 * is only forgotten.
 */
export async function checkSilentWorker(
  ports: SilentWorkerPorts,
  item: WorkerOnItem | null | undefined,
  now: Date,
  limitSeconds: number,
): Promise<SilentOutcome> {
  const silent = silentSeconds(item, now, limitSeconds);
  if (silent === null || !item?.task_token) return 'alive';
  const outcome = await ports.failTask(
    item.task_token,
    'WORKER_LOST',
    `The worker sent no heartbeat for ${silent} s (limit ${limitSeconds} s) and was stopped.`,
  );
  if (item.worker_task_arn && ports.stopTask) await ports.stopTask(item.worker_task_arn).catch(() => undefined);
  await ports.forgetWorker(item.account_id, item.command_id, item.task_token);
  return outcome;
}
