/**
 * Local mode's API Gateway stand-in (local/http-server.ts) with stand-in handlers: route
 * matching under both base paths, the REST proxy event (v1) the handlers get, the REQUEST
 * authorizer, and API Gateway's own answers (404 / 413 / 401 / 500 envelopes).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { APIGatewayProxyEvent, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { LIMITS } from '../../core/constants.ts';
import { ROUTES, routePaths } from '../../core/routes.ts';
import { matchRoute, policyAllows, startHttpServer, type LocalHttpServer } from '../../local/http-server.ts';

/** docs/API.md's envelope of an error without failing fields: message and detail repeat the message. */
const envelopeOf = (code: string, message: string) => ({ error: { code, message }, message, detail: message });

const GOOD_KEY = `ffsk_${'a'.repeat(64)}`;
const DENY_KEY = `ffsk_${'d'.repeat(64)}`;
const BROKEN_KEY = `ffsk_${'b'.repeat(64)}`;

let server: LocalHttpServer;
const seen: { name: string; event: APIGatewayProxyEvent }[] = [];
const authEvents: APIGatewayRequestAuthorizerEvent[] = [];
let crash = false;

beforeAll(async () => {
  server = await startHttpServer({
    port: 0,
    log: () => undefined,
    loadHandler: async (name) => {
      if (name === 'authorizer') {
        return async (event: unknown) => {
          const e = event as APIGatewayRequestAuthorizerEvent;
          authEvents.push(e);
          const key = e.headers?.['X-API-KEY'] ?? e.headers?.['x-api-key'];
          if (key === BROKEN_KEY) throw new Error('DynamoDB unavailable');
          if (key !== GOOD_KEY && key !== DENY_KEY) throw new Error('Unauthorized');
          const stage = e.methodArn.split('/').slice(0, 2).join('/');
          return {
            principalId: 'acct-1',
            policyDocument: {
              Version: '2012-10-17',
              Statement: [
                { Action: 'execute-api:Invoke', Effect: key === GOOD_KEY ? 'Allow' : 'Deny', Resource: `${stage}/*` },
              ],
            },
            context: { accountId: 'acct-1' },
          };
        };
      }
      return async (event: unknown) => {
        if (crash) throw new Error('secret stack detail');
        seen.push({ name, event: event as APIGatewayProxyEvent });
        return {
          statusCode: 200,
          headers: { 'Content-Type': 'application/json', 'X-Handler': name },
          body: JSON.stringify({ handler: name }),
        };
      };
    },
  });
});
afterAll(async () => {
  await server?.close();
});

const call = (path: string, init: RequestInit = {}) => fetch(`${server.url}${path}`, init);

describe('route matching', () => {
  it('serves every route under every base path', async () => {
    for (const route of ROUTES) {
      for (const routePath of routePaths(route)) {
        const path = routePath.replace(/\{[a-z_]+\}/g, 'p-1');
        const res = await call(path, {
          method: route.method,
          headers: { 'x-api-key': GOOD_KEY, 'content-type': 'application/json' },
          body: route.method === 'GET' ? undefined : '{}',
        });
        expect(res.status, `${route.method} ${path}`).toBe(200);
        expect(res.headers.get('x-handler')).toBe(route.handler);
      }
    }
  });

  it('matches path parameters, trailing slashes and nothing else', () => {
    expect(matchRoute('GET', '/api/v1/commands/abc%20d').match).toMatchObject({
      resource: '/api/v1/commands/{command_id}',
      pathParameters: { command_id: 'abc d' },
    });
    expect(matchRoute('GET', '/v1/health/').match?.route.handler).toBe('health');
    expect(matchRoute('GET', '/api/v1/commands/a/b').match).toBeUndefined();
    expect(matchRoute('GET', '/api/v2/health').match).toBeUndefined();
    expect(matchRoute('DELETE', '/api/v1/health')).toEqual({ methodMismatch: true });
  });
});

describe('the proxy event', () => {
  it('is an API Gateway REST (v1) event with the authorizer context', async () => {
    seen.length = 0;
    const res = await call('/v1/commands/cmd-42?limit=5&status=A&status=B', {
      headers: { 'X-API-KEY': GOOD_KEY, 'X-Custom': 'x' },
    });
    expect(res.status).toBe(200);
    const { event } = seen[0];
    expect(event).toMatchObject({
      httpMethod: 'GET',
      path: '/v1/commands/cmd-42',
      resource: '/v1/commands/{command_id}',
      pathParameters: { command_id: 'cmd-42' },
      queryStringParameters: { limit: '5', status: 'B' },
      multiValueQueryStringParameters: { limit: ['5'], status: ['A', 'B'] },
      body: null,
      isBase64Encoded: false,
      requestContext: {
        stage: 'local',
        httpMethod: 'GET',
        identity: { sourceIp: '127.0.0.1' },
        authorizer: { accountId: 'acct-1', principalId: 'acct-1' },
      },
    });
    expect(event.headers['X-Custom']).toBe('x');
    expect(event.multiValueHeaders['X-Custom']).toEqual(['x']);
    expect(event.requestContext.requestId).toMatch(/^[0-9a-f-]{36}$/);
    const auth = authEvents.at(-1)!;
    expect(auth).toMatchObject({ type: 'REQUEST', httpMethod: 'GET', resource: '/v1/commands/{command_id}' });
    expect(auth.methodArn).toMatch(/^arn:aws:execute-api:[^:]+:\d+:local\/local\/GET\/v1\/commands\/cmd-42$/);
  });

  it('passes the body as text; open routes skip the authorizer', async () => {
    seen.length = 0;
    const before = authEvents.length;
    const res = await call('/api/v1/validate', {
      method: 'POST',
      body: '{"ffmpeg_command":"ffmpeg -version"}',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(200);
    expect(seen[0].event.body).toBe('{"ffmpeg_command":"ffmpeg -version"}');
    expect(seen[0].event.requestContext.authorizer).toBeNull();
    expect(authEvents.length).toBe(before);
  });
});

describe('API Gateway answers', () => {
  it('unknown route → 404 NOT_FOUND envelope', async () => {
    for (const path of ['/', '/api/v1/nope', '/api/v2/health', '/v1/commands/a/b']) {
      const res = await call(path);
      expect(res.status, path).toBe(404);
      expect(await res.json()).toEqual(envelopeOf('NOT_FOUND', 'No such route'));
    }
  });

  it('wrong method → 404 NOT_FOUND envelope (API Gateway: missing authentication token)', async () => {
    const res = await call('/api/v1/health', { method: 'DELETE' });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
  });

  it('body over 256 KiB → 413 PAYLOAD_TOO_LARGE before any handler', async () => {
    seen.length = 0;
    const before = authEvents.length;
    const res = await call('/api/v1/run-ffmpeg-command', {
      method: 'POST',
      headers: { 'x-api-key': GOOD_KEY },
      body: 'x'.repeat(LIMITS.maxBodyBytes + 1),
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual(envelopeOf('PAYLOAD_TOO_LARGE', 'Request body too large'));
    expect(seen).toHaveLength(0);
    expect(authEvents.length).toBe(before);
    const ok = await call('/api/v1/validate', { method: 'POST', body: 'x'.repeat(LIMITS.maxBodyBytes) });
    expect(ok.status).toBe(200);
  });

  it('authorizer "Unauthorized" or a deny → 401 UNAUTHORIZED; its crash → 500', async () => {
    for (const headers of [{}, { 'x-api-key': 'nope' }, { 'x-api-key': DENY_KEY }] as Record<string, string>[]) {
      const res = await call('/api/v1/commands', { headers });
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual(envelopeOf('UNAUTHORIZED', 'Missing or invalid API key'));
    }
    const res = await call('/api/v1/commands', { headers: { 'x-api-key': BROKEN_KEY } });
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual(envelopeOf('INTERNAL_ERROR', 'Internal error'));
  });

  it('a handler crash → 500 INTERNAL_ERROR without its message or stack', async () => {
    crash = true;
    try {
      const res = await call('/api/v1/health');
      expect(res.status).toBe(500);
      const text = await res.text();
      expect(JSON.parse(text)).toEqual(envelopeOf('INTERNAL_ERROR', 'Internal error'));
      expect(text).not.toContain('secret');
    } finally {
      crash = false;
    }
  });
});

describe('policyAllows', () => {
  const arn = 'arn:aws:execute-api:us-east-1:000000000000:local/local/GET/api/v1/commands';
  it('allows by wildcard, an explicit deny wins, no statement denies', () => {
    const allow: { Effect: 'Allow' | 'Deny'; Action: string; Resource: string } = {
      Effect: 'Allow',
      Action: 'execute-api:Invoke',
      Resource: 'arn:aws:execute-api:us-east-1:000000000000:local/local/*',
    };
    expect(policyAllows({ Version: '2012-10-17', Statement: [allow] }, arn)).toBe(true);
    expect(
      policyAllows(
        { Version: '2012-10-17', Statement: [allow, { ...allow, Effect: 'Deny' as const, Resource: arn }] },
        arn,
      ),
    ).toBe(false);
    expect(policyAllows({ Version: '2012-10-17', Statement: [] }, arn)).toBe(false);
    expect(
      policyAllows(
        {
          Version: '2012-10-17',
          Statement: [{ ...allow, Resource: 'arn:aws:execute-api:us-east-1:000000000000:other/*' }],
        },
        arn,
      ),
    ).toBe(false);
  });
});
