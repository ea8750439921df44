/**
 * An upper bound on an account's queued (pending) commands, for a deployment where ONE process
 * answers every submit (local mode). Every command that enters the queue is admitted here
 * first, and commands only leave it otherwise (they start, fail, are cancelled), so
 *
 *   queued now ≤ the last exact count
 *               + the admits not yet recorded when that count began (it may have missed them)
 *               + the admits since it began.
 *
 * The exact count (a query per pending-index shard) is then needed only when this bound would
 * pass the cap, or when it is older than `maxAgeMs` (a stale bound is only too high: it costs a
 * recount, never a wrong admit). An admit not reported recorded within `inFlightMs` (its
 * request died) stops counting as in flight. On AWS many Lambda containers answer submits, each
 * seeing only its own admits, so there every submit counts exactly (lambdas/common/admission.ts).
 *
 * Pure: no AWS, no clock of its own.
 */
export interface CountToken {
  /** Admits that were recorded (or given up on) when the count began. */
  settledBefore: number;
  atMs: number;
}

interface AccountState {
  admitted: number;
  /** Admits not yet recorded, oldest first: [count, when admitted]. */
  inFlight: { n: number; atMs: number }[];
  count?: { count: number; token: CountToken };
}

export class QueuedBound {
  private readonly accounts = new Map<string, AccountState>();

  constructor(
    readonly maxAgeMs = 60_000,
    readonly inFlightMs = 60_000,
  ) {}

  private state(accountId: string): AccountState {
    let s = this.accounts.get(accountId);
    if (!s) this.accounts.set(accountId, (s = { admitted: 0, inFlight: [] }));
    return s;
  }

  private inFlight(s: AccountState, nowMs: number): number {
    while (s.inFlight.length > 0 && nowMs - s.inFlight[0]!.atMs > this.inFlightMs) s.inFlight.shift();
    return s.inFlight.reduce((a, e) => a + e.n, 0);
  }

  /** The bound, or undefined when there is no fresh exact count to build it on. */
  upper(accountId: string, nowMs: number): number | undefined {
    const s = this.accounts.get(accountId);
    if (!s?.count || nowMs - s.count.token.atMs > this.maxAgeMs) return undefined;
    return s.count.count + s.admitted - s.count.token.settledBefore;
  }

  /** Call synchronously just before an exact count starts; pass the token to `counted`. */
  beginCount(accountId: string, nowMs: number): CountToken {
    const s = this.state(accountId);
    return { settledBefore: s.admitted - this.inFlight(s, nowMs), atMs: nowMs };
  }

  /** An exact count taken after `beginCount`. The newest count wins. */
  counted(accountId: string, token: CountToken, count: number): void {
    const s = this.state(accountId);
    if (s.count && s.count.token.atMs > token.atMs) return;
    s.count = { count, token };
  }

  /** `adding` commands admitted (call synchronously with the decision, before any await). */
  admit(accountId: string, adding: number, nowMs: number): void {
    const s = this.state(accountId);
    s.admitted += adding;
    s.inFlight.push({ n: adding, atMs: nowMs });
  }

  /** One admitted command was recorded (or will not be): a later count sees it as it is. */
  settled(accountId: string): void {
    const first = this.accounts.get(accountId)?.inFlight[0];
    if (!first) return;
    first.n--;
    if (first.n <= 0) this.accounts.get(accountId)!.inFlight.shift();
  }
}
