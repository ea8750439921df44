/**
 * Step 5: outputs from the workspace to S3, streamed from the file, never held in memory: a file
 * of at most one part in one PutObject, a larger one as a multipart upload with
 * UPLOAD_QUEUE_SIZE parts in flight, each part a stream of its range of the file. A file of any
 * size costs the worker a few 64 KiB read chunks (lib-storage's Upload concatenated a fresh
 * buffer per part and held ~90 MiB at its peak on a 500 MiB file; two reused 5 MiB part buffers,
 * the design before this one, put the worker ~10 MiB above its idle RSS for a whole upload, and
 * a playlist's segments read whole into buffers left it ~12 MiB higher until the next full
 * collection: bench/worker-focus.ts, bench/run.ts). Only a file that fits in one read chunk is
 * sent from a buffer.
 *
 * A streamed body cannot be sent again, so the SDK does not retry it: each request is retried
 * here (a fresh stream of the same range), and carries its CRC32, computed from the file before
 * it is sent, as the SDK's default checksums would have it; S3 checks it against the bytes.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { crc32 } from 'node:zlib';
import { pipeline, type Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  ChecksumAlgorithm,
  CompleteMultipartUploadCommand,
  type CompletedPart,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { collectAllGarbage, collectYoungGarbage, MAJOR_GC_BYTES, transferGcStream } from './memory.ts';

/** Smallest part S3 takes (all parts but the last); also the single-PUT threshold. */
export const UPLOAD_PART_BYTES = 5 * 1024 * 1024;
/** Parts in flight per file. */
export const UPLOAD_QUEUE_SIZE = 2;
/** Attempts per streamed request (the SDK's own default for a request it can retry). */
export const PART_ATTEMPTS = 3;
/** Bytes a stream reads from the file at a time; a file this small is sent from a buffer. */
const PART_READ_BYTES = 64 * 1024;
/** S3's most parts per upload. */
const MAX_PARTS = 10_000;

/** Part size for a file of `size` bytes: the smallest S3 allows that keeps within MAX_PARTS. */
export function uploadPartSize(size: number): number {
  return Math.max(UPLOAD_PART_BYTES, Math.ceil(size / MAX_PARTS));
}

/** Fills `buf` from `fh` at `position`; the bytes read (less than asked only at the end of the file). */
async function readFully(fh: FileHandle, buf: Buffer, length: number, position: number): Promise<number> {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(buf, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}

/** CRC32 of `length` bytes of `fh` at `position`, base64 of its big-endian bytes (S3's form). */
async function rangeCrc32(fh: FileHandle, position: number, length: number, key: string): Promise<string> {
  const chunk = Buffer.allocUnsafe(PART_READ_BYTES);
  let crc = 0;
  for (let done = 0; done < length; ) {
    const { bytesRead } = await fh.read(chunk, 0, Math.min(chunk.length, length - done), position + done);
    if (bytesRead === 0) throw new Error(`${key}: the file shrank while it was read`);
    crc = crc32(chunk.subarray(0, bytesRead), crc);
    done += bytesRead;
  }
  const out = Buffer.allocUnsafe(4);
  out.writeUInt32BE(crc >>> 0);
  return out.toString('base64');
}

/**
 * `length` bytes of the file from `offset`: 64 KiB reads, with a minor collection every few MiB so
 * the chunks already on the socket do not pile up as garbage (memory.ts).
 */
function partStream(fh: FileHandle, offset: number, length: number): Readable {
  const file = fh.createReadStream({
    start: offset,
    end: offset + length - 1,
    highWaterMark: PART_READ_BYTES,
    autoClose: false,
  });
  return pipeline(file, transferGcStream(), () => {});
}

/**
 * Whether a failed part is worth sending again: what the SDK itself retries (throttling, 5xx,
 * timeouts, dropped connections), never a refusal (4xx) or an abort.
 */
export function isRetryablePartError(err: unknown): boolean {
  const e = err as { name?: string; code?: string; $retryable?: unknown; $metadata?: { httpStatusCode?: number } };
  if (e?.name === 'AbortError') return false;
  if (e?.$retryable) return true;
  const status = e?.$metadata?.httpStatusCode;
  if (status !== undefined) return status >= 500 || status === 429;
  return (
    ['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNREFUSED', 'EAI_AGAIN'].includes(e?.code ?? '') ||
    e?.name === 'TimeoutError'
  );
}

/** Whether the client sends checksums it is not required to (the SDK's default, WHEN_SUPPORTED). */
async function sendsChecksums(s3: S3Client): Promise<boolean> {
  return (await s3.config.requestChecksumCalculation()) === 'WHEN_SUPPORTED';
}

/**
 * The body fields of a request streaming `length` bytes from `offset`: a fresh stream on every
 * call (one per attempt), the range's CRC32 when `checksum` is given.
 */
function streamedBody(fh: FileHandle, offset: number, length: number, checksum: string | undefined) {
  return { Body: partStream(fh, offset, length), ContentLength: length, ...(checksum && { ChecksumCRC32: checksum }) };
}

/** `send` (a streamed request, its body made anew each time) up to PART_ATTEMPTS times, backing off. */
async function withPartAttempts<T>(signal: AbortSignal | undefined, send: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await send();
    } catch (err) {
      if (attempt >= PART_ATTEMPTS || signal?.aborted || !isRetryablePartError(err)) throw err;
      await sleep(100 * 2 ** attempt * (0.5 + Math.random()), undefined, { signal }).catch(() => {});
    }
  }
}

export async function uploadFile(opts: {
  s3: S3Client;
  bucket: string;
  key: string;
  path: string;
  contentType: string;
  signal?: AbortSignal;
}): Promise<void> {
  const fh = await open(opts.path, 'r');
  try {
    const { size } = await fh.stat();
    const partSize = uploadPartSize(size);
    if (size <= partSize) {
      await putObject(opts, fh, size);
      return;
    }
    await multipartUpload(opts, fh, size, partSize);
  } finally {
    await fh.close();
  }
}

/** One PutObject: from a buffer when the file fits in one read chunk, else streamed. */
async function putObject(
  opts: { s3: S3Client; bucket: string; key: string; contentType: string; signal?: AbortSignal },
  fh: FileHandle,
  size: number,
): Promise<void> {
  const request = { Bucket: opts.bucket, Key: opts.key, ContentType: opts.contentType };
  if (size <= PART_READ_BYTES) {
    const body = Buffer.allocUnsafe(size);
    if ((await readFully(fh, body, size, 0)) !== size)
      throw new Error(`${opts.key}: the file shrank while it was read`);
    // The SDK computes the checksum of a buffer itself, and retries it.
    await opts.s3.send(new PutObjectCommand({ ...request, Body: body, ContentLength: size }), {
      abortSignal: opts.signal,
    });
    return;
  }
  const checksum = (await sendsChecksums(opts.s3)) ? await rangeCrc32(fh, 0, size, opts.key) : undefined;
  await withPartAttempts(opts.signal, () =>
    opts.s3.send(new PutObjectCommand({ ...request, ...streamedBody(fh, 0, size, checksum) }), {
      abortSignal: opts.signal,
    }),
  );
}

async function multipartUpload(
  opts: { s3: S3Client; bucket: string; key: string; contentType: string; signal?: AbortSignal },
  fh: FileHandle,
  size: number,
  partSize: number,
): Promise<void> {
  const { s3, bucket, key } = opts;
  // As lib-storage does: with the SDK's default checksums the parts carry CRC32, and the upload
  // must say so when it is created.
  const checksums = await sendsChecksums(s3);
  const created = await s3.send(
    new CreateMultipartUploadCommand({
      Bucket: bucket,
      Key: key,
      ContentType: opts.contentType,
      ...(checksums ? { ChecksumAlgorithm: ChecksumAlgorithm.CRC32 } : {}),
    }),
    { abortSignal: opts.signal },
  );
  const uploadId = created.UploadId;
  if (!uploadId) throw new Error(`${key}: CreateMultipartUpload answered without an UploadId`);
  // What the download and the run left in the heap goes before a long upload (one full
  // collection, ~10 ms, only for files of more than a part).
  collectAllGarbage();
  const stop = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, stop.signal]) : stop.signal;
  const count = Math.ceil(size / partSize);
  const parts: CompletedPart[] = [];
  let next = 0;
  let failure: unknown;
  let sent = 0;
  let nextMajor = MAJOR_GC_BYTES;
  const lane = async () => {
    while (failure === undefined && !signal.aborted && next < count) {
      const index = next++;
      try {
        const offset = index * partSize;
        const length = Math.min(partSize, size - offset);
        // Read once for the checksum: this also finds a file shorter than its size said, before
        // a request promises S3 bytes it would never get.
        const checksum = checksums ? await rangeCrc32(fh, offset, length, key) : undefined;
        const res = await withPartAttempts(signal, () =>
          s3.send(
            new UploadPartCommand({
              Bucket: bucket,
              Key: key,
              UploadId: uploadId,
              PartNumber: index + 1,
              ...streamedBody(fh, offset, length, checksum),
            }),
            { abortSignal: signal },
          ),
        );
        if (!res.ETag) throw new Error(`${key}: part ${index + 1} was stored without an ETag`);
        // The request's own garbage (signing, checksums, the response) goes with each part.
        sent += length;
        if (sent >= nextMajor) {
          nextMajor = sent + MAJOR_GC_BYTES;
          collectAllGarbage();
        } else collectYoungGarbage();
        parts.push({
          PartNumber: index + 1,
          ETag: res.ETag,
          ...(res.ChecksumCRC32 && { ChecksumCRC32: res.ChecksumCRC32 }),
          ...(res.ChecksumCRC32C && { ChecksumCRC32C: res.ChecksumCRC32C }),
          ...(res.ChecksumCRC64NVME && { ChecksumCRC64NVME: res.ChecksumCRC64NVME }),
          ...(res.ChecksumSHA1 && { ChecksumSHA1: res.ChecksumSHA1 }),
          ...(res.ChecksumSHA256 && { ChecksumSHA256: res.ChecksumSHA256 }),
        });
      } catch (err) {
        failure ??= err;
        stop.abort();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(UPLOAD_QUEUE_SIZE, count) }, lane));
  try {
    if (failure !== undefined) throw failure;
    opts.signal?.throwIfAborted();
    parts.sort((a, b) => a.PartNumber! - b.PartNumber!);
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts },
      }),
      { abortSignal: opts.signal },
    );
  } catch (err) {
    // The parts stored so far would otherwise be billed until a lifecycle rule removes them.
    await s3
      .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }), {
        abortSignal: AbortSignal.timeout(10_000),
      })
      .catch(() => {});
    throw err;
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
