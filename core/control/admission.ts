/**
 * Whether an account may submit more work now (issue 12), decided from counts the caller reads:
 * the queued-command cap and the daily spend guards. Pure; the refusal is 429 RATE_LIMITED with
 * Retry-After (docs/API.md: "over the account's ... queued-command cap"), the spend guard too, so a
 * client's retry logic treats both alike (docs/CONTROL.md says why 429 rather than 402/422).
 */
import { ApiError } from '../api/errors.ts';
import type { ControlSettings } from './settings.ts';
import type { Usage } from './usage.ts';

/** Seconds a client is told to wait when its queue is full: about one command's run. */
export const QUEUE_FULL_RETRY_SECONDS = 30;

export function checkQueueRoom(
  settings: Pick<ControlSettings, 'accountMaxQueued'>,
  queued: number,
  adding: number,
): void {
  if (queued + adding <= settings.accountMaxQueued) return;
  throw new ApiError(
    'RATE_LIMITED',
    `too many queued commands for this account: ${queued} waiting, ${adding} more would pass the cap of ${settings.accountMaxQueued}; retry when some have started`,
    undefined,
    { 'retry-after': String(QUEUE_FULL_RETRY_SECONDS) },
  );
}

/** Seconds until the next UTC midnight (when the daily guard resets). */
export function secondsToUtcMidnight(now: Date): number {
  const next = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
  return Math.max(1, Math.ceil((next - now.getTime()) / 1000));
}

export function checkSpend(
  settings: Pick<ControlSettings, 'dailyVcpuSeconds' | 'dailyGpuSeconds'>,
  today: Usage,
  now: Date,
): void {
  const over: string[] = [];
  if (settings.dailyVcpuSeconds > 0 && today.vcpu_seconds >= settings.dailyVcpuSeconds) {
    over.push(`${today.vcpu_seconds} of ${settings.dailyVcpuSeconds} vCPU-seconds`);
  }
  if (settings.dailyGpuSeconds > 0 && today.gpu_seconds >= settings.dailyGpuSeconds) {
    over.push(`${today.gpu_seconds} of ${settings.dailyGpuSeconds} GPU-seconds`);
  }
  if (over.length === 0) return;
  const retry = secondsToUtcMidnight(now);
  throw new ApiError(
    'RATE_LIMITED',
    `daily spend limit reached for this account (used ${over.join(' and ')} today, UTC); new commands are accepted again at 00:00 UTC`,
    undefined,
    {
      'retry-after': String(retry),
    },
  );
}
