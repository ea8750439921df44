/**
 * A real S3 API (s3rver) in the test process: `const s3 = await startS3rver({ buckets: ['b'] })`,
 * use `s3.client` (path style, S3RVER/S3RVER credentials), read objects with
 * `s3.getObject(bucket, key)`, `await s3.stop()` in afterAll (its temp dir is removed).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { TEST_CREDENTIALS, TEST_REGION } from './aws.ts';
import { isAwsError } from '../../store/errors.ts';

export interface S3rverHandle {
  endpoint: string;
  client: S3Client;
  directory: string;
  getObject(bucket: string, key: string): Promise<{ body: Buffer; contentType?: string } | null>;
  stop(): Promise<void>;
}

export async function startS3rver(opts: { buckets?: string[]; directory?: string } = {}): Promise<S3rverHandle> {
  const directory = opts.directory ?? (await mkdtemp(path.join(tmpdir(), 'ffaas-s3rver-')));
  const server = new S3rver({ port: 0, address: '127.0.0.1', directory, silent: true });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({ endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS, forcePathStyle: true });
  for (const bucket of opts.buckets ?? []) await client.send(new CreateBucketCommand({ Bucket: bucket }));
  return {
    endpoint,
    client,
    directory,
    async getObject(bucket, key) {
      try {
        const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return { body: Buffer.from(await res.Body!.transformToByteArray()), contentType: res.ContentType };
      } catch (err) {
        if (isAwsError(err, 'NoSuchKey')) return null;
        throw err;
      }
    },
    async stop() {
      client.destroy();
      await server.close();
      if (!opts.directory) await rm(directory, { recursive: true, force: true });
    },
  };
}
