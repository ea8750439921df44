/**
 * The worker's uploads (fargate-task/src/upload.ts) against s3rver: bytes and content type as
 * written, one PUT or a multipart upload by size, and memory bounded by the part buffers
 * whatever the file's size (measured in a child process, so s3rver's own buffers, in this
 * process, do not count).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UPLOAD_PART_BYTES, UPLOAD_QUEUE_SIZE, uploadFile, uploadPartSize } from '../../../fargate-task/src/upload.ts';
import { startS3rver, type S3rverHandle } from '../../helpers/index.ts';

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
    ['a small file (one PUT)', 100 * 1024],
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

  it('a 160 MiB file costs at most the part buffers in memory (plus 3 MiB), not a share of the file', async () => {
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
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: path.resolve(import.meta.dirname, '../../..'),
      env: { ...process.env, EP: s3.endpoint, FILE: p },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (err += d));
    const code = await new Promise((r) => child.on('close', r));
    expect(code, err).toBe(0);
    const { extra } = JSON.parse(out.trim().split('\n').at(-1)!) as { extra: number };
    expect(extra).toBeGreaterThan(0);
    expect(extra).toBeLessThanOrEqual(UPLOAD_QUEUE_SIZE * UPLOAD_PART_BYTES + 3 * MiB);
    const stored = await s3.getObject(BUCKET, 'out/big.bin');
    expect(stored?.body.length).toBe(160 * MiB);
  }, 120_000);
});
