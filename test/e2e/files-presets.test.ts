/**
 * End to end, over HTTP against a started local mode: stored files (upload, upload-url,
 * Rendi's multipart flow, store-file), their use as inputs read straight from the bucket,
 * deleting files and a command's outputs, presets, retention's expires_at, and every bad input
 * of issue 10 (too large, not media, unreachable/private URL, deleted or foreign file as an
 * input, a preset the policy refuses), each a clear 4xx or a FAILED file with nothing stored.
 */
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeFixtures, startFixtureServer, type FixtureServer, type Fixtures } from '../helpers/index.ts';
import { createKey, startLocalProcess, type LocalProcess } from './local-process.ts';

/* eslint-disable @typescript-eslint/no-explicit-any */
async function api(
  base: string,
  method: string,
  route: string,
  opts: { key?: string; body?: unknown; form?: FormData } = {},
) {
  const res = await fetch(`${base}${route}`, {
    method,
    headers: {
      ...(opts.key ? { 'X-API-KEY': opts.key } : {}),
      ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: opts.form ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body)),
  });
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, json, text };
}

async function until<T>(fn: () => Promise<T | undefined>, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('files and presets over HTTP (local mode)', () => {
  let dataDir: string;
  let env: Record<string, string>;
  let local: LocalProcess;
  let base: string;
  let fixtures: Fixtures;
  let media: FixtureServer;
  let key: string;
  let otherKey: string;
  let s3: S3Client;
  let bucket: string;

  /** Polls a file until it leaves PROCESSING. */
  const settled = (fileId: string, k = key) =>
    until(async () => {
      const r = await api(base, 'GET', `/api/v1/files/${fileId}`, { key: k });
      expect(r.status).toBe(200);
      return r.json.status === 'PROCESSING' ? undefined : r.json;
    }, `file ${fileId}`);

  const commandDone = (id: string, k = key) =>
    until(
      async () => {
        const r = await api(base, 'GET', `/api/v1/commands/${id}`, { key: k });
        expect(r.status).toBe(200);
        return r.json.status === 'SUCCESS' || r.json.status === 'FAILED' ? r.json : undefined;
      },
      `command ${id}`,
      90_000,
    );

  const objectExists = async (k: string) =>
    s3.send(new HeadObjectCommand({ Bucket: bucket, Key: k })).then(
      () => true,
      () => false,
    );

  const upload = async (name: string, bytes: Buffer, k = key) => {
    const form = new FormData();
    form.append('file', new Blob([bytes]), name);
    return api(base, 'POST', '/api/v1/files/upload', { key: k, form });
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'ffaas-e2e-files-'));
    env = { FFAAS_DATA_DIR: dataDir, FFAAS_ALLOW_PRIVATE_URLS: '1' };
    fixtures = await makeFixtures({ names: ['video.mp4', 'image.png', 'audio.wav'] });
    media = await startFixtureServer({ dir: fixtures.dir });
    local = await startLocalProcess(env);
    base = local.url;
    key = await createKey(env, 'files', 'acct-files');
    otherKey = await createKey(env, 'other', 'acct-files-other');
    const endpoints = JSON.parse(await readFile(path.join(dataDir, 'endpoints.json'), 'utf8'));
    bucket = endpoints.bucket;
    s3 = new S3Client({
      endpoint: endpoints.endpoints.s3,
      region: endpoints.region,
      credentials: endpoints.credentials,
      forcePathStyle: true,
    });
  }, 180_000);

  afterAll(async () => {
    s3?.destroy();
    await local?.stop();
    await media?.stop();
    await fixtures?.cleanup();
    await rm(dataDir, { recursive: true, force: true });
  });

  let uploadedId: string;
  let uploadedUrl: string;

  it('uploads a file (multipart/form-data), probes it once to STORED with its meta', async () => {
    const bytes = await readFile(fixtures.path('video.mp4'));
    const r = await upload('video.mp4', bytes);
    expect(r.status, r.text).toBe(200);
    expect(r.json.file_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.json.status).toBe('PROCESSING');
    uploadedId = r.json.file_id;

    const meta = await settled(uploadedId);
    expect(meta).toMatchObject({
      file_id: uploadedId,
      status: 'STORED',
      rendi_store_type: 'UPLOAD',
      is_deleted: false,
      filename: 'video.mp4',
      file_type: 'video',
      codec: 'h264',
      width: 160,
      height: 120,
      original_file_url: null,
      file_count: 1,
    });
    expect(meta.duration).toBeGreaterThan(0.9);
    expect(Date.parse(meta.created_at)).not.toBeNaN();
    expect(Date.parse(meta.expires_at)).toBeGreaterThan(Date.now() + 29 * 86_400_000);
    uploadedUrl = meta.storage_url;
    const download = await fetch(uploadedUrl);
    expect(download.status).toBe(200);
    expect(Buffer.from(await download.arrayBuffer()).equals(bytes)).toBe(true);
  });

  it('takes a stored file_id or its storage_url as an input (read from the bucket, not fetched)', async () => {
    const before = media.hits.length;
    for (const value of [uploadedId, uploadedUrl]) {
      const submit = await api(base, 'POST', '/api/v1/run-ffmpeg-command', {
        key,
        body: {
          input_files: { in_video: value },
          output_files: { out_audio: 'sound.wav' },
          ffmpeg_command: 'ffmpeg -i {{in_video}} -vn -c:a pcm_s16le {{out_audio}}',
        },
      });
      expect(submit.status, submit.text).toBe(200);
      const done = await commandDone(submit.json.command_id);
      expect(done.status, `${done.error_status}: ${done.error_message}`).toBe('SUCCESS');
      expect(done.output_files.out_audio.file_type).toBe('audio');
      expect(done.original_request.input_files.in_video).toBe(value);
      expect(Date.parse(done.expires_at)).toBeGreaterThan(Date.now());
    }
    expect(media.hits.length).toBe(before);
  });

  it('upload-url: the client PUTs the bytes, the file is probed once it lands', async () => {
    const r = await api(base, 'POST', '/v1/files/upload-url', { key, body: { filename: 'still.png' } });
    expect(r.status, r.text).toBe(200);
    expect(r.json.upload_url).toMatch(/^http/);
    expect(Date.parse(r.json.expires_at)).toBeGreaterThan(Date.now());
    const put = await fetch(r.json.upload_url, { method: 'PUT', body: await readFile(fixtures.path('image.png')) });
    expect(put.status).toBe(200);
    const meta = await settled(r.json.file_id);
    expect(meta).toMatchObject({
      status: 'STORED',
      rendi_store_type: 'UPLOAD',
      file_type: 'image',
      width: 160,
      height: 120,
      duration: null,
    });
  });

  it("Rendi's multipart flow: init-upload → PUT the parts → complete-upload → STORED", async () => {
    const bytes = await readFile(fixtures.path('audio.wav'));
    const init = await api(base, 'POST', '/v1/files/init-upload', {
      key,
      body: { filename: 'tone.wav', size_bytes: bytes.length, parts: 2 },
    });
    expect(init.status, init.text).toBe(200);
    expect(init.json.status).toBe('PROCESSING');
    // Small parts: S3 needs >= 5 MiB for all but the last, so init picked one part.
    expect(init.json.parts).toHaveLength(1);
    const etags: { part_number: number; etag: string }[] = [];
    for (const part of init.json.parts) {
      const put = await fetch(part.upload_url, { method: 'PUT', body: bytes });
      expect(put.status).toBe(200);
      etags.push({ part_number: part.part_number, etag: put.headers.get('etag')! });
    }
    // Not yet complete: not usable as an input.
    const early = await api(base, 'POST', '/api/v1/run-ffmpeg-command', {
      key,
      body: {
        input_files: { in_a: init.json.file_id },
        output_files: { out_a: 'a.wav' },
        ffmpeg_command: 'ffmpeg -i {{in_a}} {{out_a}}',
      },
    });
    expect(early.status).toBe(422);
    expect(early.json.error.message).toMatch(/not ready yet/);

    const done = await api(base, 'POST', `/v1/files/${init.json.file_id}/complete-upload`, {
      key,
      body: { parts: etags },
    });
    expect(done.status, done.text).toBe(200);
    const meta = await settled(init.json.file_id);
    expect(meta).toMatchObject({ status: 'STORED', file_type: 'audio', filename: 'tone.wav' });
    const again = await api(base, 'POST', `/v1/files/${init.json.file_id}/complete-upload`, {
      key,
      body: { parts: etags },
    });
    expect(again.status).toBe(409);

    // Over the stored-file limit: refused before any upload exists.
    const tooBig = await api(base, 'POST', '/v1/files/init-upload', {
      key,
      body: { filename: 'huge.mp4', size_bytes: 6 * 1024 ** 3 },
    });
    expect(tooBig.status).toBe(422);
    expect(tooBig.json.detail[0].loc).toEqual(['body', 'size_bytes']);
  });

  let storedId: string;

  it('store-file: the service fetches the URL (SSRF-safe fetcher) and probes it', async () => {
    const url = media.url('/video.mp4');
    const r = await api(base, 'POST', '/api/v1/files/store-file', { key, body: { file_url: url } });
    expect(r.status, r.text).toBe(200);
    storedId = r.json.file_id;
    const meta = await settled(storedId);
    expect(meta).toMatchObject({
      status: 'STORED',
      rendi_store_type: 'STORED_FILE',
      original_file_url: url,
      file_type: 'video',
      filename: 'video.mp4',
    });
    expect(media.hits.filter((h) => h.path === '/video.mp4').length).toBeGreaterThanOrEqual(1);
  });

  it('lists files newest first with limit/offset (/api/v1 an object, /v1 a bare array)', async () => {
    const all = await api(base, 'GET', '/api/v1/files?limit=100', { key });
    expect(all.status).toBe(200);
    expect(all.json.files.length).toBeGreaterThanOrEqual(4);
    const created = all.json.files.map((f: any) => f.created_at);
    expect(created).toEqual([...created].sort().reverse());
    const page = await api(base, 'GET', '/v1/files?limit=1&offset=1', { key });
    expect(Array.isArray(page.json)).toBe(true);
    expect(page.json).toHaveLength(1);
    expect(page.json[0].file_id).toBe(all.json.files[1].file_id);
    const foreign = await api(base, 'GET', '/api/v1/files', { key: otherKey });
    expect(foreign.json.files).toEqual([]);
    const bad = await api(base, 'GET', '/api/v1/files?limit=0', { key });
    expect(bad.status).toBe(422);
  });

  it("answers another account's file as missing, and refuses it as an input", async () => {
    expect((await api(base, 'GET', `/api/v1/files/${uploadedId}`, { key: otherKey })).status).toBe(404);
    expect((await api(base, 'DELETE', `/api/v1/files/${uploadedId}`, { key: otherKey })).status).toBe(404);
    for (const value of [uploadedId, uploadedUrl]) {
      const r = await api(base, 'POST', '/api/v1/run-ffmpeg-command', {
        key: otherKey,
        body: {
          input_files: { in_v: value },
          output_files: { out_v: 'o.mp4' },
          ffmpeg_command: 'ffmpeg -i {{in_v}} {{out_v}}',
        },
      });
      expect(r.status).toBe(422);
      expect(r.json.error.code).toBe('VALIDATION_ERROR');
      expect(r.json.error.details[0].path).toEqual(['input_files', 'in_v']);
      expect(r.json.error.message).toMatch(/not found/);
    }
  });

  it('deletes a file: gone from the bucket, 404 after, and refused as an input', async () => {
    const meta = (await api(base, 'GET', `/api/v1/files/${storedId}`, { key })).json;
    const objectKey = `files/acct-files/${storedId}/video.mp4`;
    expect(await objectExists(objectKey)).toBe(true);
    const del = await api(base, 'DELETE', `/api/v1/files/${storedId}`, { key });
    expect(del.status).toBe(200);
    expect(del.json).toMatchObject({ file_id: storedId, is_deleted: true });
    expect(await objectExists(objectKey)).toBe(false);
    expect((await api(base, 'GET', `/api/v1/files/${storedId}`, { key })).status).toBe(404);
    expect((await fetch(meta.storage_url)).status).toBe(404);
    const r = await api(base, 'POST', '/api/v1/run-ffmpeg-command', {
      key,
      body: {
        input_files: { in_v: storedId },
        output_files: { out_v: 'o.mp4' },
        ffmpeg_command: 'ffmpeg -i {{in_v}} {{out_v}}',
      },
    });
    expect(r.status).toBe(422);
    expect(r.json.detail[0].loc).toEqual(['body', 'input_files', 'in_v']);
  });

  it('refuses an upload over the size limit (413) and stores nothing', async () => {
    const before = (await api(base, 'GET', '/api/v1/files?limit=1000', { key })).json.files.length;
    const r = await upload('big.mp4', Buffer.alloc(4 * 1024 * 1024 + 1024, 1));
    expect(r.status).toBe(413);
    expect(r.json.error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(r.json.error.message).toMatch(/upload-url/);
    const after = (await api(base, 'GET', '/api/v1/files?limit=1000', { key })).json.files.length;
    expect(after).toBe(before);
  });

  it('refuses a body that is not multipart, or has no "file" field', async () => {
    const json = await api(base, 'POST', '/api/v1/files/upload', { key, body: { file: 'x' } });
    expect(json.status).toBe(422);
    const form = new FormData();
    form.append('other', 'x');
    const noFile = await api(base, 'POST', '/api/v1/files/upload', { key, form });
    expect(noFile.status).toBe(422);
    expect(noFile.json.error.details[0].path).toEqual(['file']);
  });

  it('a non-media upload ends FAILED (NOT_MEDIA) and its bytes are removed', async () => {
    const r = await upload('notes.mp4', Buffer.from('this is not a video, just text\n'.repeat(50)));
    expect(r.status).toBe(200);
    const meta = await settled(r.json.file_id);
    expect(meta).toMatchObject({ status: 'FAILED', error_status: 'NOT_MEDIA', storage_url: null });
    expect(await objectExists(`files/acct-files/${r.json.file_id}/notes.mp4`)).toBe(false);
    const use = await api(base, 'POST', '/api/v1/run-ffmpeg-command', {
      key,
      body: {
        input_files: { in_v: r.json.file_id },
        output_files: { out_v: 'o.mp4' },
        ffmpeg_command: 'ffmpeg -i {{in_v}} {{out_v}}',
      },
    });
    expect(use.status).toBe(422);
  });

  it('store-file refuses a private/metadata URL with 422, and an unreachable one ends FAILED', async () => {
    const refused = await api(base, 'POST', '/api/v1/files/store-file', {
      key,
      body: { file_url: 'http://169.254.169.254/latest/meta-data/' },
    });
    expect(refused.status).toBe(422);
    expect(refused.json.error.details[0].path).toEqual(['file_url']);
    const notUrl = await api(base, 'POST', '/api/v1/files/store-file', { key, body: { file_url: 'ftp://x/y' } });
    expect(notUrl.status).toBe(422);
    const missing = await api(base, 'POST', '/api/v1/files/store-file', { key, body: {} });
    expect(missing.status).toBe(400);

    const gone = await api(base, 'POST', '/api/v1/files/store-file', {
      key,
      body: { file_url: media.url('/no-such-file.mp4') },
    });
    expect(gone.status).toBe(200);
    const meta = await settled(gone.json.file_id);
    expect(meta).toMatchObject({ status: 'FAILED', error_status: 'UNREACHABLE_INPUT_FILE', storage_url: null });
  });

  it("DELETE /commands/{id}/files deletes a command's outputs: is_deleted true, storage_url null", async () => {
    const submit = await api(base, 'POST', '/api/v1/run-ffmpeg-command', {
      key,
      body: {
        input_files: { in_video: uploadedId },
        output_files: { out_hls: 'play.m3u8' },
        ffmpeg_command:
          'ffmpeg -i {{in_video}} -c:v libx264 -preset ultrafast -c:a aac -f hls -hls_time 0.5 {{out_hls}}',
      },
    });
    expect(submit.status, submit.text).toBe(200);
    const id = submit.json.command_id;
    const done = await commandDone(id);
    expect(done.status, `${done.error_status}: ${done.error_message}`).toBe('SUCCESS');
    const out = done.output_files.out_hls;
    expect(out.file_count).toBeGreaterThan(1);
    const segmentKey = `outputs/acct-files/${id}/1/play0.ts`;
    expect(await objectExists(segmentKey)).toBe(true);

    expect((await api(base, 'DELETE', `/api/v1/commands/${id}/files`, { key: otherKey })).status).toBe(404);
    const del = await api(base, 'DELETE', `/v1/commands/${id}/files`, { key });
    expect(del.status, del.text).toBe(200);
    expect(del.json.output_files.out_hls).toMatchObject({ is_deleted: true, storage_url: null });
    const poll = await api(base, 'GET', `/api/v1/commands/${id}`, { key });
    expect(poll.json.output_files.out_hls).toMatchObject({ is_deleted: true, storage_url: null });
    expect(await objectExists(`outputs/acct-files/${id}/1/play.m3u8`)).toBe(false);
    expect(await objectExists(segmentKey)).toBe(false);
    expect((await fetch(out.storage_url)).status).toBe(404);
    // Twice is fine.
    expect((await api(base, 'DELETE', `/api/v1/commands/${id}/files`, { key })).status).toBe(200);
  });

  let presetId: string;

  it('creates, lists, reads and executes a preset (docs/API.md names), with a stored file as input', async () => {
    const created = await api(base, 'POST', '/api/v1/presets', {
      key,
      body: {
        name: 'to-wav',
        input_files: { in_video: '' },
        output_files: { out_audio: 'sound.wav' },
        ffmpeg_command: 'ffmpeg -i {{in_video}} -vn -c:a pcm_s16le {{out_audio}}',
      },
    });
    expect(created.status, created.text).toBe(201);
    presetId = created.json.preset_id;
    expect(created.json).toMatchObject({
      name: 'to-wav',
      command_type: 'FFMPEG_COMMAND',
      input_file_keys: ['in_video'],
      output_file_definitions: { out_audio: 'sound.wav' },
      is_system: false,
    });
    const list = await api(base, 'GET', '/api/v1/presets', { key });
    expect(list.json.presets.map((p: any) => p.preset_id)).toContain(presetId);
    expect((await api(base, 'GET', `/api/v1/presets/${presetId}`, { key })).json.name).toBe('to-wav');

    const exec = await api(base, 'POST', `/api/v1/presets/${presetId}/execute`, {
      key,
      body: { input_files: { in_video: uploadedId }, metadata: { run: 1 } },
    });
    expect(exec.status, exec.text).toBe(200);
    const done = await commandDone(exec.json.command_id);
    expect(done.status, `${done.error_status}: ${done.error_message}`).toBe('SUCCESS');
    expect(done.metadata).toEqual({ run: 1 });
    expect(done.output_files.out_audio.file_type).toBe('audio');
  });

  it("accepts RenderIO's preset fields (input_file_keys, output_file_definitions, ffmpeg_commands)", async () => {
    const created = await api(base, 'POST', '/api/v1/presets', {
      key,
      body: {
        name: 'chain',
        description: 'two steps',
        input_file_keys: ['in_v'],
        output_file_definitions: { out_small: 'small.mp4' },
        ffmpeg_commands: [
          'ffmpeg -i {{in_v}} -c copy mid.mp4',
          'ffmpeg -i mid.mp4 -vf scale=80:-2 -c:v libx264 -preset ultrafast {{out_small}}',
        ],
        metadata: { team: 'a' },
      },
    });
    expect(created.status, created.text).toBe(201);
    expect(created.json).toMatchObject({
      command_type: 'CHAINED_COMMAND',
      description: 'two steps',
      input_files: ['in_v'],
    });
  });

  it('refuses a preset whose command the policy refuses, and bad executions', async () => {
    const refused = await api(base, 'POST', '/api/v1/presets', {
      key,
      body: {
        name: 'bad',
        input_files: { in_v: '' },
        output_files: { out_v: 'o.mp4' },
        ffmpeg_command: 'ffmpeg -i {{in_v}} -i /etc/passwd {{out_v}}',
      },
    });
    expect([400, 422]).toContain(refused.status);
    expect(refused.json.error.message).toMatch(/invalid command/);
    expect((await api(base, 'GET', '/api/v1/presets', { key })).json.presets.map((p: any) => p.name)).not.toContain(
      'bad',
    );

    const missingOutputs = await api(base, 'POST', '/api/v1/presets', {
      key,
      body: { name: 'x', ffmpeg_command: 'ffmpeg -i a.mp4 b.mp4' },
    });
    expect(missingOutputs.status).toBe(400);

    const wrongKeys = await api(base, 'POST', `/api/v1/presets/${presetId}/execute`, {
      key,
      body: { input_files: { in_other: uploadedId } },
    });
    expect(wrongKeys.status).toBe(422);
    expect(wrongKeys.json.error.details.map((d: any) => d.path)).toEqual([
      ['input_files', 'in_video'],
      ['input_files', 'in_other'],
    ]);
    const foreign = await api(base, 'POST', `/api/v1/presets/${presetId}/execute`, {
      key: otherKey,
      body: { input_files: { in_video: uploadedId } },
    });
    expect(foreign.status).toBe(404);
    expect((await api(base, 'GET', `/api/v1/presets/${presetId}`, { key: otherKey })).status).toBe(404);
  });

  it('deletes a preset', async () => {
    expect((await api(base, 'DELETE', `/api/v1/presets/${presetId}`, { key: otherKey })).status).toBe(404);
    const del = await api(base, 'DELETE', `/api/v1/presets/${presetId}`, { key });
    expect(del.status).toBe(200);
    expect((await api(base, 'GET', `/api/v1/presets/${presetId}`, { key })).status).toBe(404);
    expect(
      (
        await api(base, 'POST', `/api/v1/presets/${presetId}/execute`, {
          key,
          body: { input_files: { in_video: uploadedId } },
        })
      ).status,
    ).toBe(404);
  });

  it('needs a key on every files and presets route', async () => {
    for (const [method, route] of [
      ['GET', '/api/v1/files'],
      ['POST', '/api/v1/files/upload-url'],
      ['GET', '/v1/presets'],
      ['DELETE', `/api/v1/commands/${uploadedId}/files`],
    ] as const) {
      expect((await api(base, method, route)).status).toBe(401);
    }
  });
});
