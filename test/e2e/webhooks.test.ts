/**
 * Webhooks end to end: local mode started as a user starts it, a real receiver on 127.0.0.1
 * started here that checks BOTH signatures of every request (the `standardwebhooks` library's
 * verify, and a plain HMAC-SHA256 of the raw body), and the API used over HTTP.
 * The retry schedule is shortened with FFAAS_WEBHOOK_BACKOFF_SECONDS.
 */
import { createHmac } from 'node:crypto';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey, startLocalProcess, type LocalProcess } from './local-process.ts';

async function api(base: string, method: string, route: string, opts: { key?: string; body?: unknown } = {}) {
  const res = await fetch(`${base}${route}`, {
    method,
    headers: {
      ...(opts.key ? { 'X-API-KEY': opts.key } : {}),
      ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
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
  return { status: res.status, json };
}

const COMMAND = {
  input_files: {},
  output_files: { out_video: 'clip.mp4' },
  ffmpeg_command:
    'ffmpeg -filter_complex "testsrc2=duration=0.5:size=160x120:rate=10[v]" -map [v] -c:v libx264 -pix_fmt yuv420p {{out_video}}',
};

interface Received {
  path: string;
  headers: Record<string, string>;
  body: string;
  /** Which of the two signatures verified (the secret is the test's own copy). */
  standardOk: boolean;
  hmacOk: boolean;
}

/** A webhook receiver: answers each path from its script (status per request, then the last one). */
class Receiver {
  server!: Server;
  port = 0;
  received: Received[] = [];
  scripts = new Map<string, number[]>();
  secret: string | null = null;

  async start(port = 0): Promise<void> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
  }

  url(p: string): string {
    return `http://127.0.0.1:${this.port}${p}`;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
      let standardOk = false;
      let hmacOk = false;
      if (this.secret) {
        try {
          new Webhook(this.secret).verify(body, headers);
          standardOk = true;
        } catch {
          standardOk = false;
        }
        hmacOk = createHmac('sha256', this.secret).update(body).digest('hex') === headers['x-webhook-signature'];
      }
      const p = req.url ?? '/';
      this.received.push({ path: p, headers, body, standardOk, hmacOk });
      const script = this.scripts.get(p) ?? [200];
      const status = script.length > 1 ? script.shift()! : script[0]!;
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(status === 200 ? 'ok' : 'x'.repeat(5000));
    });
  }

  on(p: string): Received[] {
    return this.received.filter((r) => r.path === p);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

async function until<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

async function submit(base: string, key: string, extra: Record<string, unknown> = {}): Promise<string> {
  const { status, json } = await api(base, 'POST', '/api/v1/run-ffmpeg-command', {
    key,
    body: { ...COMMAND, ...extra },
  });
  expect(status, JSON.stringify(json)).toBe(200);
  return json.command_id as string;
}

async function deliveryOf(base: string, key: string, id: string): Promise<any> {
  const { status, json } = await api(base, 'GET', `/api/v1/commands/${id}/webhooks`, { key });
  expect(status).toBe(200);
  return json.webhooks[0] ?? null;
}

describe('webhooks over HTTP (local mode with FFAAS_ALLOW_PRIVATE_URLS=1)', () => {
  let dataDir: string;
  let env: Record<string, string>;
  let local: LocalProcess;
  let base: string;
  const receiver = new Receiver();

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'ffaas-e2e-webhooks-'));
    env = {
      FFAAS_DATA_DIR: dataDir,
      FFAAS_ALLOW_PRIVATE_URLS: '1',
      FFAAS_WEBHOOK_BACKOFF_SECONDS: '0.3,0.3,0.3,0.3',
      FFAAS_WEBHOOK_DISABLE_AFTER: '4',
      FFAAS_WEBHOOK_POLL_MS: '100',
    };
    await receiver.start();
    local = await startLocalProcess(env);
    base = local.url;
  }, 180_000);

  afterAll(async () => {
    await local?.stop();
    await receiver.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('PUT/GET/DELETE /webhook-config: a generated whsec_ secret shown once; served under /v1 too', async () => {
    const key = await createKey(env, 'cfg');
    const put = await api(base, 'PUT', '/api/v1/webhook-config', { key, body: { url: receiver.url('/cfg') } });
    expect(put.status).toBe(200);
    expect(put.json).toEqual({
      success: true,
      url: receiver.url('/cfg'),
      secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/),
    });
    const get = await api(base, 'GET', '/v1/webhook-config', { key });
    expect(get.json).toEqual({
      configured: true,
      url: receiver.url('/cfg'),
      is_active: true,
      consecutive_failures: 0,
      disabled_at: null,
    });
    expect(JSON.stringify(get.json)).not.toContain(put.json.secret);
    const own = await api(base, 'PUT', '/v1/webhook-config', {
      key,
      body: { url: receiver.url('/cfg2'), secret: 'my-own-secret-of-24-chars!' },
    });
    expect(own.json).toEqual({ success: true, url: receiver.url('/cfg2'), secret: 'my-own-secret-of-24-chars!' });
    expect((await api(base, 'PUT', '/api/v1/webhook-config', { key, body: { url: 'ftp://x' } })).status).toBe(422);
    // Cloud metadata stays refused even with FFAAS_ALLOW_PRIVATE_URLS=1.
    const meta = await api(base, 'PUT', '/api/v1/webhook-config', {
      key,
      body: { url: 'http://169.254.169.254/latest' },
    });
    expect(meta.status).toBe(422);
    expect(meta.json.error.code).toBe('VALIDATION_ERROR');
    expect((await api(base, 'DELETE', '/api/v1/webhook-config', { key })).json).toEqual({
      success: true,
      deleted: true,
    });
    expect((await api(base, 'GET', '/api/v1/webhook-config', { key })).json).toMatchObject({
      configured: false,
      url: null,
    });
    expect((await api(base, 'GET', '/api/v1/webhook-config')).status).toBe(401);
  });

  it('success: one POST with both signatures, the poll response with a working fresh URL', async () => {
    const key = await createKey(env, 'ok');
    const put = await api(base, 'PUT', '/api/v1/webhook-config', { key, body: { url: receiver.url('/ok') } });
    receiver.secret = put.json.secret;
    const id = await submit(base, key);
    const [hit] = await until('the webhook', async () => (receiver.on('/ok').length > 0 ? receiver.on('/ok') : null));
    expect(hit.standardOk).toBe(true);
    expect(hit.hmacOk).toBe(true);
    expect(hit.headers['webhook-id']).toBe(`msg_${id}`);
    const body = JSON.parse(hit.body);
    expect(Math.abs(body.timestamp - Date.now())).toBeLessThan(60_000);
    expect(body.data).toMatchObject({
      command_id: id,
      status: 'SUCCESS',
      output_files: { out_video: { status: 'STORED' } },
    });
    const poll = await api(base, 'GET', `/api/v1/commands/${id}`, { key });
    // The poll response as polled, but for `webhooks` (the delivery's own state, shown by the poll).
    expect(Object.keys(body.data).sort()).toEqual(
      Object.keys(poll.json)
        .filter((k) => k !== 'webhooks')
        .sort(),
    );
    const media = await fetch(body.data.output_files.out_video.storage_url);
    expect(media.status).toBe(200);
    expect((await media.arrayBuffer()).byteLength).toBeGreaterThan(100);
    const d = await until('DELIVERED', async () => {
      const x = await deliveryOf(base, key, id);
      return x?.status === 'DELIVERED' ? x : null;
    });
    expect(d).toMatchObject({
      webhook_id: `msg_${id}`,
      attempts: 1,
      last_status_code: 200,
      last_error: null,
      next_attempt_at: null,
    });
    expect((await api(base, 'GET', `/api/v1/commands/${id}`, { key })).json.webhooks).toEqual([d]);
    expect(Date.parse(d.delivered_at)).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 500));
    expect(receiver.on('/ok')).toHaveLength(1);
  });

  it('500 three times then 200: one command, one webhook-id, four signed attempts', async () => {
    const key = await createKey(env, 'flaky');
    receiver.secret = (
      await api(base, 'PUT', '/api/v1/webhook-config', { key, body: { url: receiver.url('/unused') } })
    ).json.secret;
    receiver.scripts.set('/flaky', [500, 500, 500, 200]);
    const id = await submit(base, key, { webhook_url: receiver.url('/flaky') });
    const d = await until('DELIVERED', async () => {
      const x = await deliveryOf(base, key, id);
      return x?.status === 'DELIVERED' ? x : null;
    });
    const hits = receiver.on('/flaky');
    expect(hits).toHaveLength(4);
    expect(new Set(hits.map((h) => h.headers['webhook-id']))).toEqual(new Set([`msg_${id}`]));
    for (const h of hits) expect([h.standardOk, h.hmacOk]).toEqual([true, true]);
    expect(d).toMatchObject({ attempts: 4, last_status_code: 200 });
    expect(receiver.on('/unused')).toHaveLength(0);
  });

  it('failure: the schedule runs out → FAILED, listed as a failed delivery, dead-lettered; redeliver works', async () => {
    const key = await createKey(env, 'down');
    receiver.secret = (
      await api(base, 'PUT', '/api/v1/webhook-config', { key, body: { url: receiver.url('/unused') } })
    ).json.secret;
    receiver.scripts.set('/always500', [500]);
    const id = await submit(base, key, { webhook_url: receiver.url('/always500') });
    const d = await until('FAILED', async () => {
      const x = await deliveryOf(base, key, id);
      return x?.status === 'FAILED' ? x : null;
    });
    expect(d).toMatchObject({
      attempts: 5,
      last_status_code: 500,
      last_error: 'HTTP 500',
      next_attempt_at: null,
      delivered_at: null,
    });
    // At most 1 KiB read, an excerpt kept: never the whole 5000-byte answer.
    expect(d.last_response_excerpt.length).toBeLessThanOrEqual(200);
    expect(receiver.on('/always500')).toHaveLength(5);
    const failed = await api(base, 'GET', '/api/v1/webhook-deliveries', { key });
    expect(failed.json.deliveries.map((x: any) => x.command_id)).toContain(id);
    const dead = (await readFile(path.join(dataDir, 'webhook-dead-letters.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(dead.find((x) => x.command_id === id)).toMatchObject({ webhook_id: `msg_${id}`, attempts: 5 });

    receiver.scripts.set('/always500', [200]);
    const again = await api(base, 'POST', `/api/v1/commands/${id}/webhooks/redeliver`, { key });
    expect(again.status).toBe(200);
    const after = await until('DELIVERED', async () => {
      const x = await deliveryOf(base, key, id);
      return x?.status === 'DELIVERED' ? x : null;
    });
    expect(after).toMatchObject({ attempts: 6, last_status_code: 200 });
    expect(receiver.on('/always500').at(-1)!.headers['webhook-id']).toBe(`msg_${id}`);
    // Another account sees none of it.
    const other = await createKey(env, 'other');
    expect((await api(base, 'GET', `/api/v1/commands/${id}/webhooks`, { key: other })).status).toBe(404);
    expect((await api(base, 'POST', `/api/v1/commands/${id}/webhooks/redeliver`, { key: other })).status).toBe(404);
  });

  it('the account config is disabled after repeated failures, and set again re-enables it', async () => {
    const key = await createKey(env, 'disable');
    receiver.secret = (
      await api(base, 'PUT', '/api/v1/webhook-config', { key, body: { url: receiver.url('/broken') } })
    ).json.secret;
    receiver.scripts.set('/broken', [503]);
    const id = await submit(base, key);
    const cfg = await until('disabled', async () => {
      const x = (await api(base, 'GET', '/api/v1/webhook-config', { key })).json;
      return x.is_active === false ? x : null;
    });
    expect(cfg).toMatchObject({ configured: true, is_active: false, consecutive_failures: 4 });
    expect(Date.parse(cfg.disabled_at)).toBeGreaterThan(0);
    // The attempt after the 4th finds the config disabled: no 5th request.
    const d = await until('SKIPPED', async () => {
      const x = await deliveryOf(base, key, id);
      return x?.status === 'SKIPPED' ? x : null;
    });
    expect(d).toMatchObject({ attempts: 4, last_error: 'the account webhook config is disabled' });
    expect(receiver.on('/broken')).toHaveLength(4);
    const reset = await api(base, 'PUT', '/api/v1/webhook-config', { key, body: { url: receiver.url('/broken') } });
    expect(reset.status).toBe(200);
    expect((await api(base, 'GET', '/api/v1/webhook-config', { key })).json).toMatchObject({
      is_active: true,
      consecutive_failures: 0,
      disabled_at: null,
    });
  });
});

describe('webhooks across a restart, and the SSRF policy at delivery time', () => {
  let dataDir: string;
  let local: LocalProcess | undefined;
  const receiver = new Receiver();

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'ffaas-e2e-webhooks-restart-'));
  });
  afterAll(async () => {
    await local?.stop();
    await receiver.stop().catch(() => undefined);
    await rm(dataDir, { recursive: true, force: true });
  });

  it('a receiver that is down across a restart gets the delivery after local mode starts again; a loopback URL is refused without FFAAS_ALLOW_PRIVATE_URLS', async () => {
    const env = {
      FFAAS_DATA_DIR: dataDir,
      FFAAS_ALLOW_PRIVATE_URLS: '1',
      FFAAS_WEBHOOK_BACKOFF_SECONDS: '4,4,4',
      FFAAS_WEBHOOK_POLL_MS: '100',
    };
    // Take a port, then close it: the receiver is down.
    await receiver.start();
    const port = receiver.port;
    await receiver.stop();

    local = await startLocalProcess(env);
    const key = await createKey(env, 'restart');
    const put = await api(local.url, 'PUT', '/api/v1/webhook-config', {
      key,
      body: { url: `http://127.0.0.1:${port}/late` },
    });
    expect(put.status).toBe(200);
    receiver.secret = put.json.secret;
    const id = await submit(local.url, key);
    const first = await until('the first failed attempt', async () => {
      const x = await deliveryOf(local!.url, key, id);
      return x?.attempts === 1 ? x : null;
    });
    expect(first).toMatchObject({ status: 'PENDING', last_status_code: null });
    expect(first.last_error).toMatch(/network error|ECONNREFUSED/);
    await local.stop();
    local = undefined;

    // The retry falls due while local mode is stopped.
    await new Promise((r) => setTimeout(r, 4500));
    await receiver.start(port);
    local = await startLocalProcess(env);
    const d = await until('DELIVERED after restart', async () => {
      const x = await deliveryOf(local!.url, key, id);
      return x?.status === 'DELIVERED' ? x : null;
    });
    expect(d).toMatchObject({ attempts: 2, last_status_code: 200 });
    expect(receiver.on('/late')).toHaveLength(1);
    expect([receiver.on('/late')[0]!.standardOk, receiver.on('/late')[0]!.hmacOk]).toEqual([true, true]);
    await local.stop();
    local = undefined;

    // The same data dir without FFAAS_ALLOW_PRIVATE_URLS: loopback refused at config time
    // (422) and at delivery time (the stored config URL is checked again on each attempt).
    local = await startLocalProcess({ ...env, FFAAS_ALLOW_PRIVATE_URLS: '0' });
    const refused = await api(local.url, 'PUT', '/api/v1/webhook-config', {
      key,
      body: { url: `http://127.0.0.1:${port}/again` },
    });
    expect(refused.status).toBe(422);
    expect(refused.json.error.code).toBe('VALIDATION_ERROR');
    expect(JSON.stringify(refused.json)).toMatch(/loopback|not a public address/);
    const id2 = await submit(local.url, key);
    const blocked = await until('a refused attempt', async () => {
      const x = await deliveryOf(local!.url, key, id2);
      return x?.attempts >= 1 ? x : null;
    });
    expect(blocked.last_error).toMatch(/^URL refused: .*not a public address/);
    expect(blocked.last_status_code).toBeNull();
    expect(receiver.received.filter((r) => r.headers['webhook-id'] === `msg_${id2}`)).toHaveLength(0);
  }, 240_000);
});
