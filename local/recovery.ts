/**
 * Restart safety. Local executions live in this process; when it dies (or stops), so do they.
 * On start:
 * - commands left PROCESSING (their worker and execution ended with the previous process) are
 *   run again: an execution started with `resume` (the state machine's ResumeProcessing), its
 *   worker counting one more attempt — inputs are URLs and outputs are overwritten, so this is
 *   safe. A command that has had MAX_ATTEMPTS worker starts already becomes FAILED /
 *   WORKER_LOST (the store's abandonProcessing step) with its FAILED event, so a command that
 *   takes the process down cannot loop;
 * - commands still QUEUED (pending) get their execution started again: the reconciler's own
 *   logic, with the age threshold lifted (nothing from before the start is in flight).
 * While running, the reconciler handler runs on an interval, as its schedule rule does on AWS.
 */
import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { MAX_ATTEMPTS, RECONCILE_AFTER_SECONDS } from '../core/constants.ts';
import { buildExecutionInput } from '../core/api/command-item.ts';
import { commandEventEntry } from '../core/events.ts';
import type { ExecutionInput } from '../core/types.ts';
import { documentClientFor } from '../store/clients.ts';
import { CommandRepository, type CommandFailure } from '../store/command-repository.ts';
import type { LocalEventBus } from './event-bus.ts';
import { lambdaContext } from './http-server.ts';

export const RESTART_LOST_MESSAGE = `The worker stopped responding (local mode restarted) and the command had used its ${MAX_ATTEMPTS} attempts; it was abandoned.`;

export interface LostCommands {
  /** Started again with `resume`. */
  resumed: string[];
  /** Out of attempts: FAILED / WORKER_LOST. */
  failed: string[];
}

/**
 * Every command of the table left PROCESSING: started again (`startExecution` with `resume`)
 * while it has attempts left, else FAILED / WORKER_LOST with its FAILED event.
 */
export async function recoverLostCommands(opts: {
  dynamodb: DynamoDBClient;
  table: string;
  bus?: LocalEventBus;
  startExecution: (input: ExecutionInput) => unknown;
  now?: Date;
}): Promise<LostCommands> {
  const commands = new CommandRepository(documentClientFor(opts.dynamodb), opts.table);
  // Items written before the by_status and sharded pending indexes get their index keys, so a
  // queued command of an older data dir is found by the reconciler.
  await commands.backfillIndexKeys();
  const out: LostCommands = { resumed: [], failed: [] };
  for (const { account_id, command_id } of await commands.scanKeysByStatus('PROCESSING')) {
    const item = await commands.get(account_id, command_id);
    if (!item || item.status !== 'PROCESSING') continue;
    if ((item.attempts ?? 0) < MAX_ATTEMPTS) {
      opts.startExecution({ ...buildExecutionInput(item), resume: true });
      out.resumed.push(command_id);
      continue;
    }
    const failure: CommandFailure = {
      finishedAt: (opts.now ?? new Date()).toISOString(),
      errorStatus: 'WORKER_LOST',
      errorMessage: RESTART_LOST_MESSAGE,
    };
    // false: it finished meanwhile (its own execution recorded it), nothing to do.
    if (!(await commands.abandonProcessing(account_id, command_id, failure))) continue;
    out.failed.push(command_id);
    await opts.bus?.putEvents([
      commandEventEntry({
        command_id,
        account_id,
        status: 'FAILED',
        finished_at: failure.finishedAt,
        error_status: failure.errorStatus,
        error_message: failure.errorMessage,
      }),
    ]);
  }
  return out;
}

type ReconcileSummary = import('../lambdas/reconciler/index.ts').ReconcileSummary;

/**
 * One run of the reconciler's handler, as its schedule rule invokes it on AWS: with the
 * reconciler's own Lambda context (its log lines never carry an earlier request's function name
 * or command id) and `now` as the event's time.
 */
async function invokeReconciler(now: Date = new Date()): Promise<ReconcileSummary> {
  // Loaded on first use: the handler modules read their environment, which local mode sets first.
  const { handler } = await import('../lambdas/reconciler/index.ts');
  return handler({ time: now.toISOString() }, lambdaContext('ffaas-local-reconciler', randomUUID(), 60_000));
}

/**
 * Starts executions for every QUEUED command, whatever its age (the reconciler's logic with its
 * clock moved past RECONCILE_AFTER_SECONDS). Needs the handler environment set.
 */
export async function restartQueuedCommands(now: Date = new Date()): Promise<ReconcileSummary> {
  return invokeReconciler(new Date(now.getTime() + (RECONCILE_AFTER_SECONDS + 1) * 1000));
}

/** Runs the reconciler every `intervalMs` (default 60 s); returns a stop function. */
export function scheduleReconciler(intervalMs = 60_000, log: (line: string) => void = console.error): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    invokeReconciler()
      .then((s) => {
        if (s.started > 0 || s.failed > 0) log(`reconciler: started ${s.started}, failed ${s.failed}`);
      })
      .catch((err) => log(`reconciler failed: ${(err as Error).message}`))
      .finally(() => {
        running = false;
      });
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
