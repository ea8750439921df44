/**
 * The worker against real services: dynalite (the command item, progress writes), s3rver
 * (uploads), a local Step Functions endpoint (task-token calls), Debian's ffmpeg and a fixture
 * HTTP server of lavfi media. Plans are written by hand (the parser is tested on its own).
 */
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENV, S3_KEYS, TABLE } from '../../../core/constants.ts';
import { parseFfmpegCommand } from '../../../core/command/index.ts';
import type { CommandItem, CommandPlan, WorkerResult } from '../../../core/types.ts';
import { DEFAULTS, resolveExecutable, type WorkerConfig } from '../../../fargate-task/src/config.ts';
import { silentLogger } from '../../../fargate-task/src/log.ts';
import { runCommand, type RunOutcome } from '../../../fargate-task/src/run-command.ts';
import {
  makeFixtures,
  startDynalite,
  startFixtureServer,
  startS3rver,
  startSfnEndpoint,
  type DynaliteHandle,
  type Fixtures,
  type FixtureServer,
  type S3rverHandle,
  type SfnEndpoint,
} from '../../helpers/index.ts';

const TABLE_NAME = 'ffaas-commands-test';
const BUCKET = 'ffaas-worker-test';
const ACCOUNT = 'acct-1';

let db: DynaliteHandle;
let s3: S3rverHandle;
let sfn: SfnEndpoint;
let fx: Fixtures;
let web: FixtureServer;
let workRoot: string;
let seq = 0;

beforeAll(async () => {
  [db, s3, sfn, fx] = await Promise.all([
    startDynalite(),
    startS3rver({ buckets: [BUCKET] }),
    startSfnEndpoint(),
    makeFixtures({ names: ['video.mp4', 'long.mp4'] }),
  ]);
  await db.createCommandsTable(TABLE_NAME);
  web = await startFixtureServer({ dir: fx.dir });
  workRoot = await mkdtemp(path.join(tmpdir(), 'ffaas-work-'));
  await chmod(workRoot, 0o755); // like /work in the image: the ffmpeg user may traverse it
});

afterAll(async () => {
  await Promise.all([db?.stop(), s3?.stop(), sfn?.stop(), web?.stop()]);
  await fx?.cleanup();
  if (workRoot) await rm(workRoot, { recursive: true, force: true });
});

interface Case {
  commandId: string;
  token: string;
  outcome: RunOutcome;
  workspace?: string;
  pids: number[];
}

async function runCase(
  plan: CommandPlan,
  opts: {
    maxSeconds?: number;
    config?: Partial<WorkerConfig>;
    env?: Record<string, string>;
    /** Extra item fields (e.g. `attempts` of earlier, dead attempts). */
    item?: Partial<CommandItem>;
    /** Runs after the item is stored, before the worker starts. */
    before?: (commandId: string) => Promise<void>;
  } = {},
): Promise<Case> {
  const commandId = `cmd-${++seq}-${Date.now()}`;
  const token = `token-${commandId}`;
  const item: CommandItem = {
    account_id: ACCOUNT,
    command_id: commandId,
    status: 'PROCESSING',
    command_type: 'FFMPEG_COMMAND',
    created_at: new Date().toISOString(),
    original_request: { input_files: {}, output_files: {}, ffmpeg_command: 'hand-written plan' },
    max_command_run_seconds: opts.maxSeconds ?? 60,
    compute: 'cpu',
    vcpu_count: 2,
    plan,
    ...opts.item,
  };
  await db.doc.send(new PutCommand({ TableName: TABLE_NAME, Item: item }));
  await opts.before?.(commandId);
  const config: WorkerConfig = {
    commandsTable: TABLE_NAME,
    bucket: BUCKET,
    accountId: ACCOUNT,
    commandId,
    taskToken: token,
    workDir: workRoot,
    allowPrivateUrls: true, // the fixture server is on 127.0.0.1
    ffmpegPath: resolveExecutable('ffmpeg'),
    ffprobePath: resolveExecutable('ffprobe'),
    heartbeatIntervalMs: 60_000,
    progressIntervalMs: 200,
    killGraceMs: 1_000,
    probeTimeoutMs: 20_000,
    maxOutputBytes: 100 * 1024 * 1024,
    download: { maxBytes: 50 * 1024 * 1024, timeoutMs: 20_000, maxRedirects: 3, retries: 2, retryDelayMs: 50 },
    ...opts.config,
  };
  const c: Partial<Case> = { commandId, token, pids: [] };
  c.outcome = await runCommand({
    ddb: db.doc,
    s3: s3.client,
    sfn: sfn.client,
    config,
    log: silentLogger,
    hooks: { onWorkspace: (d) => (c.workspace = d), onFfmpegSpawn: (pid) => c.pids!.push(pid) },
  });
  return c as Case;
}

/** The item as stored (the worker writes outputs and attempts there). */
const itemOf = async (commandId: string) =>
  (
    await db.doc.send(
      new GetCommand({
        TableName: TABLE_NAME,
        Key: { [TABLE.commands.partitionKey]: ACCOUNT, [TABLE.commands.sortKey]: commandId },
      }),
    )
  ).Item as CommandItem;
/** The full outputs the worker stored beside its result (with a playlist's companion names). */
const storedOf = async (commandId: string) =>
  JSON.parse((await itemOf(commandId)).output_files_json ?? '{}') as WorkerResult['output_files'];

/** Every object key under the command's outputs (all attempts). */
const keysOf = async (commandId: string) =>
  (
    (
      await s3.client.send(
        new ListObjectsV2Command({ Bucket: BUCKET, Prefix: S3_KEYS.commandOutputs(ACCOUNT, commandId) }),
      )
    ).Contents ?? []
  )
    .map((o) => o.Key!)
    .sort();

const failureOf = (token: string) => sfn.callsOf('SendTaskFailure').filter((c) => c.body.taskToken === token);
const successOf = (token: string) => sfn.callsOf('SendTaskSuccess').filter((c) => c.body.taskToken === token);
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('worker: success', () => {
  it('downloads, transcodes mp4 → webm, probes, uploads, reports WorkerResult once', async () => {
    const c = await runCase({
      inputs: [{ alias: 'in_video', url: web.url('/video.mp4'), local_name: 'in_video.mp4' }],
      outputs: [{ alias: 'out_video', local_name: 'result.webm' }],
      commands: [
        [
          '-protocol_whitelist',
          'file',
          '-i',
          'in_video.mp4',
          '-c:v',
          'libvpx-vp9',
          '-deadline',
          'realtime',
          '-c:a',
          'libopus',
          'result.webm',
        ],
      ],
    });
    expect(c.outcome.error).toBeUndefined();
    expect(c.outcome).toMatchObject({ status: 'SUCCESS', reported: true });

    const success = successOf(c.token);
    expect(success).toHaveLength(1);
    expect(failureOf(c.token)).toHaveLength(0);
    const result = JSON.parse(success[0]!.body.output as string) as WorkerResult;
    expect(result.ffmpeg_command_run_seconds).toBeGreaterThan(0);
    const out = result.output_files.out_video!;
    const key = S3_KEYS.output(ACCOUNT, c.commandId, 'result.webm', 1);
    expect(out).toMatchObject({
      s3_key: key,
      status: 'STORED',
      rendi_store_type: 'OUTPUT',
      is_deleted: false,
      filename: 'result.webm',
      file_type: 'video',
      file_format: 'webm',
      codec: 'vp9',
      pixel_format: 'yuv420p',
      mime_type: 'video/webm',
      width: 160,
      height: 120,
      frame_rate: 25,
      file_count: 1,
    });
    expect(out).not.toHaveProperty('companion_names');
    expect(out.file_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(out.duration).toBeGreaterThan(0.9);
    expect(out.duration).toBeLessThan(1.2);
    expect(out).not.toHaveProperty('storage_url');

    const stored = await s3.getObject(BUCKET, key);
    expect(stored).not.toBeNull();
    expect(stored!.contentType).toBe('video/webm');
    expect(out.size_mbytes).toBeCloseTo(stored!.body.length / 1048576, 5);
    expect(stored!.body.subarray(0, 4).toString('hex')).toBe('1a45dfa3'); // EBML magic

    const item = (
      await db.doc.send(
        new GetCommand({
          TableName: TABLE_NAME,
          Key: { [TABLE.commands.partitionKey]: ACCOUNT, [TABLE.commands.sortKey]: c.commandId },
        }),
      )
    ).Item as CommandItem;
    expect(item.progress).toBeDefined();
    expect(item.progress!.out_time_seconds).toBeGreaterThan(0);
    expect(item.progress!.percent).toBe(100);
    expect(item.status).toBe('PROCESSING'); // the state machine, not the worker, finishes it

    expect(sfn.callsOf('SendTaskHeartbeat').some((h) => h.body.taskToken === c.token)).toBe(true);
    expect(c.workspace).toBeDefined();
    expect(await readdir(workRoot)).not.toContain(path.basename(c.workspace!));
  });

  it('stores each output with the probed type even though it is uploaded while probed: an audio-only .mp4 is audio/mp4', async () => {
    const c = await runCase({
      inputs: [{ alias: 'in_video', url: web.url('/video.mp4'), local_name: 'in_video.mp4' }],
      outputs: [
        { alias: 'out_audio', local_name: 'sound.mp4' },
        { alias: 'out_video', local_name: 'clip.mp4' },
      ],
      commands: [
        [
          '-i',
          'in_video.mp4',
          '-vn',
          '-c:a',
          'aac',
          'sound.mp4',
          '-an',
          '-c:v',
          'libx264',
          '-preset',
          'ultrafast',
          'clip.mp4',
        ],
      ],
    });
    expect(c.outcome.status, JSON.stringify(c.outcome.error)).toBe('SUCCESS');
    const files = c.outcome.result!.output_files;
    expect(files.out_audio).toMatchObject({ file_type: 'audio', mime_type: 'audio/mp4' });
    expect(files.out_video).toMatchObject({ file_type: 'video', mime_type: 'video/mp4' });
    const audio = await s3.getObject(BUCKET, S3_KEYS.output(ACCOUNT, c.commandId, 'sound.mp4', 1));
    const video = await s3.getObject(BUCKET, S3_KEYS.output(ACCOUNT, c.commandId, 'clip.mp4', 1));
    expect(audio!.contentType).toBe('audio/mp4'); // stored again after the probe (the name says video/mp4)
    expect(video!.contentType).toBe('video/mp4');
    // The bytes are the file's.
    expect(audio!.body.length / 1048576).toBeCloseTo(files.out_audio!.size_mbytes!, 5);
    expect(audio!.body.subarray(4, 8).toString('latin1')).toBe('ftyp');
  });

  it('runs chained commands in one workspace, a later one reading an earlier output', async () => {
    const c = await runCase({
      inputs: [{ alias: 'in_video', url: web.url('/video.mp4'), local_name: 'in_video.mp4' }],
      outputs: [
        { alias: 'out_audio', local_name: 'audio.wav' },
        { alias: 'out_thumb', local_name: 'thumb.png' },
      ],
      commands: [
        ['-i', 'in_video.mp4', '-t', '0.5', '-c:v', 'libx264', '-preset', 'ultrafast', '-c:a', 'aac', 'mid.mp4'],
        ['-i', 'mid.mp4', '-vn', '-c:a', 'pcm_s16le', 'audio.wav', '-an', '-frames:v', '1', 'thumb.png'],
      ],
    });
    expect(c.outcome.status).toBe('SUCCESS');
    const result = c.outcome.result!;
    expect(result.output_files.out_audio).toMatchObject({
      file_type: 'audio',
      codec: 'pcm_s16le',
      mime_type: 'audio/wav',
      width: null,
      frame_rate: null,
    });
    expect(result.output_files.out_thumb).toMatchObject({
      file_type: 'image',
      codec: 'png',
      mime_type: 'image/png',
      width: 160,
      height: 120,
      duration: null,
    });
    // Without a playlist output, files FFmpeg wrote that no declared output owns are not stored.
    expect(await s3.getObject(BUCKET, S3_KEYS.output(ACCOUNT, c.commandId, 'mid.mp4', 1))).toBeNull();
  });
});

/**
 * Playlist outputs end to end from the user's command: these plans come from the parser on
 * purpose, since it is the parser that marks a manifest as a playlist.
 */
describe('worker: playlist outputs (HLS, DASH)', () => {
  function planOf(command: string, outputFiles: Record<string, string>): CommandPlan {
    const r = parseFfmpegCommand({
      commands: [command],
      inputFiles: { in_video: web.url('/video.mp4') },
      outputFiles,
      gpuAvailable: false,
    });
    if (!r.ok) throw new Error(JSON.stringify(r.violations));
    return r.plan;
  }
  const HLS =
    'ffmpeg -i {{in_video}} -c:v libx264 -preset ultrafast -g 5 -c:a aac -f hls -hls_time 0.2 -hls_playlist_type vod -hls_segment_filename seg_%03d.ts {{out_playlist_hls}}';
  const get = async (commandId: string, name: string) =>
    s3.getObject(BUCKET, S3_KEYS.output(ACCOUNT, commandId, name, 1));

  it('HLS: the manifest and every segment it lists are stored side by side; file_count and size_mbytes cover them all', async () => {
    const c = await runCase(planOf(HLS, { out_playlist_hls: 'index.m3u8' }));
    expect(c.outcome.error).toBeUndefined();
    expect(c.outcome.status).toBe('SUCCESS');
    // The task result carries no segment names (bounded size); the item has them.
    expect(c.outcome.result!.output_files.out_playlist_hls).not.toHaveProperty('companion_names');
    const out = (await storedOf(c.commandId)).out_playlist_hls!;
    expect((await itemOf(c.commandId)).attempts).toBe(1);
    expect(out).toMatchObject({
      s3_key: S3_KEYS.output(ACCOUNT, c.commandId, 'index.m3u8', 1),
      filename: 'index.m3u8',
      file_format: 'hls',
      mime_type: 'application/vnd.apple.mpegurl',
    });

    const manifest = await get(c.commandId, 'index.m3u8');
    expect(manifest?.contentType).toBe('application/vnd.apple.mpegurl');
    const listed = manifest!.body
      .toString('utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    expect(listed.length).toBeGreaterThanOrEqual(3);
    let bytes = manifest!.body.length;
    for (const name of listed) {
      const seg = await get(c.commandId, name); // relative to the manifest: same prefix
      expect(seg, name).not.toBeNull();
      expect(seg!.contentType).toBe('video/mp2t');
      expect(seg!.body[0]).toBe(0x47); // MPEG-TS sync byte
      bytes += seg!.body.length;
    }
    expect(out.file_count).toBe(1 + listed.length);
    expect(out.companion_names).toEqual(listed);
    expect(out.size_mbytes).toBeCloseTo(bytes / 1048576, 5);
    expect(await get(c.commandId, 'in_video.mp4')).toBeNull(); // the downloaded input is not a companion
  });

  it('DASH: manifest.mpd with its init and chunk files', async () => {
    const c = await runCase(
      planOf(
        'ffmpeg -i {{in_video}} -c:v libx264 -preset ultrafast -g 5 -c:a aac -f dash -seg_duration 0.2 {{out_playlist}}',
        { out_playlist: 'manifest.mpd' },
      ),
    );
    expect(c.outcome.error).toBeUndefined();
    const out = (await storedOf(c.commandId)).out_playlist!;
    expect(c.outcome.result!.output_files.out_playlist!.file_count).toBe(out.file_count);
    const manifest = await get(c.commandId, 'manifest.mpd');
    expect(manifest?.contentType).toBe('application/dash+xml');
    const mpd = manifest!.body.toString('utf8');
    // SegmentTemplate attributes → the file names they stand for.
    const templates = [...mpd.matchAll(/(?:initialization|media)="([^"]+)"/g)].map(
      (m) =>
        new RegExp(
          `^${m[1]!
            .replace(/\$RepresentationID\$/g, '\\d+')
            .replace(/\$Number%0(\d)d\$/g, '\\d{$1}')
            .replace(/\./g, '\\.')}$`,
        ),
    );
    expect(templates.length).toBeGreaterThanOrEqual(2);
    const names = out.companion_names!;
    expect(names.filter((n) => n.startsWith('init-'))).toHaveLength(2); // video + audio
    expect(names.filter((n) => n.startsWith('chunk-')).length).toBeGreaterThanOrEqual(4);
    let bytes = manifest!.body.length;
    for (const name of names) {
      expect(
        templates.some((t) => t.test(name)),
        name,
      ).toBe(true);
      const obj = await get(c.commandId, name);
      expect(obj, name).not.toBeNull();
      bytes += obj!.body.length;
    }
    expect(out.file_count).toBe(1 + names.length);
    expect(out.size_mbytes).toBeCloseTo(bytes / 1048576, 5);
  });

  it('OUTPUT_UPLOAD_FAILED when manifest + segments exceed the output byte cap (the manifest alone does not)', async () => {
    const c = await runCase(planOf(HLS, { out_playlist_hls: 'index.m3u8' }), { config: { maxOutputBytes: 20_000 } });
    expect(c.outcome.error?.status).toBe('OUTPUT_UPLOAD_FAILED');
    expect(c.outcome.error?.message).toMatch(
      /playlist output out_playlist_hls is \d+ bytes with its \d+ segment\/companion files, over the limit of 20000/,
    );
    expect(await get(c.commandId, 'index.m3u8')).toBeNull();
    expect(await get(c.commandId, 'seg_000.ts')).toBeNull();
  });
});

/** Sequence outputs (frame_%03d.png, seg_%d.ts) from the user's command, through the parser. */
describe('worker: sequence outputs (image sequences, -f segment)', () => {
  function planOf(command: string, outputFiles: Record<string, string>): CommandPlan {
    const r = parseFfmpegCommand({
      commands: [command],
      inputFiles: { in_video: web.url('/video.mp4') },
      outputFiles,
      gpuAvailable: false,
    });
    if (!r.ok) throw new Error(JSON.stringify(r.violations));
    return r.plan;
  }
  const get = async (commandId: string, name: string) =>
    s3.getObject(BUCKET, S3_KEYS.output(ACCOUNT, commandId, name, 1));

  it('frame_%03d.png: every frame stored under the output prefix; the meta describes the first, file_count counts them', async () => {
    const c = await runCase(
      planOf('ffmpeg -i {{in_video}} -vf fps=4 {{out_frames}}', { out_frames: 'frame_%03d.png' }),
    );
    expect(c.outcome.error).toBeUndefined();
    const out = c.outcome.result!.output_files.out_frames!;
    expect(out).toMatchObject({
      filename: 'frame_001.png',
      s3_key: S3_KEYS.output(ACCOUNT, c.commandId, 'frame_001.png', 1),
      file_type: 'image',
      width: 160,
      height: 120,
    });
    expect(out.file_count).toBeGreaterThan(1);
    // The task result stays small; the full outputs (with the sequence's names) are stored beside it.
    const names = ['frame_001.png', ...(await storedOf(c.commandId)).out_frames!.companion_names!];
    expect(names).toHaveLength(out.file_count!);
    expect(names).toEqual(names.map((_, i) => `frame_${String(i + 1).padStart(3, '0')}.png`));
    let bytes = 0;
    for (const name of names) {
      const obj = await get(c.commandId, name);
      expect(obj, name).not.toBeNull();
      expect(obj!.contentType).toBe('image/png');
      expect(obj!.body.subarray(1, 4).toString('latin1')).toBe('PNG');
      bytes += obj!.body.length;
    }
    expect(out.size_mbytes).toBeCloseTo(bytes / 1048576, 5);
  });

  it('-f segment: seg_%d.ts stored as one output, its list as another, segments not counted twice', async () => {
    const c = await runCase(
      planOf(
        'ffmpeg -i {{in_video}} -c:v libx264 -preset ultrafast -g 5 -c:a aac -f segment -segment_time 0.2 -segment_list {{out_list}} {{out_segments}}',
        {
          out_segments: 'seg_%d.ts',
          out_list: 'list.m3u8',
        },
      ),
    );
    expect(c.outcome.error).toBeUndefined();
    const { out_segments: segs, out_list: list } = c.outcome.result!.output_files;
    expect(segs!.filename).toBe('seg_0.ts');
    expect(segs!.file_count).toBeGreaterThanOrEqual(3);
    const manifest = (await get(c.commandId, 'list.m3u8'))!.body.toString('utf8');
    const listed = manifest
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    expect(['seg_0.ts', ...(await storedOf(c.commandId)).out_segments!.companion_names!]).toEqual(listed);
    expect(list!.file_count).toBe(1); // the playlist's segments belong to the sequence output
    for (const name of listed) expect((await get(c.commandId, name))!.body[0], name).toBe(0x47);
  });

  it('OUTPUT_MISSING when the pattern matched nothing; OUTPUT_UPLOAD_FAILED over the byte cap', async () => {
    const plan = planOf('ffmpeg -i {{in_video}} -vf fps=4 {{out_frames}}', { out_frames: 'frame_%03d.png' });
    const missing = await runCase({
      ...plan,
      commands: [plan.commands[0]!.map((a) => (a === 'frame_%03d.png' ? 'other_%03d.png' : a))],
    });
    expect(missing.outcome.error).toMatchObject({
      status: 'OUTPUT_MISSING',
      message: expect.stringContaining('no file matches its pattern'),
    });
    const big = await runCase(plan, { config: { maxOutputBytes: 3000 } });
    expect(big.outcome.error?.status).toBe('OUTPUT_UPLOAD_FAILED');
    expect(await get(big.commandId, 'frame_001.png')).toBeNull();
  });
});

describe('worker: failures', () => {
  it('FFMPEG_FAILED with the stderr tail when FFmpeg rejects an option', async () => {
    const c = await runCase({
      inputs: [{ alias: 'in_video', url: web.url('/video.mp4'), local_name: 'in_video.mp4' }],
      outputs: [{ alias: 'out_video', local_name: 'out.mp4' }],
      commands: [['-i', 'in_video.mp4', '-c:v', 'no_such_codec_xyz', 'out.mp4']],
    });
    expect(c.outcome.error?.status).toBe('FFMPEG_FAILED');
    const failure = failureOf(c.token);
    expect(failure).toHaveLength(1);
    expect(failure[0]!.body.error).toBe('FFMPEG_FAILED');
    const cause = failure[0]!.body.cause as string;
    expect(cause).toMatch(/^FFmpeg exited with code \d+:\n/);
    expect(cause).toMatch(/no_such_codec_xyz/);
    expect(cause.length).toBeLessThan(2300);
    expect(successOf(c.token)).toHaveLength(0);
    expect(await readdir(workRoot)).not.toContain(path.basename(c.workspace!));
  });

  it("reads a stored-file input straight from the bucket, only under its own account's files/ prefix", async () => {
    const own = `files/${ACCOUNT}/0b8f2f6e-3c1d-4e2a-9b7c-5d4e3f2a1b0c/clip.mp4`;
    const foreign = `files/acct-2/0b8f2f6e-3c1d-4e2a-9b7c-5d4e3f2a1b0d/clip.mp4`;
    for (const key of [own, foreign]) {
      await s3.client.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: await readFile(fx.path('video.mp4')) }),
      );
    }
    const hits = web.hits.length;
    const plan = (key: string): CommandPlan => ({
      inputs: [{ alias: 'in_video', url: `s3://${BUCKET}/${key}`, s3_key: key, local_name: 'in_video.mp4' }],
      outputs: [{ alias: 'out_audio', local_name: 'a.wav' }],
      commands: [['-i', 'in_video.mp4', '-vn', 'a.wav']],
    });
    const ok = await runCase(plan(own));
    expect(ok.outcome.status, ok.outcome.error?.message).toBe('SUCCESS');
    expect(web.hits.length).toBe(hits); // no HTTP fetch

    const refused = await runCase(plan(foreign));
    expect(refused.outcome.error?.status).toBe('INPUT_DOWNLOAD_FAILED');
    expect(refused.outcome.error?.message).toMatch(/not this account's/);
    expect(refused.pids).toHaveLength(0);

    const gone = await runCase(plan(`files/${ACCOUNT}/0b8f2f6e-3c1d-4e2a-9b7c-5d4e3f2a1b0e/deleted.mp4`));
    expect(gone.outcome.error?.status).toBe('INPUT_DOWNLOAD_FAILED');
    expect(gone.outcome.error?.message).toMatch(/stored file could not be read \(deleted\)/);
  });

  it('INPUT_DOWNLOAD_FAILED on 404, without retrying a 4xx', async () => {
    const before = web.hits.filter((h) => h.path === '/missing.mp4').length;
    const c = await runCase({
      inputs: [{ alias: 'in_video', url: web.url('/missing.mp4'), local_name: 'in_video.mp4' }],
      outputs: [{ alias: 'out_video', local_name: 'out.webm' }],
      commands: [['-i', 'in_video.mp4', 'out.webm']],
    });
    expect(c.outcome.error?.status).toBe('INPUT_DOWNLOAD_FAILED');
    expect(c.outcome.error?.message).toMatch(/in_video.*127\.0\.0\.1:\d+.*HTTP 404/);
    expect(web.hits.filter((h) => h.path === '/missing.mp4').length - before).toBe(1);
    expect(c.pids).toHaveLength(0); // FFmpeg never ran
  });

  it('retries a 503 and then succeeds', async () => {
    web.route('/flaky.mp4', (_req, res) => {
      res.writeHead(302, { location: '/video.mp4' }).end();
    });
    web.failFirst('/flaky.mp4', 1, 503);
    const c = await runCase({
      inputs: [{ alias: 'in_video', url: web.url('/flaky.mp4'), local_name: 'in_video.mp4' }],
      outputs: [{ alias: 'out_audio', local_name: 'a.wav' }],
      commands: [['-i', 'in_video.mp4', '-vn', 'a.wav']],
    });
    expect(c.outcome.status).toBe('SUCCESS');
    expect(web.hits.filter((h) => h.path === '/flaky.mp4')).toHaveLength(2);
  });

  it('INPUT_TOO_LARGE past the byte cap', async () => {
    const c = await runCase(
      {
        inputs: [{ alias: 'in_video', url: web.url('/video.mp4'), local_name: 'in_video.mp4' }],
        outputs: [{ alias: 'out_video', local_name: 'out.webm' }],
        commands: [['-i', 'in_video.mp4', 'out.webm']],
      },
      { config: { download: { maxBytes: 1000, timeoutMs: 10_000, maxRedirects: 3, retries: 2, retryDelayMs: 10 } } },
    );
    expect(c.outcome.error?.status).toBe('INPUT_TOO_LARGE');
    expect(failureOf(c.token)[0]!.body.error).toBe('INPUT_TOO_LARGE');
  });

  it('INPUT_TOO_LARGE when streamed bytes exceed the cap and no Content-Length warns', async () => {
    web.route('/chunked.bin', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' }); // chunked, no length
      for (let i = 0; i < 10; i++) res.write(Buffer.alloc(1000));
      res.end();
    });
    const c = await runCase(
      {
        inputs: [{ alias: 'in_data', url: web.url('/chunked.bin'), local_name: 'in_data.bin' }],
        outputs: [{ alias: 'out_video', local_name: 'out.webm' }],
        commands: [['-i', 'in_data.bin', 'out.webm']],
      },
      { config: { download: { maxBytes: 5000, timeoutMs: 10_000, maxRedirects: 3, retries: 0, retryDelayMs: 10 } } },
    );
    expect(c.outcome.error?.status).toBe('INPUT_TOO_LARGE');
  });

  it('TIMEOUT at max_command_run_seconds, and the FFmpeg process is gone', async () => {
    const started = Date.now();
    const c = await runCase(
      {
        inputs: [{ alias: 'in_video', url: web.url('/long.mp4'), local_name: 'in_video.mp4' }],
        outputs: [{ alias: 'out_video', local_name: 'slow.mp4' }],
        // A deliberately slow chain: heavy denoise at an upscaled size, slowest x264 preset.
        commands: [
          [
            '-i',
            'in_video.mp4',
            '-vf',
            'scale=1280:960,nlmeans=s=10:p=7:r=15',
            '-c:v',
            'libx264',
            '-preset',
            'veryslow',
            'slow.mp4',
          ],
        ],
      },
      { maxSeconds: 1 },
    );
    const elapsed = Date.now() - started;
    expect(c.outcome.error?.status).toBe('TIMEOUT');
    expect(c.outcome.error?.message).toMatch(/max_command_run_seconds \(1 s\)/);
    expect(elapsed).toBeLessThan(10_000);
    expect(c.pids).toHaveLength(1);
    expect(alive(c.pids[0]!)).toBe(false);
    expect(failureOf(c.token)[0]!.body.error).toBe('TIMEOUT');
  });

  it('OUTPUT_MISSING when the command writes another name', async () => {
    const c = await runCase({
      inputs: [{ alias: 'in_video', url: web.url('/video.mp4'), local_name: 'in_video.mp4' }],
      outputs: [{ alias: 'out_video', local_name: 'expected.wav' }],
      commands: [['-i', 'in_video.mp4', '-vn', 'other.wav']],
    });
    expect(c.outcome.error?.status).toBe('OUTPUT_MISSING');
    expect(c.outcome.error?.message).toMatch(/out_video.*expected\.wav/);
    expect(await s3.getObject(BUCKET, S3_KEYS.output(ACCOUNT, c.commandId, 'other.wav', 1))).toBeNull();
  });

  it("a re-run writes to its own attempt folder and removes the dead attempts' partial uploads", async () => {
    const c = await runCase(
      {
        inputs: [{ alias: 'in_video', url: web.url('/video.mp4'), local_name: 'in_video.mp4' }],
        outputs: [{ alias: 'out_audio', local_name: 'a.wav' }],
        commands: [['-i', 'in_video.mp4', '-vn', 'a.wav']],
      },
      {
        item: { attempts: 2 },
        // What attempts 1 and 2 left when their workers died mid-upload.
        before: async (id) => {
          for (const key of [S3_KEYS.output(ACCOUNT, id, 'a.wav', 1), S3_KEYS.output(ACCOUNT, id, 'seg_1.ts', 2)])
            await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: 'partial' }));
        },
      },
    );
    expect(c.outcome.error).toBeUndefined();
    expect((await itemOf(c.commandId)).attempts).toBe(3);
    const key = S3_KEYS.output(ACCOUNT, c.commandId, 'a.wav', 3);
    expect(key).toBe(`outputs/${ACCOUNT}/${c.commandId}/3/a.wav`);
    expect((await storedOf(c.commandId)).out_audio!.s3_key).toBe(key);
    expect(await keysOf(c.commandId)).toEqual([key]);
    expect((await s3.getObject(BUCKET, key))!.body.length).toBeGreaterThan(1000);
  });

  it("a failed attempt's partial uploads are removed (only its own folder)", async () => {
    const c = await runCase(
      {
        inputs: [{ alias: 'in_video', url: web.url('/video.mp4'), local_name: 'in_video.mp4' }],
        // The first output is stored, the second is never written: OUTPUT_MISSING after an upload.
        outputs: [
          { alias: 'out_audio', local_name: 'a.wav' },
          { alias: 'out_missing', local_name: 'never.wav' },
        ],
        commands: [['-i', 'in_video.mp4', '-vn', 'a.wav']],
      },
      {
        before: async (id) => {
          // A later attempt's file (a successor already running) is not this worker's to delete.
          await s3.client.send(
            new PutObjectCommand({ Bucket: BUCKET, Key: S3_KEYS.output(ACCOUNT, id, 'x.wav', 2), Body: 'next' }),
          );
        },
      },
    );
    expect(c.outcome.error?.status).toBe('OUTPUT_MISSING');
    expect(await keysOf(c.commandId)).toEqual([S3_KEYS.output(ACCOUNT, c.commandId, 'x.wav', 2)]);
  });

  it('INTERNAL_ERROR when the item is not PROCESSING (a stale task runs nothing)', async () => {
    const commandId = `stale-${Date.now()}`;
    await db.doc.send(
      new PutCommand({
        TableName: TABLE_NAME,
        Item: {
          account_id: ACCOUNT,
          command_id: commandId,
          status: 'SUCCESS',
          plan: { inputs: [], outputs: [], commands: [['-version']] },
        },
      }),
    );
    const outcome = await runCommand({
      ddb: db.doc,
      s3: s3.client,
      sfn: sfn.client,
      log: silentLogger,
      config: {
        commandsTable: TABLE_NAME,
        bucket: BUCKET,
        accountId: ACCOUNT,
        commandId,
        taskToken: 'tok-stale',
        workDir: workRoot,
        allowPrivateUrls: false,
        ffmpegPath: 'ffmpeg',
        ffprobePath: 'ffprobe',
        heartbeatIntervalMs: 60_000,
        progressIntervalMs: DEFAULTS.progressIntervalMs,
        killGraceMs: 1000,
        probeTimeoutMs: 1000,
        maxOutputBytes: 1,
        download: { maxBytes: 1, timeoutMs: 1, maxRedirects: 0, retries: 0, retryDelayMs: 1 },
      },
    });
    expect(outcome).toMatchObject({ status: 'FAILED', reported: true, error: { status: 'INTERNAL_ERROR' } });
    expect(outcome.error!.message).toMatch(/SUCCESS, not PROCESSING/);
  });

  it('the first heartbeat goes out before the item is read (it ends the start-up phase)', async () => {
    const token = `tok-first-beat-${Date.now()}`;
    const outcome = await runCommand({
      ddb: db.doc,
      s3: s3.client,
      sfn: sfn.client,
      log: silentLogger,
      config: {
        commandsTable: TABLE_NAME,
        bucket: BUCKET,
        accountId: ACCOUNT,
        commandId: `missing-${Date.now()}`,
        taskToken: token,
        workDir: workRoot,
        allowPrivateUrls: false,
        ffmpegPath: 'ffmpeg',
        ffprobePath: 'ffprobe',
        heartbeatIntervalMs: 60_000,
        progressIntervalMs: DEFAULTS.progressIntervalMs,
        killGraceMs: 1000,
        probeTimeoutMs: 1000,
        maxOutputBytes: 1,
        download: { maxBytes: 1, timeoutMs: 1, maxRedirects: 0, retries: 0, retryDelayMs: 1 },
      },
    });
    expect(outcome.error?.message).toMatch(/not found/);
    const ops = sfn.calls.filter((c) => c.body.taskToken === token).map((c) => c.op);
    expect(ops).toEqual(['SendTaskHeartbeat', 'SendTaskFailure']);
  });

  it('a SendTaskSuccess that Step Functions refuses is followed by SendTaskFailure(INTERNAL_ERROR) naming it', async () => {
    sfn.failWith('SendTaskSuccess', 'InvalidOutput');
    try {
      const c = await runCase({
        inputs: [{ alias: 'in_video', url: web.url('/video.mp4'), local_name: 'in_video.mp4' }],
        outputs: [{ alias: 'out_video', local_name: 'out.mp4' }],
        commands: [['-i', 'in_video.mp4', '-t', '0.2', '-c:v', 'libx264', '-preset', 'ultrafast', '-an', 'out.mp4']],
      });
      expect(successOf(c.token)).toHaveLength(1);
      expect(c.outcome).toMatchObject({ status: 'FAILED', reported: true, error: { status: 'INTERNAL_ERROR' } });
      const [failure] = failureOf(c.token);
      expect(failure!.body.error).toBe('INTERNAL_ERROR');
      expect(String(failure!.body.cause)).toMatch(/refused by Step Functions \(InvalidOutput\)/);
    } finally {
      sfn.failWith('SendTaskSuccess', null);
    }
  });

  it('WORKER_LOST when Step Functions rejects the heartbeat (task timed out): FFmpeg is stopped', async () => {
    sfn.failWith('SendTaskHeartbeat', 'TaskTimedOut');
    try {
      const started = Date.now();
      const c = await runCase({
        inputs: [{ alias: 'in_video', url: web.url('/long.mp4'), local_name: 'in_video.mp4' }],
        outputs: [{ alias: 'out_video', local_name: 'slow.mp4' }],
        commands: [
          [
            '-i',
            'in_video.mp4',
            '-vf',
            'scale=1280:960,nlmeans=s=10:p=7:r=15',
            '-c:v',
            'libx264',
            '-preset',
            'veryslow',
            'slow.mp4',
          ],
        ],
      });
      expect(c.outcome.error?.status).toBe('WORKER_LOST');
      expect(c.outcome.error?.message).toMatch(/TaskTimedOut/);
      expect(Date.now() - started).toBeLessThan(10_000);
      for (const pid of c.pids) expect(alive(pid)).toBe(false);
    } finally {
      sfn.failWith('SendTaskHeartbeat', null);
    }
  });

  it('says reported=false (main exits 1) when Step Functions refuses the report', async () => {
    sfn.failWith('SendTaskFailure', 'TaskTimedOut');
    try {
      const c = await runCase({
        inputs: [{ alias: 'in_video', url: web.url('/missing-2.mp4'), local_name: 'in_video.mp4' }],
        outputs: [{ alias: 'out_video', local_name: 'o.wav' }],
        commands: [['-i', 'in_video.mp4', 'o.wav']],
      });
      expect(c.outcome).toMatchObject({ status: 'FAILED', reported: false });
    } finally {
      sfn.failWith('SendTaskFailure', null);
    }
  });
});

describe('worker: isolation', () => {
  it("FFmpeg's environment is empty: no AWS credentials, no task token, no worker variables", async () => {
    // A wrapper in place of ffmpeg records the environment it was given, then runs ffmpeg.
    const wrapperDir = await mkdtemp(path.join(tmpdir(), 'ffaas-wrapper-'));
    const wrapper = path.join(wrapperDir, 'ffmpeg-wrapper.sh');
    await writeFile(wrapper, `#!/bin/sh\n/usr/bin/env > env.txt\nexec ${resolveExecutable('ffmpeg')} "$@"\n`);
    await chmod(wrapper, 0o755);
    process.env.AWS_SECRET_ACCESS_KEY_FOR_TEST = 'leak-me';
    process.env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI = '/v2/credentials/leak-me';
    try {
      const c = await runCase(
        {
          inputs: [{ alias: 'in_video', url: web.url('/video.mp4'), local_name: 'in_video.mp4' }],
          outputs: [
            { alias: 'out_audio', local_name: 'a.wav' },
            { alias: 'out_env', local_name: 'env.txt' },
          ],
          commands: [['-i', 'in_video.mp4', '-vn', 'a.wav']],
        },
        { config: { ffmpegPath: wrapper } },
      );
      expect(c.outcome.status).toBe('SUCCESS');
      expect(c.outcome.result!.output_files.out_env).toMatchObject({ file_type: 'other', mime_type: 'text/plain' });
      const env = (await s3.getObject(BUCKET, S3_KEYS.output(ACCOUNT, c.commandId, 'env.txt', 1)))!.body.toString(
        'utf8',
      );
      const names = env
        .split('\n')
        .filter(Boolean)
        .map((l) => l.slice(0, l.indexOf('=')));
      // Only what /bin/sh itself sets may appear.
      expect(names.filter((n) => !['PWD', 'OLDPWD', 'SHLVL', '_'].includes(n))).toEqual([]);
      expect(env).not.toMatch(/leak-me|AWS_|FFAAS_|token-/);
    } finally {
      delete process.env.AWS_SECRET_ACCESS_KEY_FOR_TEST;
      delete process.env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI;
      await rm(wrapperDir, { recursive: true, force: true });
    }
  });

  it.runIf(process.getuid?.() === 0)('runs FFmpeg as the configured unprivileged user (root only)', async () => {
    const wrapperDir = await mkdtemp(path.join(tmpdir(), 'ffaas-wrapper-'));
    await chmod(wrapperDir, 0o755);
    const wrapper = path.join(wrapperDir, 'ffmpeg-id.sh');
    await writeFile(wrapper, `#!/bin/sh\n/usr/bin/id -u > uid.txt\nexec ${resolveExecutable('ffmpeg')} "$@"\n`);
    await chmod(wrapper, 0o755);
    try {
      const c = await runCase(
        {
          inputs: [{ alias: 'in_video', url: web.url('/video.mp4'), local_name: 'in_video.mp4' }],
          outputs: [
            { alias: 'out_audio', local_name: 'a.wav' },
            { alias: 'out_uid', local_name: 'uid.txt' },
          ],
          commands: [['-i', 'in_video.mp4', '-vn', 'a.wav']],
        },
        { config: { ffmpegPath: wrapper, ffmpegUid: 65534, ffmpegGid: 65534 } },
      );
      expect(c.outcome.error).toBeUndefined();
      const uid = (await s3.getObject(BUCKET, S3_KEYS.output(ACCOUNT, c.commandId, 'uid.txt', 1)))!.body
        .toString('utf8')
        .trim();
      expect(uid).toBe('65534');
      expect(c.outcome.result!.output_files.out_audio!.file_type).toBe('audio');
    } finally {
      await rm(wrapperDir, { recursive: true, force: true });
    }
  });
});

describe('main.ts as a child process (the local-mode contract)', () => {
  async function putItem(plan: CommandPlan, maxSeconds = 60) {
    const commandId = `child-${++seq}-${Date.now()}`;
    await db.doc.send(
      new PutCommand({
        TableName: TABLE_NAME,
        Item: {
          account_id: ACCOUNT,
          command_id: commandId,
          status: 'PROCESSING',
          command_type: 'FFMPEG_COMMAND',
          created_at: new Date().toISOString(),
          original_request: { input_files: {}, output_files: {} },
          max_command_run_seconds: maxSeconds,
          compute: 'cpu',
          vcpu_count: 2,
          plan,
        } satisfies CommandItem,
      }),
    );
    return commandId;
  }

  function startWorker(commandId: string, token: string) {
    return spawn(process.execPath, ['--import', 'tsx', 'fargate-task/src/main.ts'], {
      cwd: process.cwd(),
      stdio: ['ignore', 'ignore', 'pipe'],
      env: {
        PATH: process.env.PATH,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'S3RVER',
        AWS_SECRET_ACCESS_KEY: 'S3RVER',
        AWS_EC2_METADATA_DISABLED: 'true',
        AWS_ENDPOINT_URL_DYNAMODB: db.endpoint,
        AWS_ENDPOINT_URL_S3: s3.endpoint,
        AWS_ENDPOINT_URL_SFN: sfn.endpoint,
        [ENV.COMMANDS_TABLE]: TABLE_NAME,
        [ENV.BUCKET]: BUCKET,
        [ENV.COMMAND_ID]: commandId,
        [ENV.ACCOUNT_ID]: ACCOUNT,
        [ENV.TASK_TOKEN]: token,
        [ENV.WORK_DIR]: workRoot,
        [ENV.ALLOW_PRIVATE_URLS]: '1',
      },
    });
  }

  const exitOf = (child: ReturnType<typeof spawn>) =>
    new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));

  it('runs a command end to end from its environment and exits 0', async () => {
    const commandId = await putItem({
      inputs: [{ alias: 'in_video', url: web.url('/video.mp4'), local_name: 'in_video.mp4' }],
      outputs: [{ alias: 'out_audio', local_name: 'a.mp3' }],
      commands: [['-i', 'in_video.mp4', '-vn', '-c:a', 'libmp3lame', 'a.mp3']],
    });
    const token = `child-token-${commandId}`;
    const child = startWorker(commandId, token);
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c));
    expect(await exitOf(child), stderr).toBe(0);
    const result = JSON.parse(successOf(token)[0]!.body.output as string) as WorkerResult;
    expect(result.output_files.out_audio).toMatchObject({ file_type: 'audio', codec: 'mp3', mime_type: 'audio/mpeg' });
    expect(await s3.getObject(BUCKET, S3_KEYS.output(ACCOUNT, commandId, 'a.mp3', 1))).not.toBeNull();
    expect(stderr).not.toContain(token); // the task token never reaches the log
  });

  it('on SIGTERM stops FFmpeg, reports WORKER_LOST and exits 0', async () => {
    const commandId = await putItem({
      inputs: [{ alias: 'in_video', url: web.url('/long.mp4'), local_name: 'in_video.mp4' }],
      outputs: [{ alias: 'out_video', local_name: 'slow.mp4' }],
      commands: [
        [
          '-i',
          'in_video.mp4',
          '-vf',
          'scale=1280:960,nlmeans=s=10:p=7:r=15',
          '-c:v',
          'libx264',
          '-preset',
          'veryslow',
          'slow.mp4',
        ],
      ],
    });
    const token = `child-token-${commandId}`;
    const child = startWorker(commandId, token);
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c));
    // Wait until the worker has downloaded its input (FFmpeg starts right after).
    for (let i = 0; i < 100 && !stderr.includes('input downloaded'); i++) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGTERM');
    expect(await exitOf(child), stderr).toBe(0);
    expect(failureOf(token)[0]?.body).toMatchObject({ error: 'WORKER_LOST' });
  });
});
