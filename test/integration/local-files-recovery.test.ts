/**
 * Local mode keeps stored files moving across a restart: files left PROCESSING by a process
 * that died mid-ingest (its in-memory ingest and s3rver's event gone) are ingested on the next
 * start with the real ingest task (worker bundle, ffprobe): store-file's fetch again, and the
 * probe of bytes that had already landed. A file whose bytes never arrived keeps waiting.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { newFileItem } from '../../core/api/files.ts';
import { startLocalFfaas, type LocalFfaas } from '../../local/start.ts';
import { LOCAL_NAMES, startDataServices } from '../../local/services.ts';
import { FileRepository } from '../../store/file-repository.ts';
import { makeFixtures, startFixtureServer, type FixtureServer, type Fixtures } from '../helpers/index.ts';

let dataDir: string;
let app: LocalFfaas | undefined;
let fx: Fixtures;
let web: FixtureServer;
beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'ffaas-files-recovery-'));
  fx = await makeFixtures({ names: ['video.mp4'] });
  web = await startFixtureServer({ dir: fx.dir });
});
afterAll(async () => {
  await app?.stop();
  await web?.stop();
  await fx?.cleanup();
  await rm(dataDir, { recursive: true, force: true });
});

it('restarts the ingest of files a previous run left PROCESSING', async () => {
  const now = new Date();
  const fetch = newFileItem({
    accountId: 'a',
    fileId: '00000000-0000-4000-8000-000000000001',
    filename: 'video.mp4',
    source: 'store_file',
    originalFileUrl: web.url('/video.mp4'),
    now,
    retentionDays: 1,
  });
  const landed = newFileItem({
    accountId: 'a',
    fileId: '00000000-0000-4000-8000-000000000002',
    filename: 'clip.mp4',
    source: 'upload_url',
    now,
    retentionDays: 1,
  });
  const waiting = newFileItem({
    accountId: 'a',
    fileId: '00000000-0000-4000-8000-000000000003',
    filename: 'later.mp4',
    source: 'upload_url',
    now,
    retentionDays: 1,
  });
  // The state a crash leaves: items PROCESSING, one file's bytes in the bucket, no ingest running.
  const services = await startDataServices({ dataDir });
  const files = new FileRepository(DynamoDBDocumentClient.from(services.dynamodb), LOCAL_NAMES.tables.files);
  for (const f of [fetch, landed, waiting]) await files.create(f);
  await services.s3.send(
    new PutObjectCommand({
      Bucket: LOCAL_NAMES.bucket,
      Key: landed.s3_key,
      Body: await readFile(fx.path('video.mp4')),
    }),
  );
  await services.stop();

  app = await startLocalFfaas({
    port: 0,
    dataDir,
    allowPrivateUrls: true,
    log: () => undefined,
    workerLog: () => undefined,
  });
  const appFiles = new FileRepository(
    DynamoDBDocumentClient.from(
      new DynamoDBClient({
        endpoint: app.endpoints.endpoints.dynamodb,
        region: app.endpoints.region,
        credentials: app.endpoints.credentials,
      }),
    ),
    LOCAL_NAMES.tables.files,
  );
  const deadline = Date.now() + 60_000;
  for (;;) {
    const [a, b] = await Promise.all([appFiles.get('a', fetch.file_id), appFiles.get('a', landed.file_id)]);
    if (a?.status !== 'PROCESSING' && b?.status !== 'PROCESSING') {
      expect(a).toMatchObject({ status: 'STORED', probe: { file_type: 'video' } });
      expect(b).toMatchObject({ status: 'STORED', probe: { file_type: 'video' } });
      break;
    }
    if (Date.now() > deadline) throw new Error('files not ingested after the restart');
    await new Promise((r) => setTimeout(r, 200));
  }
  expect((await appFiles.get('a', waiting.file_id))!.status).toBe('PROCESSING');
}, 120_000);
