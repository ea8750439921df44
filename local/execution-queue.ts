/**
 * Local mode's stand-in for Fargate's capacity: at most `limit` items run at once, the others
 * wait and start in arrival order (FIFO) as running ones finish. On AWS every execution starts
 * at once; locally one machine runs every worker.
 */
export class FifoQueue<T> {
  private readonly waiting: T[] = [];
  private active = 0;
  private closed = false;

  /** `run` starts one item; the slot frees when its promise settles (either way). */
  constructor(
    readonly limit: number,
    private readonly run: (item: T) => Promise<void>,
  ) {
    if (!Number.isInteger(limit) || limit < 1)
      throw new Error(`the queue's limit must be a positive integer, got ${limit}`);
  }

  get running(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /** Adds an item at the end; it starts now if a slot is free. */
  push(item: T): void {
    if (this.closed) throw new Error('the queue is closed');
    this.waiting.push(item);
    this.pump();
  }

  /** Takes a waiting item out; false when it is not waiting (running, done or unknown). */
  remove(item: T): boolean {
    const i = this.waiting.indexOf(item);
    if (i < 0) return false;
    this.waiting.splice(i, 1);
    return true;
  }

  /** Starts nothing more and returns the items that were waiting; running ones carry on. */
  close(): T[] {
    this.closed = true;
    return this.waiting.splice(0);
  }

  private pump(): void {
    while (!this.closed && this.active < this.limit && this.waiting.length > 0) {
      const next = this.waiting.shift()!;
      this.active++;
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
          this.pump();
        });
    }
  }
}
