import { describe, expect, it } from 'vitest';
import { FairQueue } from '../../../local/fair-queue.ts';
import { RateLimiter } from '../../../core/control/rate-limit.ts';
import { commandUsage, estimateUsd, usageRange, usageReport, PRICES } from '../../../core/control/usage.ts';
import { checkQueueRoom, checkSpend, secondsToUtcMidnight } from '../../../core/control/admission.ts';
import { cancelCommand, executionArnOf, type CancelPorts } from '../../../core/control/cancel.ts';
import { readControlSettings, CONTROL_DEFAULTS } from '../../../core/control/settings.ts';
import type { CommandItem } from '../../../core/types.ts';

describe('FairQueue', () => {
  it('serves accounts round-robin, caps each account, FIFO within one', async () => {
    const started: string[] = [];
    const finishers: (() => void)[] = [];
    const q = new FairQueue<string>(
      1,
      2,
      (s) => s.split(':')[0]!,
      (s) => {
        started.push(s);
        return new Promise<void>((r) => finishers.push(r));
      },
    );
    for (let i = 0; i < 5; i++) q.push(`a:${i}`);
    q.push('b:0');
    q.push('c:0');
    const finishOne = async () => {
      finishers.shift()!();
      await new Promise((r) => setTimeout(r, 0));
    };
    for (let i = 0; i < 6; i++) await finishOne();
    expect(started).toEqual(['a:0', 'b:0', 'c:0', 'a:1', 'a:2', 'a:3', 'a:4']);
  });

  it('never runs more than perKeyLimit of one key, even with free slots', () => {
    const q = new FairQueue<string>(
      4,
      2,
      (s) => s.split(':')[0]!,
      () => new Promise<void>(() => {}),
    );
    for (let i = 0; i < 5; i++) q.push(`a:${i}`);
    expect(q.running).toBe(2);
    expect(q.queuedOf('a')).toBe(3);
    q.push('b:0');
    expect(q.running).toBe(3);
    expect(q.remove('a:4')).toBe(true);
    expect(q.close()).toEqual(['a:2', 'a:3']);
  });
});

describe('RateLimiter', () => {
  it('allows the burst, then refills at the rate, per key, with Retry-After in whole seconds', () => {
    const r = new RateLimiter(2, 3);
    const t = 1_000_000;
    expect([1, 2, 3].map(() => r.take('a', t).ok)).toEqual([true, true, true]);
    expect(r.take('a', t)).toEqual({ ok: false, retryAfterSeconds: 1 });
    expect(r.take('b', t).ok).toBe(true);
    expect(r.take('a', t + 500).ok).toBe(true);
    expect(r.take('a', t + 500).ok).toBe(false);
    const slow = new RateLimiter(0.1, 1);
    slow.take('x', t);
    expect(slow.take('x', t).retryAfterSeconds).toBe(10);
  });
});

const item = (over: Partial<CommandItem>): CommandItem =>
  ({
    status: 'SUCCESS',
    compute: 'cpu',
    vcpu_count: 2,
    created_at: '2026-01-02T10:00:00.000Z',
    ...over,
  }) as CommandItem;

describe('usage', () => {
  it('counts vCPU-seconds from started_at to finished_at times vcpu_count, GPU seconds for GPU runs, stored bytes', () => {
    const u = commandUsage(
      item({
        started_at: '2026-01-02T10:00:01.000Z',
        finished_at: '2026-01-02T10:00:11.000Z',
        output_files_json: JSON.stringify({ out_a: { size_mbytes: 1 }, out_b: { size_mbytes: 0.5 } }),
      }),
      new Date(),
      30,
    );
    expect(u.vcpu_seconds).toBe(20);
    expect(u.gpu_seconds).toBe(0);
    expect(u.storage_bytes).toBe(1572864);
    const expected =
      (20 / 3600) * (PRICES.fargateVcpuHour + 2 * PRICES.fargateGbHour) + (1572864 / 1e9) * PRICES.s3GbMonth;
    expect(u.estimated_usd).toBeCloseTo(expected, 6);
    const gpu = commandUsage(
      item({ compute: 'gpu', started_at: '2026-01-02T10:00:00.000Z', finished_at: '2026-01-02T10:01:00.000Z' }),
      new Date(),
      30,
    );
    expect(gpu).toMatchObject({ vcpu_seconds: 0, gpu_seconds: 60 });
    expect(gpu.estimated_usd).toBeCloseTo(PRICES.gpuInstanceHour / 60, 6);
    expect(commandUsage(item({ status: 'QUEUED' }), new Date(), 30).vcpu_seconds).toBe(0);
    expect(estimateUsd({ vcpu_seconds: 0, gpu_seconds: 0, storage_bytes: 0 }, 30)).toBe(0);
  });

  it('sums per UTC day and in total; ranges are checked', () => {
    const a = item({ started_at: '2026-01-02T10:00:00.000Z', finished_at: '2026-01-02T10:00:05.000Z' });
    const b = item({
      created_at: '2026-01-03T01:00:00.000Z',
      started_at: '2026-01-03T01:00:00.000Z',
      finished_at: '2026-01-03T01:00:01.500Z',
    });
    const r = usageReport([a, b, { ...a }], { from: 'x', to: 'y' }, new Date(), 30);
    expect(r.totals).toMatchObject({ commands: 3, vcpu_seconds: 23 });
    expect(r.days.map((d) => [d.date, d.commands, d.vcpu_seconds])).toEqual([
      ['2026-01-02', 2, 20],
      ['2026-01-03', 1, 3],
    ]);
    const now = new Date('2026-02-01T12:00:00Z');
    expect(usageRange({ from: '2026-01-01', to: '2026-01-31' }, now)).toEqual({
      from: '2026-01-01T00:00:00.000Z',
      to: '2026-01-31T23:59:59.999Z',
    });
    expect(usageRange({ from: 'nope' }, now)).toHaveProperty('error');
    expect(usageRange({ from: '2026-02-02', to: '2026-02-01' }, now)).toHaveProperty('error');
    expect(usageRange({ from: '2024-01-01' }, now)).toHaveProperty('error');
  });
});

describe('admission', () => {
  it('refuses past the queue cap with 429 and Retry-After', () => {
    expect(() => checkQueueRoom({ accountMaxQueued: 10 }, 5, 5)).not.toThrow();
    try {
      checkQueueRoom({ accountMaxQueued: 10 }, 5, 6);
      expect.unreachable();
    } catch (err: any) {
      expect(err.status).toBe(429);
      expect(err.code).toBe('RATE_LIMITED');
      expect(Number(err.headers['retry-after'])).toBeGreaterThan(0);
    }
  });

  it('spend guards are off by default and refuse until UTC midnight once reached', () => {
    const now = new Date('2026-01-02T23:00:00Z');
    const used = { vcpu_seconds: 100, gpu_seconds: 0, storage_bytes: 0, estimated_usd: 0 };
    expect(() => checkSpend({ dailyVcpuSeconds: 0, dailyGpuSeconds: 0 }, used, now)).not.toThrow();
    expect(() => checkSpend({ dailyVcpuSeconds: 101, dailyGpuSeconds: 0 }, used, now)).not.toThrow();
    try {
      checkSpend({ dailyVcpuSeconds: 100, dailyGpuSeconds: 0 }, used, now);
      expect.unreachable();
    } catch (err: any) {
      expect(err.status).toBe(429);
      expect(err.headers['retry-after']).toBe('3600');
    }
    expect(secondsToUtcMidnight(new Date('2026-01-02T00:00:00Z'))).toBe(86400);
  });

  it('reads settings from the environment, with defaults for missing or bad values', () => {
    expect(readControlSettings({})).toEqual(CONTROL_DEFAULTS);
    expect(
      readControlSettings({
        FFAAS_RATE_LIMIT_PER_SECOND: '5',
        FFAAS_ACCOUNT_MAX_RUNNING: 'x',
        FFAAS_DAILY_VCPU_SECONDS: '3600',
      }),
    ).toMatchObject({
      ratePerSecond: 5,
      accountMaxRunning: CONTROL_DEFAULTS.accountMaxRunning,
      dailyVcpuSeconds: 3600,
    });
  });
});

describe('cancelCommand', () => {
  const ports = (status: string, writes: boolean, calls: string[]): CancelPorts => ({
    get: async () => item({ status: status as CommandItem['status'] }),
    markCancelled: async () => {
      calls.push('write');
      return writes;
    },
    stopExecution: async () => {
      calls.push('stop');
      throw new Error('sfn down');
    },
    discardOutputs: async () => void calls.push('discard'),
    publish: async (d) => void calls.push(`publish ${d.status} ${d.error_status}`),
    log: () => calls.push('logged'),
  });

  it('writes first, then stops, discards and publishes (best effort after the write)', async () => {
    const calls: string[] = [];
    await cancelCommand('a', 'c', ports('PROCESSING', true, calls));
    expect(calls).toEqual(['write', 'stop', 'logged', 'discard', 'publish FAILED CANCELLED']);
  });

  it('409 for a finished command, also when it finishes between read and write; 404 when missing', async () => {
    await expect(cancelCommand('a', 'c', ports('SUCCESS', true, []))).rejects.toMatchObject({ status: 409 });
    const calls: string[] = [];
    await expect(cancelCommand('a', 'c', ports('QUEUED', false, calls))).rejects.toMatchObject({
      status: 409,
      code: 'CONFLICT',
    });
    expect(calls).toEqual(['write']);
    await expect(
      cancelCommand('a', 'c', { ...ports('QUEUED', true, []), get: async () => null }),
    ).rejects.toMatchObject({ status: 404 });
  });

  it('names the execution ARN from the state machine ARN', () => {
    expect(executionArnOf('arn:aws:states:eu-west-1:123:stateMachine:ffaas', 'id-1')).toBe(
      'arn:aws:states:eu-west-1:123:execution:ffaas:id-1',
    );
  });
});
