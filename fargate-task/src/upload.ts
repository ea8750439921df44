/**
 * Step 5: stream one output from the workspace to S3 with lib-storage's Upload (multipart for
 * large files, a single PUT for small ones; memory bounded by partSize × queueSize).
 */
import { createReadStream } from 'node:fs';
import type { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';

export const UPLOAD_PART_BYTES = 8 * 1024 * 1024;
export const UPLOAD_QUEUE_SIZE = 2;

export async function uploadFile(opts: {
  s3: S3Client;
  bucket: string;
  key: string;
  path: string;
  contentType: string;
  signal?: AbortSignal;
}): Promise<void> {
  const upload = new Upload({
    client: opts.s3,
    params: { Bucket: opts.bucket, Key: opts.key, Body: createReadStream(opts.path), ContentType: opts.contentType },
    partSize: UPLOAD_PART_BYTES,
    queueSize: UPLOAD_QUEUE_SIZE,
    leavePartsOnError: false,
  });
  const onAbort = () => void upload.abort().catch(() => {});
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await upload.done();
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
}
