/** local/execution-queue.ts: the cap on executions running at once, and their FIFO order. */
import { describe, expect, it } from 'vitest';
import { FifoQueue } from '../../../local/execution-queue.ts';

/** A queue whose items run until the test finishes them by hand. */
function manual(limit: number) {
  const started: string[] = [];
  const finishers = new Map<string, { resolve: () => void; reject: (e: Error) => void }>();
  const queue = new FifoQueue<string>(limit, (item) => {
    started.push(item);
    return new Promise<void>((resolve, reject) => finishers.set(item, { resolve, reject }));
  });
  const settle = async (item: string, ok = true) => {
    const f = finishers.get(item)!;
    if (ok) f.resolve();
    else f.reject(new Error('boom'));
    // The slot frees once the run's promise has settled (microtasks).
    await new Promise((r) => setImmediate(r));
  };
  return { queue, started, settle };
}

describe('FifoQueue', () => {
  it('never runs more than the limit and starts the waiting ones in arrival order', async () => {
    const { queue, started, settle } = manual(2);
    for (const item of ['a', 'b', 'c', 'd', 'e']) queue.push(item);
    expect(started).toEqual(['a', 'b']);
    expect([queue.running, queue.queued]).toEqual([2, 3]);

    await settle('b');
    expect(started).toEqual(['a', 'b', 'c']);
    await settle('a', false); // a failed run frees its slot too
    expect(started).toEqual(['a', 'b', 'c', 'd']);
    expect([queue.running, queue.queued]).toEqual([2, 1]);
    await settle('c');
    await settle('d');
    await settle('e');
    expect(started).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect([queue.running, queue.queued]).toEqual([0, 0]);
  });

  it('takes a waiting item out, but not a running one', async () => {
    const { queue, started, settle } = manual(1);
    for (const item of ['a', 'b', 'c']) queue.push(item);
    expect(queue.remove('a')).toBe(false);
    expect(queue.remove('b')).toBe(true);
    expect(queue.remove('b')).toBe(false);
    await settle('a');
    expect(started).toEqual(['a', 'c']);
  });

  it('after close starts nothing more and hands back what waited', async () => {
    const { queue, started, settle } = manual(1);
    for (const item of ['a', 'b', 'c']) queue.push(item);
    expect(queue.close()).toEqual(['b', 'c']);
    await settle('a');
    expect(started).toEqual(['a']);
    expect(() => queue.push('d')).toThrow(/closed/);
  });

  it('a run that throws synchronously frees its slot', async () => {
    const seen: string[] = [];
    const queue = new FifoQueue<string>(1, (item) => {
      seen.push(item);
      if (item === 'bad') throw new Error('sync');
      return Promise.resolve();
    });
    queue.push('bad');
    queue.push('good');
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual(['bad', 'good']);
    expect(queue.running).toBe(0);
  });

  it('refuses a limit below 1', () => {
    expect(() => new FifoQueue(0, async () => undefined)).toThrow(/positive integer/);
    expect(() => new FifoQueue(1.5, async () => undefined)).toThrow(/positive integer/);
  });
});
