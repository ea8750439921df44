/**
 * Settings and defaults of the control features (docs/CONTROL.md): idempotency, rate limits,
 * per-account concurrency and queue caps, spend guards. Environment names are read by local
 * mode and the handlers; the CDK props carry the same defaults.
 */
export const IDEMPOTENCY = {
  header: 'idempotency-key',
  maxKeyLength: 255,
  /** docs/API.md: the first answer is returned for 24 h. */
  expiresAfterSeconds: 24 * 3600,
  /** A duplicate that finds the first request still running waits this long for its answer. */
  inProgressWaitMs: 5000,
} as const;

/** Key and TTL attributes of Powertools' idempotency records (its defaults). */
export const IDEMPOTENCY_TABLE = { partitionKey: 'id', ttlAttribute: 'expiration' } as const;

export const CONTROL_ENV = {
  IDEMPOTENCY_TABLE: 'FFAAS_IDEMPOTENCY_TABLE',
  RATE_LIMIT_PER_SECOND: 'FFAAS_RATE_LIMIT_PER_SECOND',
  RATE_LIMIT_BURST: 'FFAAS_RATE_LIMIT_BURST',
  ACCOUNT_MAX_RUNNING: 'FFAAS_ACCOUNT_MAX_RUNNING',
  ACCOUNT_MAX_QUEUED: 'FFAAS_ACCOUNT_MAX_QUEUED',
  DAILY_VCPU_SECONDS: 'FFAAS_DAILY_VCPU_SECONDS',
  DAILY_GPU_SECONDS: 'FFAAS_DAILY_GPU_SECONDS',
  /**
   * '1' where one process answers every submit (local mode sets it): the queued-command cap is
   * then checked against a bound kept in that process, counted exactly only near the cap
   * (core/control/queued-bound.ts). Never on AWS, where many containers answer submits.
   */
  SINGLE_API_PROCESS: 'FFAAS_SINGLE_API_PROCESS',
} as const;

export interface ControlSettings {
  /** Requests per second per account (token bucket refill). */
  ratePerSecond: number;
  /** Bucket size: requests an account may send at once. */
  rateBurst: number;
  /** Commands of one account running at once. */
  accountMaxRunning: number;
  /** Commands of one account waiting QUEUED; past it submits get 429. */
  accountMaxQueued: number;
  /** vCPU-seconds per account per UTC day; 0 = off. */
  dailyVcpuSeconds: number;
  /** GPU-seconds per account per UTC day; 0 = off. */
  dailyGpuSeconds: number;
}

export const CONTROL_DEFAULTS: ControlSettings = {
  ratePerSecond: 50,
  rateBurst: 100,
  accountMaxRunning: 2,
  accountMaxQueued: 100,
  dailyVcpuSeconds: 0,
  dailyGpuSeconds: 0,
};

function positive(v: string | undefined, fallback: number, allowZero = false): number {
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  return Number.isFinite(n) && (allowZero ? n >= 0 : n > 0) ? n : fallback;
}

export function readControlSettings(env: NodeJS.ProcessEnv = process.env): ControlSettings {
  return {
    ratePerSecond: positive(env[CONTROL_ENV.RATE_LIMIT_PER_SECOND], CONTROL_DEFAULTS.ratePerSecond),
    rateBurst: positive(env[CONTROL_ENV.RATE_LIMIT_BURST], CONTROL_DEFAULTS.rateBurst),
    accountMaxRunning: Math.floor(positive(env[CONTROL_ENV.ACCOUNT_MAX_RUNNING], CONTROL_DEFAULTS.accountMaxRunning)),
    accountMaxQueued: Math.floor(positive(env[CONTROL_ENV.ACCOUNT_MAX_QUEUED], CONTROL_DEFAULTS.accountMaxQueued)),
    dailyVcpuSeconds: positive(env[CONTROL_ENV.DAILY_VCPU_SECONDS], 0, true),
    dailyGpuSeconds: positive(env[CONTROL_ENV.DAILY_GPU_SECONDS], 0, true),
  };
}
