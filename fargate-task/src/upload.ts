/**
 * Step 5: stream outputs from the workspace to S3 with lib-storage's Upload (multipart for
 * large files, a single PUT for small ones; memory bounded by partSize × queueSize).
 */
import { createReadStream } from 'node:fs';
import { DeleteObjectsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
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

export interface UploadItem {
  key: string;
  path: string;
  contentType: string;
}

/** Which object of an uploadFiles batch failed; `cause` is the SDK error. */
export class UploadFilesError extends Error {
  constructor(
    readonly item: UploadItem,
    cause: unknown,
  ) {
    super(`upload of ${item.key} failed`, { cause });
    this.name = 'UploadFilesError';
  }
}

/**
 * Streams many files (a playlist's segments), at most `concurrency` at once, each with
 * uploadFile. The first failure stops the batch: nothing new starts, uploads in flight are
 * aborted, and it is rethrown as an UploadFilesError naming the file.
 */
export async function uploadFiles(opts: {
  s3: S3Client;
  bucket: string;
  files: readonly UploadItem[];
  concurrency: number;
  signal?: AbortSignal;
}): Promise<void> {
  const stop = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, stop.signal]) : stop.signal;
  let next = 0;
  let failure: UploadFilesError | undefined;
  const lane = async (): Promise<void> => {
    while (!failure && !signal.aborted && next < opts.files.length) {
      const item = opts.files[next++]!;
      try {
        await uploadFile({
          s3: opts.s3,
          bucket: opts.bucket,
          key: item.key,
          path: item.path,
          contentType: item.contentType,
          signal,
        });
      } catch (err) {
        failure ??= new UploadFilesError(item, err);
        stop.abort();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency, opts.files.length)) }, lane));
  if (failure) throw failure;
  opts.signal?.throwIfAborted();
}

/**
 * Deletes every object under `prefix` except those under `keep` (a prefix too): the partial
 * uploads of dead or failed attempts. Returns how many objects were deleted.
 */
export async function deletePrefix(opts: {
  s3: S3Client;
  bucket: string;
  prefix: string;
  keep?: string;
  signal?: AbortSignal;
}): Promise<number> {
  let deleted = 0;
  let ContinuationToken: string | undefined;
  do {
    const page = await opts.s3.send(
      new ListObjectsV2Command({ Bucket: opts.bucket, Prefix: opts.prefix, ContinuationToken }),
      { abortSignal: opts.signal },
    );
    const objects = (page.Contents ?? [])
      .map((o) => o.Key!)
      .filter((key) => opts.keep === undefined || !key.startsWith(opts.keep))
      .map((Key) => ({ Key }));
    if (objects.length > 0) {
      await opts.s3.send(new DeleteObjectsCommand({ Bucket: opts.bucket, Delete: { Objects: objects, Quiet: true } }), {
        abortSignal: opts.signal,
      });
      deleted += objects.length;
    }
    ContinuationToken = page.NextContinuationToken;
  } while (ContinuationToken);
  return deleted;
}
