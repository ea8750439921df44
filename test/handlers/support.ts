/** Events, environment and expectations shared by the handler tests. */
import type {
  APIGatewayProxyEvent,
  APIGatewayProxyResult,
  APIGatewayRequestAuthorizerEvent,
  Context,
} from 'aws-lambda';
import { ENV } from '../../core/constants.ts';
import { AUTHORIZER_ACCOUNT_KEY } from '../../core/routes.ts';
import { resetDeps } from '../../lambdas/common/deps.ts';
import { logger } from '../../lambdas/common/logger.ts';

export const ACCOUNT = 'acc-1';
export const OTHER_ACCOUNT = 'acc-2';
export const STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:ffaas';

/** The download URL secret of handler tests (core/api/download-url.ts). */
export const TEST_URL_SECRET = 'test-url-secret-0123456789abcdef0123456789';

export function setEnv(extra: Record<string, string> = {}): void {
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    [ENV.COMMANDS_TABLE]: 'commands',
    [ENV.API_KEYS_TABLE]: 'api-keys',
    [ENV.ACCOUNTS_TABLE]: 'accounts',
    [ENV.WEBHOOK_DELIVERIES_TABLE]: 'deliveries',
    [ENV.BUCKET]: 'bucket',
    [ENV.STATE_MACHINE_ARN]: STATE_MACHINE_ARN,
    [ENV.GPU_ENABLED]: '',
    [ENV.ALLOW_PRIVATE_URLS]: '',
    [ENV.URL_SECRET]: TEST_URL_SECRET,
    ...extra,
  });
  delete process.env.AWS_ENDPOINT_URL_S3;
  resetDeps();
  if (!process.env.FFAAS_TEST_LOGS) logger.setLogLevel('SILENT');
}

export interface EventInit {
  method?: string;
  path?: string;
  body?: unknown;
  rawBody?: string;
  accountId?: string | null;
  pathParameters?: Record<string, string>;
  query?: Record<string, string>;
}

/** An API Gateway REST proxy event (v1), as API Gateway and local mode send it. */
export function apiEvent(init: EventInit = {}): APIGatewayProxyEvent {
  const accountId = init.accountId === undefined ? ACCOUNT : init.accountId;
  return {
    httpMethod: init.method ?? 'POST',
    path: init.path ?? '/api/v1/x',
    resource: init.path ?? '/api/v1/x',
    body: init.rawBody ?? (init.body === undefined ? null : JSON.stringify(init.body)),
    isBase64Encoded: false,
    headers: { 'content-type': 'application/json' },
    multiValueHeaders: {},
    pathParameters: init.pathParameters ?? null,
    queryStringParameters: init.query ?? null,
    multiValueQueryStringParameters: null,
    stageVariables: null,
    requestContext: {
      requestId: 'req-1',
      authorizer: accountId === null ? null : { [AUTHORIZER_ACCOUNT_KEY]: accountId },
    } as unknown as APIGatewayProxyEvent['requestContext'],
  };
}

export function authorizerEvent(headers: Record<string, string>): APIGatewayRequestAuthorizerEvent {
  return {
    type: 'REQUEST',
    methodArn: 'arn:aws:execute-api:us-east-1:123456789012:abc123/prod/POST/api/v1/run-ffmpeg-command',
    resource: '/api/v1/run-ffmpeg-command',
    path: '/api/v1/run-ffmpeg-command',
    httpMethod: 'POST',
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    pathParameters: null,
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    stageVariables: null,
    requestContext: {} as APIGatewayRequestAuthorizerEvent['requestContext'],
  };
}

export const context = { awsRequestId: 'aws-req-1', functionName: 'test' } as unknown as Context;

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

export async function call(
  handler: unknown,
  event: APIGatewayProxyEvent,
): Promise<{ status: number; body: any; headers: Record<string, unknown> }> {
  const res = await (handler as Handler)(event, context);
  return {
    status: res.statusCode,
    body: res.body ? JSON.parse(res.body) : undefined,
    headers: (res.headers ?? {}) as Record<string, unknown>,
  };
}
