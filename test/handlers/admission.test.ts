/**
 * The queued-command cap at submit (lambdas/common/admission.ts), with DynamoDB mocked: on AWS
 * (many containers) every submit counts exactly; where one process answers every submit (local
 * mode, FFAAS_SINGLE_API_PROCESS=1) it counts only when its bound would pass the cap, and still
 * refuses at the cap.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import 'aws-sdk-client-mock-vitest/extend';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { PENDING_SHARDS } from '../../core/constants.ts';
import { QueuedBound } from '../../core/control/queued-bound.ts';
import { admitSubmit, admittedCommandSettled, resetAdmission } from '../../lambdas/common/admission.ts';
import { setEnv } from './support.ts';

const ddb = mockClient(DynamoDBDocumentClient);

/** The pending index holds `queued()` commands of account `acc`, all in shard 0. */
function pendingIndex(queued: () => number): void {
  ddb.on(QueryCommand).callsFake(async (input: { ExpressionAttributeValues: Record<string, string> }) => {
    // A little latency, so submits sent together overlap while a count runs.
    await new Promise((r) => setTimeout(r, 5));
    const v = input.ExpressionAttributeValues;
    return { Count: v[':shard'] === 'pending#0' && v[':pk'] === 'acc' ? queued() : 0 };
  });
}

const counts = () => ddb.commandCalls(QueryCommand).length / PENDING_SHARDS;

async function refused(p: Promise<unknown>): Promise<boolean> {
  try {
    await p;
    return false;
  } catch (err: any) {
    expect(err.status).toBe(429);
    expect(err.code).toBe('RATE_LIMITED');
    return true;
  }
}

beforeEach(() => {
  ddb.reset();
  resetAdmission();
});
afterEach(() => {
  delete process.env.FFAAS_SINGLE_API_PROCESS;
  delete process.env.FFAAS_ACCOUNT_MAX_QUEUED;
});

describe('queued-command cap at submit', () => {
  it('on AWS (no single API process) counts every shard on every submit and refuses past the cap', async () => {
    setEnv({ FFAAS_ACCOUNT_MAX_QUEUED: '5' });
    let queued = 3;
    pendingIndex(() => queued);
    await admitSubmit('acc', 2);
    queued = 5;
    expect(await refused(admitSubmit('acc', 1))).toBe(true);
    expect(counts()).toBe(2);
  });

  it('in one process: counts once, admits on the bound, recounts near the cap and refuses past it', async () => {
    setEnv({ FFAAS_ACCOUNT_MAX_QUEUED: '10', FFAAS_SINGLE_API_PROCESS: '1' });
    let queued = 0;
    pendingIndex(() => queued);
    // 10 submits, each recorded (the index grows with them): one count, then the bound.
    for (let i = 0; i < 10; i++) {
      await admitSubmit('acc', 1);
      queued++;
      admittedCommandSettled('acc');
    }
    expect(counts()).toBe(1);
    // The 11th would pass the cap on the bound: it counts, finds 10 waiting, is refused.
    expect(await refused(admitSubmit('acc', 1))).toBe(true);
    expect(counts()).toBe(2);
    // Four started meanwhile: the recount lets four more in, the fifth is refused.
    queued = 6;
    for (let i = 0; i < 4; i++) {
      await admitSubmit('acc', 1);
      queued++;
      admittedCommandSettled('acc');
    }
    expect(await refused(admitSubmit('acc', 1))).toBe(true);
    // Another account has its own bound.
    await admitSubmit('other', 10);
  });

  it('in one process: submits sent together never pass the cap, and those under it share one count', async () => {
    setEnv({ FFAAS_ACCOUNT_MAX_QUEUED: '10', FFAAS_SINGLE_API_PROCESS: '1' });
    const queued = 4;
    pendingIndex(() => queued);
    const results = await Promise.all(Array.from({ length: 12 }, () => refused(admitSubmit('acc', 1))));
    // Not recorded yet (the index still shows 4): recounts must not forget them.
    // 4 waiting + 6 admitted = the cap; the other 6 refused, whatever the interleaving.
    expect(results.filter((r) => !r)).toHaveLength(6);
    expect(results.filter((r) => r)).toHaveLength(6);
    // One count admits the six; only the refused (at the cap) count again, as every submit does on AWS.
    expect(counts()).toBeLessThanOrEqual(1 + 6);
  });
});

describe('QueuedBound', () => {
  it('is the last count plus admits in flight when it began plus admits since, and none without a fresh count', () => {
    const b = new QueuedBound(1000, 5000);
    expect(b.upper('a', 0)).toBeUndefined();
    b.admit('a', 3, 0); // in flight: a count may miss them
    b.settled('a'); // one recorded
    const token = b.beginCount('a', 0);
    b.admit('a', 2, 0); // admitted while the count ran
    b.counted('a', token, 5);
    expect(b.upper('a', 10)).toBe(5 + 2 + 2);
    b.settled('a');
    b.settled('a'); // settling changes nothing until the next count
    expect(b.upper('a', 10)).toBe(9);
    expect(b.upper('a', 1001)).toBeUndefined();
    // An older count finishing last does not replace a newer one.
    const newer = b.beginCount('a', 500);
    b.counted('a', newer, 1);
    b.counted('a', token, 9);
    expect(b.upper('a', 600)).toBe(1 + 2);
    // Admits never reported recorded stop counting as in flight after inFlightMs.
    const later = b.beginCount('a', 6000);
    b.counted('a', later, 0);
    expect(b.upper('a', 6000)).toBe(0);
  });
});
