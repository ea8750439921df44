/**
 * safeFetchToFile / safeFetch against local servers: pinning, redirects re-checked per hop,
 * byte caps, retries, timeouts and error messages without credentials.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { safeFetch, safeFetchToFile, SafeFetchError, type SafeFetchOptions } from '../../../core/net/index.ts';
import { faultyFile } from '../../helpers/faulty-file.ts';
import { startFixtureServer, type FixtureServer } from '../../helpers/index.ts';

let srv: FixtureServer;
let dir: string;
let n = 0;
const dest = () => path.join(dir, `f${++n}.bin`);
const base = (): SafeFetchOptions => ({
  allowPrivate: false,
  trustedOrigins: [srv.origin],
  maxBytes: 1 << 20,
  timeoutMs: 5000,
  maxRedirects: 3,
  retries: 2,
  retryDelayMs: 10,
});
const hitsOf = (p: string) => srv.hits.filter((h) => h.path === p).length;

async function failure(p: Promise<unknown>): Promise<SafeFetchError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(SafeFetchError);
    return err as SafeFetchError;
  }
  throw new Error('expected a SafeFetchError');
}

beforeAll(async () => {
  srv = await startFixtureServer();
  dir = await mkdtemp(path.join(tmpdir(), 'ffaas-fetch-'));
  srv.route('/hello', (req, res) =>
    res.writeHead(200, { 'content-type': 'text/plain' }).end(`hello from ${req.headers.host}`),
  );
  srv.route('/big', (_req, res) => res.writeHead(200, { 'content-length': 100_000 }).end(Buffer.alloc(100_000)));
  srv.route('/liar', (_req, res) => {
    // No Content-Length: 50 000 bytes streamed; only the byte counter can stop it.
    res.writeHead(200);
    for (let i = 0; i < 50; i++) res.write(Buffer.alloc(1000));
    res.end();
  });
  srv.route('/slow', (_req, res) => {
    res.writeHead(200);
    res.write('x');
    // never ends
  });
  srv.route('/auth', (req, res) => res.writeHead(200).end(String(req.headers.authorization ?? 'none')));
  srv.route('/to-auth-elsewhere', (_req, res) =>
    res.writeHead(302, { location: `http://localhost:${srv.port}/auth` }).end(),
  );
  srv.route('/loop', (_req, res) => res.writeHead(302, { location: '/loop' }).end());
  srv.route('/to-hello', (_req, res) => res.writeHead(301, { location: '/hello' }).end());
  srv.route('/to-https-self', (_req, res) =>
    res.writeHead(302, { location: `https://127.0.0.1:${srv.port}/hello` }).end(),
  );
  srv.route('/to-ftp', (_req, res) => res.writeHead(302, { location: 'ftp://example.com/x' }).end());
  srv.route('/post-target', (req, res) => res.writeHead(200).end(req.method));
  srv.route('/303', (_req, res) => res.writeHead(303, { location: '/post-target' }).end());
  srv.route('/500', (_req, res) => res.writeHead(500).end('boom'));
});

afterAll(async () => {
  await srv.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('safeFetchToFile', () => {
  it('downloads to the file and reports bytes and status', async () => {
    const file = dest();
    const r = await safeFetchToFile(srv.url('/hello'), file, base());
    expect(r).toMatchObject({ status: 200, bytes: Buffer.byteLength(`hello from 127.0.0.1:${srv.port}`), attempts: 1 });
    expect(await readFile(file, 'utf8')).toBe(`hello from 127.0.0.1:${srv.port}`);
  });

  it('runs onBytes once per `every` bytes written (the worker frees dropped chunks there)', async () => {
    const file = dest();
    let calls = 0;
    const r = await safeFetchToFile(srv.url('/big'), file, {
      ...base(),
      onBytes: { every: 10_000, run: () => calls++ },
    });
    expect(r.bytes).toBe(100_000);
    // At least one call per 10 000 bytes crossed, never more than one per chunk past a mark.
    expect(calls).toBeGreaterThanOrEqual(1);
    expect(calls).toBeLessThanOrEqual(10);
    expect((await stat(file)).size).toBe(100_000);
  });

  it('connects to the CHECKED address and keeps the original Host (pinning)', async () => {
    // "media.example" does not exist: the fetch works only if the connection goes to the
    // address the policy resolved (127.0.0.1), never through a second lookup.
    const file = dest();
    await safeFetchToFile(`http://media.example:${srv.port}/hello`, file, {
      ...base(),
      allowPrivate: true,
      resolve: async () => ['127.0.0.1'],
    });
    expect(await readFile(file, 'utf8')).toBe(`hello from media.example:${srv.port}`);
  });

  it('falls back to the next checked address when a connect fails', async () => {
    // 127.0.0.3 has nothing listening on this port: the second checked address answers.
    const file = dest();
    await safeFetchToFile(`http://dual.example:${srv.port}/hello`, file, {
      ...base(),
      allowPrivate: true,
      resolve: async () => ['127.0.0.3', '127.0.0.1'],
    });
    expect(await readFile(file, 'utf8')).toBe(`hello from dual.example:${srv.port}`);
  });

  it('DNS rebinding: the resolver answer is checked before connecting', async () => {
    let lookups = 0;
    const rebinding = async () => (++lookups === 1 ? ['127.0.0.1'] : ['93.184.216.34']);
    const before = srv.hits.length;
    const err = await failure(
      safeFetchToFile(`http://rebind.example:${srv.port}/hello`, dest(), { ...base(), resolve: rebinding }),
    );
    expect(err).toMatchObject({ kind: 'INPUT_DOWNLOAD_FAILED', reason: 'policy' });
    expect(err.message).toMatch(/rebind\.example.*127\.0\.0\.1 \(loopback\)/);
    expect(srv.hits.length).toBe(before);
    expect(lookups).toBe(1);
  });

  it('follows a same-origin redirect', async () => {
    const file = dest();
    await safeFetchToFile(srv.url('/to-hello'), file, base());
    expect(await readFile(file, 'utf8')).toMatch(/^hello/);
  });

  it('re-checks a cross-protocol redirect (http → https to a private address)', async () => {
    const err = await failure(safeFetchToFile(srv.url('/to-https-self'), dest(), base()));
    expect(err.reason).toBe('policy');
    expect(err.message).toMatch(/127\.0\.0\.1.*loopback/);
  });

  it('refuses a redirect to a non-http scheme', async () => {
    const err = await failure(safeFetchToFile(srv.url('/to-ftp'), dest(), base()));
    expect(err.message).toMatch(/scheme "ftp" is not allowed/);
  });

  it('limits redirects', async () => {
    const err = await failure(safeFetchToFile(srv.url('/loop'), dest(), base()));
    expect(err).toMatchObject({ kind: 'INPUT_DOWNLOAD_FAILED', reason: 'redirects' });
    expect(err.message).toMatch(/too many redirects \(more than 3\)/);
  });

  it('rejects early on Content-Length over the cap, and removes the partial file', async () => {
    const file = dest();
    const err = await failure(safeFetchToFile(srv.url('/big'), file, { ...base(), maxBytes: 1000 }));
    expect(err).toMatchObject({ kind: 'INPUT_TOO_LARGE', reason: 'too-large' });
    await expect(stat(file)).rejects.toThrow();
  });

  it('counts streamed bytes when there is no Content-Length', async () => {
    const file = dest();
    const err = await failure(safeFetchToFile(srv.url('/liar'), file, { ...base(), maxBytes: 5000 }));
    expect(err.kind).toBe('INPUT_TOO_LARGE');
    await expect(stat(file)).rejects.toThrow();
  });

  it('does not retry a 4xx', async () => {
    const before = hitsOf('/nope');
    const err = await failure(safeFetchToFile(srv.url('/nope'), dest(), base()));
    expect(err).toMatchObject({ kind: 'INPUT_DOWNLOAD_FAILED', reason: 'http', status: 404 });
    expect(hitsOf('/nope') - before).toBe(1);
  });

  it('retries 5xx with backoff, then succeeds', async () => {
    srv.failFirst('/hello', 2, 503);
    const before = hitsOf('/hello');
    const r = await safeFetchToFile(srv.url('/hello'), dest(), base());
    expect(r.attempts).toBe(3);
    expect(hitsOf('/hello') - before).toBe(3);
  });

  it('gives up after the retries on a persistent 5xx', async () => {
    const before = hitsOf('/500');
    const err = await failure(safeFetchToFile(srv.url('/500'), dest(), { ...base(), retries: 1 }));
    expect(err).toMatchObject({ reason: 'http', status: 500 });
    expect(err.message).toMatch(/HTTP 500 \(after 2 attempts\)/);
    expect(hitsOf('/500') - before).toBe(2);
  });

  it('retries network errors (connection refused)', async () => {
    const closed = await startFixtureServer();
    const origin = closed.origin;
    await closed.stop();
    const err = await failure(
      safeFetchToFile(`${origin}/x`, dest(), { ...base(), trustedOrigins: [origin], retries: 1 }),
    );
    expect(err).toMatchObject({ reason: 'network', retryable: true });
    expect(err.message).toMatch(/ECONNREFUSED.*after 2 attempts/);
  });

  describe('a body cut mid-way', () => {
    const body = Buffer.from(Array.from({ length: 200_000 }, (_, i) => i % 251));

    it('resumes with Range + If-Range where the server supports ranges', async () => {
      const f = faultyFile(body, { cutAfter: 70_000, cuts: 2, ranges: true, etag: '"abc"' });
      srv.route('/cut-ranges', f.handler);
      const file = dest();
      const r = await safeFetchToFile(srv.url('/cut-ranges'), file, base());
      expect(await readFile(file)).toEqual(body);
      expect(r).toMatchObject({ bytes: body.length, attempts: 3, resumed: 2, status: 206 });
      expect(f.requests[0]).toEqual({ range: undefined, ifRange: undefined });
      expect(f.requests[1]).toEqual({ range: 'bytes=70000-', ifRange: '"abc"' });
      expect(f.requests[2]).toEqual({ range: 'bytes=140000-', ifRange: '"abc"' });
    });

    it('fetches the whole file again when the server does not do ranges', async () => {
      const f = faultyFile(body, { cutAfter: 70_000, cuts: 1, ranges: false });
      srv.route('/cut-no-ranges', f.handler);
      const file = dest();
      const r = await safeFetchToFile(srv.url('/cut-no-ranges'), file, base());
      expect(await readFile(file)).toEqual(body);
      expect(r).toMatchObject({ bytes: body.length, attempts: 2, resumed: 0, status: 200 });
      // Accept-Ranges: none → no Range asked at all.
      expect(f.requests.map((q) => q.range)).toEqual([undefined, undefined]);
    });

    it('a file changed on the server (If-Range no longer matches) is fetched whole, not spliced', async () => {
      const f = faultyFile(body, { cutAfter: 70_000, cuts: 1, ranges: true, etag: '"old"' });
      const changed = Buffer.alloc(150_000, 7);
      const now = faultyFile(changed, { ranges: true, etag: '"new"' });
      // The first (cut) answer is the old file; by the resume the file has been replaced.
      srv.route('/cut-changed', (req, res) => (f.requests.length === 0 ? f : now).handler(req, res));
      const file = dest();
      const p = safeFetchToFile(srv.url('/cut-changed'), file, base());
      const r = await p;
      expect(now.requests).toEqual([{ range: 'bytes=70000-', ifRange: '"old"' }]);
      expect(await readFile(file)).toEqual(changed);
      expect(r).toMatchObject({ bytes: changed.length, resumed: 0, status: 200 });
    });

    it('retries are bounded: a server that always cuts fails with a clear message and no file', async () => {
      const f = faultyFile(body, { cutAfter: 10, cuts: 100, ranges: true });
      srv.route('/cut-always', f.handler);
      const file = dest();
      const err = await failure(safeFetchToFile(srv.url('/cut-always'), file, { ...base(), retries: 2 }));
      expect(err).toMatchObject({ kind: 'INPUT_DOWNLOAD_FAILED', reason: 'network' });
      expect(err.message).toMatch(/after 3 attempts/);
      expect(f.requests).toHaveLength(3);
      await expect(stat(file)).rejects.toMatchObject({ code: 'ENOENT' });
    });

    it('the byte cap counts the resumed part too', async () => {
      const f = faultyFile(body, { cutAfter: 70_000, cuts: 1, ranges: true });
      srv.route('/cut-cap', f.handler);
      const err = await failure(safeFetchToFile(srv.url('/cut-cap'), dest(), { ...base(), maxBytes: 100_000 }));
      expect(err).toMatchObject({ kind: 'INPUT_TOO_LARGE' });
    });
  });

  it('times out overall', async () => {
    const started = Date.now();
    const err = await failure(safeFetchToFile(srv.url('/slow'), dest(), { ...base(), timeoutMs: 300 }));
    expect(err.reason).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('never echoes credentials; sends them as Basic only to the same origin', async () => {
    const file = dest();
    await safeFetchToFile(`http://alice:s3cret@127.0.0.1:${srv.port}/auth`, file, base());
    expect(await readFile(file, 'utf8')).toBe(`Basic ${Buffer.from('alice:s3cret').toString('base64')}`);

    const file2 = dest();
    await safeFetchToFile(`http://alice:s3cret@127.0.0.1:${srv.port}/to-auth-elsewhere`, file2, {
      ...base(),
      allowPrivate: true,
    });
    expect(await readFile(file2, 'utf8')).toBe('none');

    const err = await failure(safeFetchToFile(`http://alice:s3cret@127.0.0.1:${srv.port}/nope`, dest(), base()));
    expect(err.message).not.toMatch(/alice|s3cret/);
    expect(err.message).toContain(`127.0.0.1:${srv.port}`);
  });
});

describe('safeFetch (small bodies)', () => {
  it('returns status, headers and body without throwing on 4xx', async () => {
    const r = await safeFetch(srv.url('/nope'), {}, base());
    expect(r.status).toBe(404);
    const ok = await safeFetch(srv.url('/hello'), {}, base());
    expect(ok.body.toString()).toMatch(/^hello/);
    expect(ok.headers['content-type']).toBe('text/plain');
  });

  it('POST is turned into GET by a 303', async () => {
    const r = await safeFetch(
      srv.url('/303'),
      { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } },
      base(),
    );
    expect(r.body.toString()).toBe('GET');
  });

  it('enforces the same policy and caps', async () => {
    await expect(safeFetch('http://169.254.169.254/latest/meta-data/', {}, base())).rejects.toMatchObject({
      reason: 'policy',
    });
    await expect(safeFetch(srv.url('/big'), {}, { ...base(), maxBytes: 10 })).rejects.toMatchObject({
      kind: 'INPUT_TOO_LARGE',
    });
  });

  it('with maxRedirects 0 (webhooks) a redirect is an error', async () => {
    await expect(
      safeFetch(srv.url('/to-hello'), { method: 'POST', body: 'x' }, { ...base(), maxRedirects: 0 }),
    ).rejects.toMatchObject({ reason: 'redirects' });
  });

  it("redirect: 'return' answers the redirect itself and never fetches its Location (webhooks)", async () => {
    const before = hitsOf('/hello');
    const r = await safeFetch(
      srv.url('/to-hello'),
      { method: 'POST', body: 'x' },
      { ...base(), maxRedirects: 0, redirect: 'return' },
    );
    expect(r.status).toBe(301);
    expect(r.headers.location).toBe('/hello');
    expect(hitsOf('/hello')).toBe(before);
  });

  it('truncateBody keeps the first maxBytes and drops the rest, with or without Content-Length', async () => {
    const big = await safeFetch(srv.url('/big'), {}, { ...base(), maxBytes: 1024, truncateBody: true });
    expect(big.status).toBe(200);
    expect(big.body).toHaveLength(1024);
    const streamed = await safeFetch(srv.url('/liar'), {}, { ...base(), maxBytes: 1500, truncateBody: true });
    expect(streamed.body).toHaveLength(1500);
  });
});
