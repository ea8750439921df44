/**
 * Local mode's queue of executions, fair across accounts (issue 12): at most `limit` run at
 * once (the machine's capacity), at most `perKeyLimit` of one key (account) among them, and a
 * free slot goes to the next account in round-robin order that has work waiting and is under
 * its own limit. Within an account, FIFO. So one account's backlog of 30 never makes another
 * account's next command wait for more than the commands already running.
 */
export class FairQueue<T> {
  /** Waiting items per key; a key is in the map only while it has items waiting. */
  private readonly waiting = new Map<string, T[]>();
  private readonly runningByKey = new Map<string, number>();
  /** Keys in the order they get turns; the next turn starts after `lastServed`. */
  private ring: string[] = [];
  private lastServed: string | undefined;
  private active = 0;
  private closed = false;

  constructor(
    readonly limit: number,
    readonly perKeyLimit: number,
    private readonly keyOf: (item: T) => string,
    private readonly run: (item: T) => Promise<void>,
  ) {
    for (const [name, v] of [
      ['limit', limit],
      ['perKeyLimit', perKeyLimit],
    ] as const) {
      if (!Number.isInteger(v) || v < 1) throw new Error(`the queue's ${name} must be a positive integer, got ${v}`);
    }
  }

  get running(): number {
    return this.active;
  }

  get queued(): number {
    let n = 0;
    for (const items of this.waiting.values()) n += items.length;
    return n;
  }

  /** Waiting items of one key. */
  queuedOf(key: string): number {
    return this.waiting.get(key)?.length ?? 0;
  }

  runningOf(key: string): number {
    return this.runningByKey.get(key) ?? 0;
  }

  push(item: T): void {
    if (this.closed) throw new Error('the queue is closed');
    const key = this.keyOf(item);
    let items = this.waiting.get(key);
    if (!items) {
      this.waiting.set(key, (items = []));
      if (!this.ring.includes(key)) this.ring.push(key);
    }
    items.push(item);
    this.pump();
  }

  remove(item: T): boolean {
    const key = this.keyOf(item);
    const items = this.waiting.get(key);
    const i = items ? items.indexOf(item) : -1;
    if (!items || i < 0) return false;
    items.splice(i, 1);
    if (items.length === 0) this.waiting.delete(key);
    return true;
  }

  close(): T[] {
    this.closed = true;
    const all = [...this.waiting.values()].flat();
    this.waiting.clear();
    return all;
  }

  /** The next item to start: round-robin over keys with waiting work under their own limit. */
  private takeNext(): T | undefined {
    const ring = this.ring;
    const n = ring.length;
    // The turn after the last served key, located before idle keys are dropped (else dropping
    // it would hand the next turn back to the ring's first key).
    const start = this.lastServed === undefined ? 0 : (ring.indexOf(this.lastServed) + 1) % Math.max(1, n);
    let chosen: T | undefined;
    for (let j = 0; j < n; j++) {
      const key = ring[(start + j) % n]!;
      const items = this.waiting.get(key);
      if (!items || this.runningOf(key) >= this.perKeyLimit) continue;
      chosen = items.shift()!;
      if (items.length === 0) this.waiting.delete(key);
      this.lastServed = key;
      break;
    }
    // Forget keys with neither waiting nor running work (the one just served stays this round).
    this.ring = ring.filter((k) => k === this.lastServed || this.waiting.has(k) || this.runningOf(k) > 0);
    return chosen;
  }

  private pump(): void {
    while (!this.closed && this.active < this.limit) {
      const next = this.takeNext();
      if (next === undefined) return;
      const key = this.keyOf(next);
      this.active++;
      this.runningByKey.set(key, this.runningOf(key) + 1);
      let started: Promise<void>;
      try {
        started = this.run(next);
      } catch (err) {
        started = Promise.reject(err);
      }
      void started
        .catch(() => undefined)
        .finally(() => {
          this.active--;
          const left = this.runningOf(key) - 1;
          if (left > 0) this.runningByKey.set(key, left);
          else this.runningByKey.delete(key);
          this.pump();
        });
    }
  }
}
