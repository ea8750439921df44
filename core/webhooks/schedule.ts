/**
 * When a failed delivery is tried again. The default is Standard Webhooks' schedule: after the
 * first attempt, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h — eight attempts over about 27.6 h.
 * Tests shorten it with FFAAS_WEBHOOK_BACKOFF_SECONDS (an explicit comma-separated list of
 * delays, one per retry) or FFAAS_WEBHOOK_BACKOFF_SCALE (a factor applied to the default).
 */
export const DEFAULT_BACKOFF_SECONDS: readonly number[] = [5, 300, 1800, 7200, 18_000, 36_000, 36_000];

/** Attempts in a row against the account's URL that fail before the account config is disabled. */
export const DEFAULT_DISABLE_AFTER_FAILURES = 50;

/** One attempt is given this long (connect, request, response head and the first 1 KiB). */
export const ATTEMPT_TIMEOUT_MS = 10_000;
/** At most this much of a receiver's answer is read; an excerpt of it is kept. */
export const MAX_RESPONSE_BYTES = 1024;
export const RESPONSE_EXCERPT_CHARS = 200;

export interface WebhookSettings {
  /** Delay before each retry, in seconds; retries = length, attempts = length + 1. */
  backoffSeconds: readonly number[];
  disableAfterFailures: number;
}

function positiveNumber(value: string, name: string): number {
  const n = Number(value.trim());
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a list of non-negative numbers, got "${value}"`);
  return n;
}

/** The settings from the environment values (undefined or empty: the default). */
export function webhookSettings(env: {
  backoffSeconds?: string;
  backoffScale?: string;
  disableAfter?: string;
}): WebhookSettings {
  let backoffSeconds = DEFAULT_BACKOFF_SECONDS;
  if (env.backoffSeconds !== undefined && env.backoffSeconds.trim() !== '') {
    backoffSeconds = env.backoffSeconds.split(',').map((v) => positiveNumber(v, 'FFAAS_WEBHOOK_BACKOFF_SECONDS'));
  } else if (env.backoffScale !== undefined && env.backoffScale.trim() !== '') {
    const scale = positiveNumber(env.backoffScale, 'FFAAS_WEBHOOK_BACKOFF_SCALE');
    backoffSeconds = DEFAULT_BACKOFF_SECONDS.map((s) => s * scale);
  }
  let disableAfterFailures = DEFAULT_DISABLE_AFTER_FAILURES;
  if (env.disableAfter !== undefined && env.disableAfter.trim() !== '') {
    const n = Number(env.disableAfter);
    if (!Number.isInteger(n) || n < 1)
      throw new Error(`FFAAS_WEBHOOK_DISABLE_AFTER must be a positive integer, got "${env.disableAfter}"`);
    disableAfterFailures = n;
  }
  return { backoffSeconds, disableAfterFailures };
}

export function maxAttempts(settings: WebhookSettings): number {
  return settings.backoffSeconds.length + 1;
}

/**
 * When attempt `attemptsMade + 1` is due after `attemptsMade` failed ones (counted in the
 * current schedule), or null when the schedule is spent.
 */
export function nextAttemptAt(attemptsMade: number, settings: WebhookSettings, now: Date): Date | null {
  if (attemptsMade < 1 || attemptsMade > settings.backoffSeconds.length) return null;
  return new Date(now.getTime() + Math.round(settings.backoffSeconds[attemptsMade - 1]! * 1000));
}
