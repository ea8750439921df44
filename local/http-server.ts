/**
 * Local API Gateway: a node:http server that matches ROUTES under each of their base paths, builds
 * the REST API proxy event (payload v1) the Lambda handlers get on AWS, runs the REQUEST
 * authorizer first on routes with `auth`, then the route's handler, and writes its result back.
 * API Gateway's own answers (lib/api.ts GATEWAY_RESPONSES) are mirrored with the same envelopes:
 * unknown route or method → 404 NOT_FOUND, body over the route's maxBodyBytes (default
 * LIMITS.maxBodyBytes) → 413
 * PAYLOAD_TOO_LARGE, authorizer "Unauthorized" or a deny → 401 UNAUTHORIZED, authorizer or
 * handler crash → 500 INTERNAL_ERROR (no stack, no message from the crash).
 */
import { readControlSettings } from '../core/control/settings.ts';
import { RateLimiter } from '../core/control/rate-limit.ts';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type {
  APIGatewayAuthorizerResult,
  APIGatewayProxyEvent,
  APIGatewayProxyResult,
  APIGatewayRequestAuthorizerEvent,
  Context,
} from 'aws-lambda';
import { errorEnvelope } from '../core/api/errors.ts';
import { ENV, LIMITS, type ApiErrorCode } from '../core/constants.ts';
import {
  API_BASE_PATHS,
  AUTHORIZER_ACCOUNT_KEY,
  handlerEntry,
  isBinaryMediaType,
  routeBases,
  ROUTES,
  type RouteSpec,
} from '../core/routes.ts';
import { LOCAL_ACCOUNT, LOCAL_REGION } from './services.ts';
import { REPO_ROOT } from './paths.ts';
import { CONSOLE_KEYS_PATH, consoleKeys } from './console-keys.ts';

export const LOCAL_STAGE = 'local';
const API_ID = 'local';
/** API Gateway gives up on an integration after 29 s. */
const INTEGRATION_TIMEOUT_MS = 29_000;

type Handler = (event: unknown, context: Context) => Promise<unknown>;

export interface HttpServerOptions {
  port: number;
  host?: string;
  /** Loads a handler module's `handler` (default: import lambdas/<name>/index.ts). */
  loadHandler?: (name: string) => Promise<Handler>;
  log?: (line: string) => void;
}

export interface LocalHttpServer {
  url: string;
  port: number;
  server: Server;
  /** Imports every handler now (the first request then does not pay for it). */
  warm(): Promise<void>;
  /**
   * Shutting down: new work (authenticated POST routes) is refused from now on with 503
   * SERVICE_UNAVAILABLE and Retry-After; reads still answer while running commands drain.
   */
  refuseNewWork(retryAfterSeconds: number): void;
  close(): Promise<void>;
}

interface RouteMatch {
  route: RouteSpec;
  base: string;
  resource: string;
  pathParameters: Record<string, string> | null;
}

/** Matches a request path against the routes; `methodMismatch` when only the method differs. */
export function matchRoute(method: string, rawPath: string): { match?: RouteMatch; methodMismatch: boolean } {
  const p = rawPath.length > 1 && rawPath.endsWith('/') ? rawPath.slice(0, -1) : rawPath;
  let methodMismatch = false;
  for (const route of ROUTES) {
    for (const base of routeBases(route)) {
      if (!p.startsWith(`${base}/`)) continue;
      const rest = p.slice(base.length).split('/');
      const tpl = route.path.split('/');
      if (tpl.length !== rest.length) continue;
      const params: Record<string, string> = Object.create(null);
      let ok = true;
      for (let i = 0; i < tpl.length && ok; i++) {
        const m = /^\{(.+)\}$/.exec(tpl[i]);
        if (m) {
          if (rest[i] === '') ok = false;
          else {
            try {
              params[m[1]] = decodeURIComponent(rest[i]);
            } catch {
              ok = false;
            }
          }
        } else ok = tpl[i] === rest[i];
      }
      if (!ok) continue;
      if (route.method !== method) {
        methodMismatch = true;
        continue;
      }
      return {
        match: {
          route,
          base,
          resource: `${base}${route.path}`,
          pathParameters: Object.keys(params).length > 0 ? params : null,
        },
        methodMismatch,
      };
    }
  }
  return { methodMismatch };
}

function envelope(
  res: ServerResponse,
  status: number,
  code: ApiErrorCode,
  message: string,
  headers: Record<string, string> = {},
): void {
  const body = JSON.stringify(errorEnvelope({ code, message }));
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

/**
 * The web console (console/, static files; docs/CONSOLE.md) at /console/, same origin as the
 * API so it needs no CORS locally. hls.js is served from node_modules (npm, no CDN).
 */
const CONSOLE_FILES: Record<string, { file: string; type: string }> = {
  '/console/': { file: 'console/index.html', type: 'text/html; charset=utf-8' },
  '/console/console.js': { file: 'console/console.js', type: 'text/javascript; charset=utf-8' },
  '/console/console.css': { file: 'console/console.css', type: 'text/css; charset=utf-8' },
  '/console/vendor/hls.min.js': { file: 'node_modules/hls.js/dist/hls.min.js', type: 'text/javascript; charset=utf-8' },
};

async function serveConsole(pathname: string, res: ServerResponse): Promise<void> {
  if (pathname === '/console') {
    res.writeHead(308, { location: '/console/' });
    res.end();
    return;
  }
  const entry = CONSOLE_FILES[pathname];
  if (!entry) {
    envelope(res, 404, 'NOT_FOUND', 'No such console file');
    return;
  }
  try {
    const body = await readFile(path.join(REPO_ROOT, entry.file));
    res.writeHead(200, { 'content-type': entry.type, 'content-length': body.length, 'cache-control': 'no-cache' });
    res.end(body);
  } catch {
    envelope(res, 404, 'NOT_FOUND', 'No such console file');
  }
}

class TooLarge extends Error {}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      reject(new TooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        done = true;
        reject(new TooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!done) resolve(Buffer.concat(chunks));
    });
    req.on('error', (err) => {
      if (!done) reject(err);
    });
  });
}

/**
 * Maps keyed by what the client sent have no prototype: a header or query key such as
 * `__proto__`, `constructor` or `toString` is an ordinary name, never Object.prototype's.
 */
function clientMap<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/** Headers as API Gateway passes them: client's spelling, last value wins, plus the multi-value map. */
function headerMaps(req: IncomingMessage): { headers: Record<string, string>; multi: Record<string, string[]> } {
  const headers = clientMap<string>();
  const multi = clientMap<string[]>();
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i];
    const value = req.rawHeaders[i + 1];
    headers[name] = value;
    (multi[name] ??= []).push(value);
  }
  return { headers, multi };
}

function queryMaps(url: URL): { single: Record<string, string> | null; multi: Record<string, string[]> | null } {
  const single = clientMap<string>();
  const multi = clientMap<string[]>();
  for (const [k, v] of url.searchParams) {
    single[k] = v;
    (multi[k] ??= []).push(v);
  }
  return Object.keys(single).length > 0 ? { single, multi } : { single: null, multi: null };
}

export function lambdaContext(functionName: string, requestId: string, timeoutMs: number): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** Whether an IAM-style policy allows `methodArn` (an explicit Deny wins; no match is a deny). */
export function policyAllows(
  policy: APIGatewayAuthorizerResult['policyDocument'] | undefined,
  methodArn: string,
): boolean {
  const statements = policy?.Statement ?? [];
  const matches = (pattern: string) =>
    new RegExp(
      `^${pattern
        .split('*')
        .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*')}$`,
    ).test(methodArn);
  let allowed = false;
  for (const st of statements as { Effect: string; Action?: string | string[]; Resource?: string | string[] }[]) {
    const actions = Array.isArray(st.Action) ? st.Action : [st.Action ?? ''];
    if (!actions.some((a) => a === '*' || a === 'execute-api:*' || a === 'execute-api:Invoke')) continue;
    const resources = Array.isArray(st.Resource) ? st.Resource : [st.Resource ?? ''];
    if (!resources.some(matches)) continue;
    if (st.Effect === 'Deny') return false;
    if (st.Effect === 'Allow') allowed = true;
  }
  return allowed;
}

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('integration timed out')), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export async function startHttpServer(opts: HttpServerOptions): Promise<LocalHttpServer> {
  const log = opts.log ?? ((line: string) => console.error(line));
  const control = readControlSettings();
  const rateLimiter = new RateLimiter(control.ratePerSecond, control.rateBurst);
  const cache = new Map<string, Promise<Handler>>();
  const load =
    opts.loadHandler ??
    (async (name: string) => {
      // A pattern, not a computed path: the compiled `npm start` (scripts/build-local.mjs) bundles
      // every module it matches, which is every handler of the route table (handlerEntry).
      const mod = (await import(`../lambdas/${name}/index.ts`)) as { handler?: Handler };
      if (typeof mod.handler !== 'function') throw new Error(`${handlerEntry(name as never)} exports no handler`);
      return mod.handler;
    });
  const handlerOf = (name: string): Promise<Handler> => {
    let p = cache.get(name);
    if (!p) {
      p = load(name);
      cache.set(name, p);
      p.catch(() => cache.delete(name));
    }
    return p;
  };

  let refusing: number | null = null;
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = Date.now();
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://localhost');
    const requestId = randomUUID();
    res.setHeader('x-amzn-requestid', requestId);
    res.on('finish', () => log(`${method} ${url.pathname} ${res.statusCode} ${Date.now() - started}ms`));

    // A console served from elsewhere (FFAAS_CORS_ORIGIN, as the stack's `console` prop sets it).
    const corsOrigin = process.env[ENV.CORS_ORIGIN];
    if (corsOrigin) {
      res.setHeader('access-control-allow-origin', corsOrigin);
      if (method === 'OPTIONS') {
        req.resume();
        res.writeHead(204, {
          'access-control-allow-methods': 'GET,POST,PUT,DELETE,OPTIONS',
          'access-control-allow-headers': 'Content-Type,X-API-KEY,Authorization,Idempotency-Key',
          'access-control-max-age': '3600',
        });
        res.end();
        return;
      }
    }
    if (url.pathname === CONSOLE_KEYS_PATH || url.pathname.startsWith(`${CONSOLE_KEYS_PATH}/`)) {
      const body = await readBody(req, 10_000).catch(() => Buffer.alloc(0));
      const answer = await consoleKeys(
        method,
        url.pathname,
        (name) => {
          const v = req.headers[name];
          return Array.isArray(v) ? v[0] : v;
        },
        body,
      );
      if (answer.error) envelope(res, answer.status, answer.error.code, answer.error.message);
      else {
        const text = JSON.stringify(answer.body);
        res.writeHead(answer.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
        res.end(text);
      }
      return;
    }
    if (
      (method === 'GET' || method === 'HEAD') &&
      (url.pathname === '/console' || url.pathname.startsWith('/console/'))
    ) {
      await serveConsole(url.pathname, res);
      return;
    }
    const { match } = matchRoute(method === 'HEAD' ? 'GET' : method, url.pathname);
    if (!match) {
      req.resume();
      envelope(res, 404, 'NOT_FOUND', 'No such route');
      return;
    }
    if (refusing !== null && match.route.method === 'POST' && match.route.auth) {
      req.resume();
      envelope(
        res,
        503,
        'SERVICE_UNAVAILABLE',
        'The service is shutting down and accepts no new commands; retry shortly',
        {
          'retry-after': String(refusing),
        },
      );
      return;
    }
    let body: Buffer;
    try {
      body = await readBody(req, match.route.maxBodyBytes ?? LIMITS.maxBodyBytes);
    } catch (err) {
      if (err instanceof TooLarge) {
        envelope(res, 413, 'PAYLOAD_TOO_LARGE', 'Request body too large', { connection: 'close' });
        req.resume();
        return;
      }
      throw err;
    }

    const { headers, multi } = headerMaps(req);
    const query = queryMaps(url);
    const sourceIp = req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1';
    const methodArn = `arn:aws:execute-api:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${API_ID}/${LOCAL_STAGE}/${method}${url.pathname}`;
    const requestContext: APIGatewayProxyEvent['requestContext'] = {
      accountId: LOCAL_ACCOUNT,
      apiId: API_ID,
      authorizer: null,
      protocol: `HTTP/${req.httpVersion}`,
      httpMethod: method,
      path: `/${LOCAL_STAGE}${url.pathname}`,
      stage: LOCAL_STAGE,
      requestId,
      requestTimeEpoch: started,
      resourceId: match.resource,
      resourcePath: match.resource,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp,
        user: null,
        userAgent: (req.headers['user-agent'] as string | undefined) ?? null,
        userArn: null,
      },
    };

    if (match.route.auth) {
      const authEvent: APIGatewayRequestAuthorizerEvent = {
        type: 'REQUEST',
        methodArn,
        resource: match.resource,
        path: url.pathname,
        httpMethod: method,
        headers,
        multiValueHeaders: multi,
        pathParameters: match.pathParameters,
        queryStringParameters: query.single,
        multiValueQueryStringParameters: query.multi,
        stageVariables: null,
        requestContext: requestContext as APIGatewayRequestAuthorizerEvent['requestContext'],
      };
      let result: APIGatewayAuthorizerResult & { context?: Record<string, unknown> };
      try {
        const authorizer = await handlerOf('authorizer');
        result = (await withTimeout(
          authorizer(authEvent, lambdaContext('ffaas-local-authorizer', requestId, 15_000)),
          INTEGRATION_TIMEOUT_MS,
        )) as typeof result;
      } catch (err) {
        if ((err as Error)?.message === 'Unauthorized') {
          envelope(res, 401, 'UNAUTHORIZED', 'Missing or invalid API key');
        } else {
          log(`authorizer failed: ${(err as Error)?.stack ?? err}`);
          envelope(res, 500, 'INTERNAL_ERROR', 'Internal error');
        }
        return;
      }
      if (!result || !policyAllows(result.policyDocument, methodArn)) {
        envelope(res, 401, 'UNAUTHORIZED', 'Missing or invalid API key');
        return;
      }
      // API Gateway passes the context's values as strings, plus principalId.
      const ctx: Record<string, string> = { principalId: String(result.principalId ?? '') };
      for (const [k, v] of Object.entries(result.context ?? {})) if (v !== undefined && v !== null) ctx[k] = String(v);
      if (!ctx[AUTHORIZER_ACCOUNT_KEY]) {
        envelope(res, 401, 'UNAUTHORIZED', 'Missing or invalid API key');
        return;
      }
      requestContext.authorizer = ctx;
      // control (issue 12): the per-account rate limit, where API Gateway's usage plan applies it.
      const rate = rateLimiter.take(ctx[AUTHORIZER_ACCOUNT_KEY], Date.now());
      if (!rate.ok) {
        envelope(
          res,
          429,
          'RATE_LIMITED',
          `Too many requests for this account (over ${rateLimiter.ratePerSecond}/s, burst ${rateLimiter.burst}); retry after ${rate.retryAfterSeconds} s`,
          {
            'retry-after': String(rate.retryAfterSeconds),
          },
        );
        return;
      }
    }

    const binary = isBinaryMediaType(req.headers['content-type']);
    const event: APIGatewayProxyEvent = {
      resource: match.resource,
      path: url.pathname,
      httpMethod: method,
      headers,
      multiValueHeaders: multi,
      queryStringParameters: query.single,
      multiValueQueryStringParameters: query.multi,
      pathParameters: match.pathParameters,
      stageVariables: null,
      requestContext,
      // The API's binaryMediaTypes (BINARY_MEDIA_TYPES) arrive base64-encoded, anything else as text.
      body: body.length > 0 ? body.toString(binary ? 'base64' : 'utf8') : null,
      isBase64Encoded: binary && body.length > 0,
    };
    let out: APIGatewayProxyResult;
    try {
      const handler = await handlerOf(match.route.handler);
      out = (await withTimeout(
        handler(event, lambdaContext(`ffaas-local-${match.route.handler}`, requestId, 15_000)),
        INTEGRATION_TIMEOUT_MS,
      )) as APIGatewayProxyResult;
      if (!out || typeof out.statusCode !== 'number') throw new Error('handler returned no statusCode');
    } catch (err) {
      log(`${match.route.handler} failed: ${(err as Error)?.stack ?? err}`);
      envelope(res, 500, 'INTERNAL_ERROR', 'Internal error');
      return;
    }
    const resHeaders: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(out.headers ?? {})) resHeaders[k.toLowerCase()] = String(v);
    for (const [k, vs] of Object.entries(out.multiValueHeaders ?? {})) resHeaders[k.toLowerCase()] = vs.map(String);
    const payload =
      out.body === undefined || out.body === null
        ? Buffer.alloc(0)
        : Buffer.from(out.body, out.isBase64Encoded ? 'base64' : 'utf8');
    resHeaders['content-length'] = String(payload.length);
    resHeaders['content-type'] ??= 'application/json';
    res.writeHead(out.statusCode, resHeaders);
    res.end(method === 'HEAD' ? undefined : payload);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      log(`request failed: ${(err as Error)?.stack ?? err}`);
      if (!res.headersSent) envelope(res, 500, 'INTERNAL_ERROR', 'Internal error');
      else res.destroy();
    });
  });
  server.headersTimeout = 30_000;
  server.requestTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${opts.host ?? '127.0.0.1'}:${port}`,
    port,
    server,
    refuseNewWork(retryAfterSeconds: number) {
      refusing = Math.max(1, Math.ceil(retryAfterSeconds));
    },
    async warm() {
      const names = new Set<string>(['authorizer', ...ROUTES.map((r) => r.handler)]);
      await Promise.all(
        [...names].map((n) =>
          handlerOf(n).catch((err) => log(`handler ${n} failed to load: ${(err as Error).message}`)),
        ),
      );
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 2000).unref();
      }),
  };
}
