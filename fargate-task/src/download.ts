/**
 * Step 1: download each planned input into the workspace under its local_name, through the
 * SSRF-safe fetcher (address checks on every hop, pinned connections, byte cap, retries).
 */
import path from 'node:path';
import type { PlannedInput } from '../../core/types.ts';
import { SafeFetchError, safeFetchToFile } from '../../core/net/index.ts';
import type { DownloadSettings } from './config.ts';
import { WorkerError } from './errors.ts';
import type { Logger } from './log.ts';
import { assertPlainName } from './workspace.ts';

const CONCURRENCY = 3;

export async function downloadInputs(opts: {
  inputs: readonly PlannedInput[];
  workspace: string;
  settings: DownloadSettings;
  allowPrivate: boolean;
  signal: AbortSignal;
  log: Logger;
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
      });
      opts.log.info('input downloaded', { alias: input.alias, bytes: res.bytes, host: res.finalHost, attempts: res.attempts, ms: Date.now() - started });
    } catch (err) {
      if (err instanceof SafeFetchError) {
        if (err.reason === 'aborted') throw err;
        throw new WorkerError(err.kind, `input ${input.alias}: ${err.message}`);
      }
      throw err;
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, queue.length) }, worker));
  if (firstError !== undefined) throw firstError;
  if (opts.signal.aborted) throw opts.signal.reason;
}
