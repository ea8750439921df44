/**
 * The file ingest task (fargate-task/src/ingest.ts) against dynalite and s3rver, with Debian's
 * ffprobe and the fixture server on 127.0.0.1: each way a file ends, and that nothing is left
 * half-stored (bytes of a FAILED or ownerless file are deleted).
 */
import { readFile } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newFileItem, type FileItem } from '../../../core/api/files.ts';
import { resolveExecutable } from '../../../fargate-task/src/config.ts';
import { runIngest, type IngestDeps } from '../../../fargate-task/src/ingest.ts';
import { silentLogger } from '../../../fargate-task/src/log.ts';
import { FileRepository } from '../../../store/file-repository.ts';
import { createTables } from '../../../store/tables.ts';
import {
  makeFixtures,
  startDynalite,
  startFixtureServer,
  startS3rver,
  type DynaliteHandle,
  type FixtureServer,
  type Fixtures,
  type S3rverHandle,
} from '../../helpers/index.ts';

const BUCKET = 'ingest-bucket';
const TABLES = { commands: 'in-commands', apiKeys: 'in-keys', accounts: 'in-accounts', files: 'in-files' };
let db: DynaliteHandle;
let s3: S3rverHandle;
let fx: Fixtures;
let web: FixtureServer;
let work: string;
let files: FileRepository;
let n = 0;

const fileId = () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`;
const deps = (over: Partial<IngestDeps> = {}): IngestDeps => ({
  ddb: db.doc,
  s3: s3.client,
  filesTable: TABLES.files,
  bucket: BUCKET,
  workDir: work,
  allowPrivateUrls: true,
  ffprobePath: resolveExecutable('ffprobe'),
  probeTimeoutMs: 20_000,
  fetchTimeoutMs: 10_000,
  log: silentLogger,
  ...over,
});
async function fileOf(source: FileItem['source'], filename: string, url?: string): Promise<FileItem> {
  const item = newFileItem({
    accountId: 'acct',
    fileId: fileId(),
    filename,
    source,
    originalFileUrl: url,
    now: new Date(),
    retentionDays: 1,
  });
  await files.create(item);
  return item;
}
const putBytes = (key: string, body: Buffer | string) =>
  s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));

beforeAll(async () => {
  db = await startDynalite();
  await createTables(db.client, TABLES);
  s3 = await startS3rver({ buckets: [BUCKET] });
  fx = await makeFixtures({ names: ['video.mp4', 'audio.mp3'] });
  web = await startFixtureServer({ dir: fx.dir });
  work = await mkdtemp(path.join(tmpdir(), 'ffaas-ingest-'));
  files = new FileRepository(db.doc, TABLES.files);
}, 60_000);
afterAll(async () => {
  await web?.stop();
  await s3?.stop();
  await db?.stop();
  await fx?.cleanup();
  await rm(work, { recursive: true, force: true });
});

describe('file ingest', () => {
  it('probe: landed media becomes STORED with its meta, once', async () => {
    const item = await fileOf('upload_url', 'song.mp3');
    await putBytes(item.s3_key, await readFile(fx.path('audio.mp3')));
    expect(await runIngest(deps(), { mode: 'probe', key: item.s3_key })).toBe('STORED');
    const stored = (await files.get('acct', item.file_id))!;
    expect(stored.status).toBe('STORED');
    expect(stored.probe).toMatchObject({ file_type: 'audio', codec: 'mp3' });
    expect(await runIngest(deps(), { mode: 'probe', key: item.s3_key })).toBe('SKIPPED');
  });

  it('probe: a URL-encoded key in the event (spaces as +) finds its file', async () => {
    const item = await fileOf('upload_url', 'my song (1).mp3');
    await putBytes(item.s3_key, await readFile(fx.path('audio.mp3')));
    const encoded = item.s3_key
      .split('/')
      .map((p) => encodeURIComponent(p).replace(/%20/g, '+'))
      .join('/');
    expect(encoded).not.toBe(item.s3_key);
    expect(await runIngest(deps(), { mode: 'probe', key: encoded })).toBe('STORED');
  });

  it('probe: bytes that are not media → FAILED / NOT_MEDIA, bytes deleted', async () => {
    const item = await fileOf('upload', 'fake.mp4');
    await putBytes(item.s3_key, 'hello, I am text\n'.repeat(100));
    expect(await runIngest(deps(), { mode: 'probe', key: item.s3_key })).toBe('FAILED');
    expect((await files.get('acct', item.file_id))!).toMatchObject({ status: 'FAILED', error_status: 'NOT_MEDIA' });
    expect(await s3.getObject(BUCKET, item.s3_key)).toBeNull();
  });

  it('probe: over the byte cap → FAILED / FILE_TOO_LARGE, bytes deleted', async () => {
    const item = await fileOf('upload_url', 'big.mp4');
    await putBytes(item.s3_key, await readFile(fx.path('video.mp4')));
    expect(await runIngest(deps({ maxBytes: 1000 }), { mode: 'probe', key: item.s3_key })).toBe('FAILED');
    expect((await files.get('acct', item.file_id))!).toMatchObject({
      status: 'FAILED',
      error_status: 'FILE_TOO_LARGE',
    });
    expect(await s3.getObject(BUCKET, item.s3_key)).toBeNull();
  });

  it('probe: bytes no file owns (deleted meanwhile, or a stray key) are removed', async () => {
    const key = `files/acct/${fileId()}/orphan.mp4`;
    await putBytes(key, 'x');
    expect(await runIngest(deps(), { mode: 'probe', key })).toBe('SKIPPED');
    expect(await s3.getObject(BUCKET, key)).toBeNull();
  });

  it('fetch (store-file): through the SSRF-safe fetcher, stored and probed; its own upload event is then a no-op', async () => {
    const url = web.url('/video.mp4');
    const item = await fileOf('store_file', 'video.mp4', url);
    expect(await runIngest(deps(), { mode: 'fetch', account_id: 'acct', file_id: item.file_id })).toBe('STORED');
    expect((await files.get('acct', item.file_id))!).toMatchObject({
      status: 'STORED',
      probe: { file_type: 'video', width: 160 },
    });
    expect((await s3.getObject(BUCKET, item.s3_key))!.body.length).toBeGreaterThan(1000);
    expect(await runIngest(deps(), { mode: 'probe', key: item.s3_key })).toBe('SKIPPED');
  });

  it('fetch: an unreachable URL → FAILED / UNREACHABLE_INPUT_FILE; a private address without the switch → refused the same way', async () => {
    const missing = await fileOf('store_file', 'x.mp4', web.url('/nope.mp4'));
    expect(await runIngest(deps(), { mode: 'fetch', account_id: 'acct', file_id: missing.file_id })).toBe('FAILED');
    expect((await files.get('acct', missing.file_id))!.error_status).toBe('UNREACHABLE_INPUT_FILE');

    const hits = web.hits.length;
    const privateUrl = await fileOf('store_file', 'v.mp4', web.url('/video.mp4'));
    expect(
      await runIngest(deps({ allowPrivateUrls: false }), {
        mode: 'fetch',
        account_id: 'acct',
        file_id: privateUrl.file_id,
      }),
    ).toBe('FAILED');
    expect((await files.get('acct', privateUrl.file_id))!.error_message).toMatch(/file_url/);
    expect(web.hits.length).toBe(hits); // refused before any connection
    expect(await s3.getObject(BUCKET, privateUrl.s3_key)).toBeNull();
  });

  it('fetch: over the byte cap → FAILED / FILE_TOO_LARGE, nothing stored', async () => {
    const item = await fileOf('store_file', 'video.mp4', web.url('/video.mp4'));
    expect(
      await runIngest(deps({ maxBytes: 1000 }), { mode: 'fetch', account_id: 'acct', file_id: item.file_id }),
    ).toBe('FAILED');
    expect((await files.get('acct', item.file_id))!.error_status).toBe('FILE_TOO_LARGE');
    expect(await s3.getObject(BUCKET, item.s3_key)).toBeNull();
  });
});
