/**
 * Local mode's retention: dynalite has no TTL and s3rver no lifecycle rules, so a periodic
 * sweep does what DynamoDB TTL and the bucket's lifecycle rules do on AWS: command records
 * past their `expire_at` go with their stored outputs (playlist segments included), and
 * stored files past theirs go with their bytes. Runs at start and then every `intervalMs`.
 */
import { DeleteObjectsCommand, type S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { storedObjectKeys, storedOutputs } from '../core/api/poll.ts';
import { CommandRepository } from '../store/command-repository.ts';
import { FileRepository } from '../store/file-repository.ts';

export interface SweepOptions {
  dynamodb: DynamoDBClient;
  s3: S3Client;
  bucket: string;
  commandsTable: string;
  filesTable: string;
  now?: () => Date;
}

async function deleteKeys(s3: S3Client, bucket: string, keys: string[]): Promise<void> {
  for (let i = 0; i < keys.length; i += 1000) {
    await s3.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true },
      }),
    );
  }
}

/** One sweep; returns how many commands and files it removed. */
export async function sweepExpired(opts: SweepOptions): Promise<{ commands: number; files: number }> {
  const ddb = DynamoDBDocumentClient.from(opts.dynamodb, { marshallOptions: { removeUndefinedValues: true } });
  const commands = new CommandRepository(ddb, opts.commandsTable);
  const files = new FileRepository(ddb, opts.filesTable);
  const nowEpoch = Math.floor((opts.now?.() ?? new Date()).getTime() / 1000);
  let c = 0;
  let f = 0;
  for (const item of await commands.listExpired(nowEpoch, 1000)) {
    const keys = Object.values(storedOutputs(item)).flatMap((o) => (o.s3_key ? storedObjectKeys(o) : []));
    // Objects first: a failure leaves the record, and the next sweep tries again.
    await deleteKeys(opts.s3, opts.bucket, keys);
    await commands.delete(item.account_id, item.command_id);
    c++;
  }
  for (const item of await files.listExpired(nowEpoch, 1000)) {
    await deleteKeys(opts.s3, opts.bucket, [item.s3_key]);
    await files.delete(item.account_id, item.file_id);
    f++;
  }
  return { commands: c, files: f };
}

/** Sweep now and every `intervalMs`; the returned function stops it. */
export function scheduleSweep(
  opts: SweepOptions & { intervalMs: number; log: (line: string) => void },
): () => Promise<void> {
  let running: Promise<unknown> = Promise.resolve();
  const tick = () => {
    running = sweepExpired(opts).then(
      (n) => {
        if (n.commands + n.files > 0)
          opts.log(`retention: removed ${n.commands} expired command(s) and ${n.files} expired file(s)`);
      },
      (err) => opts.log(`retention sweep failed: ${(err as Error).message}`),
    );
  };
  tick();
  const timer = setInterval(tick, opts.intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
