/**
 * The sweeper in local mode: the same rules as lambdas/sweeper (core/sweep.ts), driven by the
 * local Step Functions' own `executionFinished` (what the status-change events are on AWS).
 * An execution that ends FAILED / TIMED_OUT / ABORTED while its command is still QUEUED or
 * PROCESSING fails the command (the store's `sweep` step) and publishes the FAILED event.
 * Executions aborted because local mode is stopping are left alone: their commands are run
 * again on the next start (local/recovery.ts).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { commandOfExecutionInput, sweepCommand, type SweepOutcome, type SweepPorts } from '../core/sweep.ts';
import { documentClientFor } from '../store/clients.ts';
import { CommandRepository } from '../store/command-repository.ts';
import type { LocalEventBus } from './event-bus.ts';
import type { ExecutionRecord, LocalStepFunctions } from './step-functions.ts';

const SWEPT = new Set(['FAILED', 'TIMED_OUT', 'ABORTED']);
const PUBLISH_ATTEMPTS = 5;

export function localSweepPorts(opts: { dynamodb: DynamoDBClient; table: string; bus: LocalEventBus }): SweepPorts {
  const commands = new CommandRepository(documentClientFor(opts.dynamodb), opts.table);
  return {
    sweep: (a, c, f) => commands.sweep(a, c, f),
    // Local mode runs without the slot states (its fair queue caps accounts): nothing is held
    // unless a test turned them on; the conditional release then changes nothing.
    releaseSlot: (a, c) => commands.releaseSlot(a, c),
    publish: async (entries) => {
      // The bus refusing an entry is retried; it never fails the sweep silently.
      for (let attempt = 1; ; attempt++) {
        const out = await opts.bus.putEvents(entries);
        if (out.FailedEntryCount === 0) return;
        if (attempt >= PUBLISH_ATTEMPTS)
          throw new Error(
            `the event bus refused the FAILED event (${out.Entries.find((e) => e.ErrorCode)?.ErrorCode})`,
          );
        await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
      }
    },
  };
}

/** Sweeps after every ended execution of `runner`; returns a function that stops it. */
export function startLocalSweeper(opts: {
  runner: LocalStepFunctions;
  ports: SweepPorts;
  log?: (line: string) => void;
  onSweep?: (commandId: string | undefined, outcome: SweepOutcome) => void;
}): () => void {
  const log = opts.log ?? ((line: string) => console.error(line));
  const onFinished = (e: ExecutionRecord) => {
    if (!SWEPT.has(e.status) || opts.runner.stopping) return;
    const command = commandOfExecutionInput(e.input);
    sweepCommand(opts.ports, command, { status: e.status, error: e.error, cause: e.cause })
      .then((outcome) => {
        if (outcome === 'swept')
          log(
            `sweeper: command ${command?.command_id} FAILED (its execution ended ${e.status}${e.error ? `: ${e.error}` : ''})`,
          );
        opts.onSweep?.(command?.command_id, outcome);
      })
      .catch((err) => log(`sweeper: command ${command?.command_id}: ${(err as Error).message}`));
  };
  opts.runner.on('executionFinished', onFinished);
  return () => opts.runner.off('executionFinished', onFinished);
}
