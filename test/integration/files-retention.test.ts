/**
 * The files table repository and local mode's retention sweep on real APIs (dynalite with the
 * tables createTables makes, s3rver): status only moves forward, listing is per account and
 * newest first, and the sweep removes expired commands with their outputs (playlist segments
 * included) and expired files with their bytes, and nothing that has not expired.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDynalite, startS3rver, type DynaliteHandle, type S3rverHandle } from '../helpers/index.ts';
import { createTables } from '../../store/tables.ts';
import { CommandRepository } from '../../store/command-repository.ts';
import { FileRepository } from '../../store/file-repository.ts';
import { newFileItem } from '../../core/api/files.ts';
import { buildCommandItem } from '../../core/api/command-item.ts';
import { S3_KEYS } from '../../core/constants.ts';
import { sweepExpired } from '../../local/retention.ts';

const names = {
  commands: 'fr-commands',
  apiKeys: 'fr-keys',
  accounts: 'fr-accounts',
  files: 'fr-files',
  presets: 'fr-presets',
};
const BUCKET = 'fr-bucket';
let db: DynaliteHandle;
let s3: S3rverHandle;
let files: FileRepository;
let commands: CommandRepository;

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const put = (Key: string) => s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: 'x' }));

beforeAll(async () => {
  db = await startDynalite();
  await createTables(db.client, names);
  s3 = await startS3rver({ buckets: [BUCKET] });
  files = new FileRepository(db.doc, names.files);
  commands = new CommandRepository(db.doc, names.commands);
});
afterAll(async () => {
  await db?.stop();
  await s3?.stop();
});

describe('FileRepository', () => {
  it("lists an account's files newest first with limit/offset, never another account's", async () => {
    for (let i = 1; i <= 3; i++) {
      await files.create(
        newFileItem({
          accountId: 'a',
          fileId: id(i),
          filename: `f${i}.mp4`,
          source: 'upload',
          now: new Date(Date.UTC(2026, 0, i)),
          retentionDays: 30,
        }),
      );
    }
    await files.create(
      newFileItem({
        accountId: 'b',
        fileId: id(9),
        filename: 'b.mp4',
        source: 'upload',
        now: new Date(Date.UTC(2026, 0, 5)),
        retentionDays: 30,
      }),
    );
    expect((await files.list('a', { limit: 10, offset: 0 })).map((f) => f.file_id)).toEqual([id(3), id(2), id(1)]);
    expect((await files.list('a', { limit: 1, offset: 1 })).map((f) => f.file_id)).toEqual([id(2)]);
    expect(await files.get('b', id(1))).toBeNull();
  });

  it('status only moves forward: STORED or FAILED once, from PROCESSING', async () => {
    const probe = {
      size_mbytes: 1,
      duration: 1,
      file_type: 'video' as const,
      file_format: 'mp4',
      codec: 'h264',
      pixel_format: null,
      mime_type: 'video/mp4',
      width: 1,
      height: 1,
      frame_rate: 1,
      bitrate_video_kb: 1,
      bitrate_audio_kb: null,
    };
    expect(await files.markStored('a', id(1), probe, 10, new Date())).toBe(true);
    expect(await files.markFailed('a', id(1), 'NOT_MEDIA', 'x')).toBe(false);
    expect(await files.markStored('a', id(1), probe, 10, new Date())).toBe(false);
    expect((await files.get('a', id(1)))!.status).toBe('STORED');
    expect(await files.markFailed('a', id(2), 'NOT_MEDIA', 'not media')).toBe(true);
    expect(await files.markStored('a', id(2), probe, 10, new Date())).toBe(false);
    expect(await files.markFailed('a', id(404), 'NOT_MEDIA', 'x')).toBe(false);
  });
});

describe('local retention sweep', () => {
  it('removes expired commands with their outputs and expired files with their bytes; keeps the rest', async () => {
    const now = new Date('2026-06-01T00:00:00Z');
    const old = new Date('2026-01-01T00:00:00Z');
    const plan = { inputs: [], outputs: [], commands: [['-version']] };
    const mk = (n: number, created: Date) => ({
      ...buildCommandItem({
        accountId: 'a',
        commandId: id(100 + n),
        commandType: 'FFMPEG_COMMAND',
        request: { input_files: {}, output_files: { out_a: 'p.m3u8' }, ffmpeg_command: 'x' },
        parsed: { plan, compute: 'cpu' },
        now: created,
        retentionDays: 30,
      }),
      status: 'SUCCESS' as const,
      pending: undefined,
    });
    const expired = mk(1, old);
    const manifest = S3_KEYS.output('a', expired.command_id, 'p.m3u8');
    const segment = S3_KEYS.output('a', expired.command_id, 'p0.ts');
    expired.output_files_json = JSON.stringify({
      out_a: { s3_key: manifest, companion_names: ['p0.ts'], status: 'STORED', is_deleted: false },
    });
    const fresh = mk(2, now);
    const freshKey = S3_KEYS.output('a', fresh.command_id, 'p.m3u8');
    fresh.output_files_json = JSON.stringify({ out_a: { s3_key: freshKey, status: 'STORED', is_deleted: false } });
    const running = { ...mk(3, old), status: 'PROCESSING' as const };
    for (const c of [expired, fresh, running]) await commands.create(c);
    for (const k of [manifest, segment, freshKey]) await put(k);

    const oldFile = newFileItem({
      accountId: 'a',
      fileId: id(200),
      filename: 'old.mp4',
      source: 'upload',
      now: old,
      retentionDays: 30,
    });
    const newFile = newFileItem({
      accountId: 'a',
      fileId: id(201),
      filename: 'new.mp4',
      source: 'upload',
      now,
      retentionDays: 30,
    });
    for (const f of [oldFile, newFile]) {
      await files.create(f);
      await put(f.s3_key);
    }

    const swept = await sweepExpired({
      dynamodb: db.client,
      s3: s3.client,
      bucket: BUCKET,
      commandsTable: names.commands,
      filesTable: names.files,
      now: () => now,
    });
    // The three files of the first describe are from January too: expired as well.
    expect(swept.commands).toBe(1);
    expect(swept.files).toBeGreaterThanOrEqual(1);
    expect(await commands.get('a', expired.command_id)).toBeNull();
    expect(await commands.get('a', fresh.command_id)).not.toBeNull();
    expect(await commands.get('a', running.command_id)).not.toBeNull();
    expect(await s3.getObject(BUCKET, manifest)).toBeNull();
    expect(await s3.getObject(BUCKET, segment)).toBeNull();
    expect(await s3.getObject(BUCKET, freshKey)).not.toBeNull();
    expect(await files.get('a', oldFile.file_id)).toBeNull();
    expect(await s3.getObject(BUCKET, oldFile.s3_key)).toBeNull();
    expect(await files.get('a', newFile.file_id)).not.toBeNull();
    expect(await s3.getObject(BUCKET, newFile.s3_key)).not.toBeNull();
  });
});
