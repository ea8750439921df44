/**
 * SSRF attack cases (docs/SECURITY-POLICY.md layer 6). An "attacker" server on 127.0.0.1 is the only origin
 * the fetcher trusts (trustedOrigins, so the suite can run locally); it redirects to metadata
 * endpoints and to an "internal service" on 127.0.0.2 that records every request. Each case
 * proves the fetch is refused AND the internal service saw nothing.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { safeFetch, safeFetchToFile, SafeFetchError, type SafeFetchOptions } from '../../core/net/index.ts';
import { downloadInputs } from '../../fargate-task/src/download.ts';
import { WorkerError } from '../../fargate-task/src/errors.ts';
import { silentLogger } from '../../fargate-task/src/log.ts';
import { startFixtureServer, type FixtureServer } from '../helpers/index.ts';

let attacker: FixtureServer;
let internal: FixtureServer;
let dir: string;

beforeAll(async () => {
  attacker = await startFixtureServer();
  internal = await startFixtureServer({ host: '127.0.0.2' });
  internal.route('/secret', (_req, res) => res.writeHead(200).end('internal secret'));
  dir = await mkdtemp(path.join(tmpdir(), 'ffaas-ssrf-'));
});

afterAll(async () => {
  await Promise.all([attacker?.stop(), internal?.stop()]);
  await rm(dir, { recursive: true, force: true });
});

const opts = (extra: Partial<SafeFetchOptions> = {}): SafeFetchOptions => ({
  allowPrivate: false,
  trustedOrigins: [attacker.origin],
  maxBytes: 1 << 20,
  timeoutMs: 5000,
  maxRedirects: 5,
  retries: 2,
  retryDelayMs: 10,
  ...extra,
});

/** `${p}` stands for the internal service's port, known only once it listens. */
function redirectTargets(): [string, string][] {
  const p = '{PORT}';
  return [
    ['IMDS', 'http://169.254.169.254/latest/meta-data/iam/security-credentials/'],
    ['IMDS decimal', 'http://2852039166/latest/meta-data/'],
    ['IMDS IPv4-mapped', 'http://[::ffff:169.254.169.254]/latest/meta-data/'],
    ['IMDS NAT64', 'http://[64:ff9b::a9fe:a9fe]/'],
    ['IMDS IPv6 (Nitro)', 'http://[fd00:ec2::254]/latest/meta-data/'],
    ['ECS credentials', 'http://169.254.170.2/v2/credentials/00000000-0000-0000-0000-000000000000'],
    ['internal service', `http://127.0.0.2:${p}/secret`],
    ['internal, decimal', `http://2130706434:${p}/secret`],
    ['internal, hex', `http://0x7f.0.0.2:${p}/secret`],
    ['internal, octal', `http://0177.0.0.02:${p}/secret`],
    ['internal, mapped IPv6', `http://[::ffff:127.0.0.2]:${p}/secret`],
    ['internal, mapped IPv6 hex', `http://[::ffff:7f00:2]:${p}/secret`],
    ['internal over https', `https://127.0.0.2:${p}/secret`],
    ['localhost name', `http://localhost:${p}/secret`],
    ['same host, other port', `http://127.0.0.1:${p}/secret`],
    ['private range', 'http://10.0.0.1/'],
    ['CGNAT', 'http://100.100.100.200/'],
    ['unspecified', `http://0.0.0.0:${p}/secret`],
    ['IPv6 loopback', `http://[::1]:${p}/secret`],
  ];
}

describe('redirects from an allowed origin to internal targets are refused, nothing is fetched', () => {
  it.each(redirectTargets())('%s', async (_name, template) => {
    const target = template.replace('{PORT}', String(internal.port));
    const route = `/r-${Math.random().toString(36).slice(2)}`;
    attacker.route(route, (_req, res) => res.writeHead(302, { location: target }).end());
    const before = internal.hits.length;
    const file = path.join(dir, 'out.bin');
    const err = await safeFetchToFile(attacker.url(route), file, opts()).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SafeFetchError);
    expect(err).toMatchObject({ kind: 'INPUT_DOWNLOAD_FAILED', reason: 'policy' });
    expect(internal.hits.length).toBe(before);
    expect(await readdir(dir)).not.toContain('out.bin');
    // Exactly one request reached the attacker (policy refusals are not retried).
    expect(attacker.hits.filter((h) => h.path === route)).toHaveLength(1);
  });

  it('a chain (self → self → internal) is refused at the last hop', async () => {
    attacker.route('/c1', (_req, res) => res.writeHead(301, { location: '/c2' }).end());
    attacker.route('/c2', (_req, res) =>
      res.writeHead(307, { location: `http://127.0.0.2:${internal.port}/secret` }).end(),
    );
    const before = internal.hits.length;
    await expect(safeFetchToFile(attacker.url('/c1'), path.join(dir, 'x'), opts())).rejects.toMatchObject({
      reason: 'policy',
    });
    expect(internal.hits.length).toBe(before);
  });
});

describe('direct requests', () => {
  it('the internal service itself is refused without allowPrivate', async () => {
    const before = internal.hits.length;
    await expect(
      safeFetchToFile(internal.url('/secret'), path.join(dir, 'x'), opts({ trustedOrigins: [] })),
    ).rejects.toMatchObject({ reason: 'policy' });
    expect(internal.hits.length).toBe(before);
  });

  it('a name resolving to the internal service is refused (DNS answer checked)', async () => {
    const before = internal.hits.length;
    await expect(
      safeFetch(
        `http://cdn.attacker.example:${internal.port}/secret`,
        {},
        opts({ resolve: async () => ['127.0.0.2'] }),
      ),
    ).rejects.toMatchObject({ reason: 'policy' });
    expect(internal.hits.length).toBe(before);
  });

  it('allowPrivate (local mode) still refuses metadata endpoints', async () => {
    for (const url of [
      'http://169.254.169.254/latest/meta-data/',
      'http://169.254.170.2/v2/credentials/x',
      'http://[fd00:ec2::254]/',
    ]) {
      await expect(safeFetchToFile(url, path.join(dir, 'x'), opts({ allowPrivate: true })), url).rejects.toMatchObject({
        reason: 'policy',
      });
    }
  });

  it('webhook-style POST to an internal address is refused', async () => {
    const before = internal.hits.length;
    await expect(
      safeFetch(internal.url('/secret'), { method: 'POST', body: '{}' }, opts({ maxRedirects: 0 })),
    ).rejects.toMatchObject({ reason: 'policy' });
    expect(internal.hits.length).toBe(before);
  });
});

describe('the worker download step', () => {
  it('turns a refused input into INPUT_DOWNLOAD_FAILED naming the alias and host, not the credentials', async () => {
    const before = internal.hits.length;
    const err = await downloadInputs({
      inputs: [
        { alias: 'in_video', url: `http://user:hunter2@127.0.0.2:${internal.port}/secret`, local_name: 'in_video.mp4' },
      ],
      workspace: dir,
      settings: { maxBytes: 1 << 20, timeoutMs: 5000, maxRedirects: 5, retries: 2, retryDelayMs: 10 },
      allowPrivate: false,
      signal: new AbortController().signal,
      log: silentLogger,
    }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WorkerError);
    expect(err).toMatchObject({ status: 'INPUT_DOWNLOAD_FAILED' });
    expect((err as Error).message).toMatch(/^input in_video: .*127\.0\.0\.2.*loopback/);
    expect((err as Error).message).not.toMatch(/hunter2|user/);
    expect(internal.hits.length).toBe(before);
  });
});
