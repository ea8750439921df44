/**
 * Issue 7 findings over HTTP against a started local mode (no FFAAS_ALLOW_PRIVATE_URLS, a small
 * workspace quota and memory limit set by the environment, as an operator would):
 * - commands whose filter/muxer options name files or URLs never write outside the workspace
 *   (the data dir, the worker bundle), never read host files into a successful output and
 *   never reach a loopback listener — whether the policy refuses them or the sandbox stops them;
 * - a run that writes past the quota ends FAILED / OUTPUT_TOO_LARGE; one that allocates past
 *   the memory limit ends FAILED / FFMPEG_FAILED naming the limit;
 * - odd but harmless query keys and header names (`__proto__`, `constructor`, …) never get a 500.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workerBundlePath } from '../../local/worker-bundle.ts';
import { OPTION_ATTACKS } from '../helpers/attack-commands.ts';
import { closeServer, listenLocal } from '../helpers/index.ts';
import { createKey, startLocalProcess, type LocalProcess } from './local-process.ts';

const QUOTA_BYTES = 4_000_000;
const MEMORY_BYTES = 256 * 1024 ** 2;
const PROTO_NAMES = [
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  'valueOf',
  'prototype',
  '__defineGetter__',
];

interface Poll {
  command_id: string;
  status: string;
  error_status: string | null;
  error_message: string | null;
  output_files: Record<string, Record<string, unknown>>;
}

async function api(
  base: string,
  method: string,
  route: string,
  opts: { key?: string; body?: unknown; headers?: Record<string, string> } = {},
) {
  const res = await fetch(`${base}${route}`, {
    method,
    headers: {
      ...(opts.key ? { 'X-API-KEY': opts.key } : {}),
      ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...opts.headers,
    },
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    /* the assertions say so */
  }
  return { status: res.status, json, text };
}

async function waitForEnd(base: string, key: string, id: string, timeoutMs = 90_000): Promise<Poll> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { status, json } = await api(base, 'GET', `/api/v1/commands/${id}`, { key });
    expect(status).toBe(200);
    if (json.status === 'SUCCESS' || json.status === 'FAILED') return json as Poll;
    if (Date.now() > deadline) throw new Error(`command ${id} still ${json.status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );
const sha256 = async (p: string) =>
  createHash('sha256')
    .update(await readFile(p))
    .digest('hex');

describe('local mode: FFmpeg cannot leave its workspace, and limits stop runs (over HTTP)', () => {
  let dataDir: string;
  let hostDir: string;
  let env: Record<string, string>;
  let local: LocalProcess;
  let base: string;
  let key: string;
  let canary: Server;
  let canaryPort: number;
  const canaryHits: string[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'ffaas-e2e-sandbox-'));
    // Files of "the host" FFmpeg must not read, in a directory anyone may write.
    hostDir = path.join(dataDir, 'host');
    await mkdir(hostDir);
    await chmod(hostDir, 0o777);
    await writeFile(path.join(hostDir, 'secret.txt'), 'the host secret\n');
    const acv = Buffer.alloc(14);
    [4, 1, 2, 0, 0, 255, 255].forEach((w, i) => {
      acv.writeUInt16BE(w, i * 2);
    });
    await writeFile(path.join(hostDir, 'secret.acv'), acv);
    canary = createServer((req, res) => {
      canaryHits.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'text/plain' }).end('1\n00:00:00,000 --> 00:00:01,000\nfrom loopback\n');
    });
    canaryPort = await listenLocal(canary);
    env = {
      FFAAS_DATA_DIR: dataDir,
      FFAAS_WORKSPACE_MAX_BYTES: String(QUOTA_BYTES),
      FFAAS_FFMPEG_MEMORY_BYTES: String(MEMORY_BYTES),
      FFAAS_ALLOW_PRIVATE_URLS: '0',
    };
    local = await startLocalProcess(env);
    base = local.url;
    key = await createKey(env, 'sandbox', 'acct-sandbox');
  }, 180_000);

  afterAll(async () => {
    await local?.stop();
    if (canary) await closeServer(canary);
    await rm(dataDir, { recursive: true, force: true });
  });

  it('says at start how FFmpeg is isolated and limited', () => {
    expect(local.output()).toMatch(/sandbox: +bubblewrap: FFmpeg has no network and sees only its workspace/);
    expect(local.output()).toContain('FFAAS_WORKSPACE_MAX_BYTES');
  });

  it('runs an ordinary command to SUCCESS inside the sandbox (ffmpeg and ffprobe work there)', async () => {
    const submit = await api(base, 'POST', '/api/v1/run-ffmpeg-command', {
      key,
      body: {
        input_files: {},
        output_files: { out_video: 'ok.mp4' },
        ffmpeg_command:
          'ffmpeg -filter_complex testsrc2=duration=1:size=320x240:rate=25 -c:v libx264 -preset ultrafast {{out_video}}',
      },
    });
    expect(submit.status, submit.text).toBe(200);
    const done = await waitForEnd(base, key, submit.json.command_id);
    expect(done.status, `${done.error_status}: ${done.error_message}`).toBe('SUCCESS');
    expect(done.output_files.out_video).toMatchObject({ width: 320, height: 240 });
  });

  it('file and URL options of filters and muxers: refused, or stopped by the sandbox — never a breach', async () => {
    const bundle = workerBundlePath();
    const bundleBefore = await sha256(bundle);
    const written = (name: string) => path.join(dataDir, name);
    const loopback = `http://127.0.0.1:${canaryPort}`;
    // As FFmpeg wants a URL inside a filter option: colons escaped for the option parser.
    const loopbackInFilter = `http\\://127.0.0.1\\:${canaryPort}`;
    const attacks: { name: string; command: string; out?: string; writes?: string[]; reads?: boolean }[] = [
      {
        name: 'curves plot= into the data dir',
        command: `ffmpeg -filter_complex "testsrc2=d=0.2,curves=plot=${written('pwned-plot.txt')}" -frames:v 1 {{out_file}}`,
        writes: [written('pwned-plot.txt')],
      },
      {
        name: 'curves plot= over the worker bundle',
        command: `ffmpeg -filter_complex "testsrc2=d=0.2,curves=plot=${bundle}" -frames:v 1 {{out_file}}`,
      },
      {
        name: 'curves psfile= of a host file',
        command: `ffmpeg -filter_complex "testsrc2=d=0.2,curves=psfile=${path.join(hostDir, 'secret.acv')}" -frames:v 1 {{out_file}}`,
        reads: true,
      },
      {
        name: 'drawtext textfile= of a host file',
        command: `ffmpeg -filter_complex "testsrc2=d=0.2,drawtext=textfile=${path.join(hostDir, 'secret.txt')}" -frames:v 1 {{out_file}}`,
        reads: true,
      },
      {
        name: 'movie= of a host file',
        command: `ffmpeg -filter_complex "movie=${path.join(hostDir, 'secret.acv')}" -frames:v 1 {{out_file}}`,
        reads: true,
      },
      {
        name: 'subtitles= from a loopback URL',
        command: `ffmpeg -filter_complex "testsrc2=d=0.2,subtitles=filename='${loopbackInFilter}/s.srt'" -frames:v 1 {{out_file}}`,
        reads: true,
      },
      {
        name: 'movie= from a loopback URL',
        command: `ffmpeg -filter_complex "movie='${loopbackInFilter}/m.mp4'" -frames:v 1 {{out_file}}`,
        reads: true,
      },
      {
        name: 'vstats_file into the data dir',
        command: `ffmpeg -filter_complex testsrc2=d=0.2 -vstats_file ${written('vstats.txt')} -frames:v 1 {{out_file}}`,
        writes: [written('vstats.txt')],
      },
      {
        name: 'passlogfile into the data dir',
        command: `ffmpeg -filter_complex testsrc2=d=0.2 -c:v libx264 -pass 1 -passlogfile ${written('pass')} -frames:v 1 -f mp4 {{out_file}}`,
        out: 'a.mp4',
        writes: [written('pass-0.log'), written('pass-0.log.mbtree')],
      },
      {
        name: 'hls segments to a loopback URL',
        command: `ffmpeg -filter_complex testsrc2=d=1 -f hls -hls_segment_filename http://127.0.0.1:${canaryPort}/seg%d.ts -method PUT {{out_file}}`,
        out: 'a.m3u8',
      },
    ];
    const met: Record<string, string> = {};
    for (const attack of attacks) {
      const submit = await api(base, 'POST', '/api/v1/run-ffmpeg-command', {
        key,
        body: { input_files: {}, output_files: { out_file: attack.out ?? 'a.png' }, ffmpeg_command: attack.command },
      });
      expect(submit.status, `${attack.name}: ${submit.text}`).toBeLessThan(500);
      if (submit.status === 200) {
        const done = await waitForEnd(base, key, submit.json.command_id);
        // A read that worked would have produced its output: it must not succeed.
        if (attack.reads) expect(done.status, `${attack.name}: ${done.error_message}`).toBe('FAILED');
        met[attack.name] = `${done.status} ${done.error_status ?? ''}`;
      } else {
        expect([400, 422], `${attack.name}: ${submit.text}`).toContain(submit.status);
        // Refused by the policy, not for a malformed request.
        expect(submit.json.error.message, attack.name).not.toMatch(/alias must match|is required/);
        met[attack.name] = `${submit.status} ${submit.json.error.message}`;
      }
      for (const w of attack.writes ?? []) expect(await exists(w), `${attack.name} wrote ${w}`).toBe(false);
    }
    console.info('attack outcomes:', met);
    // The option-level policy refuses every one of them before anything is recorded; the
    // sandbox checks above hold even so (they are what a policy gap would meet).
    expect(Object.entries(met).filter(([, outcome]) => !/^4\d\d /.test(outcome))).toEqual([]);
    expect(canaryHits, 'a request reached the loopback listener').toEqual([]);
    expect(await sha256(bundle)).toBe(bundleBefore);
  });

  it('every option attack of the policy list is refused over HTTP by submit and by validate, and nothing is recorded', async () => {
    const before = await api(base, 'GET', '/api/v1/commands?limit=100', { key });
    for (const attack of OPTION_ATTACKS) {
      const body =
        attack.commands.length === 1
          ? { input_files: attack.inputs, output_files: attack.outputs, ffmpeg_command: attack.commands[0] }
          : { input_files: attack.inputs, output_files: attack.outputs, ffmpeg_commands: attack.commands };
      const route = attack.commands.length === 1 ? '/api/v1/run-ffmpeg-command' : '/api/v1/run-chained-ffmpeg-commands';
      const submit = await api(base, 'POST', route, { key, body });
      expect([400, 422], `${attack.name}: ${submit.text}`).toContain(submit.status);
      expect(submit.json.error.code, attack.name).toMatch(/^(INVALID_REQUEST|VALIDATION_ERROR)$/);
      const validate = await api(base, 'POST', '/api/v1/validate', { body });
      expect(validate.json?.valid, `${attack.name}: ${validate.text}`).toBe(false);
    }
    const after = await api(base, 'GET', '/api/v1/commands?limit=100', { key });
    expect(after.json.commands.length).toBe(before.json.commands.length);
  });

  it('a run that writes past the workspace quota ends FAILED with OUTPUT_TOO_LARGE', async () => {
    const submit = await api(base, 'POST', '/api/v1/run-ffmpeg-command', {
      key,
      body: {
        input_files: {},
        output_files: { out_video: 'big.mkv' },
        // 125 raw 640x360 frames: ~43 MB against a 4 MB quota.
        ffmpeg_command: 'ffmpeg -filter_complex testsrc2=duration=5:size=640x360:rate=25 -c:v rawvideo {{out_video}}',
      },
    });
    expect(submit.status, submit.text).toBe(200);
    const done = await waitForEnd(base, key, submit.json.command_id);
    expect(done.status).toBe('FAILED');
    expect(done.error_status).toBe('OUTPUT_TOO_LARGE');
    expect(done.error_message).toContain(`workspace quota of ${QUOTA_BYTES} bytes`);
  });

  it('a run that allocates past the memory limit ends FAILED and says so; the service lives on', async () => {
    const submit = await api(base, 'POST', '/api/v1/run-ffmpeg-command', {
      key,
      body: {
        input_files: {},
        output_files: { out_video: 'rev.mp4' },
        // reverse keeps every frame: 750 frames of 1280x720 are ~1 GB against 256 MiB.
        ffmpeg_command:
          'ffmpeg -filter_complex "testsrc2=duration=30:size=1280x720:rate=25,reverse" -c:v libx264 -preset ultrafast {{out_video}}',
      },
    });
    expect(submit.status, submit.text).toBe(200);
    const done = await waitForEnd(base, key, submit.json.command_id);
    expect(done.status).toBe('FAILED');
    expect(done.error_status).toBe('FFMPEG_FAILED');
    expect(done.error_message).toContain(`memory limit of ${MEMORY_BYTES} bytes`);
    expect((await api(base, 'GET', '/api/v1/health')).status).toBe(200);
  });

  it('query keys and header names like __proto__ and constructor are ordinary names: never a 500', async () => {
    const query = PROTO_NAMES.map((n, i) => `${encodeURIComponent(n)}=${i}`).join('&');
    const headers = Object.fromEntries(PROTO_NAMES.map((n, i) => [n, `v${i}`]));
    const requests: { method: string; route: string; key?: string; body?: unknown; expected: number[] }[] = [
      { method: 'GET', route: `/api/v1/health?${query}`, expected: [200] },
      { method: 'GET', route: `/api/v1/commands?${query}`, key, expected: [200, 400, 422] },
      { method: 'GET', route: `/api/v1/commands?${query}`, expected: [401] },
      {
        method: 'GET',
        route: `/api/v1/commands/${encodeURIComponent('__proto__')}?${query}`,
        key,
        expected: [400, 404],
      },
      { method: 'GET', route: `/api/v1/commands/constructor`, key, expected: [400, 404] },
      { method: 'GET', route: `/api/v1/toString?${query}`, expected: [404] },
      {
        method: 'POST',
        route: `/api/v1/run-ffmpeg-command?${query}`,
        key,
        body: {
          input_files: {},
          output_files: { out_file: 'p.png' },
          ffmpeg_command: 'ffmpeg -filter_complex testsrc2=d=0.1 -frames:v 1 {{out_file}}',
        },
        expected: [200],
      },
      {
        method: 'POST',
        route: `/api/v1/validate?${query}`,
        key,
        body: { __proto__: { x: 1 }, constructor: 'x', toString: 1 },
        expected: [200, 400, 422],
      },
    ];
    for (const r of requests) {
      const res = await api(base, r.method, r.route, { key: r.key, body: r.body, headers });
      expect(r.expected, `${r.method} ${r.route}: ${res.status} ${res.text}`).toContain(res.status);
      expect(res.json?.error?.code ?? null, res.text).not.toBe('INTERNAL_ERROR');
    }
    // Repeated keys too (the multi-value maps).
    const twice = await api(base, 'GET', '/api/v1/commands?constructor=1&constructor=2&__proto__=a&__proto__=b', {
      key,
    });
    expect([200, 400, 422]).toContain(twice.status);
  });
});
