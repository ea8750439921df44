/**
 * End to end, the three dialects over HTTP against a started local mode: RenderIO (/api/v1),
 * Rendi (/v1) and Rendobar (/jobs, /ffmpeg/validate), Bearer keys, numeric strings, download
 * URLs that end in the file name, and an HLS playlist played by FFmpeg over HTTP.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeFixtures, startFixtureServer, type FixtureServer, type Fixtures } from '../helpers/index.ts';
import { createKey, startLocalProcess, type LocalProcess } from './local-process.ts';

const run = promisify(execFile);

interface Answer {
  status: number;
  json: any;
  headers: Headers;
}

async function api(
  base: string,
  method: string,
  route: string,
  opts: { key?: string; bearer?: string; body?: unknown; form?: FormData } = {},
): Promise<Answer> {
  const res = await fetch(`${base}${route}`, {
    method,
    redirect: 'manual',
    headers: {
      ...(opts.key ? { 'X-API-KEY': opts.key } : {}),
      ...(opts.bearer ? { Authorization: `Bearer ${opts.bearer}` } : {}),
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
  return { status: res.status, json, headers: res.headers };
}

/** What a Rendi/RenderIO client shows of an error: top-level message, else detail, else error.message. */
function clientMessage(body: any): string {
  const detail = Array.isArray(body?.detail) ? body.detail.map((d: { msg: string }) => d.msg).join('; ') : body?.detail;
  return body?.message ?? detail ?? body?.error?.message;
}

async function probeDuration(target: string): Promise<number> {
  const { stdout } = await run(
    'ffprobe',
    ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', target],
    { timeout: 60_000 },
  );
  return Number(stdout.trim());
}

describe('dialects over HTTP (local mode)', () => {
  let dataDir: string;
  let env: Record<string, string>;
  let local: LocalProcess;
  let base: string;
  let fixtures: Fixtures;
  let media: FixtureServer;
  let key: string;
  let otherKey: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'ffaas-dialects-'));
    env = { FFAAS_DATA_DIR: dataDir, FFAAS_ALLOW_PRIVATE_URLS: '1' };
    fixtures = await makeFixtures({ names: ['video.mp4'] });
    media = await startFixtureServer({ dir: fixtures.dir });
    local = await startLocalProcess(env);
    base = local.url;
    key = await createKey(env, 'dialects', 'acct-dialects');
    otherKey = await createKey(env, 'dialects-other', 'acct-dialects-other');
  }, 180_000);

  afterAll(async () => {
    await local?.stop();
    await media?.stop();
    await fixtures?.cleanup();
    await rm(dataDir, { recursive: true, force: true });
  });

  async function pollCommand(id: string, prefix = '/api/v1'): Promise<any> {
    const deadline = Date.now() + 90_000;
    for (;;) {
      const { status, json } = await api(base, 'GET', `${prefix}/commands/${id}`, { bearer: key });
      expect(status).toBe(200);
      if (json.status === 'SUCCESS' || json.status === 'FAILED') return json;
      if (Date.now() > deadline) throw new Error(`command ${id} still ${json.status}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  async function pollJob(id: string): Promise<any> {
    const deadline = Date.now() + 90_000;
    const seen: string[] = [];
    for (;;) {
      const { status, json } = await api(base, 'GET', `/jobs/${id}`, { bearer: key });
      expect(status).toBe(200);
      if (seen.at(-1) !== json.data.status) seen.push(json.data.status);
      if (['complete', 'failed', 'cancelled'].includes(json.data.status)) return { ...json.data, seen };
      if (Date.now() > deadline) throw new Error(`job ${id} still ${json.data.status}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** Object keys s3rver holds on disk under `prefix` (its files are `<bucket>/<key>._S3rver_object`). */
  async function storedKeys(prefix: string): Promise<string[]> {
    const root = path.join(dataDir, 's3');
    const keys: string[] = [];
    for (const bucket of await readdir(root)) {
      const entries = await readdir(path.join(root, bucket), { recursive: true }).catch(() => [] as string[]);
      for (const e of entries)
        if (e.endsWith('._S3rver_object') && e.startsWith(prefix)) keys.push(e.slice(0, -'._S3rver_object'.length));
    }
    return keys.sort();
  }

  it('accepts the key as Authorization: Bearer on every dialect; a bad key is a 401 a client can read', async () => {
    expect((await api(base, 'GET', '/api/v1/commands', { bearer: key })).status).toBe(200);
    expect((await api(base, 'GET', '/v1/commands', { bearer: key })).status).toBe(200);
    expect((await api(base, 'GET', `/jobs/job_00000000-0000-4000-8000-000000000000`, { bearer: key })).status).toBe(
      404,
    );
    const bad = await api(base, 'GET', '/api/v1/commands', { bearer: `ffsk_${'0'.repeat(64)}` });
    expect(bad.status).toBe(401);
    expect(bad.json.error.code).toBe('UNAUTHORIZED');
    expect(clientMessage(bad.json)).toMatch(/API key/i);
    // Clients read the top-level message or FastAPI's detail.
    expect(bad.json.message).toBe(bad.json.error.message);
    expect(bad.json.detail).toBeTruthy();
    expect(
      (await api(base, 'POST', '/jobs', { body: { type: 'ffmpeg', params: { command: 'ffmpeg -version' } } })).status,
    ).toBe(401);
  });

  it('RenderIO: numeric strings, an HLS output whose storage_url ends in its name and plays over HTTP with every segment', async () => {
    const submit = await api(base, 'POST', '/api/v1/run-ffmpeg-command', {
      bearer: key,
      body: {
        input_files: {},
        output_files: { out_playlist: 'master.m3u8' },
        ffmpeg_command:
          'ffmpeg -filter_complex testsrc2=duration=4:size=160x120:rate=25 -c:v libx264 -g 25 -f hls -hls_time 1 -hls_playlist_type vod -hls_segment_filename seg_%03d.ts {{out_playlist}}',
        max_command_run_seconds: '60',
        vcpu_count: '2',
      },
    });
    expect(submit.status, JSON.stringify(submit.json)).toBe(200);
    const done = await pollCommand(submit.json.command_id);
    expect(done.status, done.error_message).toBe('SUCCESS');
    const out = done.output_files.out_playlist;
    expect(out.file_count).toBeGreaterThan(3);
    const url = new URL(out.storage_url);
    expect(url.search).toBe('');
    expect(url.pathname).toMatch(new RegExp(`^/v/${done.command_id}/[^/]+/master\\.m3u8$`));

    // The manifest itself, with relative segment references.
    const manifest = await fetch(out.storage_url);
    expect(manifest.status).toBe(200);
    expect(manifest.headers.get('content-type')).toContain('mpegurl');
    const text = await manifest.text();
    expect(text).toContain('seg_000.ts');
    const segments = text.split('\n').filter((l) => l.endsWith('.ts'));
    expect(segments.length).toBe(out.file_count - 1);

    // A real HLS reader follows every segment from the manifest's URL.
    const played = path.join(dataDir, 'played.mp4');
    await run('ffmpeg', ['-v', 'error', '-y', '-i', out.storage_url, '-c', 'copy', played], { timeout: 60_000 });
    expect(await probeDuration(played)).toBeGreaterThan(3.5);

    // Fresh URLs on every poll (the token carries the expiry), same file name.
    await new Promise((r) => setTimeout(r, 1100));
    const again = await pollCommand(done.command_id);
    expect(again.output_files.out_playlist.storage_url).not.toBe(out.storage_url);
    expect(again.output_files.out_playlist.storage_url).toMatch(/\/master\.m3u8$/);
  });

  it('a wrong token or an unknown name under a good token is a 404 envelope', async () => {
    const [first] = (await api(base, 'GET', '/v1/commands?limit=1', { key })).json;
    const good = new URL(first.output_files.out_playlist.storage_url);
    const [, , id, token] = good.pathname.split('/');
    const tampered = `${token!.slice(0, -2)}${token!.endsWith('AA') ? 'BB' : 'AA'}`;
    for (const p of [
      `/v/${id}/${tampered}/master.m3u8`,
      `/v/${id}/${token}/nope.ts`,
      `/v/00000000-0000-4000-8000-000000000000/${token}/master.m3u8`,
    ]) {
      const res = await api(base, 'GET', p);
      expect(res.status, p).toBe(404);
      expect(res.json.error.code).toBe('NOT_FOUND');
      expect(res.json.message).toMatch(/expired|no such/);
    }
  });

  it('Rendi: submit under /v1 with numeric strings, poll under /v1, the file name is the last segment of storage_url, errors carry message', async () => {
    const submit = await api(base, 'POST', '/v1/run-ffmpeg-command', {
      key,
      body: {
        input_files: { in_video: media.url('/video.mp4') },
        output_files: { out_small: 'small.mp4' },
        ffmpeg_command: 'ffmpeg -i {{in_video}} -vf scale=80:-2 -t 1 {{out_small}}',
        max_command_run_seconds: '60',
      },
    });
    expect(submit.status, JSON.stringify(submit.json)).toBe(200);
    const done = await pollCommand(submit.json.command_id, '/v1');
    expect(done.status, done.error_message).toBe('SUCCESS');
    const url: string = done.output_files.out_small.storage_url;
    expect(url).not.toContain('?');
    // What a Rendi client does to name the file it writes.
    expect(new URL(url).pathname.split('/').at(-1)).toBe('small.mp4');
    const bytes = Buffer.from(await (await fetch(url)).arrayBuffer());
    expect(bytes.subarray(4, 8).toString()).toBe('ftyp');
    const bad = await api(base, 'POST', '/v1/run-ffmpeg-command', {
      key,
      body: { input_files: {}, output_files: {}, ffmpeg_command: 'ffmpeg -version', max_command_run_seconds: 'sixty' },
    });
    expect(bad.status).toBeGreaterThanOrEqual(400);
    expect(typeof clientMessage(bad.json)).toBe('string');
    expect(bad.json.message).toBe(bad.json.error.message);
    expect(Array.isArray(bad.json.detail)).toBe(true);
  });

  it('Rendi: GET /v1/commands is a bare array, limit up to 1000; /api/v1 keeps its object and ≤ 100', async () => {
    const rendi = await api(base, 'GET', '/v1/commands', { key });
    expect(rendi.status).toBe(200);
    expect(Array.isArray(rendi.json)).toBe(true);
    expect(rendi.json.length).toBeGreaterThan(0);
    expect(rendi.json[0]).toHaveProperty('command_id');
    expect((await api(base, 'GET', '/v1/commands?limit=1000', { key })).status).toBe(200);
    const over = await api(base, 'GET', '/v1/commands?limit=1001', { key });
    expect(over.status).toBe(422);
    expect(over.json.message).toMatch(/1000/);
    expect(over.json.detail[0].loc).toEqual(['query', 'limit']);
    const renderio = await api(base, 'GET', '/api/v1/commands?limit=100', { key });
    expect(renderio.json).toMatchObject({ limit: 100, offset: 0 });
    expect(Array.isArray(renderio.json.commands)).toBe(true);
    expect((await api(base, 'GET', '/api/v1/commands?limit=1000', { key })).status).toBe(422);
  });

  it('Rendobar: an inline URL job runs, polls waiting/running → complete, output.file is the one file and downloads by its name', async () => {
    const submit = await api(base, 'POST', '/jobs', {
      bearer: key,
      body: {
        type: 'ffmpeg',
        inputs: {},
        params: {
          command: `ffmpeg -i ${media.url('/video.mp4')} -vf scale=80:60 -c:v libx264 -an output.mp4`,
          timeout: '60',
        },
      },
    });
    expect(submit.status, JSON.stringify(submit.json)).toBe(200);
    expect(submit.json.data.id).toMatch(/^job_[0-9a-f-]{36}$/);
    expect(submit.json.data.status).toBe('waiting');
    const job = await pollJob(submit.json.data.id);
    expect(job.status, JSON.stringify(job.error)).toBe('complete');
    expect(job.seen.every((s: string) => ['waiting', 'running', 'complete'].includes(s))).toBe(true);
    const { output } = job;
    expect(output.data).toBeNull();
    expect(output.files).toHaveLength(1);
    expect(output.file).toEqual(output.files[0]);
    expect(output.file).toMatchObject({ path: 'output.mp4', type: 'video', meta: { width: 80, height: 60 } });
    expect(output.file.size).toBeGreaterThan(0);
    expect(output.expiresAt).toBeGreaterThan(Date.now());
    const url = new URL(output.file.url);
    expect(url.search).toBe('');
    expect(url.pathname.split('/').at(-1)).toBe('output.mp4');
    const file = path.join(dataDir, 'rendobar.mp4');
    const res = await fetch(output.file.url);
    expect(res.status).toBe(200);
    const { writeFile } = await import('node:fs/promises');
    await writeFile(file, Buffer.from(await res.arrayBuffer()));
    expect(Number(output.file.size)).toBe((await import('node:fs')).statSync(file).size);
    // The same job is a command of the one core.
    const cmd = await api(base, 'GET', `/api/v1/commands/${submit.json.data.id.slice(4)}`, { key });
    expect(cmd.json.status).toBe('SUCCESS');
  });

  it('Rendobar: an HLS job from an inputs map sets output.file to the manifest, lists every segment, and plays', async () => {
    const submit = await api(base, 'POST', '/jobs', {
      bearer: key,
      body: {
        type: 'ffmpeg',
        inputs: { 'video.mp4': { url: media.url('/video.mp4') } },
        params: {
          command:
            'ffmpeg -i video.mp4 -c:v libx264 -g 10 -an -f hls -hls_time 0.4 -hls_playlist_type vod -hls_segment_filename seg_%03d.ts master.m3u8',
        },
      },
    });
    expect(submit.status, JSON.stringify(submit.json)).toBe(200);
    const job = await pollJob(submit.json.data.id);
    expect(job.status, JSON.stringify(job.error)).toBe('complete');
    const { output } = job;
    expect(output.file).toMatchObject({ path: 'master.m3u8', type: 'playlist' });
    expect(output.files[0]).toEqual(output.file);
    const segments = output.files.slice(1);
    expect(segments.length).toBeGreaterThan(1);
    for (const s of segments) {
      expect(s.type).toBe('video');
      expect(s.path).toMatch(/^seg_\d{3}\.ts$/);
      expect(s.url.endsWith(`/${s.path}`)).toBe(true);
      // Each file's own byte size, the manifest's too (the item keeps one total per playlist).
      expect(s.size).toBe((await (await fetch(s.url)).arrayBuffer()).byteLength);
    }
    expect(output.file.size).toBe(Buffer.byteLength(await (await fetch(output.file.url)).text()));
    expect(output.fileCount).toBe(output.files.length);
    const played = path.join(dataDir, 'rendobar-played.mp4');
    await run('ffmpeg', ['-v', 'error', '-y', '-i', output.file.url, '-c', 'copy', played], { timeout: 60_000 });
    expect(await probeDuration(played)).toBeGreaterThan(0.8);
  });

  it('image sequences: Rendobar lists every frame with output.file null; the RenderIO poll shows them under one alias with file_count', async () => {
    const submit = await api(base, 'POST', '/jobs', {
      bearer: key,
      body: { type: 'ffmpeg', params: { command: `ffmpeg -i ${media.url('/video.mp4')} -vf fps=4 frame_%03d.png` } },
    });
    expect(submit.status, JSON.stringify(submit.json)).toBe(200);
    const job = await pollJob(submit.json.data.id);
    expect(job.status, JSON.stringify(job.error)).toBe('complete');
    expect(job.output.file).toBeNull();
    const frames = job.output.files;
    expect(frames.length).toBeGreaterThanOrEqual(3);
    expect(frames.map((f: { path: string }) => f.path)).toEqual(
      frames.map((_: unknown, i: number) => `frame_${String(i + 1).padStart(3, '0')}.png`),
    );
    for (const f of frames) {
      expect(f.type).toBe('image');
      expect(f.size).toBeGreaterThan(0);
    }
    const last = await fetch(frames.at(-1).url);
    expect(last.status).toBe(200);
    expect(Number(last.headers.get('content-length'))).toBe(frames.at(-1).size);
    expect(
      Buffer.from(await last.arrayBuffer())
        .subarray(1, 4)
        .toString(),
    ).toBe('PNG');
    const poll = await api(base, 'GET', `/api/v1/commands/${submit.json.data.id.slice(4)}`, { key });
    const outputs = Object.values(poll.json.output_files) as { file_count: number; storage_url: string }[];
    expect(outputs).toHaveLength(1);
    expect(outputs[0]!.file_count).toBe(frames.length);
    expect(outputs[0]!.storage_url).toMatch(/\/frame_001\.png$/);
  });

  it('Rendobar: a failed job carries code, message, stderr detail and retryable false', async () => {
    const submit = await api(base, 'POST', '/jobs', {
      bearer: key,
      body: {
        type: 'ffmpeg',
        params: { command: `ffmpeg -i ${media.url('/video.mp4')} -c:v libx264 -profile:v bogus output.mp4` },
      },
    });
    expect(submit.status).toBe(200);
    const job = await pollJob(submit.json.data.id);
    expect(job.status).toBe('failed');
    expect(job.output).toBeUndefined();
    expect(job.error).toMatchObject({ code: 'PROVIDER_ERROR', retryable: false });
    expect(job.error.message).toMatch(/FFmpeg/);
    expect(job.error.detail).toContain('bogus');
  });

  it('Rendobar: request errors are the envelope, no job is created; validate needs no key and takes bare names', async () => {
    const refused = await api(base, 'POST', '/jobs', {
      bearer: key,
      body: { type: 'ffmpeg', params: { command: 'ffmpeg -protocol_whitelist file,http -i clip.mp4 output.mp4' } },
    });
    // Rendobar's page: a disallowed flag is VALIDATION_ERROR, before any job exists.
    expect(refused.status).toBe(422);
    expect(refused.json.error.code).toBe('VALIDATION_ERROR');
    expect(refused.json.error.message).toMatch(/protocol_whitelist|clip\.mp4/);
    const badTimeout = await api(base, 'POST', '/jobs', {
      bearer: key,
      body: { type: 'ffmpeg', params: { command: 'ffmpeg -i https://example.com/a.mp4 out.mp4', timeout: 901 } },
    });
    expect(badTimeout.status).toBe(422);
    expect(badTimeout.json.error.message).toMatch(/timeout/);
    expect(badTimeout.json.message).toBe(badTimeout.json.error.message);

    const ok = await api(base, 'POST', '/ffmpeg/validate', {
      body: { command: 'ffmpeg -i video.mp4 -vf scale=1280:720 output.mp4' },
    });
    expect(ok.status).toBe(200);
    expect(ok.json).toEqual({
      data: {
        valid: true,
        args: ['-i', 'video.mp4', '-vf', 'scale=1280:720', 'output.mp4'],
        inferredOutputFormat: 'mp4',
      },
    });
    const no = await api(base, 'POST', '/ffmpeg/validate', {
      body: { command: 'ffmpeg -protocol_whitelist file -i video.mp4 output.mp4' },
    });
    expect(no.status).toBe(200);
    expect(no.json.data.valid).toBe(false);
    expect(no.json.data.error).toContain('protocol_whitelist');
    // Inline URLs get the submit's URL policy on both routes (the metadata address is never allowed).
    const metadata = 'ffmpeg -i http://169.254.169.254/latest/meta-data/x.mp4 output.mp4';
    const viaValidate = await api(base, 'POST', '/ffmpeg/validate', { body: { command: metadata } });
    expect(viaValidate.json.data.valid).toBe(false);
    expect(viaValidate.json.data.error).toMatch(/URL refused/);
    const viaJobs = await api(base, 'POST', '/jobs', {
      bearer: key,
      body: { type: 'ffmpeg', params: { command: metadata } },
    });
    expect(viaJobs.status).toBe(422);
    expect(viaJobs.json.error.code).toBe('VALIDATION_ERROR');
    expect(viaJobs.json.message).toMatch(/URL refused/);
  });

  it('Rendobar: {content} inputs are staged by name: a subtitle file burnt by a filter and one converted, read back verbatim', async () => {
    const srt =
      '1\n00:00:00,000 --> 00:00:00,900\nRendered on ffaas.\n\n2\n00:00:01,000 --> 00:00:01,500\nSecond cue, é ✓\n';
    const ass = [
      '[Script Info]',
      'ScriptType: v4.00+',
      'PlayResX: 160',
      'PlayResY: 120',
      '',
      '[V4+ Styles]',
      'Format: Name, Fontname, Fontsize, PrimaryColour, BackColour, Bold, Italic, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding',
      'Style: Default,Sans,20,&H00FFFFFF,&H00000000,0,0,1,1,0,2,10,10,10,1',
      '',
      '[Events]',
      'Format: Layer, Start, End, Style, Text',
      'Dialogue: 0,0:00:00.00,0:00:01.00,Default,Burnt in',
      '',
    ].join('\n');
    const submit = await api(base, 'POST', '/jobs', {
      bearer: key,
      body: {
        type: 'ffmpeg',
        inputs: { 'video.mp4': media.url('/video.mp4'), 'subs.ass': { content: ass }, 'cues.srt': { content: srt } },
        params: {
          command:
            'ffmpeg -i video.mp4 -i cues.srt -vf subtitles=subs.ass -c:v libx264 -an -t 1 burnt.mp4 -map 1 cues.vtt',
        },
      },
    });
    expect(submit.status, JSON.stringify(submit.json)).toBe(200);
    const job = await pollJob(submit.json.data.id);
    expect(job.status, JSON.stringify(job.error)).toBe('complete');
    const byPath = Object.fromEntries(job.output.files.map((f: { path: string }) => [f.path, f]));
    expect(Object.keys(byPath).sort()).toEqual(['burnt.mp4', 'cues.vtt']);
    expect(byPath['burnt.mp4'].type).toBe('video');
    expect(byPath['cues.vtt'].type).toBe('captions');
    // Two outputs: a set, no headline file.
    expect(job.output.file).toBeNull();
    const vtt = await (await fetch(byPath['cues.vtt'].url)).text();
    expect(vtt).toMatch(/^WEBVTT/);
    expect(vtt).toContain('Rendered on ffaas.');
    expect(vtt).toContain('Second cue, é ✓');
    // The content is an object of the bucket under the command's prefix, never a URL the service fetched.
    const commandId = submit.json.data.id.slice(4);
    const prefix = `files/acct-dialects/commands/${commandId}/`;
    expect(await storedKeys(prefix)).toEqual([`${prefix}cues.srt`, `${prefix}subs.ass`]);
    // Deleting the command's files removes them with its outputs.
    const del = await api(base, 'DELETE', `/api/v1/commands/${commandId}/files`, { key });
    expect(del.status).toBe(200);
    expect(await storedKeys(prefix)).toEqual([]);
  });

  it("Rendobar: inputs are staged under their exact names, so FFmpeg's own stderr names them", async () => {
    const submit = await api(base, 'POST', '/jobs', {
      bearer: key,
      body: {
        type: 'ffmpeg',
        inputs: { 'broken-clip.mp4': { content: 'this is not a video' }, 'odd name.srt': { content: 'x' } },
        params: { command: "ffmpeg -i broken-clip.mp4 -i 'odd name.srt' -c copy output.mp4" },
      },
    });
    expect(submit.status, JSON.stringify(submit.json)).toBe(200);
    const job = await pollJob(submit.json.data.id);
    expect(job.status).toBe('failed');
    expect(`${job.error.message}\n${job.error.detail}`).toContain('broken-clip.mp4');
    expect(`${job.error.message}\n${job.error.detail}`).not.toContain('in_broken');
  });

  it('Rendobar: a retried POST /jobs with the same Idempotency-Key gets the first job, not a second one', async () => {
    const body = JSON.stringify({
      type: 'ffmpeg',
      inputs: { 'notes.srt': { content: '1\n00:00:00,000 --> 00:00:01,000\nonce\n' } },
      params: { command: 'ffmpeg -i notes.srt notes.vtt' },
    });
    const headers = {
      Authorization: `Bearer ${key}`,
      'content-type': 'application/json',
      'Idempotency-Key': `rb-${Date.now()}`,
    };
    const first = await fetch(`${base}/jobs`, { method: 'POST', headers, body });
    const again = await fetch(`${base}/jobs`, { method: 'POST', headers, body });
    expect(first.status).toBe(200);
    expect(again.status).toBe(200);
    const a = (await first.json()) as any;
    const b = (await again.json()) as any;
    expect(b.data.id).toBe(a.data.id);
    const job = await pollJob(a.data.id);
    expect(job.status, JSON.stringify(job.error)).toBe('complete');
    expect(await (await fetch(job.output.file.url)).text()).toContain('once');
  });

  it('Rendobar: {content} over 64 KB is a 422 naming the input; no job is created', async () => {
    const before = (await api(base, 'GET', '/api/v1/commands?limit=100', { key })).json.commands.length;
    const big = await api(base, 'POST', '/jobs', {
      bearer: key,
      body: {
        type: 'ffmpeg',
        inputs: { 'video.mp4': media.url('/video.mp4'), 'subs.srt': { content: 'x'.repeat(64 * 1024 + 1) } },
        params: { command: 'ffmpeg -i video.mp4 -vf subtitles=subs.srt output.mp4' },
      },
    });
    expect(big.status).toBe(422);
    expect(big.json.error.code).toBe('VALIDATION_ERROR');
    expect(big.json.message).toMatch(/65536 bytes/);
    expect(big.json.error.details[0].path).toEqual(['inputs', 'subs.srt']);
    // Exactly 64 KB passes the limit (the command is then checked as usual).
    const edge = await api(base, 'POST', '/ffmpeg/validate', {
      body: {
        command: 'ffmpeg -i video.mp4 -vf subtitles=subs.srt output.mp4',
        inputs: { 'subs.srt': { content: 'x'.repeat(64 * 1024) } },
      },
    });
    expect(edge.json.data.valid, JSON.stringify(edge.json)).toBe(true);
    expect((await api(base, 'GET', '/api/v1/commands?limit=100', { key })).json.commands.length).toBe(before);
  });

  it('Rendobar uploads: POST /assets/upload → a content URL usable as an input by the same account only', async () => {
    const form = new FormData();
    form.append('file', new Blob([await readFile(fixtures.path('video.mp4'))]), 'clip.mp4');
    const up = await api(base, 'POST', '/assets/upload', { bearer: key, form });
    expect(up.status, JSON.stringify(up.json)).toBe(200);
    const asset = up.json.data;
    expect(asset.id).toMatch(/^asset_[0-9a-f-]{36}$/);
    expect(asset.url).toBe(`${base}/assets/${asset.id}/content`);
    expect(asset).toMatchObject({ filename: 'clip.mp4', type: 'video' });
    const deadline = Date.now() + 60_000;
    let status = asset.status;
    while (status === 'processing') {
      if (Date.now() > deadline) throw new Error('asset still processing');
      await new Promise((r) => setTimeout(r, 250));
      status = (await api(base, 'GET', `/assets/${asset.id}`, { bearer: key })).json.data.status;
    }
    expect(status).toBe('ready');

    // The owner fetches the bytes; another account gets a 404 for both the asset and its content.
    const content = await api(base, 'GET', `/assets/${asset.id}/content`, { bearer: key });
    expect(content.status).toBe(302);
    const bytes = Buffer.from(await (await fetch(content.headers.get('location')!)).arrayBuffer());
    expect(bytes.equals(await readFile(fixtures.path('video.mp4')))).toBe(true);
    expect((await api(base, 'GET', `/assets/${asset.id}/content`, { bearer: otherKey })).status).toBe(404);
    expect((await api(base, 'GET', `/assets/${asset.id}`, { bearer: otherKey })).status).toBe(404);

    // As an input: by name in the inputs map, and inline in the -i position.
    const submit = await api(base, 'POST', '/jobs', {
      bearer: key,
      body: {
        type: 'ffmpeg',
        inputs: { 'clip.mp4': asset.url },
        params: { command: `ffmpeg -i clip.mp4 -i ${asset.url} -map 0:v -map 1:v -t 1 -c copy output.mkv` },
      },
    });
    expect(submit.status, JSON.stringify(submit.json)).toBe(200);
    const job = await pollJob(submit.json.data.id);
    expect(job.status, JSON.stringify(job.error)).toBe('complete');
    expect(job.output.file).toMatchObject({ path: 'output.mkv', type: 'video' });
    const foreign = await api(base, 'POST', '/jobs', {
      bearer: otherKey,
      body: { type: 'ffmpeg', params: { command: `ffmpeg -i ${asset.url} -c copy output.mp4` } },
    });
    expect(foreign.status).toBe(422);
    expect(foreign.json.message).toMatch(/not found/);
  });

  it('Rendobar: POST /jobs/{id}/cancel stops a running job; the poll says cancelled; a finished job is 409', async () => {
    const submit = await api(base, 'POST', '/jobs', {
      bearer: key,
      body: {
        type: 'ffmpeg',
        inputs: { 'notes.srt': { content: '1\n00:00:00,000 --> 00:00:01,000\nx\n' } },
        params: {
          command: `ffmpeg -re -stream_loop -1 -i ${media.url('/video.mp4')} -i notes.srt -map 0 -map 1 -c copy -c:s srt -t 600 long.mkv`,
          timeout: 900,
        },
      },
    });
    expect(submit.status, JSON.stringify(submit.json)).toBe(200);
    const id = submit.json.data.id;
    const deadline = Date.now() + 60_000;
    while ((await api(base, 'GET', `/jobs/${id}`, { bearer: key })).json.data.status !== 'running') {
      if (Date.now() > deadline) throw new Error('job never ran');
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(await storedKeys(`files/acct-dialects/commands/${id.slice(4)}/`)).toHaveLength(1);
    expect((await api(base, 'POST', `/jobs/${id}/cancel`, { bearer: otherKey })).status).toBe(404);
    const cancelled = await api(base, 'POST', `/jobs/${id}/cancel`, { bearer: key });
    expect(cancelled.status, JSON.stringify(cancelled.json)).toBe(200);
    expect(cancelled.json.data).toMatchObject({
      id,
      status: 'cancelled',
      error: { code: 'CANCELLED', retryable: false },
    });
    // The inline input stored for it goes with the cancel.
    expect(await storedKeys(`files/acct-dialects/commands/${id.slice(4)}/`)).toEqual([]);
    const polled = await api(base, 'GET', `/jobs/${id}`, { bearer: key });
    expect(polled.json.data.status).toBe('cancelled');
    expect(polled.json.data.output).toBeUndefined();
    const again = await api(base, 'POST', `/jobs/${id}/cancel`, { bearer: key });
    expect(again.status).toBe(409);
    expect(again.json.error.code).toBe('CONFLICT');
    expect(
      (await api(base, 'POST', '/jobs/job_00000000-0000-4000-8000-000000000000/cancel', { bearer: key })).status,
    ).toBe(404);
  });
});
