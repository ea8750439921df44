/**
 * Scheduled every minute: starts the execution of every command that was accepted more than
 * RECONCILE_AFTER_SECONDS ago and still carries `pending` (its StartExecution failed, or the
 * submit died between the write and the start). Starting is idempotent by name: an execution
 * that already exists counts as started. Items that left QUEUED but kept the mark are cleaned.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Context } from 'aws-lambda';
import { RECONCILE_AFTER_SECONDS } from '../../core/constants.ts';
import { buildExecutionInput } from '../../core/api/command-item.ts';
import { commandRepository, executionStarter } from '../common/deps.ts';
import { logger } from '../common/logger.ts';
import { observability, recordReconcile } from '../common/observability.ts';

export interface ReconcileSummary {
  found: number;
  started: number;
  alreadyRunning: number;
  cleared: number;
  failed: number;
}

export async function reconcile(now: Date = new Date()): Promise<ReconcileSummary> {
  const olderThan = new Date(now.getTime() - RECONCILE_AFTER_SECONDS * 1000).toISOString();
  const pending = await commandRepository().listPending(olderThan);
  const summary: ReconcileSummary = { found: pending.length, started: 0, alreadyRunning: 0, cleared: 0, failed: 0 };
  for (const item of pending) {
    try {
      if (item.status !== 'QUEUED') {
        if (await commandRepository().clearPending(item.account_id, item.command_id)) summary.cleared++;
        continue;
      }
      const out = await executionStarter().start(buildExecutionInput(item));
      if (out.started) summary.started++;
      else summary.alreadyRunning++;
      logger.info('reconciler started execution', { command_id: item.command_id, already_existed: !out.started });
    } catch (err) {
      summary.failed++;
      logger.error('reconciler could not start execution', { command_id: item.command_id, error: err as Error });
    }
  }
  // Stuck-item signal for the alarm: the oldest command the reconciler had to look at (listed
  // oldest first); 0 when no command has waited past RECONCILE_AFTER_SECONDS.
  const oldest = pending[0] ? Math.max(0, Math.round((now.getTime() - Date.parse(pending[0].created_at)) / 1000)) : 0;
  recordReconcile(oldest, summary.started);
  logger.info('reconcile done', { ...summary, oldest_pending_age_seconds: oldest });
  return summary;
}

/** The schedule rule's event; `time` (ISO-8601) is when the run was due, used as "now". */
export interface ReconcileEvent {
  time?: string;
}

/**
 * With its own Lambda context on every log line, and no key left behind by an earlier
 * invocation (local mode runs every handler in one process with one logger).
 */
export const handler = middy<ReconcileEvent, ReconcileSummary, Error, Context>(async (event: ReconcileEvent) =>
  reconcile(event?.time ? new Date(event.time) : new Date()),
)
  .use(observability())
  .use(injectLambdaContext(logger, { resetKeys: true }));
