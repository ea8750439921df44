/**
 * End to end for the people who use ffaas (issue 16), against one local mode started as a user
 * starts it: the typed client (answers parse with the zod schemas), GET /openapi.json, the CLI's
 * `run` (a local file in, the output out, a failure, a cancel), the web console in headless
 * Chromium with screenshots, and every example of the docs tagged for testing.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FfaasApiError, FfaasClient } from '../../client/index.ts';
import { buildOpenApiDocument } from '../../core/api/openapi.ts';
import {
  ErrorEnvelopeSchema,
  HealthResponseSchema,
  ListCommandsResponseSchema,
  PollResponseSchema,
  SubmitResponseSchema,
  ValidateResponseSchema,
} from '../../core/api/responses.ts';
import { makeFixtures, startFixtureServer, type FixtureServer, type Fixtures } from '../helpers/index.ts';
import { createKey, startLocalProcess, type LocalProcess } from './local-process.ts';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '..', '..');
const CHROMIUM = '/usr/bin/chromium';

let dataDir: string;
let env: Record<string, string>;
let local: LocalProcess;
let fixtures: Fixtures;
let media: FixtureServer;
let key: string;
let client: FfaasClient;
let openapi: { paths: Record<string, Record<string, unknown>> };

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `ffaas …` as a user does, in `cwd`; `onStderr` sees stderr as it comes. */
function cli(
  args: string[],
  cwd: string,
  opts: { onStderr?: (text: string, child: ReturnType<typeof spawn>) => void; extraEnv?: Record<string, string> } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(root, 'bin', 'ffaas.mjs'), ...args], {
      cwd,
      env: { ...process.env, ...env, ...opts.extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so a test can Ctrl-C it as a terminal does (the whole group).
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      opts.onStderr?.(stderr, child);
    });
    const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

interface ConsoleSite {
  origin: string;
  config: unknown;
  stop: () => Promise<void>;
}
let site: ConsoleSite;

/** console/ as a static site of its own (what lib/console-site.ts deploys), with its config.json. */
async function startConsoleSite(): Promise<ConsoleSite> {
  const files: Record<string, [string, string]> = {
    '/': ['console/index.html', 'text/html'],
    '/console.js': ['console/console.js', 'text/javascript'],
    '/console.css': ['console/console.css', 'text/css'],
    '/vendor/hls.min.js': ['node_modules/hls.js/dist/hls.min.js', 'text/javascript'],
  };
  const self: ConsoleSite = { origin: '', config: null, stop: async () => undefined };
  const server = createServer(async (req, res) => {
    const p = new URL(req.url ?? '/', 'http://x').pathname;
    if (p === '/config.json') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(self.config));
      return;
    }
    const entry = files[p];
    if (!entry) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': entry[1] }).end(await readFile(path.join(root, entry[0])));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  self.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  self.stop = () => new Promise<void>((r) => server.close(() => r()));
  return self;
}

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'ffaas-users-'));
  env = { FFAAS_DATA_DIR: dataDir, FFAAS_ALLOW_PRIVATE_URLS: '1' };
  fixtures = await makeFixtures({ names: ['video.mp4'] });
  media = await startFixtureServer({ dir: fixtures.dir });
  // The console served from another origin (as the stack's static site is), which local mode
  // then accepts by CORS; its config.json is filled in once local mode's URL is known.
  site = await startConsoleSite();
  env.FFAAS_CORS_ORIGIN = site.origin;
  local = await startLocalProcess(env);
  site.config = { apiUrl: local.url };
  key = await createKey(env, 'users-e2e', 'acct-users');
  client = new FfaasClient({ baseUrl: local.url, apiKey: key });
  openapi = (await client.openapi()) as typeof openapi;
}, 180_000);

afterAll(async () => {
  await local?.stop();
  await media?.stop();
  await site?.stop();
  await fixtures?.cleanup();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('the typed client against local mode', () => {
  it('serves GET /openapi.json without a key: the document built from the route table', async () => {
    const res = await fetch(`${local.url}/api/v1/openapi.json`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(JSON.parse(JSON.stringify(buildOpenApiDocument())));
    expect(((await (await fetch(`${local.url}/v1/openapi.json`)).json()) as { openapi: string }).openapi).toBe('3.1.0');
  });

  it('answers parse with the response schemas: health, validate, submit, run() to SUCCESS, list, errors', async () => {
    HealthResponseSchema.parse(await client.health());
    const body = {
      input_files: { in_video: media.url('/video.mp4') },
      output_files: { out_thumb: 'thumb.png' },
      ffmpeg_command: 'ffmpeg -i {{in_video}} -frames:v 1 {{out_thumb}}',
    };
    expect(ValidateResponseSchema.parse(await client.validate(body))).toMatchObject({ valid: true });
    const updates: string[] = [];
    const done = await client.run(body, {
      initialDelayMs: 200,
      maxDelayMs: 1000,
      onUpdate: (c) => updates.push(c.status),
    });
    expect(PollResponseSchema.parse(done).status, done.error_message ?? '').toBe('SUCCESS');
    expect(updates.at(-1)).toBe('SUCCESS');
    expect(done.output_files.out_thumb!.file_type).toBe('image');
    SubmitResponseSchema.parse(await client.runFfmpegCommand(body));
    const page = ListCommandsResponseSchema.parse(await client.listCommands({ limit: 5 }));
    expect(page.commands.map((c) => c.command_id)).toContain(done.command_id);

    const err = await client.getCommand('00000000-0000-4000-8000-000000000000').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FfaasApiError);
    expect((err as FfaasApiError).status).toBe(404);
    ErrorEnvelopeSchema.parse((err as FfaasApiError).body);
    const anonymous = new FfaasClient({ baseUrl: local.url });
    await expect(anonymous.listCommands()).rejects.toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
  });
});

describe('ffaas run -- ffmpeg … against local mode', () => {
  let cwd: string;
  beforeAll(async () => {
    cwd = await mkdtemp(path.join(tmpdir(), 'ffaas-run-'));
    await copyFile(path.join(fixtures.dir, 'video.mp4'), path.join(cwd, 'input.mp4'));
    await run('ffmpeg', [
      '-v',
      'error',
      '-f',
      'lavfi',
      '-i',
      'testsrc2=duration=3:size=160x120:rate=25',
      '-pix_fmt',
      'yuv420p',
      path.join(cwd, 'clip3s.mp4'),
    ]);
  });
  afterAll(async () => cwd && rm(cwd, { recursive: true, force: true }));

  it('runs a URL input and downloads the output next to the user (--json for scripts)', async () => {
    const r = await cli(
      [
        'run',
        '--json',
        '--',
        'ffmpeg',
        '-i',
        media.url('/video.mp4'),
        '-t',
        '1',
        '-c:v',
        'libvpx-vp9',
        '-deadline',
        'realtime',
        '-an',
        'out/small.webm',
      ],
      cwd,
    );
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.command.status).toBe('SUCCESS');
    expect(result.downloaded).toEqual(['out/small.webm']);
    const { stdout } = await run('ffprobe', [
      '-v',
      'error',
      '-show_entries',
      'stream=codec_name',
      '-of',
      'csv=p=0',
      path.join(cwd, 'out', 'small.webm'),
    ]);
    expect(stdout.trim()).toBe('vp9');
    // The CLI made its own key for local mode and keeps it in the data dir, owner-only.
    expect(existsSync(path.join(dataDir, 'cli-key'))).toBe(true);
  });

  it('uploads a local input through the files API and writes the output file next to the user', async () => {
    const r = await cli(['run', '--', 'ffmpeg', '-i', 'input.mp4', '-frames:v', '1', 'frame.png'], cwd);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('uploading input.mp4');
    expect(r.stderr).toContain('wrote frame.png');
    const { stdout } = await run('ffprobe', [
      '-v',
      'error',
      '-show_entries',
      'stream=width',
      '-of',
      'csv=p=0',
      path.join(cwd, 'frame.png'),
    ]);
    expect(Number(stdout.trim())).toBe(160);
    // The input went through the files API: it is a stored file of the CLI's account now.
    const files = await cli(['files', 'list', '--json'], cwd);
    expect(files.code, files.stderr).toBe(0);
    expect(JSON.parse(files.stdout).files.map((f: { filename: string }) => f.filename)).toContain('input.mp4');
  });

  it('downloads an HLS playlist with every segment it names, next to the user, playable', async () => {
    const r = await cli(
      [
        'run',
        '--json',
        '--',
        'ffmpeg',
        '-i',
        'clip3s.mp4',
        '-c:v',
        'libx264',
        '-preset',
        'ultrafast',
        '-g',
        '25',
        '-an',
        '-f',
        'hls',
        '-hls_time',
        '1',
        '-hls_playlist_type',
        'vod',
        '-hls_segment_filename',
        'hls/seg_%03d.ts',
        'hls/index.m3u8',
      ],
      cwd,
    );
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as {
      command: { output_files: Record<string, { file_count: number }> };
      downloaded: string[];
    };
    const segments = result.downloaded.filter((f) => f.endsWith('.ts'));
    expect(result.downloaded[0]).toBe('hls/index.m3u8');
    expect(segments.length).toBeGreaterThanOrEqual(2);
    expect(result.downloaded.length).toBe(result.command.output_files.out_index!.file_count);
    for (const s of segments) expect(s).toMatch(/^hls\/seg_\d{3}\.ts$/);
    // FFmpeg reads the downloaded playlist and its segments back: 3 seconds of video.
    const { stdout } = await run('ffprobe', [
      '-v',
      'error',
      '-show_entries',
      'format=duration',
      '-of',
      'csv=p=0',
      path.join(cwd, 'hls', 'index.m3u8'),
    ]);
    expect(Number(stdout.trim())).toBeGreaterThan(2.5);
  });

  it('downloads an image sequence (%03d) with all its files into the directory named', async () => {
    const r = await cli(['run', '--', 'ffmpeg', '-i', media.url('/video.mp4'), '-vf', 'fps=5', 'frames/%03d.png'], cwd);
    expect(r.code, r.stderr).toBe(0);
    const written = [...r.stderr.matchAll(/wrote (\S+)/g)].map((m) => m[1]);
    expect(written.length).toBeGreaterThanOrEqual(4);
    expect(written[0]).toBe('frames/001.png');
    expect(written).toEqual(written.map((_, i) => `frames/${String(i + 1).padStart(3, '0')}.png`));
    for (const f of written) {
      const { stdout } = await run('ffprobe', [
        '-v',
        'error',
        '-show_entries',
        'stream=width,height',
        '-of',
        'csv=p=0',
        path.join(cwd, f!),
      ]);
      expect(stdout.trim()).toBe('160,120');
    }
    expect(existsSync(path.join(cwd, 'frames', '%03d.png'))).toBe(false);
  });

  it("exits non-zero with FFmpeg's own stderr when the command fails", async () => {
    const r = await cli(
      ['run', '--', 'ffmpeg', '-i', media.url('/video.mp4'), '-c:v', 'libx264', '-profile:v', 'bogus', 'bad.mp4'],
      cwd,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('FAILED (FFMPEG_FAILED)');
    expect(r.stderr).toContain('invalid profile: bogus');
    expect(existsSync(path.join(cwd, 'bad.mp4'))).toBe(false);
    // --json: the failed command on stdout for scripts, the same exit code.
    const json = await cli(
      [
        'run',
        '--json',
        '--',
        'ffmpeg',
        '-i',
        media.url('/video.mp4'),
        '-c:v',
        'libx264',
        '-profile:v',
        'bogus',
        'bad.mp4',
      ],
      cwd,
    );
    expect(json.code).toBe(1);
    const out = JSON.parse(json.stdout) as { command: { status: string; error_status: string }; downloaded: string[] };
    expect(out.command).toMatchObject({ status: 'FAILED', error_status: 'FFMPEG_FAILED' });
    expect(out.downloaded).toEqual([]);
  });

  it('Ctrl-C cancels the running command: it ends FAILED / CANCELLED on the server, exit 130', async () => {
    let sent = false;
    const r = await cli(
      [
        'run',
        '--',
        'ffmpeg',
        '-filter_complex',
        'testsrc2=duration=30:size=640x360:rate=25',
        '-c:v',
        'libx264',
        'long.mp4',
      ],
      cwd,
      {
        onStderr: (text, child) => {
          if (!sent && /command [0-9a-f-]{36} submitted/.test(text)) {
            sent = true;
            setTimeout(() => process.kill(-child.pid!, 'SIGINT'), 1500);
          }
        },
      },
    );
    expect(sent).toBe(true);
    expect(r.code).toBe(130);
    const id = /command ([0-9a-f-]{36}) submitted/.exec(r.stderr)![1]!;
    expect(r.stderr).toContain(`cancelling ${id}`);
    const cliKey = (await readFile(path.join(dataDir, 'cli-key'), 'utf8')).trim();
    const final = await new FfaasClient({ baseUrl: local.url, apiKey: cliKey }).waitForCommand(id, {
      initialDelayMs: 200,
      maxDelayMs: 1000,
      timeoutMs: 30_000,
    });
    expect(final.status).toBe('FAILED');
    expect(String(final.error_status)).toBe('CANCELLED');
    expect(existsSync(path.join(cwd, 'long.mp4'))).toBe(false);
  }, 90_000);

  it('commands list/get/logs with --json, and errors that say what to do', { timeout: 120_000 }, async () => {
    const list = await cli(['commands', 'list', '--json', '--limit', '3'], cwd);
    expect(list.code, list.stderr).toBe(0);
    const page = ListCommandsResponseSchema.parse(JSON.parse(list.stdout));
    const failed = page.commands.find((c) => c.error_status === 'FFMPEG_FAILED')!;
    const logs = await cli(['commands', 'logs', failed.command_id], cwd);
    expect(logs.stdout).toContain('invalid profile: bogus');
    const missing = await cli(['commands', 'get', '00000000-0000-4000-8000-000000000000'], cwd);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('404 NOT_FOUND');
    const badKey = await cli(['commands', 'list', '--url', local.url, '--key', 'ffaas_nope'], cwd);
    expect(badKey.code).toBe(1);
    expect(badKey.stderr).toContain('check the key');
    const noKey = await cli(['commands', 'list', '--url', local.url], cwd, { extraEnv: { FFAAS_API_KEY: '' } });
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain('pass --key KEY or set FFAAS_API_KEY');
    const help = await cli(['run', '--help'], cwd);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Ctrl-C cancels');
    // Every --help and usage error, in-process: test/unit/cli/main.test.ts.
  });

  it('webhooks set/show/test: the test command is delivered, signed, to the URL set', async () => {
    const received: { headers: Record<string, unknown>; body: string }[] = [];
    const receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    try {
      const noneYet = await cli(['webhooks', 'test'], cwd);
      expect(noneYet.code).toBe(2);
      expect(noneYet.stderr).toContain('no webhook set: ffaas webhooks set URL');
      const set = await cli(['webhooks', 'set', hook, '--json'], cwd);
      expect(set.code, set.stderr).toBe(0);
      expect(JSON.parse(set.stdout)).toMatchObject({ success: true, url: hook, secret: expect.any(String) });
      const show = await cli(['webhooks', 'show'], cwd);
      expect(show.stdout).toContain(`${hook} (active)`);
      const test = await cli(['webhooks', 'test', '--json'], cwd);
      expect(test.code, test.stderr).toBe(0);
      const out = JSON.parse(test.stdout) as { command_id: string; deliveries: unknown };
      expect(JSON.stringify(out.deliveries)).toContain('"status"');
      const delivered = received.find((r) => r.body.includes(out.command_id));
      expect(delivered, JSON.stringify(received)).toBeDefined();
      expect(Object.keys(delivered!.headers).some((h) => /signature/i.test(h))).toBe(true);
    } finally {
      await new Promise((r) => receiver.close(r));
    }
  }, 90_000);
});

/** Gray pixels of a PNG, via Debian's ffmpeg, to check a screenshot is not blank. */
async function grayStats(png: string): Promise<{ mean: number; stddev: number; distinct: number }> {
  const { stdout } = await run('ffmpeg', ['-v', 'error', '-i', png, '-f', 'rawvideo', '-pix_fmt', 'gray', '-'], {
    encoding: 'buffer',
    maxBuffer: 64 << 20,
  });
  const px = stdout as unknown as Buffer;
  let sum = 0;
  for (const v of px) sum += v;
  const mean = sum / px.length;
  let sq = 0;
  for (const v of px) sq += (v - mean) ** 2;
  return { mean, stddev: Math.sqrt(sq / px.length), distinct: new Set(px).size };
}

describe.skipIf(!existsSync(CHROMIUM))('the web console in headless Chromium', () => {
  it('connects with a key, runs a command to SUCCESS, plays its video, and looks right', async () => {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    const shots = path.join(dataDir, 'screenshots');
    await mkdir(shots, { recursive: true });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${local.url}/console/`);
      await page.fill('#api-key', key);
      await page.click('#connect button');
      await page.waitForSelector('#conn-status:has-text("connected")');
      await page.click('#submit button');
      await page.waitForSelector('#submit-status:has-text("submitted")');
      const id = ((await page.textContent('#submit-status')) ?? '').replace('submitted ', '').trim();
      // Live status: the row of the command reaches SUCCESS.
      await page.waitForSelector(`tr[data-id="${id}"] td.SUCCESS`, { timeout: 60_000 });
      await page.waitForSelector('#outputs video');
      // A string: this runs in the page (the test's tsconfig has no DOM types).
      const playing = (await page.evaluate(`(async () => {
        const video = document.querySelector('#outputs video');
        const until = Date.now() + 15000;
        while (video.readyState < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
        const readyState = video.readyState;
        await video.play();
        const start = video.currentTime;
        while (video.currentTime - start < 0.3 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
        video.pause();
        return { readyState, advanced: video.currentTime - start, width: video.videoWidth };
      })()`)) as { readyState: number; advanced: number; width: number };
      expect(playing.readyState).toBeGreaterThanOrEqual(2);
      expect(playing.advanced).toBeGreaterThan(0.2);
      expect(playing.width).toBe(320);
      for (const sel of ['header h1', '#commands', '#detail', '#outputs video'])
        expect(await page.isVisible(sel), sel).toBe(true);
      const commandsShot = path.join(shots, 'commands.png');
      await page.screenshot({ path: commandsShot, fullPage: true });
      const stats = await grayStats(commandsShot);
      expect(stats.stddev).toBeGreaterThan(10);
      expect(stats.distinct).toBeGreaterThan(20);
      // The video frame (testsrc2 colours) is in the picture, not a black box.
      const videoShot = path.join(shots, 'video.png');
      await page.locator('#outputs video').screenshot({ path: videoShot });
      expect((await grayStats(videoShot)).distinct).toBeGreaterThan(30);

      await page.click('nav button[data-tab="keys"]');
      await page.waitForSelector('#keys tbody tr');
      expect(await page.isVisible('#tab-keys #keys')).toBe(true);
      expect(await page.isVisible('#tab-commands')).toBe(false);
      expect(errors).toEqual([]);
      if (process.env.FFAAS_KEEP_SCREENSHOTS) await copyFile(commandsShot, process.env.FFAAS_KEEP_SCREENSHOTS);
    } finally {
      await browser.close();
    }
  }, 90_000);
});

/** Headless Debian Chromium with one page; `errors` collects the page's uncaught errors. */
async function withPage(
  fn: (page: import('playwright-core').Page, errors: string[], shots: string) => Promise<void>,
): Promise<void> {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
  const shots = path.join(dataDir, 'screenshots');
  await mkdir(shots, { recursive: true });
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await fn(page, errors, shots);
  } finally {
    await browser.close();
  }
}

/** Width and height of a PNG (its IHDR), to check a screenshot is the page it should be. */
async function pngSize(file: string): Promise<{ width: number; height: number }> {
  const png = await readFile(file);
  expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

/** Screenshot of `selector` (or the page), checked to be a picture and not blank. */
async function checkedShot(
  page: import('playwright-core').Page,
  file: string,
  selector?: string,
): Promise<{ mean: number; stddev: number; distinct: number }> {
  if (selector) await page.locator(selector).screenshot({ path: file });
  else await page.screenshot({ path: file, fullPage: true });
  const size = await pngSize(file);
  expect(size.width).toBeGreaterThan(selector ? 20 : 1000);
  expect(size.height).toBeGreaterThan(20);
  const stats = await grayStats(file);
  expect(stats.stddev, file).toBeGreaterThan(5);
  return stats;
}

describe.skipIf(!existsSync(CHROMIUM))(
  'the web console in headless Chromium: every kind of output, files, webhooks, keys',
  () => {
    it('plays an image, an audio file and an HLS playlist in the page', async () => {
      const run = (output: string, command: string) =>
        client.run(
          {
            input_files: { in_video: media.url('/video.mp4') },
            output_files: { out_x: output },
            ffmpeg_command: command,
          },
          { initialDelayMs: 200, maxDelayMs: 1000 },
        );
      const image = await run('still.png', 'ffmpeg -i {{in_video}} -frames:v 1 {{out_x}}');
      const audio = await run('sound.mp3', 'ffmpeg -i {{in_video}} -vn -c:a libmp3lame {{out_x}}');
      const hls = await run(
        'play.m3u8',
        'ffmpeg -i {{in_video}} -c:v libx264 -preset ultrafast -g 5 -c:a aac -f hls -hls_time 0.4 -hls_playlist_type vod {{out_x}}',
      );
      for (const c of [image, audio, hls]) expect(c.status, c.error_message ?? '').toBe('SUCCESS');
      await withPage(async (page, errors, shots) => {
        await page.goto(`${local.url}/console/`);
        await page.fill('#api-key', key);
        await page.click('#connect button');
        await page.waitForSelector('#conn-status:has-text("connected")');

        await page.click(`tr[data-id="${image.command_id}"]`);
        await page.waitForSelector('#outputs img');
        const img = (await page.evaluate(`(async () => {
        const img = document.querySelector('#outputs img');
        const until = Date.now() + 10000;
        while (!(img.complete && img.naturalWidth) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
        return { w: img.naturalWidth, h: img.naturalHeight };
      })()`)) as { w: number; h: number };
        expect(img).toEqual({ w: 160, h: 120 });
        expect((await checkedShot(page, path.join(shots, 'image.png'), '#outputs img')).distinct).toBeGreaterThan(30);

        await page.click(`tr[data-id="${audio.command_id}"]`);
        await page.waitForSelector('#outputs audio');
        const sound = (await page.evaluate(`(async () => {
        const a = document.querySelector('#outputs audio');
        const until = Date.now() + 15000;
        while (a.readyState < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
        a.muted = true;
        await a.play();
        const start = a.currentTime;
        while (a.currentTime - start < 0.2 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
        a.pause();
        return { readyState: a.readyState, duration: a.duration, advanced: a.currentTime - start };
      })()`)) as { readyState: number; duration: number; advanced: number };
        expect(sound.readyState).toBeGreaterThanOrEqual(2);
        expect(sound.duration).toBeGreaterThan(0.9);
        expect(sound.advanced).toBeGreaterThan(0.1);

        await page.click(`tr[data-id="${hls.command_id}"]`);
        await page.waitForSelector('#outputs video');
        const playlist = (await page.evaluate(`(async () => {
        const v = document.querySelector('#outputs video');
        const until = Date.now() + 20000;
        while (v.readyState < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
        const readyState = v.readyState;
        await v.play();
        const start = v.currentTime;
        while (v.currentTime - start < 0.3 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
        v.pause();
        return { readyState, advanced: v.currentTime - start, width: v.videoWidth };
      })()`)) as { readyState: number; advanced: number; width: number };
        expect(playlist.readyState).toBeGreaterThanOrEqual(2);
        expect(playlist.advanced).toBeGreaterThan(0.2);
        expect(playlist.width).toBe(160);
        expect((await checkedShot(page, path.join(shots, 'hls.png'), '#outputs video')).distinct).toBeGreaterThan(30);
        expect(errors).toEqual([]);
      });
    }, 120_000);

    it('uploads and deletes a stored file, sets a webhook and shows its deliveries, manages local keys', async () => {
      await withPage(async (page, errors, shots) => {
        await page.goto(`${local.url}/console/`);
        await page.fill('#api-key', key);
        await page.click('#connect button');
        await page.waitForSelector('#conn-status:has-text("connected")');

        // Files: upload through the page, see it STORED, delete it.
        await page.click('nav button[data-tab="files"]');
        await page.setInputFiles('#upload-file', path.join(fixtures.dir, 'video.mp4'));
        await page.click('#upload button');
        await page.waitForSelector('#upload-status:has-text("uploaded")');
        const fileId = ((await page.textContent('#upload-status')) ?? '').replace('uploaded ', '').trim();
        expect((await client.getFile(fileId)).filename).toBe('video.mp4');
        await page.waitForSelector(`#files tr:has(code:text-is("${fileId}"))`);
        await checkedShot(page, path.join(shots, 'files.png'));
        await page.click(`#files tr:has(code:text-is("${fileId}")) button`);
        await page.waitForSelector(`#files tr:has(code:text-is("${fileId}"))`, { state: 'detached' });
        expect((await client.getFile(fileId).catch((e: FfaasApiError) => e)) as FfaasApiError).toMatchObject({
          status: 404,
        });

        // Webhooks: the URL set in the page is the account's; a command's delivery shows up.
        media.route('/hook', (req, res) => {
          req.resume();
          res.writeHead(200).end('ok');
        });
        const hook = media.url('/hook');
        await page.click('nav button[data-tab="webhooks"]');
        await page.fill('#webhook-url', hook);
        await page.click('#webhook-form button');
        await page.waitForSelector('#webhook-secret:has-text("Signing secret")');
        await page.waitForSelector(`#webhook-config:has-text("${hook} (active)")`);
        const done = await client.run(
          {
            input_files: { in_video: media.url('/video.mp4') },
            output_files: { out_x: 'hooked.png' },
            ffmpeg_command: 'ffmpeg -i {{in_video}} -frames:v 1 {{out_x}}',
          },
          { initialDelayMs: 200, maxDelayMs: 1000 },
        );
        const until = Date.now() + 30_000;
        let shown = '';
        const row = `#webhook-deliveries tr[data-command="${done.command_id}"]`;
        while (!shown.includes('DELIVERED') && Date.now() < until) {
          await page.click('nav button[data-tab="webhooks"]');
          await page.waitForTimeout(500);
          shown =
            (await page
              .locator(row)
              .textContent({ timeout: 1000 })
              .catch(() => '')) ?? '';
        }
        expect(shown).toContain('DELIVERED');
        expect(shown).toContain('200');
        await checkedShot(page, path.join(shots, 'webhooks.png'));
        await client.deleteWebhook();

        // Keys (local mode): the account's keys, one created and revoked from the page.
        await page.click('nav button[data-tab="keys"]');
        await page.waitForSelector('#keys tbody tr');
        expect(await page.isVisible('#keys-cli')).toBe(false);
        await page.fill('#key-name', 'from-the-console');
        await page.click('#key-form button');
        await page.waitForSelector('#new-key:has-text("shown only now")');
        const created = /(ffsk_\S+)/.exec((await page.textContent('#new-key')) ?? '')![1]!;
        const mine = new FfaasClient({ baseUrl: local.url, apiKey: created });
        expect((await mine.listCommands()).commands.map((c) => c.command_id)).toContain(done.command_id);
        await page.locator('#keys tbody tr', { hasText: 'from-the-console' }).locator('button').click();
        await page.waitForSelector('#keys tbody tr:has-text("from-the-console") td:has-text("revoked")');
        await expect(mine.listCommands()).rejects.toMatchObject({ status: 401 });
        await checkedShot(page, path.join(shots, 'keys.png'));
        // Without a valid key of the account, the keys route refuses.
        const anonymous = await fetch(`${local.url}/console/api/keys`);
        expect(anonymous.status).toBe(401);
        expect(errors).toEqual([]);
      });
    }, 120_000);

    it('served from another origin, it opens connected to the API its config.json names (CORS)', async () => {
      await withPage(async (page, errors, shots) => {
        await page.goto(`${site.origin}/`);
        await page.waitForFunction(`document.querySelector('#base-url').value === ${JSON.stringify(local.url)}`);
        await page.fill('#api-key', key);
        await page.click('#connect button');
        await page.waitForSelector('#conn-status:has-text("connected")');
        await page.click('#submit button');
        await page.waitForSelector('#submit-status:has-text("submitted")');
        const id = ((await page.textContent('#submit-status')) ?? '').replace('submitted ', '').trim();
        await page.waitForSelector(`tr[data-id="${id}"] td.SUCCESS`, { timeout: 60_000 });
        await page.waitForSelector('#outputs video');
        expect(await page.isVisible('#outputs video')).toBe(true);
        await checkedShot(page, path.join(shots, 'elsewhere.png'));
        // A preflight from the console's origin is answered for it alone.
        const preflight = await fetch(`${local.url}/api/v1/commands`, {
          method: 'OPTIONS',
          headers: { origin: site.origin, 'access-control-request-method': 'GET' },
        });
        expect(preflight.status).toBe(204);
        expect(preflight.headers.get('access-control-allow-origin')).toBe(site.origin);
        expect(preflight.headers.get('access-control-allow-headers')).toContain('X-API-KEY');
        expect(errors).toEqual([]);
      });
    }, 120_000);
  },
);

/** The ```LANG test blocks of a user doc, in order. */
function testedBlocks(markdown: string, lang: string): string[] {
  return [...markdown.matchAll(new RegExp('```' + lang + ' test\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]!);
}

/**
 * The documents whose `test` blocks run against local mode as they are (WEBHOOKS.md's need a
 * delivery around them: their own test). Read at collection time, so a new tested doc runs.
 */
const DOCS_WITH_RUN_EXAMPLES = [
  'README.md',
  ...readdirSync(path.join(root, 'docs'))
    .filter((f) => f.endsWith('.md') && f !== 'WEBHOOKS.md')
    .sort()
    .map((f) => `docs/${f}`),
].filter((doc) => /^```(sh|python|ts) test$/m.test(readFileSync(path.join(root, doc), 'utf8')));

/** README.md and every docs/*.md: the documents a user reads. */
async function userDocs(): Promise<string[]> {
  const { readdir } = await import('node:fs/promises');
  const docs = (await readdir(path.join(root, 'docs'))).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`);
  return ['README.md', ...docs.sort()];
}

/**
 * What the docs write for a user's machine, made to run here: the default port is the test's
 * local mode, and example.com (never fetched: traffic stays on loopback) is the fixture server.
 */
function forThisMachine(block: string): string {
  return block
    .replaceAll('http://127.0.0.1:8080', local.url)
    .replaceAll('https://example.com/video.mp4', media.url('/video.mp4'));
}

describe("the docs' examples", () => {
  it('every sh, python and ts block of README.md and docs/ is run by a test, or says why not', async () => {
    const unmarked: string[] = [];
    for (const doc of await userDocs()) {
      const text = await readFile(path.join(root, doc), 'utf8');
      for (const m of text.matchAll(/^```(sh|bash|shell|python|py|ts|typescript|js|javascript)\b(.*)$/gm)) {
        const tag = m[2]!.trim();
        if (tag !== 'test' && !/^no-test: \S.{10,}/.test(tag)) unmarked.push(`${doc}: \`\`\`${m[1]}${m[2]}`);
      }
    }
    expect(unmarked).toEqual([]);
  });

  it("docs/WEBHOOKS.md's verification examples accept a real delivery, signed both ways", async () => {
    const text = await readFile(path.join(root, 'docs/WEBHOOKS.md'), 'utf8');
    const ts = testedBlocks(text, 'ts');
    const py = testedBlocks(text, 'python');
    expect(ts.length).toBe(2);
    expect(py.length).toBe(1);
    const received: { body: Buffer; headers: Record<string, string> }[] = [];
    media.route('/verify', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ body: Buffer.concat(chunks), headers: req.headers as Record<string, string> });
        res.writeHead(200).end('ok');
      });
    });
    const hooks = new FfaasClient({
      baseUrl: local.url,
      apiKey: await createKey(env, 'docs-webhooks', 'acct-docs-hooks'),
    });
    const { secret } = await hooks.setWebhook(media.url('/verify'));
    const done = await hooks.run(
      {
        input_files: {},
        output_files: { out_x: 'signed.png' },
        ffmpeg_command: 'ffmpeg -filter_complex testsrc2=size=64x64 -frames:v 1 {{out_x}}',
      },
      { initialDelayMs: 200, maxDelayMs: 1000 },
    );
    const until = Date.now() + 30_000;
    while (!received.some((r) => r.body.includes(done.command_id)) && Date.now() < until)
      await new Promise((r) => setTimeout(r, 200));
    const delivery = received.find((r) => r.body.includes(done.command_id))!;
    expect(delivery).toBeDefined();

    const tsDir = path.join(root, '.docs-examples');
    await mkdir(tsDir, { recursive: true });
    for (const [i, block] of ts.entries()) {
      const script = path.join(tsDir, `webhooks-${i}.ts`);
      // What the snippet expects around it (a receiver's raw body and headers), then what it computed.
      const prelude = [
        `const rawBody = Buffer.from(${JSON.stringify(delivery.body.toString('base64'))}, 'base64');`,
        `const req = { headers: ${JSON.stringify(delivery.headers)} };`,
        `const secret = ${JSON.stringify(secret)};`,
        `process.env.WEBHOOK_SECRET = secret;`,
      ].join('\n');
      const epilogue = `\n// @ts-ignore\nconst verified = typeof ok !== 'undefined' ? ok : typeof payload === 'object' && payload !== null && payload.command_id === ${JSON.stringify(done.command_id)} || payload?.data?.command_id === ${JSON.stringify(done.command_id)};\nif (verified !== true) { console.error('not verified', typeof payload !== 'undefined' ? JSON.stringify(payload) : ''); process.exit(3); }\n`;
      await writeFile(script, `${prelude}\n${block}${epilogue}`);
      const r = await run(
        process.execPath,
        ['--import', pathToFileURL(path.join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href, script],
        { cwd: root, timeout: 60_000 },
      ).catch((e: { stdout: string; stderr: string; code: number }) => e);
      await rm(script, { force: true });
      expect((r as { code?: number }).code ?? 0, `WEBHOOKS.md ts block ${i}:\n${block}\n${r.stdout}\n${r.stderr}`).toBe(
        0,
      );
      // A forged body is refused by the same snippet.
      const forged = `${prelude.replace(/^const rawBody = .*$/m, `const rawBody = Buffer.from(${JSON.stringify(delivery.body.toString('utf8').replace('SUCCESS', 'FAILED'))});`)}\n${block}${epilogue}`;
      await writeFile(script, forged);
      const f = await run(
        process.execPath,
        ['--import', pathToFileURL(path.join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href, script],
        { cwd: root, timeout: 60_000 },
      ).catch((e: { stdout: string; stderr: string; code: number }) => e);
      await rm(script, { force: true });
      expect((f as { code?: number }).code ?? 0, `WEBHOOKS.md ts block ${i} with a forged body`).not.toBe(0);
    }
    const cwd = await mkdtemp(path.join(tmpdir(), 'ffaas-docs-hooks-'));
    try {
      const script = path.join(cwd, 'verify.py');
      const prelude = [
        'import base64',
        'from requests.structures import CaseInsensitiveDict',
        `raw_body = base64.b64decode(${JSON.stringify(delivery.body.toString('base64'))})`,
        `secret = ${JSON.stringify(secret)}`,
        'class request:',
        `    headers = CaseInsensitiveDict(${JSON.stringify(delivery.headers)})`,
      ].join('\n');
      await writeFile(script, `${prelude}\n${py[0]}\nassert ok is True, 'not verified'\n`);
      const r = await run('python3', [script], { cwd, timeout: 60_000 }).catch(
        (e: { stdout: string; stderr: string; code: number }) => e,
      );
      expect((r as { code?: number }).code ?? 0, `WEBHOOKS.md python block:\n${r.stdout}\n${r.stderr}`).toBe(0);
    } finally {
      await rm(cwd, { recursive: true, force: true });
      await hooks.deleteWebhook();
    }
  }, 120_000);

  it.each(DOCS_WITH_RUN_EXAMPLES)(
    'every `sh test` / `python test` / `ts test` block of %s runs against local mode',
    async (doc) => {
      const text = await readFile(path.join(root, doc), 'utf8');
      const sh = testedBlocks(text, 'sh');
      const py = testedBlocks(text, 'python');
      const ts = testedBlocks(text, 'ts');
      expect(sh.length + py.length + ts.length, `${doc} has no tested examples`).toBeGreaterThan(0);
      const cwd = await mkdtemp(path.join(tmpdir(), 'ffaas-docs-'));
      try {
        await copyFile(path.join(fixtures.dir, 'video.mp4'), path.join(cwd, 'input.mp4'));
        const prelude = [
          'set -euo pipefail',
          // `npx ffaas` as a user of this checkout runs it.
          `npx() { if [ "$1" = ffaas ]; then shift; node ${JSON.stringify(path.join(root, 'bin', 'ffaas.mjs'))} "$@"; else command npx "$@"; fi; }`,
        ].join('\n');
        const exampleEnv = { FFAAS_URL: local.url, FFAAS_API_KEY: key, INPUT_URL: media.url('/video.mp4') };
        // One shell per document, its blocks in order (a later block uses what an earlier one set).
        if (sh.length > 0) {
          const script = path.join(cwd, 'blocks.sh');
          await writeFile(script, `${prelude}\n${sh.map(forThisMachine).join('\n')}`);
          const r = await run('bash', [script], {
            cwd,
            env: { ...process.env, ...env, ...exampleEnv },
            timeout: 180_000,
          }).catch((e: { stdout: string; stderr: string; code: number }) => e);
          expect((r as { code?: number }).code ?? 0, `${doc} sh blocks:\n${r.stdout}\n${r.stderr}`).toBe(0);
        }
        for (const [i, block] of py.entries()) {
          const script = path.join(cwd, `block-${i}.py`);
          await writeFile(script, block);
          const r = await run('python3', [script], {
            cwd,
            env: { ...process.env, ...env, ...exampleEnv },
            timeout: 120_000,
          }).catch((e: { stdout: string; stderr: string; code: number }) => e);
          expect(
            (r as { code?: number }).code ?? 0,
            `${doc} python block ${i}:\n${block}\n${r.stdout}\n${r.stderr}`,
          ).toBe(0);
        }
        // TypeScript examples import 'ffaas/client': run inside the checkout so the package resolves itself.
        const tsDir = path.join(root, '.docs-examples');
        await mkdir(tsDir, { recursive: true });
        for (const [i, block] of ts.entries()) {
          const script = path.join(tsDir, `${path.basename(doc, '.md')}-${i}.ts`);
          await writeFile(script, block);
          const r = await run(
            process.execPath,
            ['--import', pathToFileURL(path.join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href, script],
            { cwd, env: { ...process.env, ...env, ...exampleEnv }, timeout: 120_000 },
          ).catch((e: { stdout: string; stderr: string; code: number }) => e);
          await rm(script, { force: true });
          expect((r as { code?: number }).code ?? 0, `${doc} ts block ${i}:\n${block}\n${r.stdout}\n${r.stderr}`).toBe(
            0,
          );
        }
      } finally {
        await rm(cwd, { recursive: true, force: true });
      }
    },
    240_000,
  );
});
