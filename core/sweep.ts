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
