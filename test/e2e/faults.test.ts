/**
 * Fault injection over HTTP against a started local mode (the real state machine, the real
 * worker, ffmpeg, dynalite, s3rver): an input cut mid-download is resumed with Range and the
 * command succeeds; an input sent at a trickle ends FAILED / INPUT_DOWNLOAD_FAILED by the
 * download timeout; storage cut mid-upload ends FAILED / OUTPUT_UPLOAD_FAILED with no output
 * referenced. Each asserts the final state and the outputs, and at the end no command of this
 * instance is QUEUED or PROCESSING.
 * (The worker killed mid-run: test/state-machine/faults.test.ts; local mode stopped mid-run and
 * restarted: test/integration/local-shutdown.test.ts and local-restart.test.ts.)
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { faultyFile } from '../helpers/faulty-file.ts';
import { makeFixtures, startFixtureServer, type FixtureServer, type Fixtures } from '../helpers/index.ts';
import { startStorageCut, type StorageCut } from '../helpers/storage-cut.ts';
import { createKey, startLocalProcess, type LocalProcess } from './local-process.ts';

const ACCOUNT = 'acct-faults';
const DOWNLOAD_TIMEOUT_SECONDS = 6;

type Poll = Record<string, any>;

describe('faults in local mode, over HTTP', () => {
  let dataDir: string;
  let local: LocalProcess;
  let fixtures: Fixtures;
  let media: FixtureServer;
  let storage: StorageCut;
  let key: string;
  let video: Buffer;
  const submitted: string[] = [];

  const api = async (method: string, route: string, body?: unknown) => {
    const res = await fetch(`${local.url}${route}`, {
      method,
      headers: { 'x-api-key': key, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, json: (await res.json()) as Poll };
  };
  const submit = async (inputUrl: string, command: string): Promise<string> => {
    const { status, json } = await api('POST', '/api/v1/run-ffmpeg-command', {
      input_files: { in_video: inputUrl },
      output_files: { out_video: 'out.mp4' },
      ffmpeg_command: command,
    });
    expect(status, JSON.stringify(json)).toBe(200);
    submitted.push(json.command_id);
    return json.command_id;
  };
  const waitForEnd = async (id: string, timeoutMs = 60_000): Promise<Poll> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { json } = await api('GET', `/api/v1/commands/${id}`);
      if (json.status === 'SUCCESS' || json.status === 'FAILED') return json;
      if (Date.now() > deadline) throw new Error(`command ${id} still ${json.status}:\n${local.output().slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  /** Every object under the command's outputs, read straight from local mode's s3rver. */
  const objectsOf = async (id: string): Promise<string[]> => {
    const live = JSON.parse(await readFile(path.join(dataDir, 'endpoints.json'), 'utf8'));
    const s3 = new S3Client({
      endpoint: live.endpoints.s3,
      region: live.region,
      credentials: live.credentials,
      forcePathStyle: true,
    });
    try {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: live.bucket, Prefix: `outputs/${ACCOUNT}/${id}/` }),
      );
      return (page.Contents ?? []).map((o) => o.Key!);
    } finally {
      s3.destroy();
    }
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'ffaas-faults-'));
    fixtures = await makeFixtures({ names: ['video.mp4'] });
    video = await readFile(fixtures.path('video.mp4'));
    media = await startFixtureServer({ dir: fixtures.dir });
    storage = await startStorageCut();
    const env = {
      FFAAS_DATA_DIR: dataDir,
      FFAAS_ALLOW_PRIVATE_URLS: '1',
      FFAAS_DOWNLOAD_TIMEOUT_SECONDS: String(DOWNLOAD_TIMEOUT_SECONDS),
      FFAAS_TEST_WORKER_S3_ENDPOINT: storage.url,
    };
    local = await startLocalProcess(env);
    const live = JSON.parse(await readFile(path.join(dataDir, 'endpoints.json'), 'utf8'));
    storage.setTarget(Number(new URL(live.endpoints.s3).port));
    key = await createKey(env, 'faults', ACCOUNT);
  }, 180_000);

  afterAll(async () => {
    try {
      // Nothing accepted is left QUEUED or PROCESSING.
      for (const id of submitted) {
        const { json } = await api('GET', `/api/v1/commands/${id}`);
        expect(['SUCCESS', 'FAILED'], id).toContain(json.status);
      }
    } finally {
      await local?.stop();
      await Promise.all([media?.stop(), storage?.stop()]);
      await fixtures?.cleanup();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('an input cut mid-download is resumed with Range + If-Range; the command succeeds and its output downloads', async () => {
    const f = faultyFile(video, { cutAfter: Math.floor(video.length / 2), cuts: 1, ranges: true, etag: '"f1"' });
    media.route('/cut.mp4', f.handler);
    const id = await submit(
      media.url('/cut.mp4'),
      'ffmpeg -i {{in_video}} -t 1 -c:v libx264 -preset ultrafast -an {{out_video}}',
    );
    const done = await waitForEnd(id);
    expect(done.status, `${done.error_status}: ${done.error_message}`).toBe('SUCCESS');
    expect(done.attempts).toBe(1);
    expect(f.requests).toEqual(
      [{}, { range: `bytes=${Math.floor(video.length / 2)}-`, ifRange: '"f1"' }].map((r) => ({
        range: undefined,
        ifRange: undefined,
        ...r,
      })),
    );
    const out = await fetch(done.output_files.out_video.storage_url);
    expect(out.status).toBe(200);
    expect((await out.arrayBuffer()).byteLength).toBeGreaterThan(1000);
    expect(await objectsOf(id)).toEqual([`outputs/${ACCOUNT}/${id}/1/out.mp4`]);
  }, 90_000);

  it('an input sent at a trickle ends FAILED / INPUT_DOWNLOAD_FAILED by the download timeout, not stuck', async () => {
    media.route('/trickle.mp4', faultyFile(video, { trickleMs: 500 }).handler);
    const started = Date.now();
    const id = await submit(media.url('/trickle.mp4'), 'ffmpeg -i {{in_video}} -t 1 -an {{out_video}}');
    const done = await waitForEnd(id);
    expect(done).toMatchObject({ status: 'FAILED', error_status: 'INPUT_DOWNLOAD_FAILED' });
    expect(done.error_message).toMatch(new RegExp(`in_video.*timed out after ${DOWNLOAD_TIMEOUT_SECONDS} s`));
    expect(Date.now() - started).toBeLessThan(DOWNLOAD_TIMEOUT_SECONDS * 1000 + 20_000);
    expect(done.output_files?.out_video?.storage_url ?? null).toBeNull();
    expect(await objectsOf(id)).toEqual([]);
  }, 90_000);

  it('storage cut mid-upload ends FAILED / OUTPUT_UPLOAD_FAILED naming the output, never SUCCESS without it', async () => {
    const cut = storage.armOutputUploadCut();
    try {
      const id = await submit(
        media.url('/video.mp4'),
        'ffmpeg -i {{in_video}} -t 1 -c:v libx264 -preset ultrafast -an {{out_video}}',
      );
      await cut;
      const done = await waitForEnd(id);
      expect(done.status).toBe('FAILED');
      expect(done.error_status).toBe('OUTPUT_UPLOAD_FAILED');
      expect(done.error_message).toMatch(/output out_video could not be stored/);
      expect(done.output_files?.out_video?.storage_url ?? null).toBeNull();
      storage.restore();
      expect(await objectsOf(id)).toEqual([]);
    } finally {
      storage.restore();
    }
  }, 90_000);
});
