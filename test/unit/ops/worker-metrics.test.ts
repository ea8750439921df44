import { afterEach, describe, expect, it, vi } from 'vitest';
import { emitCommandMetrics } from '../../../fargate-task/src/metrics.ts';
import { METRIC, METRICS_NAMESPACE } from '../../../core/metrics.ts';

/** The EMF documents Powertools writes to stdout (what the awslogs driver ships). */
function captureEmf(fn: () => void): any[] {
  const lines: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: any) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    fn();
  } finally {
    spy.mockRestore();
  }
  return lines
    .flatMap((l) => l.split('\n'))
    .filter((l) => l.includes('"_aws"'))
    .map((l) => JSON.parse(l));
}

afterEach(() => vi.restoreAllMocks());

describe('worker EMF metrics', () => {
  it('a success: succeeded, queue wait, run seconds, bytes in and out, in the service namespace', () => {
    const docs = captureEmf(() =>
      emitCommandMetrics({
        status: 'SUCCESS',
        queueWaitSeconds: 12.5,
        runSeconds: 3.25,
        bytesIn: 1000,
        bytesOut: 500,
        compute: 'cpu',
      }),
    );
    expect(docs).toHaveLength(1);
    const [doc] = docs;
    const directive = doc._aws.CloudWatchMetrics[0];
    expect(directive.Namespace).toBe(METRICS_NAMESPACE);
    expect(directive.Dimensions).toEqual([['service']]);
    expect(doc.service).toBe('ffaas-worker');
    expect(doc[METRIC.commandsSucceeded]).toBe(1);
    expect(doc[METRIC.queueWaitSeconds]).toBe(12.5);
    expect(doc[METRIC.runSeconds]).toBe(3.25);
    expect(doc[METRIC.bytesIn]).toBe(1000);
    expect(doc[METRIC.bytesOut]).toBe(500);
    expect(doc[METRIC.commandsFailed]).toBeUndefined();
  });

  it('a failure: failed, and once more by error_status (what the alarms read)', () => {
    const docs = captureEmf(() =>
      emitCommandMetrics({ status: 'FAILED', errorStatus: 'WORKER_LOST', bytesIn: 0, bytesOut: 0, compute: 'gpu' }),
    );
    expect(docs).toHaveLength(2);
    const byStatus = docs.find((d) => d.error_status)!;
    expect(byStatus._aws.CloudWatchMetrics[0].Dimensions).toEqual([['service', 'error_status']]);
    expect(byStatus.error_status).toBe('WORKER_LOST');
    expect(byStatus[METRIC.commandsFailed]).toBe(1);
    const total = docs.find((d) => !d.error_status)!;
    expect(total[METRIC.commandsFailed]).toBe(1);
    expect(total[METRIC.commandsSucceeded]).toBeUndefined();
  });
});
