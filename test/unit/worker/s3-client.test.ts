/**
 * fargate-task/src/clients.ts workerS3Client: the SDK's own warnings (it prints one when a
 * streamed upload fails, which upload.ts then retries) come out as the worker's JSON log lines
 * on stderr, not as bare console lines.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { workerS3Client } from '../../../fargate-task/src/clients.ts';

afterEach(() => vi.restoreAllMocks());

describe('workerS3Client', () => {
  it('logs the SDK warnings as JSON lines, nothing on the console', () => {
    const written: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    const consoleWarn = vi.spyOn(console, 'warn');
    const client = workerS3Client({}, { region: 'us-east-1' });
    try {
      client.config.logger.warn('An error was encountered in a non-retryable streaming request.');
    } finally {
      client.destroy();
    }
    expect(consoleWarn).not.toHaveBeenCalled();
    expect(written).toHaveLength(1);
    expect(JSON.parse(written[0]!)).toMatchObject({
      level: 'warn',
      source: 'aws-sdk',
      msg: 'An error was encountered in a non-retryable streaming request.',
    });
  });

  it('addresses buckets by path when an endpoint is set, as s3rver needs', async () => {
    const client = workerS3Client({ AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9' }, { region: 'us-east-1' });
    try {
      expect(client.config.forcePathStyle).toBe(true);
    } finally {
      client.destroy();
    }
  });
});
