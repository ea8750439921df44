/**
 * The HTTP side of the handlers: middy middlewares for API Gateway REST proxy events (v1),
 * JSON responses, and the caller's account from the authorizer context.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { ENV, LIMITS } from '../../core/constants.ts';
import { AUTHORIZER_ACCOUNT_KEY } from '../../core/routes.ts';
import { ApiError, errorEnvelope, isApiError } from '../../core/api/errors.ts';
import { logger } from './logger.ts';
import { observability } from './observability.ts';

export type ApiResult = APIGatewayProxyResult;

/** The event as handlers see it: the raw proxy event plus the parsed JSON body. */
export type ApiEvent = APIGatewayProxyEvent & { jsonBody?: unknown };

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' };

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): ApiResult {
  return { statusCode, headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) };
}

export function errorResponse(err: ApiError, where: 'body' | 'query' = 'body'): ApiResult {
  return json(err.status, errorEnvelope(err, where), err.headers);
}

/** The account the authorizer put in the request context; its absence is a 401. */
export function accountIdOf(event: APIGatewayProxyEvent): string {
  const authorizer = event.requestContext?.authorizer as Record<string, unknown> | null | undefined;
  const value = authorizer?.[AUTHORIZER_ACCOUNT_KEY];
  if (typeof value !== 'string' || value === '') throw new ApiError('UNAUTHORIZED', 'missing or invalid API key');
  return value;
}

function rawBody(event: APIGatewayProxyEvent): Buffer | undefined {
  if (event.body === null || event.body === undefined) return undefined;
  return Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
}

/** 413 over LIMITS.maxBodyBytes (API Gateway's own cap is far higher). */
export const bodyLimit = (): middy.MiddlewareObj<ApiEvent, ApiResult> => ({
  name: 'bodyLimit',
  before: (request) => {
    const body = rawBody(request.event);
    if (body && body.length > LIMITS.maxBodyBytes) {
      throw new ApiError('PAYLOAD_TOO_LARGE', `request body is over ${LIMITS.maxBodyBytes} bytes`);
    }
  },
});

/**
 * Parse the JSON body into `event.jsonBody` (undefined when there is none, which the route's
 * schema reports as a missing body). Not JSON: 400 INVALID_REQUEST.
 */
export const jsonBody = (): middy.MiddlewareObj<ApiEvent, ApiResult> => ({
  name: 'jsonBody',
  before: (request) => {
    const body = rawBody(request.event);
    if (!body || body.length === 0) {
      request.event.jsonBody = undefined;
      return;
    }
    try {
      request.event.jsonBody = JSON.parse(body.toString('utf8'));
    } catch {
      throw new ApiError('INVALID_REQUEST', 'request body is not valid JSON');
    }
  },
});

/**
 * Every failure becomes the envelope: ApiErrors with their status, anything else a 500 whose
 * message names only the request id (the stack goes to the log, never to the client).
 */
export const errorHandler = (): middy.MiddlewareObj<ApiEvent, ApiResult> => ({
  name: 'errorHandler',
  onError: (request) => {
    const err = request.error;
    if (isApiError(err)) {
      if (err.status >= 500) logger.error('request failed', { error: err });
      else logger.info('request refused', { code: err.code, reason: err.message });
      request.response = errorResponse(err, request.event?.httpMethod === 'GET' ? 'query' : 'body');
      return;
    }
    logger.error('unhandled error', { error: err as Error });
    const requestId = (request.context as Partial<Context>)?.awsRequestId ?? request.event?.requestContext?.requestId;
    const message = requestId ? `internal error (request ${requestId})` : 'internal error';
    request.response = errorResponse(new ApiError('INTERNAL_ERROR', message));
  },
});

/**
 * The request's keys on every log line (route, API Gateway request id; handlers append
 * command_id) and one 'request done' line with the status. The Lambda context and the reset
 * of these keys after the request are Powertools' injectLambdaContext (used before this).
 */
export const requestDone = (route: string): middy.MiddlewareObj<ApiEvent, ApiResult> => ({
  name: 'requestDone',
  before: (request) => {
    logger.appendKeys({ route, request_id: request.event?.requestContext?.requestId });
  },
  after: (request) => {
    logger.info('request done', { status: request.response?.statusCode });
  },
  onError: (request) => {
    logger.info('request done', { status: request.response?.statusCode ?? 500 });
  },
});

/**
 * The deployed console's origin (FFAAS_CORS_ORIGIN, set by the stack's `console` prop) may read
 * every answer, errors included; API Gateway answers the preflights.
 */
export const corsHeaders = (): middy.MiddlewareObj<ApiEvent, ApiResult> => {
  const add = (request: middy.Request<ApiEvent, ApiResult>) => {
    const origin = process.env[ENV.CORS_ORIGIN];
    if (origin && request.response)
      request.response.headers = { ...request.response.headers, 'access-control-allow-origin': origin };
  };
  return { name: 'corsHeaders', after: add, onError: add };
};

export interface HttpHandlerOptions {
  /** Parse a JSON body (POST routes). */
  body?: boolean;
}

/** Wrap a route's logic in the shared middlewares. */
export function httpHandler(
  route: string,
  fn: (event: ApiEvent, context: Context) => Promise<ApiResult>,
  options: HttpHandlerOptions = {},
) {
  // after/onError middlewares run last-used first: errorHandler (used last) shapes the
  // response, requestDone records its status, then injectLambdaContext resets the keys.
  const wrapped = middy<ApiEvent, ApiResult>(fn)
    .use(observability())
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(corsHeaders())
    .use(requestDone(route))
    .use(errorHandler());
  if (options.body) wrapped.use(bodyLimit()).use(jsonBody());
  return wrapped;
}
