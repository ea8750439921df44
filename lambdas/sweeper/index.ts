/**
 * The sweeper: no command stays QUEUED or PROCESSING after its execution has ended.
 *
 * Invoked by two EventBridge rules (lib/sweeper.ts):
 * - the execution status-change events of the state machine (source `aws.states`, status
 *   FAILED / TIMED_OUT / ABORTED): the event carries the execution's input (its command) and
 *   error; the command is swept at once;
 * - a schedule: executions that ended in those statuses within SWEEP_LOOKBACK_SECONDS (a missed
 *   or failed event) and commands still `pending` whose execution exists and has ended (they
 *   would otherwise sit in the reconciler's index forever) are swept.
 * The rules themselves are core/sweep.ts; a sweep is the store's `sweep` step plus the FAILED
 * event on the service bus (which the webhook delivery follows).
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { ECSClient, StopTaskCommand } from '@aws-sdk/client-ecs';
import {
  DescribeExecutionCommand,
  ListExecutionsCommand,
  SendTaskFailureCommand,
  type ExecutionStatus,
  type SFNClient,
  type DescribeExecutionCommandOutput,
} from '@aws-sdk/client-sfn';
import type { Context } from 'aws-lambda';
import { ENV, RECONCILE_AFTER_SECONDS, WORKER_SILENT_TIMEOUT_SECONDS } from '../../core/constants.ts';
import {
  checkSilentWorker,
  commandOfExecutionInput,
  type SilentWorkerPorts,
  sweepCommand,
  type EndedExecution,
  type SweepOutcome,
  type SweepPorts,
} from '../../core/sweep.ts';
import { sfnClient } from '../../store/clients.ts';
import { isAwsError } from '../../store/errors.ts';
import { required } from '../common/config.ts';
import { commandRepository } from '../common/deps.ts';
import { logger } from '../common/logger.ts';
import { putCommandEvents } from '../common/event-bus.ts';
import { observability } from '../common/observability.ts';

/** How far back the scheduled run looks for ended executions (events are the fast path). */
export const SWEEP_LOOKBACK_SECONDS = 2 * 3600;
/** Ended executions looked at per scheduled run and status (the next run continues). */
const MAX_PER_STATUS = 200;
const ENDED: ExecutionStatus[] = ['FAILED', 'TIMED_OUT', 'ABORTED'];

/** The Step Functions "Execution Status Change" event (the fields used). */
export interface ExecutionStatusChangeEvent {
  source: 'aws.states';
  'detail-type': 'Step Functions Execution Status Change';
  time?: string;
  detail: {
    executionArn: string;
    stateMachineArn: string;
    name?: string;
    status: string;
    input?: string | null;
    error?: string | null;
    cause?: string | null;
  };
}
/** The schedule rule's event. */
export interface ScheduledEvent {
  source?: string;
  time?: string;
}
export type SweeperEvent = ExecutionStatusChangeEvent | ScheduledEvent;

export interface SweepSummary {
  swept: number;
  looked: number;
  failed: number;
  /** Running workers silent past the limit whose task was failed (re-run by the Run state). */
  silent: number;
}

/** Running executions looked at per scheduled run by the silent-worker check. */
const MAX_RUNNING_CHECKED = 1000;
const TOKEN_GONE = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);
/** An execution's command never changes: remembered across warm invocations (bounded). */
const commandOfExecution = new Map<string, { account_id: string; command_id: string } | null>();
const COMMAND_CACHE_SIZE = 5000;
let ecs: ECSClient | undefined;

/** The silent-worker limit: FFAAS_WORKER_SILENT_SECONDS, else WORKER_SILENT_TIMEOUT_SECONDS. */
export function workerSilentSeconds(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env[ENV.WORKER_SILENT_SECONDS]);
  return Number.isFinite(n) && n > 0 ? n : WORKER_SILENT_TIMEOUT_SECONDS;
}

export function silentWorkerPorts(sfn: SFNClient = sfnClient()): SilentWorkerPorts {
  const cluster = process.env[ENV.WORKER_CLUSTER_ARN];
  return {
    async failTask(taskToken, error, cause) {
      try {
        await sfn.send(new SendTaskFailureCommand({ taskToken, error, cause }));
        return 'failed';
      } catch (err) {
        if (TOKEN_GONE.has((err as { name?: string })?.name ?? '')) return 'gone';
        throw err;
      }
    },
    ...(cluster
      ? {
          async stopTask(taskArn: string) {
            ecs ??= new ECSClient({});
            await ecs.send(
              new StopTaskCommand({ cluster, task: taskArn, reason: 'ffaas: the worker stopped heartbeating' }),
            );
          },
        }
      : {}),
    forgetWorker: (a, c, token) => commandRepository().forgetWorker(a, c, token),
  };
}

let events: EventBridgeClient | undefined;

/** Ports over the real store and bus (the bus put is retried by the SDK, then a failed entry throws). */
export function sweepPorts(): SweepPorts {
  return {
    sweep: (a, c, f) => commandRepository().sweep(a, c, f),
    releaseSlot: (a, c) => commandRepository().releaseSlot(a, c),
    publish: async (entries) => {
      events ??= new EventBridgeClient({ maxAttempts: 5 });
      const busName = process.env[ENV.EVENT_BUS_NAME];
      if (!busName) throw new Error('configuration FFAAS_EVENT_BUS_NAME is not set');
      await putCommandEvents(events, busName, entries);
    },
  };
}

/** Execution ARN of the command's execution (named by command_id). */
export function executionArnOf(stateMachineArn: string, commandId: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${commandId}`;
}

export async function sweepFromEvent(
  e: ExecutionStatusChangeEvent,
  ports: SweepPorts = sweepPorts(),
): Promise<SweepOutcome> {
  let input = e.detail.input;
  // The event omits an input too large for it: read the execution.
  if (!input)
    input = (await sfnClient().send(new DescribeExecutionCommand({ executionArn: e.detail.executionArn }))).input;
  const command = commandOfExecutionInput(input);
  const outcome = await sweepCommand(ports, command, {
    status: e.detail.status,
    error: e.detail.error,
    cause: e.detail.cause,
  });
  logger.info('sweep', {
    outcome,
    command_id: command?.command_id,
    execution_status: e.detail.status,
    execution_error: e.detail.error ?? undefined,
  });
  return outcome;
}

export async function sweepScheduled(
  now: Date = new Date(),
  ports: SweepPorts = sweepPorts(),
  sfn: SFNClient = sfnClient(),
): Promise<SweepSummary> {
  const stateMachineArn = required('stateMachineArn');
  const summary: SweepSummary = { swept: 0, looked: 0, failed: 0, silent: 0 };
  const since = now.getTime() - SWEEP_LOOKBACK_SECONDS * 1000;
  const one = async (what: () => Promise<SweepOutcome>, commandId?: string) => {
    summary.looked++;
    try {
      if ((await what()) === 'swept') summary.swept++;
    } catch (err) {
      summary.failed++;
      logger.error('sweep failed', { command_id: commandId, error: err as Error });
    }
  };

  for (const statusFilter of ENDED) {
    let nextToken: string | undefined;
    let seen = 0;
    outer: do {
      const page = await sfn.send(
        new ListExecutionsCommand({ stateMachineArn, statusFilter, nextToken, maxResults: 100 }),
      );
      for (const x of page.executions ?? []) {
        // Newest first: stop at the lookback.
        if (x.stopDate && x.stopDate.getTime() < since) break outer;
        if (++seen > MAX_PER_STATUS) break outer;
        await one(async () => {
          const d = await sfn.send(new DescribeExecutionCommand({ executionArn: x.executionArn }));
          return sweepCommand(
            ports,
            commandOfExecutionInput(d.input),
            { status: d.status ?? statusFilter, error: d.error, cause: d.cause },
            now,
          );
        }, x.name);
      }
      nextToken = page.nextToken;
    } while (nextToken);
  }

  // Commands still pending whose execution has ended (closed while still QUEUED).
  const olderThan = new Date(now.getTime() - RECONCILE_AFTER_SECONDS * 1000).toISOString();
  for (const item of await commandRepository().listPending(olderThan)) {
    if (item.status !== 'QUEUED') continue; // the reconciler clears the mark
    await one(async () => {
      let d: DescribeExecutionCommandOutput;
      try {
        d = await sfn.send(
          new DescribeExecutionCommand({ executionArn: executionArnOf(stateMachineArn, item.command_id) }),
        );
      } catch (err) {
        if (isAwsError(err, 'ExecutionDoesNotExist')) return 'not-ended'; // the reconciler starts it
        throw err;
      }
      const execution: EndedExecution = { status: d.status ?? 'RUNNING', error: d.error, cause: d.cause };
      return sweepCommand(ports, { account_id: item.account_id, command_id: item.command_id }, execution, now);
    }, item.command_id);
  }
  await checkRunningWorkers(now, sfn, stateMachineArn, summary);
  logger.info('sweep done', { ...summary });
  return summary;
}

/**
 * The "worker silent while running" limit: running executions started longer ago than the
 * limit, their command's heartbeat_at older than it → the task is failed as WORKER_LOST (and
 * the ECS task stopped), so the Run state's Retry starts the command again (docs/FAILURES.md).
 */
export async function checkRunningWorkers(
  now: Date,
  sfn: SFNClient,
  stateMachineArn: string,
  summary: SweepSummary,
  ports: SilentWorkerPorts = silentWorkerPorts(sfn),
): Promise<void> {
  const limit = workerSilentSeconds();
  let nextToken: string | undefined;
  let seen = 0;
  do {
    const page = await sfn.send(
      new ListExecutionsCommand({ stateMachineArn, statusFilter: 'RUNNING', nextToken, maxResults: 100 }),
    );
    for (const x of page.executions ?? []) {
      // Younger than the limit: its worker cannot have been silent that long.
      if (!x.executionArn || (x.startDate && now.getTime() - x.startDate.getTime() < limit * 1000)) continue;
      if (++seen > MAX_RUNNING_CHECKED) return;
      try {
        let command = commandOfExecution.get(x.executionArn);
        if (command === undefined) {
          const d = await sfn.send(new DescribeExecutionCommand({ executionArn: x.executionArn }));
          command = commandOfExecutionInput(d.input);
          if (commandOfExecution.size >= COMMAND_CACHE_SIZE) commandOfExecution.clear();
          commandOfExecution.set(x.executionArn, command);
        }
        if (!command) continue;
        const item = await commandRepository().get(command.account_id, command.command_id);
        const outcome = await checkSilentWorker(ports, item, now, limit);
        if (outcome === 'failed') {
          summary.silent++;
          logger.warn('silent worker stopped', { command_id: command.command_id, heartbeat_at: item?.heartbeat_at });
        }
      } catch (err) {
        summary.failed++;
        logger.error('silent-worker check failed', { execution: x.name, error: err as Error });
      }
    }
    nextToken = page.nextToken;
  } while (nextToken);
}

const isStatusChange = (e: SweeperEvent): e is ExecutionStatusChangeEvent =>
  (e as ExecutionStatusChangeEvent).source === 'aws.states' &&
  typeof (e as ExecutionStatusChangeEvent).detail?.executionArn === 'string';

export const handler = middy<SweeperEvent, SweepOutcome | SweepSummary, Error, Context>(async (event: SweeperEvent) =>
  isStatusChange(event) ? sweepFromEvent(event) : sweepScheduled(event?.time ? new Date(event.time) : new Date()),
)
  .use(observability())
  .use(injectLambdaContext(logger, { resetKeys: true }));
