/**
 * End to end: local mode started as a user starts it, keys made with the CLI while it runs,
 * and the API used over HTTP exactly as the README shows.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { S3_KEYS } from '../../core/constants.ts';
import { makeFixtures, startFixtureServer, type FixtureServer, type Fixtures } from '../helpers/index.ts';
import { createKey, runCli, startLocalProcess, type LocalProcess } from './local-process.ts';

const run = promisify(execFile);

interface Poll {
  command_id: string;
  status: string;
  error_status: string | null;
  error_message: string | null;
  output_files: Record<string, Record<string, unknown>>;
  timings: Record<'queued' | 'download' | 'ffmpeg' | 'probe' | 'upload' | 'report', number | null>;
  total_processing_seconds: number;
  [key: string]: unknown;
}

async function api(
  base: string,
  method: string,
  route: string,
  opts: { key?: string; body?: unknown; raw?: string } = {},
) {
  const res = await fetch(`${base}${route}`, {
    method,
    headers: {
      ...(opts.key ? { 'X-API-KEY': opts.key } : {}),
      ...(opts.body !== undefined || opts.raw !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body)),
  });
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    /* not JSON: the assertion on json will say so */
  }
  return { status: res.status, json, headers: res.headers };
}

/** Polls until SUCCESS or FAILED, recording every status seen. */
async function waitForEnd(
  base: string,
  key: string,
  id: string,
  seen: string[] = [],
  timeoutMs = 90_000,
): Promise<Poll> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { status, json } = await api(base, 'GET', `/api/v1/commands/${id}`, { key });
    expect(status).toBe(200);
    if (seen.at(-1) !== json.status) seen.push(json.status);
    if (json.status === 'SUCCESS' || json.status === 'FAILED') return json as Poll;
    if (Date.now() > deadline) throw new Error(`command ${id} still ${json.status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const ORDER = ['QUEUED', 'PROCESSING', 'SUCCESS', 'FAILED'];

describe('local mode over HTTP', () => {
  let dataDir: string;
  let env: Record<string, string>;
  let local: LocalProcess;
  let base: string;
  let fixtures: Fixtures;
  let media: FixtureServer;
  let key: string;
  let otherAccountKey: string;
  let firstCommandId: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'ffaas-e2e-'));
    env = { FFAAS_DATA_DIR: dataDir, FFAAS_ALLOW_PRIVATE_URLS: '1' };
    fixtures = await makeFixtures({ names: ['video.mp4'] });
    media = await startFixtureServer({ dir: fixtures.dir });
    local = await startLocalProcess(env);
    base = local.url;
    // Keys are made while the service runs: the CLI must not need the data dir to itself.
    key = await createKey(env, 'e2e', 'acct-e2e');
    otherAccountKey = await createKey(env, 'intruder', 'acct-other');
  }, 180_000);

  afterAll(async () => {
    await local?.stop();
    await media?.stop();
    await fixtures?.cleanup();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('answers health without a key', async () => {
    const { status, json } = await api(base, 'GET', '/api/v1/health');
    expect(status).toBe(200);
    expect(json.status).toBe('ok');
  });

  it('runs the quickstart: submit, poll to SUCCESS, download the output and ffprobe it', async () => {
    const submit = await api(base, 'POST', '/api/v1/run-ffmpeg-command', {
      key,
      body: {
        input_files: { in_video: media.url('/video.mp4') },
        output_files: { out_video: 'small.webm' },
        ffmpeg_command: 'ffmpeg -i {{in_video}} -c:v libvpx-vp9 -deadline realtime -c:a libopus {{out_video}}',
        metadata: { project: 'e2e' },
      },
    });
    expect(submit.status).toBe(200);
    expect(submit.json.command_id).toMatch(/^[0-9a-f-]{36}$/);
    firstCommandId = submit.json.command_id;

    const seen: string[] = [];
    const done = await waitForEnd(base, key, firstCommandId, seen);
    expect(done.status, `${done.error_status}: ${done.error_message}`).toBe('SUCCESS');
    // Status only moves forward.
    expect(seen.map((s) => ORDER.indexOf(s))).toEqual([...seen.map((s) => ORDER.indexOf(s))].sort());
    expect(done.command_type).toBe('FFMPEG_COMMAND');
    expect(done.metadata).toEqual({ project: 'e2e' });
    expect(typeof done.ffmpeg_command_run_seconds).toBe('number');
    expect(typeof done.total_processing_seconds).toBe('number');
    expect(done.started_at).not.toBeNull();
    expect(done.finished_at).not.toBeNull();
    // Where the time went: every phase this command went through has its seconds.
    for (const phase of ['queued', 'download', 'ffmpeg', 'probe', 'upload', 'report'] as const) {
      expect(done.timings[phase], phase).toBeGreaterThanOrEqual(0);
      expect(done.timings[phase], phase).not.toBeNull();
    }
    expect(done.timings.ffmpeg).toBeGreaterThan(0);
    expect(done.timings.ffmpeg).toBeLessThanOrEqual(done.total_processing_seconds + 0.01);

    const out = done.output_files.out_video!;
    expect(out.status).toBe('STORED');
    expect(out.filename).toBe('small.webm');
    expect(out.codec).toBe('vp9');
    expect(out.width).toBe(160);
    expect(out.height).toBe(120);

    const download = await fetch(out.storage_url as string);
    expect(download.status).toBe(200);
    const file = path.join(dataDir, 'downloaded.webm');
    await writeFile(file, Buffer.from(await download.arrayBuffer()));
    const { stdout } = await run('ffprobe', [
      '-v',
      'error',
      '-print_format',
      'json',
      '-show_streams',
      '-show_format',
      file,
    ]);
    const probe = JSON.parse(stdout);
    expect(probe.streams.map((s: { codec_name: string }) => s.codec_name).sort()).toEqual(['opus', 'vp9']);
    expect(Number(probe.format.duration)).toBeGreaterThan(0.8);
  });

  it("serves the same API under /v1 and lists the account's commands newest first", async () => {
    // Rendi's dialect: the list is a bare JSON array (docs/API.md, "Dialects").
    const { status, json } = await api(base, 'GET', '/v1/commands?limit=10', { key });
    expect(status).toBe(200);
    expect(Array.isArray(json)).toBe(true);
    expect(json.map((c: Poll) => c.command_id)).toContain(firstCommandId);
  });

  it('stores an image sequence output (frame_%03d.png): file_count > 1, every frame downloadable', async () => {
    const submit = await api(base, 'POST', '/api/v1/run-ffmpeg-command', {
      key,
      body: {
        input_files: { in_video: media.url('/video.mp4') },
        output_files: { out_frames: 'frame_%03d.png' },
        ffmpeg_command: 'ffmpeg -i {{in_video}} -vf fps=2 {{out_frames}}',
      },
    });
    expect(submit.status).toBe(200);
    const done = await waitForEnd(base, key, submit.json.command_id);
    expect(done.status, `${done.error_status}: ${done.error_message}`).toBe('SUCCESS');
    const out = done.output_files.out_frames!;
    expect(out).toMatchObject({ filename: 'frame_001.png', file_type: 'image', width: 160, height: 120 });
    expect(out.file_count as number).toBeGreaterThan(1);
    expect(out).not.toHaveProperty('companion_names');
    // The first frame through its storage_url, as a client gets it.
    const first = await fetch(out.storage_url as string);
    expect(first.status).toBe(200);
    expect(
      Buffer.from(await first.arrayBuffer())
        .subarray(1, 4)
        .toString('latin1'),
    ).toBe('PNG');
    // Every frame is stored next to it, under the output's prefix (read from local mode's S3).
    const live = JSON.parse(await readFile(path.join(dataDir, 'endpoints.json'), 'utf8'));
    const s3 = new S3Client({
      endpoint: live.endpoints.s3,
      region: live.region,
      credentials: live.credentials,
      forcePathStyle: true,
    });
    try {
      for (let i = 1; i <= (out.file_count as number); i++) {
        const name = `frame_${String(i).padStart(3, '0')}.png`;
        const obj = await s3.send(
          new GetObjectCommand({ Bucket: live.bucket, Key: S3_KEYS.output('acct-e2e', done.command_id, name, 1) }),
        );
        expect(
          Buffer.from(await obj.Body!.transformToByteArray())
            .subarray(1, 4)
            .toString('latin1'),
          name,
        ).toBe('PNG');
      }
    } finally {
      s3.destroy();
    }
  });

  it("ends a failing FFmpeg run FAILED with FFMPEG_FAILED and FFmpeg's own words", async () => {
    const submit = await api(base, 'POST', '/api/v1/run-ffmpeg-command', {
      key,
      body: {
        input_files: { in_video: media.url('/video.mp4') },
        output_files: { out_video: 'bad.mp4' },
        ffmpeg_command: 'ffmpeg -i {{in_video}} -c:v libx264 -profile:v bogus {{out_video}}',
      },
    });
    expect(submit.status).toBe(200);
    const done = await waitForEnd(base, key, submit.json.command_id);
    expect(done.status).toBe('FAILED');
    expect(done.error_status).toBe('FFMPEG_FAILED');
    expect(done.error_message).toContain('invalid profile: bogus');
  });

  it('shows live progress while FFmpeg runs and ends TIMEOUT past max_command_run_seconds', async () => {
    const submit = await api(base, 'POST', '/api/v1/run-ffmpeg-command', {
      key,
      body: {
        input_files: {},
        output_files: { out_video: 'long.mp4' },
        // Five minutes of 720p: far more than the 4 s it is given.
        ffmpeg_command:
          'ffmpeg -filter_complex testsrc2=duration=300:size=1280x720:rate=25 -c:v libx264 -preset medium {{out_video}}',
        max_command_run_seconds: 4,
      },
    });
    expect(submit.status).toBe(200);
    const id = submit.json.command_id;
    const progressSeen: { out_time_seconds: number }[] = [];
    const deadline = Date.now() + 60_000;
    let done: Poll;
    for (;;) {
      const { json } = await api(base, 'GET', `/api/v1/commands/${id}`, { key });
      if (json.status === 'PROCESSING' && json.progress) progressSeen.push(json.progress);
      if (json.status === 'SUCCESS' || json.status === 'FAILED') {
        done = json;
        break;
      }
      if (Date.now() > deadline) throw new Error(`still ${json.status}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(done.status).toBe('FAILED');
    expect(done.error_status).toBe('TIMEOUT');
    expect(progressSeen.length).toBeGreaterThan(0);
    expect(progressSeen.at(-1)!.out_time_seconds).toBeGreaterThan(0);
    // Killed at the limit, not left to run: finished within seconds of starting.
    const ran = (Date.parse(done.finished_at as string) - Date.parse(done.started_at as string)) / 1000;
    expect(ran).toBeLessThan(15);
  });

  it('ends a missing input FAILED with INPUT_DOWNLOAD_FAILED', async () => {
    const submit = await api(base, 'POST', '/api/v1/run-ffmpeg-command', {
      key,
      body: {
        input_files: { in_video: media.url('/missing.mp4') },
        output_files: { out_video: 'never.mp4' },
        ffmpeg_command: 'ffmpeg -i {{in_video}} {{out_video}}',
      },
    });
    const done = await waitForEnd(base, key, submit.json.command_id);
    expect(done.status).toBe('FAILED');
    expect(done.error_status).toBe('INPUT_DOWNLOAD_FAILED');
  });

  it('answers 401 UNAUTHORIZED without a key, with a malformed key and with an unknown key', async () => {
    for (const bad of [undefined, 'not-a-key', `ffsk_${'0'.repeat(64)}`]) {
      const { status, json } = await api(base, 'GET', `/api/v1/commands/${firstCommandId}`, { key: bad });
      expect(status).toBe(401);
      expect(json.error.code).toBe('UNAUTHORIZED');
    }
  });

  it('answers another account exactly as for a missing command (404)', async () => {
    const theirs = await api(base, 'GET', `/api/v1/commands/${firstCommandId}`, { key: otherAccountKey });
    const missing = await api(base, 'GET', '/api/v1/commands/00000000-0000-4000-8000-000000000000', {
      key: otherAccountKey,
    });
    expect(theirs.status).toBe(404);
    expect(theirs.json.error.code).toBe('NOT_FOUND');
    expect(theirs.json).toEqual(missing.json);
    const list = await api(base, 'GET', '/api/v1/commands', { key: otherAccountKey });
    expect(list.json.commands).toEqual([]);
  });

  it('refuses bad input with the envelope and records nothing', async () => {
    const before = (await api(base, 'GET', '/api/v1/commands?limit=100', { key })).json.commands.length;

    const notJson = await api(base, 'POST', '/api/v1/run-ffmpeg-command', { key, raw: '{"input_files":' });
    expect(notJson.status).toBe(400);
    expect(notJson.json.error.code).toBe('INVALID_REQUEST');

    const forbidden = await api(base, 'POST', '/api/v1/run-ffmpeg-command', {
      key,
      body: {
        input_files: { in_video: media.url('/video.mp4') },
        output_files: { out_video: 'x.mp4' },
        ffmpeg_command: 'ffmpeg -dump_attachment:t "" -i {{in_video}} {{out_video}}',
      },
    });
    expect(forbidden.status).toBe(400);
    expect(forbidden.json.error.code).toBe('INVALID_REQUEST');
    expect(forbidden.json.error.message).toContain('-dump_attachment');

    const tooMuchMetadata = await api(base, 'POST', '/api/v1/run-ffmpeg-command', {
      key,
      body: {
        input_files: { in_video: media.url('/video.mp4') },
        output_files: { out_video: 'x.mp4' },
        ffmpeg_command: 'ffmpeg -i {{in_video}} {{out_video}}',
        metadata: Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, i])),
      },
    });
    expect(tooMuchMetadata.status).toBe(422);
    expect(tooMuchMetadata.json.error.code).toBe('VALIDATION_ERROR');
    expect(tooMuchMetadata.json.detail[0].loc).toContain('metadata');

    const tooLarge = await api(base, 'POST', '/api/v1/run-ffmpeg-command', {
      key,
      raw: JSON.stringify({ pad: 'x'.repeat(300 * 1024) }),
    });
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.json.error.code).toBe('PAYLOAD_TOO_LARGE');

    const unknown = await api(base, 'GET', '/api/v1/nope', { key });
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.code).toBe('NOT_FOUND');

    const after = (await api(base, 'GET', '/api/v1/commands?limit=100', { key })).json.commands.length;
    expect(after).toBe(before);
  });

  it('validates a command without a key and without recording it', async () => {
    const { status, json } = await api(base, 'POST', '/api/v1/validate', {
      body: {
        ffmpeg_command: 'ffmpeg -i {{in_a}} -c:v h264_nvenc {{out_b}}',
        input_files: { in_a: 'https://example.com/a.mp4' },
        output_files: { out_b: 'b.mp4' },
      },
    });
    expect(status).toBe(200);
    // No GPU workers in local mode: NVENC is refused rather than queued forever.
    expect(json.valid).toBe(false);
  });

  it('validate refuses what submit refuses, URL policy included (a metadata address, even with private URLs allowed)', async () => {
    const body = {
      input_files: { in_a: 'http://169.254.169.254/latest/meta-data/a.mp4' },
      output_files: { out_b: 'b.mp4' },
      ffmpeg_command: 'ffmpeg -i {{in_a}} -c:v libx264 {{out_b}}',
    };
    const validated = await api(base, 'POST', '/api/v1/validate', { body });
    expect(validated.status).toBe(200);
    expect(validated.json).toMatchObject({
      valid: false,
      errors: [{ code: 'VALIDATION_ERROR', path: ['input_files', 'in_a'] }],
    });
    const submitted = await api(base, 'POST', '/api/v1/run-ffmpeg-command', { key, body });
    expect(submitted.status).toBe(422);
    expect(submitted.json.error.details.map((d: { path: unknown }) => d.path)).toEqual([['input_files', 'in_a']]);
    // The fixture server is on loopback, allowed here (FFAAS_ALLOW_PRIVATE_URLS=1): both accept it.
    const ok = { ...body, input_files: { in_a: media.url('/video.mp4') } };
    expect((await api(base, 'POST', '/api/v1/validate', { body: ok })).json.valid).toBe(true);
  });

  it('revoking a key with the CLI locks it out at once', async () => {
    const doomed = await createKey(env, 'doomed', 'acct-e2e');
    expect((await api(base, 'GET', '/api/v1/commands', { key: doomed })).status).toBe(200);
    await runCli(['keys', 'revoke', doomed.slice(0, 12)], env);
    expect((await api(base, 'GET', '/api/v1/commands', { key: doomed })).status).toBe(401);
  });

  it('stops at start with one line naming the install command when ffmpeg is missing', async () => {
    const emptyBin = await mkdtemp(path.join(tmpdir(), 'ffaas-nobin-'));
    try {
      // Node is started by its full path; PATH holds no ffmpeg.
      const result = await run(process.execPath, ['--import', 'tsx', 'local/main.ts'], {
        cwd: path.resolve(import.meta.dirname, '..', '..'),
        env: { ...process.env, PATH: emptyBin, PORT: '0', FFAAS_DATA_DIR: path.join(emptyBin, 'data') },
      }).then(
        () => ({ code: 0, stderr: '' }),
        (err: { code: number; stderr: string }) => err,
      );
      expect(result.code).toBe(1);
      const lines = result.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain('apt-get install -y ffmpeg');
    } finally {
      await rm(emptyBin, { recursive: true, force: true });
    }
  });

  it('refuses loopback input URLs with 422 on an instance without FFAAS_ALLOW_PRIVATE_URLS, side by side with the first', async () => {
    const strictDir = await mkdtemp(path.join(tmpdir(), 'ffaas-e2e-strict-'));
    const strictEnv = { FFAAS_DATA_DIR: strictDir, FFAAS_ALLOW_PRIVATE_URLS: '' };
    const strict = await startLocalProcess(strictEnv);
    try {
      expect(strict.url).not.toBe(base);
      const strictKey = await createKey(strictEnv, 'strict');
      const hitsBefore = media.hits.length;
      const { status, json } = await api(strict.url, 'POST', '/api/v1/run-ffmpeg-command', {
        key: strictKey,
        body: {
          input_files: { in_video: media.url('/video.mp4') },
          output_files: { out_video: 'x.mp4' },
          ffmpeg_command: 'ffmpeg -i {{in_video}} {{out_video}}',
        },
      });
      expect(status).toBe(422);
      expect(json.error.code).toBe('VALIDATION_ERROR');
      // The first instance's keys are not known here: separate data dirs are separate services.
      expect((await api(strict.url, 'GET', '/api/v1/commands', { key })).status).toBe(401);
      // Refused before anything was fetched.
      expect(media.hits.length).toBe(hitsBefore);
    } finally {
      await strict.stop();
      await rm(strictDir, { recursive: true, force: true });
    }
  }, 180_000);

  it('keeps keys, commands and stored outputs across a restart', async () => {
    await local.stop();
    local = await startLocalProcess(env);
    base = local.url;
    const { status, json } = await api(base, 'GET', `/api/v1/commands/${firstCommandId}`, { key });
    expect(status).toBe(200);
    expect(json.status).toBe('SUCCESS');
    const download = await fetch(json.output_files.out_video.storage_url);
    expect(download.status).toBe(200);
    expect((await download.arrayBuffer()).byteLength).toBeGreaterThan(0);
  }, 180_000);
});
