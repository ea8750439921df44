/**
 * The command lifecycle: every conditional write of the command item, as ONE table of
 * transitions (which statuses a step moves from, where it moves to, who takes it, which
 * attributes it sets and removes), and the DynamoDB expressions generated from it.
 *
 * Pure (no AWS imports): the store's CommandRepository (documents), the state machine's
 * DynamoDB tasks (lib/pipeline.ts) and docs/LIFECYCLE.md all follow this table, and
 * test/unit/store/lifecycle.test.ts checks the synthesized ASL against it.
 *
 * Status only moves forward: QUEUED → PROCESSING → SUCCESS | FAILED (QUEUED → FAILED too).
 * Each step's condition names the statuses it may start from; a write whose condition fails
 * changes nothing (ConditionalCheckFailedException), which is how a late or duplicate writer
 * learns it lost.
 */
import { STATE, type CommandStatus } from '../core/constants.ts';

/**
 * One step of an item's lifecycle. Generic in the status words so another table with a status
 * (webhook deliveries, uploads) declares its own table of transitions and generates its
 * conditional writes with {@link expressionsFor} the same way.
 */
export interface Transition<Status extends string = CommandStatus> {
  /** Statuses the item must be in (the write's condition). Empty: the item must not exist. */
  readonly from: readonly Status[];
  /** Status after the write; undefined: the status does not change. */
  readonly to?: Status;
  /** Who takes this step (docs/LIFECYCLE.md). */
  readonly by: string;
  /** The state machine state that takes it, when it is one (its ASL is tested against this). */
  readonly state?: string;
  /** Attributes the step sets (each from a value the caller gives). */
  readonly set: readonly string[];
  /** Counters the step adds one to in the same write (from 0 when absent): no read before it. */
  readonly increment?: readonly string[];
  /** Attributes the step removes. */
  readonly remove: readonly string[];
}

/** Order of the statuses: a step never moves to an earlier one. SUCCESS and FAILED are both final. */
export const STATUS_RANK: Record<CommandStatus, number> = { QUEUED: 0, PROCESSING: 1, SUCCESS: 2, FAILED: 2 };

export const LIFECYCLE = {
  /** The API accepts a command: the item is written QUEUED with the `pending` mark. */
  submit: {
    from: [],
    to: 'QUEUED',
    by: 'API submit handlers (lambdas/common/submit.ts → CommandRepository.create)',
    set: [],
    remove: [],
  },
  /** The execution starts: the reconciler no longer needs to look at it. */
  markProcessing: {
    from: ['QUEUED'],
    to: 'PROCESSING',
    by: 'state machine',
    state: STATE.MarkProcessing,
    set: ['started_at', 'status_key'],
    remove: ['pending', 'pending_shard'],
  },
  /**
   * An execution started again (`resume` in its input) for a command whose execution and worker
   * were lost while it was PROCESSING (local mode after a restart): the run starts over.
   */
  resumeProcessing: {
    from: ['PROCESSING'],
    by: 'state machine (an execution started with `resume`, local/recovery.ts)',
    state: STATE.ResumeProcessing,
    set: ['resumed_at'],
    remove: ['pending', 'pending_shard'],
  },
  /**
   * A worker starts on the command (first or a re-run): counts it in `attempts` and says who it
   * is, its task token (the sweeper fails the task with it when the worker falls silent) and its
   * first `heartbeat_at`. One write, and the worker's only read of the item (it returns the item
   * as written): every call is a DynamoDB request on AWS and the largest share of local mode's
   * CPU per command (docs/PERFORMANCE.md).
   */
  startAttempt: {
    from: ['PROCESSING'],
    by: 'worker (fargate-task/src/run-command.ts)',
    set: ['task_token', 'heartbeat_at'],
    increment: ['attempts'],
    remove: [],
  },
  /** On ECS: the worker's task ARN (from the task metadata endpoint), which a cancel stops. */
  recordWorkerTask: {
    from: ['PROCESSING'],
    by: 'worker on ECS (fargate-task/src/run-command.ts)',
    set: ['worker_task_arn'],
    remove: [],
  },
  /** With every heartbeat: the sweeper's "worker silent while running" check reads it. */
  stampHeartbeat: {
    from: ['PROCESSING'],
    by: 'worker (fargate-task/src/heartbeat.ts)',
    set: ['heartbeat_at'],
    remove: [],
  },
  /**
   * The sweeper failed a silent worker's task (or found its token dead): the command waits for
   * its next attempt's worker, which records itself again. Also conditional on the task token
   * being the one the sweeper read, so a newer attempt's is never removed.
   */
  forgetWorker: {
    from: ['PROCESSING'],
    by: 'sweeper (lambdas/sweeper, local/sweeper.ts)',
    set: [],
    remove: ['task_token', 'heartbeat_at'],
  },
  /**
   * The worker's result, before it reports success: the full outputs (a playlist's segment names
   * can be thousands, so they go on the item and the result it sends Step Functions stays
   * small), its phase timings and FFmpeg's last progress, in one write.
   */
  storeOutputs: {
    from: ['PROCESSING'],
    by: 'worker (fargate-task/src/run-command.ts)',
    set: ['output_files_json', 'timings', 'progress'],
    remove: [],
  },
  /** The worker reports progress while FFmpeg runs; never on a finished command. */
  writeProgress: {
    from: ['PROCESSING'],
    by: 'worker (fargate-task/src/progress-writer.ts)',
    set: ['progress'],
    remove: [],
  },
  /**
   * The worker's per-phase timings (download, ffmpeg, probe, upload seconds and when it started
   * reporting), written just before it reports a failure (a success writes them with
   * storeOutputs).
   */
  recordTimings: {
    from: ['PROCESSING'],
    by: 'worker (fargate-task/src/run-command.ts)',
    set: ['timings'],
    remove: [],
  },
  /** The worker reported success by task token. */
  recordSuccess: {
    from: ['PROCESSING'],
    to: 'SUCCESS',
    by: 'state machine',
    state: STATE.RecordSuccess,
    set: ['finished_at', 'ffmpeg_command_run_seconds', 'status_key'],
    remove: [],
  },
  /** The worker reported failure, was lost, or the execution failed before the worker ran. */
  recordFailure: {
    from: ['QUEUED', 'PROCESSING'],
    to: 'FAILED',
    by: 'state machine',
    state: STATE.RecordFailure,
    set: ['finished_at', 'error_status', 'error_message', 'status_key'],
    remove: ['pending', 'pending_shard'],
  },
  /**
   * The account cancels it (core/control/cancel.ts): a QUEUED command never starts (its
   * MarkProcessing finds it FAILED), a PROCESSING one has its execution stopped and its worker
   * killed after this write. error_status is CANCELLED.
   */
  cancel: {
    from: ['QUEUED', 'PROCESSING'],
    to: 'FAILED',
    by: 'cancel handler (lambdas/cancel-command → core/control/cancel.ts)',
    set: ['finished_at', 'error_status', 'error_message', 'status_key'],
    remove: ['pending', 'pending_shard'],
  },
  /** Local mode restarted: executions and workers of the previous process died with it. */
  abandonProcessing: {
    from: ['PROCESSING'],
    to: 'FAILED',
    by: 'local mode on start (local/recovery.ts)',
    set: ['finished_at', 'error_status', 'error_message', 'status_key'],
    remove: ['pending', 'pending_shard'],
  },
  /**
   * The execution ended (failed, timed out, aborted) outside the state machine's own failure
   * path: the sweeper fails the command.
   */
  sweep: {
    from: ['QUEUED', 'PROCESSING'],
    to: 'FAILED',
    by: 'sweeper (lambdas/sweeper, local/sweeper.ts)',
    set: ['finished_at', 'error_status', 'error_message', 'status_key'],
    remove: ['pending', 'pending_shard'],
  },
  /** DELETE /commands/{id}/files: the finished command's outputs are marked deleted (is_deleted). */
  deleteOutputs: {
    from: ['SUCCESS', 'FAILED'],
    by: 'API (lambdas/delete-command-files)',
    set: ['output_files_json'],
    remove: [],
  },
  /** The execution moved the command on but the `pending` mark stayed: the reconciler drops it. */
  clearPending: {
    from: ['PROCESSING', 'SUCCESS', 'FAILED'],
    by: 'reconciler (lambdas/reconciler)',
    set: [],
    remove: ['pending', 'pending_shard'],
  },
} as const satisfies Record<string, Transition>;

export type LifecycleStep = keyof typeof LIFECYCLE;

/** The attributes a step sets, as a record type the caller fills. */
export type TransitionValues<S extends LifecycleStep> = Record<(typeof LIFECYCLE)[S]['set'][number], unknown>;

/** Placeholder of a status value in expressions (`:queued`, `:processing`, …). */
export const statusPlaceholder = (status: string): string => `:${status.toLowerCase()}`;
/** Placeholders of an attribute in expressions. */
export const attributeName = (attribute: string): string => `#${attribute}`;
export const attributeValue = (attribute: string): string => `:${attribute}`;

export interface TransitionExpressions<Status extends string = CommandStatus> {
  ConditionExpression: string;
  UpdateExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  /** The status values only; the caller adds `attributeValue(a)` for each attribute in `set`. */
  statusValues: Record<string, Status>;
  /** The constants of the `increment` counters (`:zero`, `:one`), when the step has any. */
  counterValues?: Record<string, number>;
}

/**
 * The condition and update of an update step (not `submit`, which is a conditional put):
 *   ConditionExpression  `#status = :queued` or `#status IN (:queued, :processing)`
 *   UpdateExpression     `SET #status = :processing, #started_at = :started_at REMOVE #pending`
 */
export function transitionExpressions(step: Exclude<LifecycleStep, 'submit'>): TransitionExpressions {
  return expressionsFor<CommandStatus>(LIFECYCLE[step]);
}

/** The expressions of any update transition on an item whose status attribute is `status`. */
export function expressionsFor<Status extends string>(t: Transition<Status>): TransitionExpressions<Status> {
  if (t.from.length === 0) throw new Error('a transition from no status is a conditional put, not an update');
  const names: Record<string, string> = { '#status': 'status' };
  const statusValues: Record<string, Status> = {};
  for (const s of t.from) statusValues[statusPlaceholder(s)] = s;
  const condition =
    t.from.length === 1
      ? `#status = ${statusPlaceholder(t.from[0]!)}`
      : `#status IN (${t.from.map(statusPlaceholder).join(', ')})`;

  const sets: string[] = [];
  if (t.to) {
    statusValues[statusPlaceholder(t.to)] = t.to;
    sets.push(`#status = ${statusPlaceholder(t.to)}`);
  }
  for (const a of t.set) {
    names[attributeName(a)] = a;
    sets.push(`${attributeName(a)} = ${attributeValue(a)}`);
  }
  for (const a of t.increment ?? []) {
    names[attributeName(a)] = a;
    sets.push(`${attributeName(a)} = if_not_exists(${attributeName(a)}, :zero) + :one`);
  }
  for (const a of t.remove) names[attributeName(a)] = a;
  const update = [
    sets.length > 0 ? `SET ${sets.join(', ')}` : '',
    t.remove.length > 0 ? `REMOVE ${t.remove.map(attributeName).join(', ')}` : '',
  ]
    .filter(Boolean)
    .join(' ');
  return {
    ConditionExpression: condition,
    UpdateExpression: update,
    ExpressionAttributeNames: names,
    statusValues,
    ...(t.increment?.length ? { counterValues: { ':zero': 0, ':one': 1 } } : {}),
  };
}

/** Status of a stored file (core/api/files.ts FileStatus). */
export type FileLifecycleStatus = 'PROCESSING' | 'STORED' | 'FAILED';

/**
 * The stored-file lifecycle (files table): written PROCESSING by the files routes, then decided
 * once by the ingest task (or, when the task cannot run, by the ingest state machine's
 * MarkFileFailed, generated from `markFailed`). PROCESSING → STORED | FAILED, both final.
 */
export const FILE_LIFECYCLE = {
  markStored: {
    from: ['PROCESSING'],
    to: 'STORED',
    by: 'file ingest task (fargate-task/src/ingest.ts)',
    set: ['probe', 'size_bytes', 'stored_at'],
    remove: ['upload_id'],
  },
  markFailed: {
    from: ['PROCESSING'],
    to: 'FAILED',
    by: 'file ingest task, or the ingest state machine (MarkFileFailed) / local mode when the task crashed',
    set: ['error_status', 'error_message'],
    remove: ['upload_id'],
  },
} as const satisfies Record<string, Transition<FileLifecycleStatus>>;

export type FileLifecycleStep = keyof typeof FILE_LIFECYCLE;
