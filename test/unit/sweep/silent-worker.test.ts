import { describe, expect, it } from 'vitest';
import { checkSilentWorker, silentSeconds, type SilentWorkerPorts, type WorkerOnItem } from '../../../core/sweep.ts';

const now = new Date('2026-01-01T00:10:00.000Z');
const item = (over: Partial<WorkerOnItem> = {}): WorkerOnItem => ({
  account_id: 'a',
  command_id: 'c',
  status: 'PROCESSING',
  task_token: 'tok-1',
  heartbeat_at: '2026-01-01T00:08:00.000Z',
  worker_task_arn: 'arn:aws:ecs:us-east-1:1:task/cluster/abc',
  ...over,
});

describe('silentSeconds', () => {
  it('judges only a PROCESSING command whose worker recorded itself, past the limit', () => {
    expect(silentSeconds(item(), now, 90)).toBe(120);
    expect(silentSeconds(item(), now, 120)).toBeNull();
    expect(silentSeconds(item({ heartbeat_at: '2026-01-01T00:09:00.000Z' }), now, 90)).toBeNull();
    expect(silentSeconds(item({ status: 'QUEUED' }), now, 90)).toBeNull();
    expect(silentSeconds(item({ status: 'SUCCESS' }), now, 90)).toBeNull();
    // Starting up (no worker recorded yet): the Run state's start-up limit applies, not this one.
    expect(silentSeconds(item({ task_token: undefined }), now, 90)).toBeNull();
    expect(silentSeconds(item({ heartbeat_at: undefined }), now, 90)).toBeNull();
    expect(silentSeconds(item({ heartbeat_at: 'garbage' }), now, 90)).toBeNull();
    expect(silentSeconds(null, now, 90)).toBeNull();
  });
});

describe('checkSilentWorker', () => {
  const ports = (answer: 'failed' | 'gone', calls: string[]): SilentWorkerPorts => ({
    failTask: async (token, error, cause) => {
      calls.push(`fail ${token} ${error} ${cause}`);
      return answer;
    },
    stopTask: async (arn) => void calls.push(`stop ${arn}`),
    forgetWorker: async (a, c, token) => (calls.push(`forget ${a}/${c} ${token}`), true),
  });

  it('fails the task as WORKER_LOST (the Run state re-runs it), stops the ECS task, forgets the worker', async () => {
    const calls: string[] = [];
    expect(await checkSilentWorker(ports('failed', calls), item(), now, 90)).toBe('failed');
    expect(calls).toEqual([
      'fail tok-1 WORKER_LOST The worker sent no heartbeat for 120 s (limit 90 s) and was stopped.',
      'stop arn:aws:ecs:us-east-1:1:task/cluster/abc',
      'forget a/c tok-1',
    ]);
  });

  it('a dead token (that attempt already ended) is only forgotten; a live worker is left alone', async () => {
    const calls: string[] = [];
    expect(await checkSilentWorker(ports('gone', calls), item({ worker_task_arn: undefined }), now, 90)).toBe('gone');
    expect(calls.map((c) => c.split(' ')[0])).toEqual(['fail', 'forget']);
    const quiet: string[] = [];
    expect(
      await checkSilentWorker(ports('failed', quiet), item({ heartbeat_at: '2026-01-01T00:09:50.000Z' }), now, 90),
    ).toBe('alive');
    expect(quiet).toEqual([]);
  });
});
