/**
 * The worker's uploads (fargate-task/src/upload.ts) against s3rver: bytes and content type as
 * written, one PUT or a multipart upload by size, and memory bounded by the part buffers
 * whatever the file's size (measured in a child process, so s3rver's own buffers, in this
 * process, do not count).
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ListMultipartUploadsCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  isRetryablePartError,
  PART_ATTEMPTS,
  UPLOAD_PART_BYTES,
  uploadFile,
  uploadPartSize,
} from '../../../fargate-task/src/upload.ts';
import { runChildScript, startS3rver, TEST_CREDENTIALS, TEST_REGION, type S3rverHandle } from '../../helpers/index.ts';

const BUCKET = 'ffaas-upload-test';
const MiB = 1024 * 1024;
let s3: S3rverHandle;
let dir: string;

beforeAll(async () => {
  s3 = await startS3rver({ buckets: [BUCKET] });
  dir = await mkdtemp(path.join(tmpdir(), 'ffaas-upload-'));
});

afterAll(async () => {
  await s3?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function fileOf(name: string, bytes: Buffer): Promise<string> {
  const p = path.join(dir, name);
  await writeFile(p, bytes);
  return p;
}

describe('uploadFile', () => {
  it.each([
    ['an empty file', 0],
    ['a file of one read chunk (one PUT from a buffer)', 64 * 1024],
    ['a small file (one PUT, streamed)', 100 * 1024],
    ['exactly one part (one PUT)', UPLOAD_PART_BYTES],
    ['one byte over a part (multipart, 2 parts)', UPLOAD_PART_BYTES + 1],
    ['several parts, the last one short (multipart)', 3 * UPLOAD_PART_BYTES + 12345],
  ])('stores %s byte for byte, with its content type', async (_what, size) => {
    const bytes = randomBytes(size);
    const key = `out/${size}.bin`;
    await uploadFile({
      s3: s3.client,
      bucket: BUCKET,
      key,
      path: await fileOf(`f${size}`, bytes),
      contentType: 'video/mp4',
    });
    const stored = await s3.getObject(BUCKET, key);
    expect(stored?.body.length).toBe(size);
    expect(stored!.body.equals(bytes)).toBe(true);
    expect(stored!.contentType).toBe('video/mp4');
  });

  it('a failed multipart upload is aborted, not left behind', async () => {
    const p = await fileOf('abort.bin', randomBytes(2 * UPLOAD_PART_BYTES + 1));
    const stop = new AbortController();
    const pending = uploadFile({
      s3: s3.client,
      bucket: BUCKET,
      key: 'out/aborted.bin',
      path: p,
      contentType: 'application/octet-stream',
      signal: stop.signal,
    });
    setTimeout(() => stop.abort(), 5);
    await expect(pending).rejects.toThrow();
    const uploads = await s3.client.send(new ListMultipartUploadsCommand({ Bucket: BUCKET })).catch(() => null);
    // s3rver may not list uploads at all; where it does, none is left open.
    if (uploads) expect(uploads.Uploads ?? []).toEqual([]);
    expect(await s3.getObject(BUCKET, 'out/aborted.bin')).toBeNull();
  });

  it('the part size grows only past S3’s 10,000 parts', () => {
    expect(uploadPartSize(0)).toBe(UPLOAD_PART_BYTES);
    expect(uploadPartSize(10_000 * UPLOAD_PART_BYTES)).toBe(UPLOAD_PART_BYTES);
    const big = 10_000 * UPLOAD_PART_BYTES + 1;
    expect(uploadPartSize(big)).toBeGreaterThan(UPLOAD_PART_BYTES);
    expect(Math.ceil(big / uploadPartSize(big))).toBeLessThanOrEqual(10_000);
  });

  it('a 160 MiB file is streamed: less memory than one part, whatever the size', async () => {
    const p = path.join(dir, 'big.bin');
    const fh = await open(p, 'w');
    const block = randomBytes(MiB);
    for (let i = 0; i < 160; i++) await fh.write(block);
    await fh.close();
    // The child samples its ArrayBuffer memory (Buffers' backing stores) every 2 ms while it
    // uploads and prints the peak above what it held before.
    const script = `
      import { S3Client } from '@aws-sdk/client-s3';
      import { uploadFile } from './fargate-task/src/upload.ts';
      const s3 = new S3Client({ endpoint: process.env.EP, region: 'us-east-1', forcePathStyle: true,
        credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
      const base = process.memoryUsage().arrayBuffers;
      let peak = base;
      const t = setInterval(() => { peak = Math.max(peak, process.memoryUsage().arrayBuffers); }, 2);
      await uploadFile({ s3, bucket: '${BUCKET}', key: 'out/big.bin', path: process.env.FILE, contentType: 'video/mp4' });
      clearInterval(t);
      peak = Math.max(peak, process.memoryUsage().arrayBuffers);
      console.log(JSON.stringify({ extra: peak - base }));
      s3.destroy();
    `;
    const { extra } = await runChildScript<{ extra: number }>(script, { env: { EP: s3.endpoint, FILE: p } });
    expect(extra).toBeGreaterThan(0);
    // Parts go from the file to the socket in 64 KiB reads, collected every few MiB: less than
    // one part is ever held (the buffered design held UPLOAD_QUEUE_SIZE parts, 10 MiB and more).
    expect(extra, `${(extra / MiB).toFixed(1)} MiB`).toBeLessThan(UPLOAD_PART_BYTES);
    const stored = await s3.getObject(BUCKET, 'out/big.bin');
    expect(stored?.body.length).toBe(160 * MiB);
  }, 120_000);

  describe('a part that fails is sent again from the file', () => {
    /**
     * A proxy in front of s3rver that answers the first `failures` attempts at part 2 itself
     * (`status`, or a connection dropped halfway through the body), after reading part of it.
     */
    interface Fault {
      status?: number;
      drop?: boolean;
      failures: number;
      /** Which request fails: part 2 of a multipart upload (default), or a whole-object PUT. */
      put?: boolean;
    }
    async function flakyProxy(fail: Fault) {
      const attempts: number[] = [];
      let failed = 0;
      const target = new URL(s3.endpoint);
      const server: Server = createServer((req: IncomingMessage, res) => {
        const query = new URL(req.url!, 'http://x').searchParams;
        const wholeObject = req.method === 'PUT' && !query.has('partNumber') && !query.has('uploadId');
        const part = wholeObject ? 0 : Number(query.get('partNumber') ?? -1);
        if (part >= 0) attempts.push(part);
        if ((fail.put ? part === 0 : part === 2) && failed < fail.failures) {
          failed++;
          if (fail.drop) {
            req.once('data', () => req.socket.destroy());
            return;
          }
          req.resume();
          req.on('end', () => {
            res.writeHead(fail.status!, { 'content-type': 'application/xml' });
            res.end(
              `<?xml version="1.0"?><Error><Code>${fail.status === 403 ? 'AccessDenied' : 'InternalError'}</Code><Message>injected</Message></Error>`,
            );
          });
          return;
        }
        const upstream = httpRequest(
          { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
          (up) => {
            res.writeHead(up.statusCode!, up.headers);
            up.pipe(res);
          },
        );
        req.pipe(upstream);
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const client = new S3Client({
        endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        region: TEST_REGION,
        credentials: TEST_CREDENTIALS,
        forcePathStyle: true,
        // The SDK's own retry would not resend a streamed part anyway; keep its warning out.
        logger: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
      });
      return {
        client,
        attemptsAt: (n: number) => attempts.filter((p) => p === n).length,
        stop: async () => {
          client.destroy();
          server.closeAllConnections();
          await new Promise<void>((r) => server.close(() => r()));
        },
      };
    }

    it.each<[string, Fault]>([
      ['a 500', { status: 500, failures: 1 }],
      ['a dropped connection', { drop: true, failures: 1 }],
      ['503 twice', { status: 503, failures: PART_ATTEMPTS - 1 }],
      ['a 500 on a one-PUT file', { status: 500, failures: 1, put: true }],
      ['a dropped connection on a one-PUT file', { drop: true, failures: 1, put: true }],
    ])(
      'after %s, the file is stored byte for byte',
      async (_what, fail) => {
        const bytes = randomBytes(fail.put ? 2 * 1024 * 1024 + 5 : 3 * UPLOAD_PART_BYTES + 7);
        const p = await fileOf('flaky.bin', bytes);
        const proxy = await flakyProxy(fail);
        try {
          const key = `out/flaky-${fail.failures}-${fail.drop ? 'drop' : fail.status}${fail.put ? '-put' : ''}.bin`;
          await uploadFile({ s3: proxy.client, bucket: BUCKET, key, path: p, contentType: 'video/mp4' });
          if (fail.put) expect(proxy.attemptsAt(0)).toBe(fail.failures + 1);
          else {
            expect(proxy.attemptsAt(2)).toBe(fail.failures + 1);
            expect(proxy.attemptsAt(1)).toBe(1);
          }
          const stored = await s3.getObject(BUCKET, key);
          expect(stored?.body.length).toBe(bytes.length);
          expect(stored!.body.equals(bytes)).toBe(true);
        } finally {
          await proxy.stop();
        }
      },
      30_000,
    );

    it(`gives up after ${PART_ATTEMPTS} attempts, and at once on a refusal; nothing is left behind`, async () => {
      const p = await fileOf('refused.bin', randomBytes(2 * UPLOAD_PART_BYTES + 1));
      for (const [fail, attempts] of [
        [{ status: 500, failures: PART_ATTEMPTS }, PART_ATTEMPTS],
        [{ status: 403, failures: 1 }, 1],
      ] as const) {
        const proxy = await flakyProxy(fail);
        try {
          const key = `out/refused-${fail.status}.bin`;
          await expect(
            uploadFile({ s3: proxy.client, bucket: BUCKET, key, path: p, contentType: 'video/mp4' }),
          ).rejects.toMatchObject({ $metadata: { httpStatusCode: fail.status } });
          expect(proxy.attemptsAt(2)).toBe(attempts);
          expect(await s3.getObject(BUCKET, key)).toBeNull();
        } finally {
          await proxy.stop();
        }
      }
    }, 30_000);

    it('retries what the SDK would, not refusals or aborts', () => {
      expect(isRetryablePartError({ $metadata: { httpStatusCode: 503 } })).toBe(true);
      expect(isRetryablePartError({ $metadata: { httpStatusCode: 429 } })).toBe(true);
      expect(isRetryablePartError({ code: 'ECONNRESET' })).toBe(true);
      expect(isRetryablePartError({ name: 'TimeoutError' })).toBe(true);
      expect(isRetryablePartError({ $metadata: { httpStatusCode: 403 } })).toBe(false);
      expect(isRetryablePartError({ $metadata: { httpStatusCode: 400 } })).toBe(false);
      expect(isRetryablePartError({ name: 'AbortError', code: 'ECONNRESET' })).toBe(false);
    });
  });
});
