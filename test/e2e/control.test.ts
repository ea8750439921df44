/**
 * Control over HTTP against a started local mode (issue 12): cancel in each state (a running
 * FFmpeg really killed), idempotent submits, rate limits with Retry-After, and usage that adds up.
 * One FFmpeg at a time (FFAAS_MAX_CONCURRENCY=1) so a second command stays QUEUED.
 */
import { randomUUID } from 'node:crypto';
import { readdir, readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeFixtures, startFixtureServer, type FixtureServer, type Fixtures } from '../helpers/index.ts';
import { createKey, startLocalProcess, type LocalProcess } from './local-process.ts';

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
    /* the assertion on json says so */
  }
  return { status: res.status, json, headers: res.headers };
}

async function pollUntil(
  base: string,
  key: string,
  id: string,
  done: (s: string) => boolean,
  timeoutMs = 60_000,
): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { status, json } = await api(base, 'GET', `/api/v1/commands/${id}`, { key });
    expect(status).toBe(200);
    if (done(json.status)) return json;
    if (Date.now() > deadline) throw new Error(`command ${id} still ${json.status}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Pids of ffmpeg processes whose command line contains `marker`. */
async function ffmpegProcesses(marker: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0');
      if (path.basename(cmdline[0] ?? '') === 'ffmpeg' && cmdline.some((a) => a.includes(marker)))
        pids.push(Number(entry));
    } catch {
      /* gone meanwhile */
    }
  }
  return pids;
}

describe('control over HTTP (local mode)', () => {
  let dataDir: string;
  let env: Record<string, string>;
  let local: LocalProcess;
  let base: string;
  let fixtures: Fixtures;
  let media: FixtureServer;
  let key: string;
  let otherKey: string;
  let floodKey: string;
  let burstKey: string;

  /** A command that runs until killed: the 1 s fixture looped, paced at real time, copied. */
  const longRun = (marker: string) => ({
    input_files: { in_video: media.url('/video.mp4') },
    output_files: { out_video: `${marker}.mp4` },
    ffmpeg_command: 'ffmpeg -re -stream_loop -1 -i {{in_video}} -c copy -t 600 {{out_video}}',
  });
  const quick = (name = 'quick.mp4') => ({
    input_files: { in_video: media.url('/video.mp4') },
    output_files: { out_video: name },
    ffmpeg_command: 'ffmpeg -i {{in_video}} -c copy {{out_video}}',
  });

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'ffaas-control-'));
    env = {
      FFAAS_DATA_DIR: dataDir,
      FFAAS_ALLOW_PRIVATE_URLS: '1',
      FFAAS_MAX_CONCURRENCY: '1',
      FFAAS_RATE_LIMIT_PER_SECOND: '20',
      FFAAS_RATE_LIMIT_BURST: '40',
      FFAAS_ACCOUNT_MAX_QUEUED: '35',
    };
    fixtures = await makeFixtures({ names: ['video.mp4'] });
    media = await startFixtureServer({ dir: fixtures.dir });
    local = await startLocalProcess(env);
    base = local.url;
    key = await createKey(env, 'control', 'acct-control');
    otherKey = await createKey(env, 'other', 'acct-control-other');
    floodKey = await createKey(env, 'flood', 'acct-control-flood');
    burstKey = await createKey(env, 'burst', 'acct-control-burst');
  }, 180_000);

  afterAll(async () => {
    await local?.stop();
    await media?.stop();
    await fixtures?.cleanup();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('cancels a PROCESSING command (its FFmpeg is killed) and a QUEUED one (it never starts); a finished one is 409', async () => {
    const marker = `cancel-${randomUUID().slice(0, 8)}`;
    const running = await api(base, 'POST', '/api/v1/run-ffmpeg-command', { key, body: longRun(marker) });
    expect(running.status).toBe(200);
    const queued = await api(base, 'POST', '/api/v1/run-ffmpeg-command', { key, body: quick() });
    expect(queued.status).toBe(200);

    await pollUntil(base, key, running.json.command_id, (s) => s === 'PROCESSING');
    // FFmpeg is really running (this check can see it).
    const deadline = Date.now() + 20_000;
    while ((await ffmpegProcesses(marker)).length === 0) {
      if (Date.now() > deadline) throw new Error('ffmpeg never started');
      await new Promise((r) => setTimeout(r, 200));
    }
    // The second waits behind it (one FFmpeg at a time).
    expect((await api(base, 'GET', `/api/v1/commands/${queued.json.command_id}`, { key })).json.status).toBe('QUEUED');

    // Another account cannot cancel it: 404.
    const foreign = await api(base, 'POST', `/api/v1/commands/${running.json.command_id}/cancel`, { key: otherKey });
    expect(foreign.status).toBe(404);
    expect(foreign.json.error.code).toBe('NOT_FOUND');

    const cancelQueued = await api(base, 'POST', `/v1/commands/${queued.json.command_id}/cancel`, { key });
    expect(cancelQueued.status).toBe(200);
    expect(cancelQueued.json.status).toBe('FAILED');
    expect(cancelQueued.json.error_status).toBe('CANCELLED');
    expect(cancelQueued.json.started_at).toBeNull();

    const t0 = Date.now();
    const cancelRunning = await api(base, 'POST', `/api/v1/commands/${running.json.command_id}/cancel`, { key });
    expect(cancelRunning.status).toBe(200);
    expect(cancelRunning.json).toMatchObject({
      command_id: running.json.command_id,
      status: 'FAILED',
      error_status: 'CANCELLED',
    });
    expect(cancelRunning.json.output_files).toEqual({});
    while ((await ffmpegProcesses(marker)).length > 0) {
      if (Date.now() - t0 > 5000) throw new Error('ffmpeg still running 5 s after the cancel');
      await new Promise((r) => setTimeout(r, 100));
    }

    // Both stay cancelled (the execution's late writes change nothing), the queued one never started.
    await new Promise((r) => setTimeout(r, 1500));
    const after = await api(base, 'GET', `/api/v1/commands/${running.json.command_id}`, { key });
    expect(after.json).toMatchObject({ status: 'FAILED', error_status: 'CANCELLED' });
    const q = await api(base, 'GET', `/api/v1/commands/${queued.json.command_id}`, { key });
    expect(q.json).toMatchObject({ status: 'FAILED', error_status: 'CANCELLED', started_at: null });

    const again = await api(base, 'POST', `/api/v1/commands/${running.json.command_id}/cancel`, { key });
    expect(again.status).toBe(409);
    expect(again.json.error.code).toBe('CONFLICT');
    expect(again.json.error.message).toMatch(/already finished/);

    // A command that ran to SUCCESS: 409 as well.
    const ok = await api(base, 'POST', '/api/v1/run-ffmpeg-command', { key, body: quick('done.mp4') });
    const done = await pollUntil(base, key, ok.json.command_id, (s) => s === 'SUCCESS' || s === 'FAILED');
    expect(done.status).toBe('SUCCESS');
    expect((await api(base, 'POST', `/api/v1/commands/${ok.json.command_id}/cancel`, { key })).status).toBe(409);
    expect((await api(base, 'POST', `/api/v1/commands/${randomUUID()}/cancel`, { key })).status).toBe(404);
  }, 120_000);

  it('answers a retried submit with the same Idempotency-Key and body with the first answer; another body is 422', async () => {
    const idem = `retry-${randomUUID()}`;
    const body = quick('idem.mp4');
    const first = await api(base, 'POST', '/api/v1/run-ffmpeg-command', {
      key,
      body,
      headers: { 'Idempotency-Key': idem },
    });
    expect(first.status).toBe(200);
    const second = await api(base, 'POST', '/api/v1/run-ffmpeg-command', {
      key,
      body,
      headers: { 'Idempotency-Key': idem },
    });
    expect(second.status).toBe(200);
    expect(second.json.command_id).toBe(first.json.command_id);

    const other = await api(base, 'POST', '/api/v1/run-ffmpeg-command', {
      key,
      body: quick('other.mp4'),
      headers: { 'Idempotency-Key': idem },
    });
    expect(other.status).toBe(422);
    expect(other.json.error.code).toBe('VALIDATION_ERROR');
    // The same header value from another account is another key.
    const foreign = await api(base, 'POST', '/api/v1/run-ffmpeg-command', {
      key: otherKey,
      body,
      headers: { 'Idempotency-Key': idem },
    });
    expect(foreign.status).toBe(200);
    expect(foreign.json.command_id).not.toBe(first.json.command_id);
    // No key: a new command each time.
    const plain = await api(base, 'POST', '/api/v1/run-ffmpeg-command', { key, body });
    expect(plain.json.command_id).not.toBe(first.json.command_id);
    // run-multiple too.
    const multi = { commands: [quick('m1.mp4'), quick('m2.mp4')] };
    const m1 = await api(base, 'POST', '/v1/run-multiple-ffmpeg-commands', {
      key,
      body: multi,
      headers: { 'Idempotency-Key': idem },
    });
    const m2 = await api(base, 'POST', '/v1/run-multiple-ffmpeg-commands', {
      key,
      body: multi,
      headers: { 'Idempotency-Key': idem },
    });
    expect(m1.status).toBe(200);
    expect(m2.json.command_ids).toEqual(m1.json.command_ids);
    for (const id of [first.json.command_id, foreign.json.command_id, plain.json.command_id, ...m1.json.command_ids]) {
      await pollUntil(
        base,
        id === foreign.json.command_id ? otherKey : key,
        id,
        (s) => s === 'SUCCESS' || s === 'FAILED',
      );
    }
  }, 120_000);

  it('creates one command for concurrent duplicates with one Idempotency-Key', async () => {
    const idem = `burst-${randomUUID()}`;
    const body = quick('burst.mp4');
    const answers = await Promise.all(
      Array.from({ length: 8 }, () =>
        api(base, 'POST', '/api/v1/run-ffmpeg-command', { key, body, headers: { 'Idempotency-Key': idem } }),
      ),
    );
    for (const a of answers) expect(a.status, JSON.stringify(a.json)).toBe(200);
    const ids = new Set(answers.map((a) => a.json.command_id));
    expect(ids.size).toBe(1);
    const [id] = [...ids];
    const list = await api(base, 'GET', '/api/v1/commands?limit=100', { key });
    const named = list.json.commands.filter((c: any) => c.original_request.output_files.out_video === 'burst.mp4');
    expect(named.map((c: any) => c.command_id)).toEqual([id]);
    await pollUntil(base, key, id as string, (s) => s === 'SUCCESS' || s === 'FAILED');
  }, 60_000);

  it('shows usage in every poll, and the usage endpoint is their sum', async () => {
    const list = await api(base, 'GET', '/api/v1/commands?limit=100', { key });
    expect(list.status).toBe(200);
    const polls = await Promise.all(
      list.json.commands.map(
        async (c: { command_id: string }) => (await api(base, 'GET', `/api/v1/commands/${c.command_id}`, { key })).json,
      ),
    );
    expect(polls.length).toBeGreaterThanOrEqual(3);
    for (const p of polls)
      expect(Object.keys(p.usage).sort()).toEqual(['estimated_usd', 'gpu_seconds', 'storage_bytes', 'vcpu_seconds']);
    const succeeded = polls.find((p) => p.status === 'SUCCESS');
    expect(succeeded.usage.vcpu_seconds).toBeGreaterThan(0);
    expect(succeeded.usage.storage_bytes).toBeGreaterThan(1000);
    expect(succeeded.usage.estimated_usd).toBeGreaterThan(0);

    const today = new Date().toISOString().slice(0, 10);
    const usage = await api(base, 'GET', `/api/v1/usage?from=${today}&to=${today}`, { key });
    expect(usage.status).toBe(200);
    const sum = (k: string) => polls.reduce((a, p) => a + p.usage[k], 0);
    expect(usage.json.totals.commands).toBe(polls.length);
    expect(usage.json.totals.vcpu_seconds).toBeCloseTo(sum('vcpu_seconds'), 2);
    expect(usage.json.totals.storage_bytes).toBe(sum('storage_bytes'));
    expect(usage.json.totals.estimated_usd).toBeCloseTo(sum('estimated_usd'), 5);
    expect(usage.json.days).toHaveLength(1);
    expect(usage.json.days[0]).toMatchObject({ date: today, commands: polls.length });

    // Another account's usage is its own (its one command).
    const other = await api(base, 'GET', '/v1/usage', { key: otherKey });
    expect(other.json.totals.commands).toBe(1);
    const bad = await api(base, 'GET', '/api/v1/usage?from=yesterday', { key });
    expect(bad.status).toBe(422);
    expect(bad.json.error.code).toBe('VALIDATION_ERROR');
  }, 60_000);

  it('serves accounts fairly: a flood of 30 queued commands does not hold back another account; past the queue cap, 429', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await api(base, 'POST', '/api/v1/run-multiple-ffmpeg-commands', {
        key: floodKey,
        body: { commands: Array.from({ length: 10 }, (_, j) => quick(`flood-${i}-${j}.mp4`)) },
      });
      expect(r.status, JSON.stringify(r.json)).toBe(200);
      ids.push(...r.json.command_ids);
    }
    // The cap (35 here): 30 waiting + 10 more is over it.
    const over = await api(base, 'POST', '/api/v1/run-multiple-ffmpeg-commands', {
      key: floodKey,
      body: { commands: Array.from({ length: 10 }, (_, j) => quick(`over-${j}.mp4`)) },
    });
    expect(over.status).toBe(429);
    expect(over.json.error.code).toBe('RATE_LIMITED');
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
    // Rendobar's POST /jobs is admitted by the same cap: one at a time, it reaches it too.
    let rendobarLimited: Awaited<ReturnType<typeof api>> | undefined;
    for (let i = 0; i < 12 && !rendobarLimited; i++) {
      const r = await api(base, 'POST', '/jobs', {
        key: floodKey,
        body: { type: 'ffmpeg', params: { command: `ffmpeg -i ${media.url('/video.mp4')} -c copy rb-${i}.mp4` } },
      });
      if (r.status === 429) rendobarLimited = r;
      else expect(r.status, JSON.stringify(r.json)).toBe(200);
    }
    expect(rendobarLimited?.json.error.code).toBe('RATE_LIMITED');

    const single = await api(base, 'POST', '/api/v1/run-ffmpeg-command', { key: otherKey, body: quick('single.mp4') });
    expect(single.status).toBe(200);
    const done = await pollUntil(
      base,
      otherKey,
      single.json.command_id,
      (s) => s === 'SUCCESS' || s === 'FAILED',
      90_000,
    );
    expect(done.status).toBe('SUCCESS');
    const waited = (Date.parse(done.started_at) - Date.parse(done.created_at)) / 1000;

    // Let the flood drain, then compare with its commands' own run times.
    const floods = [];
    for (const id of ids)
      floods.push(await pollUntil(base, floodKey, id, (s) => s === 'SUCCESS' || s === 'FAILED', 180_000));
    const runs = floods.map((f) => (Date.parse(f.finished_at) - Date.parse(f.started_at)) / 1000);
    const longest = Math.max(...runs);
    // At most the one flood command running when it arrived (plus scheduling slack), not the backlog.
    expect(waited, `waited ${waited} s; flood runs ${runs.join(', ')}`).toBeLessThanOrEqual(longest + 1);
    const floodStartedAfter = floods.filter((f) => Date.parse(f.started_at) > Date.parse(done.started_at)).length;
    expect(floodStartedAfter).toBeGreaterThan(20);
  }, 300_000);

  it('answers a burst over the account rate with 429 RATE_LIMITED and Retry-After; other accounts are not affected', async () => {
    const answers = await Promise.all(
      Array.from({ length: 80 }, () => api(base, 'GET', '/api/v1/commands?limit=1', { key: burstKey })),
    );
    const limited = answers.filter((a) => a.status === 429);
    expect(answers.filter((a) => a.status === 200).length).toBeGreaterThanOrEqual(40);
    expect(limited.length).toBeGreaterThan(0);
    for (const a of limited) {
      expect(a.json.error.code).toBe('RATE_LIMITED');
      expect(Number(a.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    expect((await api(base, 'GET', '/api/v1/commands?limit=1', { key: otherKey })).status).toBe(200);
    // After Retry-After, the account is served again.
    await new Promise((r) => setTimeout(r, Number(limited[0]!.headers.get('retry-after')) * 1000));
    expect((await api(base, 'GET', '/api/v1/commands?limit=1', { key: burstKey })).status).toBe(200);
  }, 60_000);
});
