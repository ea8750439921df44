/**
 * Local mode's data services (local/services.ts startDataServices) on a data dir: every table
 * and the bucket exist after a start, the bucket answers a browser's cross-origin preflight for
 * the console's uploads, and a second start on the same dir keeps what is there and puts back
 * only what is missing (a table dropped, as an older data dir would lack a newer table).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeleteTableCommand, DescribeTableCommand, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, HeadBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { LOCAL_NAMES, startDataServices, type DataServices } from '../../local/services.ts';

let dataDir: string;
let services: DataServices | undefined;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'ffaas-data-services-'));
});
afterAll(async () => {
  await services?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

async function tableStatuses(s: DataServices): Promise<Record<string, string | undefined>> {
  const out: Record<string, string | undefined> = {};
  for (const name of Object.values(LOCAL_NAMES.tables)) {
    const t = (await s.dynamodb.send(new DescribeTableCommand({ TableName: name }))).Table;
    out[name] = t?.TableStatus;
  }
  return out;
}

/** What a browser sends before the console's PUT to a presigned URL from another origin. */
async function preflight(s: DataServices, method: string) {
  return fetch(`${s.s3Endpoint}/${LOCAL_NAMES.bucket}/uploads/a.mp4`, {
    method: 'OPTIONS',
    headers: {
      origin: 'http://127.0.0.1:5173',
      'access-control-request-method': method,
      'access-control-request-headers': 'content-type',
    },
  });
}

describe('startDataServices', () => {
  it('makes every table ACTIVE and the bucket, which allows the console cross-origin', async () => {
    services = await startDataServices({ dataDir });
    expect(Object.values(await tableStatuses(services))).toEqual(Object.values(LOCAL_NAMES.tables).map(() => 'ACTIVE'));
    await expect(services.s3.send(new HeadBucketCommand({ Bucket: LOCAL_NAMES.bucket }))).resolves.toBeDefined();

    for (const method of ['PUT', 'GET', 'HEAD']) {
      const res = await preflight(services, method);
      expect(res.status, method).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toMatch(/^(\*|http:\/\/127\.0\.0\.1:5173)$/);
      expect(res.headers.get('access-control-allow-methods')).toContain(method);
    }
    // A method the rules do not allow is refused.
    expect((await preflight(services, 'DELETE')).status).toBe(403);

    await services.s3.send(
      new PutObjectCommand({
        Bucket: LOCAL_NAMES.bucket,
        Key: 'kept.txt',
        Body: 'still here',
        ContentType: 'text/plain',
      }),
    );
    // The console reads the ETag of its upload: exposed to the page.
    const get = await fetch(`${services.s3Endpoint}/${LOCAL_NAMES.bucket}/kept.txt`, {
      headers: { origin: 'http://127.0.0.1:5173' },
    });
    expect(get.status).toBe(200);
    expect(await get.text()).toBe('still here');
    expect(get.headers.get('access-control-expose-headers') ?? '').toMatch(/etag/i);
  }, 60_000);

  it('on a restart keeps the objects and tables there and puts back a missing table', async () => {
    const dropped = LOCAL_NAMES.tables.presets;
    await services!.dynamodb.send(new DeleteTableCommand({ TableName: dropped }));
    for (let i = 0; i < 50; i++) {
      const names = (await services!.dynamodb.send(new ListTablesCommand({}))).TableNames ?? [];
      if (!names.includes(dropped)) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await services!.stop();
    services = undefined;

    services = await startDataServices({ dataDir });
    expect(Object.values(await tableStatuses(services))).toEqual(Object.values(LOCAL_NAMES.tables).map(() => 'ACTIVE'));
    const kept = await services.s3.send(new GetObjectCommand({ Bucket: LOCAL_NAMES.bucket, Key: 'kept.txt' }));
    expect(await kept.Body!.transformToString()).toBe('still here');
    const res = await preflight(services, 'PUT');
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-methods')).toContain('PUT');
  }, 60_000);
});
