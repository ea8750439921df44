/**
 * Per-account request rate limit: a token bucket per key (`ratePerSecond` refill, `burst`
 * capacity), as API Gateway's usage-plan throttle works on AWS. Pure: the caller passes the
 * clock. Local mode's front door holds one of these; on AWS the usage plan does the same.
 */
export interface RateDecision {
  ok: boolean;
  /** Whole seconds until a request would pass (the Retry-After header); 0 when ok. */
  retryAfterSeconds: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    readonly ratePerSecond: number,
    readonly burst: number,
    /** Buckets kept at most (the least recently used go first; a forgotten bucket is full again). */
    private readonly maxKeys = 100_000,
  ) {
    if (!(ratePerSecond > 0) || !(burst >= 1)) throw new Error('rate limit: ratePerSecond > 0 and burst >= 1');
  }

  take(key: string, nowMs: number): RateDecision {
    const b = this.buckets.get(key) ?? { tokens: this.burst, at: nowMs };
    this.buckets.delete(key); // re-inserted last: Map order is recency
    b.tokens = Math.min(this.burst, b.tokens + (Math.max(0, nowMs - b.at) / 1000) * this.ratePerSecond);
    b.at = nowMs;
    let decision: RateDecision;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      decision = { ok: true, retryAfterSeconds: 0 };
    } else {
      decision = { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - b.tokens) / this.ratePerSecond)) };
    }
    this.buckets.set(key, b);
    if (this.buckets.size > this.maxKeys) this.buckets.delete(this.buckets.keys().next().value as string);
    return decision;
  }
}
