/**
 * Step 1: download each planned input into the workspace under its local_name, through the
 * SSRF-safe fetcher (address checks on every hop, pinned connections, byte cap, retries; a body
 * cut mid-way is resumed with Range/If-Range where the server allows it).
 */
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, type S3Client, type GetObjectCommandOutput } from '@aws-sdk/client-s3';
import type { PlannedInput } from '../../core/types.ts';
import { SafeFetchError, safeFetchToFile } from '../../core/net/index.ts';
import type { DownloadSettings } from './config.ts';
import { WorkerError } from './errors.ts';
import type { Logger } from './log.ts';
import { transferGc, transferGcStream } from './memory.ts';
import { assertPlainName } from './workspace.ts';

const CONCURRENCY = 3;

export async function downloadInputs(opts: {
  inputs: readonly PlannedInput[];
  workspace: string;
  settings: DownloadSettings;
  allowPrivate: boolean;
  signal: AbortSignal;
  log: Logger;
  /** Stored-file inputs (`s3_key`) are read from this bucket, only under `files/<account>/`. */
  storage?: { s3: S3Client; bucket: string; accountId: string };
}): Promise<void> {
  const queue = [...opts.inputs];
  // The first failure fails the command and cancels the other downloads.
  const cancel = new AbortController();
  const signal = AbortSignal.any([opts.signal, cancel.signal]);
  let firstError: unknown;
  const worker = async () => {
    for (let input = queue.shift(); input && !signal.aborted; input = queue.shift()) {
      try {
        await downloadOne(input);
      } catch (err) {
        firstError ??= err;
        cancel.abort();
      }
    }
  };
  const downloadOne = async (input: PlannedInput) => {
    const dest = path.join(opts.workspace, assertPlainName(input.local_name));
    const started = Date.now();
    if (input.s3_key !== undefined) {
      const bytes = await readStoredFile(input, dest);
      opts.log.info('stored input read', { alias: input.alias, bytes, ms: Date.now() - started });
      return;
    }
    try {
      const res = await safeFetchToFile(input.url, dest, {
        allowPrivate: opts.allowPrivate,
        trustedOrigins: opts.settings.trustedOrigins,
        maxBytes: opts.settings.maxBytes,
        timeoutMs: opts.settings.timeoutMs,
        maxRedirects: opts.settings.maxRedirects,
        retries: opts.settings.retries,
        retryDelayMs: opts.settings.retryDelayMs,
        signal,
        onBytes: transferGc,
      });
      opts.log.info('input downloaded', {
        alias: input.alias,
        bytes: res.bytes,
        host: res.finalHost,
        attempts: res.attempts,
        resumed: res.resumed,
        ms: Date.now() - started,
      });
    } catch (err) {
      if (err instanceof SafeFetchError) {
        if (err.reason === 'aborted') throw err;
        throw new WorkerError(err.kind, `input ${input.alias}: ${err.message}`);
      }
      throw err;
    }
  };
  /** A stored file of the command's account, straight from the bucket (no public round trip). */
  const readStoredFile = async (input: PlannedInput, dest: string): Promise<number> => {
    const storage = opts.storage;
    if (!storage || !input.s3_key!.startsWith(`files/${storage.accountId}/`)) {
      throw new WorkerError('INPUT_DOWNLOAD_FAILED', `input ${input.alias}: the stored file is not this account's`);
    }
    let res: GetObjectCommandOutput;
    try {
      res = await storage.s3.send(new GetObjectCommand({ Bucket: storage.bucket, Key: input.s3_key }), {
        abortSignal: signal,
      });
    } catch (err) {
      if (signal.aborted) throw err;
      const name = (err as Error)?.name ?? 'Error';
      throw new WorkerError(
        'INPUT_DOWNLOAD_FAILED',
        `input ${input.alias}: the stored file could not be read (${name === 'NoSuchKey' ? 'deleted' : name})`,
      );
    }
    const size = res.ContentLength ?? 0;
    if (size > opts.settings.maxBytes) {
      (res.Body as Readable | undefined)?.destroy?.();
      throw new WorkerError(
        'INPUT_TOO_LARGE',
        `input ${input.alias} is ${size} bytes, over the limit of ${opts.settings.maxBytes}`,
      );
    }
    await pipeline(res.Body as Readable, transferGcStream(), createWriteStream(dest, { mode: 0o644 }), { signal });
    return size;
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, queue.length) }, worker));
  if (firstError !== undefined) throw firstError;
  if (opts.signal.aborted) throw opts.signal.reason;
}
