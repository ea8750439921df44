/**
 * Progress on the command item, throttled: a write only when the value changed and at least
 * `intervalMs` after the previous one (a trailing write catches the last value). Conditional on
 * status = PROCESSING so a late write never touches a finished command. Failures are logged,
 * never fatal: progress is a courtesy, the result is what matters.
 */
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { TABLE } from '../../core/constants.ts';
import type { Progress } from '../../core/types.ts';
import type { Logger } from './log.ts';

export interface ProgressWriter {
  update(progress: Progress): void;
  /** Write the pending value now (if any) and wait for writes in flight. */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

export function createProgressWriter(opts: {
  ddb: DynamoDBDocumentClient;
  table: string;
  accountId: string;
  commandId: string;
  intervalMs: number;
  log: Logger;
  now?: () => number;
}): ProgressWriter {
  const now = opts.now ?? Date.now;
  let lastWritten: string | undefined;
  let lastAt = -Infinity;
  let pending: Progress | undefined;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> = Promise.resolve();
  let stopped = false;

  const write = (p: Progress) => {
    const json = JSON.stringify(p);
    if (json === lastWritten) return;
    lastWritten = json;
    lastAt = now();
    inFlight = inFlight.then(() =>
      opts.ddb
        .send(
          new UpdateCommand({
            TableName: opts.table,
            Key: { [TABLE.commands.partitionKey]: opts.accountId, [TABLE.commands.sortKey]: opts.commandId },
            UpdateExpression: 'SET #progress = :p',
            ConditionExpression: '#status = :processing',
            ExpressionAttributeNames: { '#progress': 'progress', '#status': 'status' },
            ExpressionAttributeValues: { ':p': p, ':processing': 'PROCESSING' },
          }),
        )
        .then(() => undefined)
        .catch((err: { name?: string }) => {
          if (err?.name === 'ConditionalCheckFailedException') {
            opts.log.warn('progress not written: command is no longer PROCESSING');
            stopped = true;
          } else opts.log.warn('progress write failed', { error: err?.name ?? 'Error' });
        }),
    );
  };

  const fire = () => {
    timer = undefined;
    if (pending && !stopped) write(pending);
    pending = undefined;
  };

  return {
    update(p) {
      if (stopped) return;
      const wait = lastAt + opts.intervalMs - now();
      if (wait <= 0 && !timer) {
        pending = undefined;
        write(p);
      } else {
        pending = p;
        timer ??= setTimeout(fire, Math.max(0, wait));
      }
    },
    async flush() {
      if (timer) clearTimeout(timer);
      fire();
      await inFlight;
    },
    async stop() {
      if (timer) clearTimeout(timer);
      timer = undefined;
      pending = undefined;
      stopped = true;
      await inFlight;
    },
  };
}
