/**
 * Restart safety. Local executions live in this process; when it dies, so do they. On start:
 * - commands left PROCESSING (their worker and execution died with the previous process) become
 *   FAILED / WORKER_LOST, by a conditional update that only moves PROCESSING forward, and the
 *   FAILED event is published as the state machine would have;
 * - commands still QUEUED (pending) get their execution started again: the reconciler's own
 *   logic, with the age threshold lifted (nothing from before the start is in flight).
 * While running, the reconciler handler runs on an interval, as its schedule rule does on AWS.
 */
import { ScanCommand, UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { EVENT_DETAIL_TYPE, EVENT_SOURCE, RECONCILE_AFTER_SECONDS, TABLE } from '../core/constants.ts';
import type { CommandEventDetail } from '../core/types.ts';
import type { LocalEventBus } from './event-bus.ts';

export const RESTART_LOST_MESSAGE = 'The worker stopped responding (local mode restarted); the command was abandoned.';

/** PROCESSING → FAILED/WORKER_LOST for every command of the table; returns their ids. */
export async function failLostCommands(opts: { dynamodb: DynamoDBClient; table: string; bus?: LocalEventBus; now?: Date }): Promise<string[]> {
  const { dynamodb, table } = opts;
  const failed: string[] = [];
  let start: Record<string, never> | undefined;
  do {
    // A scan: local tables are small, and there is no index by status (PROCESSING is not pending).
    const page = await dynamodb.send(
      new ScanCommand({
        TableName: table,
        FilterExpression: '#status = :processing',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':processing': { S: 'PROCESSING' } },
        ProjectionExpression: `${TABLE.commands.partitionKey}, ${TABLE.commands.sortKey}`,
        ExclusiveStartKey: start,
      }),
    );
    for (const raw of page.Items ?? []) {
      const item = unmarshall(raw) as { account_id: string; command_id: string };
      const finishedAt = (opts.now ?? new Date()).toISOString();
      try {
        await dynamodb.send(
          new UpdateItemCommand({
            TableName: table,
            Key: { [TABLE.commands.partitionKey]: { S: item.account_id }, [TABLE.commands.sortKey]: { S: item.command_id } },
            UpdateExpression: 'SET #status = :failed, finished_at = :now, error_status = :lost, error_message = :msg REMOVE pending',
            ConditionExpression: '#status = :processing',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: {
              ':failed': { S: 'FAILED' },
              ':processing': { S: 'PROCESSING' },
              ':now': { S: finishedAt },
              ':lost': { S: 'WORKER_LOST' },
              ':msg': { S: RESTART_LOST_MESSAGE },
            },
          }),
        );
      } catch (err) {
        if ((err as Error).name === 'ConditionalCheckFailedException') continue;
        throw err;
      }
      failed.push(item.command_id);
      if (opts.bus) {
        const detail: CommandEventDetail = {
          command_id: item.command_id,
          account_id: item.account_id,
          status: 'FAILED',
          finished_at: finishedAt,
          error_status: 'WORKER_LOST',
          error_message: RESTART_LOST_MESSAGE,
        };
        await opts.bus.putEvents([{ Source: EVENT_SOURCE, DetailType: EVENT_DETAIL_TYPE.FAILED, Detail: detail }]);
      }
    }
    start = page.LastEvaluatedKey as typeof start;
  } while (start);
  return failed;
}

type Reconcile = (now?: Date) => Promise<{ found: number; started: number; alreadyRunning: number; cleared: number; failed: number }>;

async function loadReconcile(): Promise<Reconcile> {
  const mod = (await import('../lambdas/reconciler/index.ts')) as { reconcile?: Reconcile; handler?: () => Promise<unknown> };
  if (typeof mod.reconcile === 'function') return mod.reconcile;
  const handler = mod.handler;
  if (typeof handler !== 'function') throw new Error('lambdas/reconciler exports neither reconcile nor handler');
  return async () => (await handler()) as Awaited<ReturnType<Reconcile>>;
}

/**
 * Starts executions for every QUEUED command, whatever its age (the reconciler's logic with its
 * clock moved past RECONCILE_AFTER_SECONDS). Needs the handler environment set.
 */
export async function restartQueuedCommands(now: Date = new Date()): Promise<Awaited<ReturnType<Reconcile>>> {
  const reconcile = await loadReconcile();
  return reconcile(new Date(now.getTime() + (RECONCILE_AFTER_SECONDS + 1) * 1000));
}

/** Runs the reconciler every `intervalMs` (default 60 s); returns a stop function. */
export function scheduleReconciler(intervalMs = 60_000, log: (line: string) => void = console.error): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    loadReconcile()
      .then((reconcile) => reconcile())
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
