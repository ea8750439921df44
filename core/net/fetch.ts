/**
 * SSRF-safe HTTP fetching (docs/SECURITY-POLICY.md layers 6 and 7): every hop is resolved and checked by
 * checkUrl, and the TCP connection goes to the checked address itself — an undici Agent whose
 * `connect` dials the pinned IP while SNI, certificate checks and the Host header keep the
 * original host. (A `connect.lookup` hook alone would never run for literal-IP URLs; the
 * literal is checked in checkUrl and dialled directly here.) Redirects are followed by hand
 * and each hop re-checked, so an http→https (or back) redirect gets no free pass. Bytes are
 * counted while streaming; Content-Length is only used to refuse early.
 *
 * Written on undici rather than `request-filtering-agent` because that one is an http.Agent
 * (no fetch/undici), and does not normalize IPv4-mapped IPv6 in its deny list.
 */
import { createWriteStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Agent, buildConnector, request, type Dispatcher } from 'undici';
import { checkUrl, describeHost, type UrlPolicyOptions } from './policy.ts';

export type SafeFetchErrorKind = 'INPUT_DOWNLOAD_FAILED' | 'INPUT_TOO_LARGE';
/** Why a fetch failed, finer than `kind`: callers and tests branch on it. */
export type SafeFetchReason = 'policy' | 'http' | 'network' | 'timeout' | 'too-large' | 'redirects' | 'aborted';

export class SafeFetchError extends Error {
  override name = 'SafeFetchError';
  constructor(
    readonly kind: SafeFetchErrorKind,
    readonly reason: SafeFetchReason,
    message: string,
    /** HTTP status of the final answer, when there was one. */
    readonly status?: number,
    /** 5xx and network errors are worth another attempt; 4xx and policy refusals are not. */
    readonly retryable = false,
  ) {
    super(message);
  }
}

export interface SafeFetchOptions extends UrlPolicyOptions {
  /** Byte cap of the body, counted while streaming. */
  maxBytes: number;
  /** Overall time for all attempts, hops and the body. */
  timeoutMs: number;
  maxRedirects: number;
  /** Extra attempts after a 5xx or a network error (0 = one attempt). */
  retries: number;
  /** First backoff delay; doubles per attempt, with jitter (default 500 ms). */
  retryDelayMs?: number;
  /** Cancels everything (e.g. the worker is stopping). */
  signal?: AbortSignal;
  /** Connect timeout per hop (default 10 s, bounded by the overall timeout). */
  connectTimeoutMs?: number;
  /**
   * 'return': a redirect is the final answer (its status is returned, its Location never
   * fetched), as webhooks want. @default 'follow'
   */
  redirect?: 'follow' | 'return';
  /** safeFetch: keep the first maxBytes of the body and drop the rest, instead of failing. @default false */
  truncateBody?: boolean;
  /**
   * safeFetchToFile: called after every `onBytes.every` bytes of body written (the worker frees
   * the chunks it dropped there, fargate-task/src/memory.ts).
   */
  onBytes?: { every: number; run: () => void };
}

export interface FetchToFileResult {
  bytes: number;
  status: number;
  contentType: string | null;
  /** Host of the final hop (safe to log). */
  finalHost: string;
  attempts: number;
  /** Attempts that continued a cut body with a Range request instead of starting over. */
  resumed: number;
}

export interface SafeFetchInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
}

export interface SafeFetchResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  finalHost: string;
  attempts: number;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const USER_AGENT = 'ffaas-fetch/1';

/**
 * An Agent that dials the checked addresses (in resolver order, the next one when a connect
 * fails) whatever the URL says; TLS still verifies the URL's host (SNI from the Host).
 */
function pinnedAgent(addresses: readonly string[], timeoutMs: number, connectTimeoutMs: number): Agent {
  const base = buildConnector({ timeout: connectTimeoutMs, allowH2: false });
  const connect: buildConnector.connector = (options, callback) => {
    const attempt = (i: number) => {
      base({ ...options, hostname: addresses[i]! }, (err, socket) => {
        if (err && i + 1 < addresses.length) attempt(i + 1);
        else if (err) callback(err, null);
        else callback(null, socket!);
      });
    };
    attempt(0);
  };
  return new Agent({ connections: 1, pipelining: 0, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, connect });
}

interface Hop {
  status: number;
  headers: Record<string, string>;
  body: Dispatcher.ResponseData['body'];
  url: URL;
  close: () => Promise<void>;
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function flattenHeaders(headers: Dispatcher.ResponseData['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    const one = headerValue(v as string | string[] | undefined);
    if (one !== undefined) out[k.toLowerCase()] = one;
  }
  return out;
}

/** Credentials in the URL become a Basic header (same origin only); the URL sent has none. */
function splitCredentials(url: URL): { url: URL; authorization?: string } {
  if (!url.username && !url.password) return { url };
  const clean = new URL(url.href);
  const token = Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString(
    'base64',
  );
  clean.username = '';
  clean.password = '';
  return { url: clean, authorization: `Basic ${token}` };
}

function networkMessage(err: unknown): string {
  const e = err as { code?: string; name?: string; message?: string; cause?: { code?: string } };
  const code = e?.code ?? e?.cause?.code;
  // Messages of undici/system errors can carry the address dialled; keep to the code.
  return code ? `network error (${code})` : `network error (${e?.name ?? 'Error'})`;
}

/** Follow redirects by hand, re-checking each hop. Returns the final (non-redirect) hop, body unread. */
async function followRedirects(
  start: URL,
  init: SafeFetchInit,
  opts: SafeFetchOptions,
  signal: AbortSignal,
): Promise<Hop> {
  const first = splitCredentials(start);
  let current = first.url;
  const origin0 = current.origin;
  let method = (init.method ?? 'GET').toUpperCase();
  let body = init.body;
  for (let hop = 0; ; hop++) {
    const check = await checkUrl(current, opts);
    if (!check.ok) {
      throw new SafeFetchError(
        'INPUT_DOWNLOAD_FAILED',
        'policy',
        `refused to fetch from ${describeHost(current)}: ${check.reason}`,
      );
    }
    const headers: Record<string, string> = { 'user-agent': USER_AGENT, ...(init.headers ?? {}) };
    if (first.authorization && current.origin === origin0) headers.authorization = first.authorization;
    if (current.origin !== origin0) {
      delete headers.authorization;
      delete headers.cookie;
    }
    const agent = pinnedAgent(
      check.addresses,
      opts.timeoutMs,
      Math.min(opts.connectTimeoutMs ?? 10_000, opts.timeoutMs),
    );
    let res: Dispatcher.ResponseData;
    try {
      res = await request(current, {
        dispatcher: agent,
        method: method as Dispatcher.HttpMethod,
        headers,
        body,
        signal,
      });
    } catch (err) {
      await agent.destroy().catch(() => {});
      throw err;
    }
    const close = () => agent.close().catch(() => {});
    const flat = flattenHeaders(res.headers);
    if (!REDIRECTS.has(res.statusCode) || opts.redirect === 'return')
      return { status: res.statusCode, headers: flat, body: res.body, url: current, close };

    await res.body.dump().catch(() => {});
    await close();
    const location = flat.location;
    if (!location) {
      throw new SafeFetchError(
        'INPUT_DOWNLOAD_FAILED',
        'http',
        `${describeHost(current)} answered HTTP ${res.statusCode} without a Location`,
        res.statusCode,
      );
    }
    if (hop >= opts.maxRedirects) {
      throw new SafeFetchError(
        'INPUT_DOWNLOAD_FAILED',
        'redirects',
        `too many redirects (more than ${opts.maxRedirects}) starting at ${describeHost(start)}`,
      );
    }
    let next: URL;
    try {
      next = new URL(location, current);
    } catch {
      throw new SafeFetchError(
        'INPUT_DOWNLOAD_FAILED',
        'policy',
        `${describeHost(current)} redirected to an invalid URL`,
      );
    }
    if (res.statusCode === 303 || ((res.statusCode === 301 || res.statusCode === 302) && method === 'POST')) {
      method = method === 'HEAD' ? 'HEAD' : 'GET';
      body = undefined;
    }
    // Credentials in a Location are not honoured: the next hop goes without them.
    next.username = '';
    next.password = '';
    current = next;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Run `attempt` with the overall deadline, retrying retryable failures with backoff. Errors
 * that are not SafeFetchErrors are mapped here (network, timeout, aborted).
 */
async function withRetries<T>(
  url: string,
  opts: SafeFetchOptions,
  attempt: (signal: AbortSignal, n: number) => Promise<T>,
): Promise<T> {
  const deadline = AbortSignal.timeout(opts.timeoutMs);
  const signal = opts.signal ? AbortSignal.any([deadline, opts.signal]) : deadline;
  const host = describeHost(url);
  const base = opts.retryDelayMs ?? 500;
  for (let n = 1; ; n++) {
    let failure: SafeFetchError;
    try {
      return await attempt(signal, n);
    } catch (err) {
      if (opts.signal?.aborted)
        throw new SafeFetchError('INPUT_DOWNLOAD_FAILED', 'aborted', `fetching from ${host} was cancelled`);
      if (deadline.aborted) {
        throw new SafeFetchError(
          'INPUT_DOWNLOAD_FAILED',
          'timeout',
          `fetching from ${host} timed out after ${Math.round(opts.timeoutMs / 1000)} s`,
        );
      }
      failure =
        err instanceof SafeFetchError
          ? err
          : new SafeFetchError(
              'INPUT_DOWNLOAD_FAILED',
              'network',
              `fetching from ${host} failed: ${networkMessage(err)}`,
              undefined,
              true,
            );
    }
    if (!failure.retryable || n > opts.retries) {
      if (n > 1 && failure.retryable) failure.message += ` (after ${n} attempts)`;
      throw failure;
    }
    const delay = Math.min(base * 2 ** (n - 1), 10_000) * (0.8 + Math.random() * 0.4);
    try {
      await sleep(delay, signal);
    } catch {
      if (opts.signal?.aborted)
        throw new SafeFetchError('INPUT_DOWNLOAD_FAILED', 'aborted', `fetching from ${host} was cancelled`);
      throw new SafeFetchError(
        'INPUT_DOWNLOAD_FAILED',
        'timeout',
        `fetching from ${host} timed out after ${Math.round(opts.timeoutMs / 1000)} s`,
      );
    }
  }
}

/** Drop a body unread; undici's BodyReadable errors with AbortError on destroy, swallow it. */
function discard(body: Hop['body']): void {
  body.on('error', () => {});
  body.destroy();
}

function tooLarge(host: string, maxBytes: number): SafeFetchError {
  return new SafeFetchError(
    'INPUT_TOO_LARGE',
    'too-large',
    `the file at ${host} is larger than the limit of ${maxBytes} bytes`,
  );
}

function parseUrlOrThrow(url: string): URL {
  try {
    return new URL(url);
  } catch {
    throw new SafeFetchError('INPUT_DOWNLOAD_FAILED', 'policy', 'not a valid URL');
  }
}

/**
 * A validator that may go in If-Range: a strong ETag, else Last-Modified (RFC 9110 13.1.5: a
 * weak ETag never may). Without one a cut download is fetched whole again.
 */
function rangeValidator(headers: Record<string, string>): string | undefined {
  const etag = headers.etag;
  if (etag && !etag.startsWith('W/')) return etag;
  return headers['last-modified'] || undefined;
}

/** `bytes <first>-<last>/<total|*>` of a 206 answer. */
function parseContentRange(value: string | undefined): { first: number; total: number | null } | null {
  const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(value?.trim() ?? '');
  if (!m) return null;
  return { first: Number(m[1]), total: m[3] === '*' ? null : Number(m[3]) };
}

/**
 * Download `url` to `destPath` (created or truncated; removed again on failure). Throws
 * SafeFetchError: INPUT_TOO_LARGE past maxBytes, INPUT_DOWNLOAD_FAILED otherwise (policy
 * refusal, non-2xx, network, timeout, too many redirects), the message naming the host only.
 *
 * A body cut mid-way (network error) is retried like any network error, and when the server
 * gave a validator and did not refuse ranges, the next attempt asks only for the rest
 * (`Range: bytes=<on disk>-`) with `If-Range: <validator>`: a 206 from that offset is appended,
 * a 200 (the file changed, or ranges are not supported after all) replaces what is on disk.
 * Every hop of every attempt goes through the same checks and pinned connections.
 */
export async function safeFetchToFile(
  url: string,
  destPath: string,
  opts: SafeFetchOptions,
): Promise<FetchToFileResult> {
  const start = parseUrlOrThrow(url);
  // What an earlier attempt left on disk and the validator of the file it was reading.
  let resume: { bytes: number; validator: string } | undefined;
  let resumed = 0;
  try {
    return await withRetries(url, opts, async (signal, attempts) => {
      const asked = resume;
      resume = undefined;
      const headers: Record<string, string> = asked
        ? { range: `bytes=${asked.bytes}-`, 'if-range': asked.validator }
        : {};
      const hop = await followRedirects(start, { method: 'GET', headers }, opts, signal);
      const host = describeHost(hop.url);
      let validator: string | undefined;
      let offset = 0;
      try {
        if (hop.status < 200 || hop.status > 299) {
          await hop.body.dump().catch(() => {});
          throw new SafeFetchError(
            'INPUT_DOWNLOAD_FAILED',
            'http',
            `fetching from ${host} failed: the server answered HTTP ${hop.status}`,
            hop.status,
            // 416 to a resume (the file shrank): the next attempt asks for the whole file.
            hop.status >= 500 || (hop.status === 416 && asked !== undefined),
          );
        }
        let declared = Number(hop.headers['content-length']);
        if (hop.status === 206) {
          const range = parseContentRange(hop.headers['content-range']);
          if (!asked || !range || range.first !== asked.bytes) {
            // Not the rest we asked for: start again from the first byte (no Range next time).
            discard(hop.body);
            throw new SafeFetchError(
              'INPUT_DOWNLOAD_FAILED',
              'http',
              `fetching from ${host} failed: the server answered a partial content the download did not ask for`,
              206,
              true,
            );
          }
          offset = asked.bytes;
          declared = range.total ?? offset + declared;
          validator = asked.validator;
          resumed++;
        } else if (hop.headers['accept-ranges']?.toLowerCase() !== 'none') {
          validator = rangeValidator(hop.headers);
        }
        if (Number.isFinite(declared) && declared > opts.maxBytes) {
          discard(hop.body);
          throw tooLarge(host, opts.maxBytes);
        }
        let bytes = offset;
        const onBytes = opts.onBytes;
        let nextMark = onBytes ? bytes + onBytes.every : Number.POSITIVE_INFINITY;
        const counter = new Transform({
          transform(chunk: Buffer, _enc, cb) {
            bytes += chunk.length;
            if (bytes >= nextMark) {
              nextMark = bytes + onBytes!.every;
              onBytes!.run();
            }
            if (bytes > opts.maxBytes) cb(tooLarge(host, opts.maxBytes));
            else cb(null, chunk);
          },
        });
        try {
          await pipeline(
            hop.body,
            counter,
            createWriteStream(destPath, { mode: 0o644, flags: offset > 0 ? 'a' : 'w' }),
            { signal },
          );
        } catch (err) {
          // Cut mid-body: what reached the disk is the resume point (counted from the file,
          // not the stream, so nothing is skipped or doubled).
          if (validator && !(err instanceof SafeFetchError)) {
            const onDisk = await stat(destPath).then(
              (s) => s.size,
              () => 0,
            );
            if (onDisk > 0) resume = { bytes: onDisk, validator };
          }
          throw err;
        }
        return {
          bytes,
          status: hop.status,
          contentType: hop.headers['content-type'] ?? null,
          finalHost: host,
          attempts,
          resumed,
        };
      } finally {
        await hop.close();
      }
    });
  } catch (err) {
    await rm(destPath, { force: true }).catch(() => {});
    throw err;
  }
}

/**
 * Small request with a buffered body (webhooks, probes). Any final status is returned (the
 * caller judges it); redirects are followed only up to maxRedirects (0 for webhooks is
 * sensible); retries apply to network errors and 5xx answers.
 */
export async function safeFetch(url: string, init: SafeFetchInit, opts: SafeFetchOptions): Promise<SafeFetchResponse> {
  const start = parseUrlOrThrow(url);
  return withRetries(url, opts, async (signal, attempts) => {
    const hop = await followRedirects(start, init, opts, signal);
    const host = describeHost(hop.url);
    try {
      const declared = Number(hop.headers['content-length']);
      if (!opts.truncateBody && Number.isFinite(declared) && declared > opts.maxBytes) {
        discard(hop.body);
        throw tooLarge(host, opts.maxBytes);
      }
      const chunks: Buffer[] = [];
      let bytes = 0;
      for await (const chunk of hop.body) {
        const buf = chunk as Buffer;
        if (bytes + buf.length > opts.maxBytes) {
          discard(hop.body);
          if (!opts.truncateBody) throw tooLarge(host, opts.maxBytes);
          chunks.push(buf.subarray(0, opts.maxBytes - bytes));
          bytes = opts.maxBytes;
          break;
        }
        bytes += buf.length;
        chunks.push(buf);
      }
      if (hop.status >= 500 && attempts <= opts.retries) {
        throw new SafeFetchError(
          'INPUT_DOWNLOAD_FAILED',
          'http',
          `${host} answered HTTP ${hop.status}`,
          hop.status,
          true,
        );
      }
      return { status: hop.status, headers: hop.headers, body: Buffer.concat(chunks), finalHost: host, attempts };
    } finally {
      await hop.close();
    }
  });
}
