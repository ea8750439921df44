/**
 * The public routes, in one table: the CDK API construct builds API Gateway resources from it
 * and local mode's HTTP server matches requests against it, so both serve the same API.
 * Each handler lives in lambdas/<handler>/index.ts and exports `handler`.
 */
export const ROUTE_HANDLERS = [
  'health',
  'validate',
  'run-ffmpeg-command',
  'run-chained-ffmpeg-commands',
  'run-multiple-ffmpeg-commands',
  'get-command',
  'list-commands',
  // users (issue 16): the API describes itself
  'openapi',
] as const;
export type RouteHandlerName = (typeof ROUTE_HANDLERS)[number];

/** Functions that are not behind a route. */
export const BACKGROUND_HANDLERS = ['authorizer', 'reconciler'] as const;
export type BackgroundHandlerName = (typeof BACKGROUND_HANDLERS)[number];

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface RouteSpec {
  method: HttpMethod;
  /** Path below a base path, with API Gateway style `{param}` segments. */
  path: string;
  handler: RouteHandlerName;
  /** Whether the X-API-KEY authorizer guards the route. */
  auth: boolean;
}

/** Every route is served under each base path (/v1 is Rendi's). */
export const API_BASE_PATHS = ['/api/v1', '/v1'] as const;

export const ROUTES: readonly RouteSpec[] = [
  { method: 'GET', path: '/health', handler: 'health', auth: false },
  { method: 'POST', path: '/validate', handler: 'validate', auth: false },
  { method: 'POST', path: '/run-ffmpeg-command', handler: 'run-ffmpeg-command', auth: true },
  { method: 'POST', path: '/run-chained-ffmpeg-commands', handler: 'run-chained-ffmpeg-commands', auth: true },
  { method: 'POST', path: '/run-multiple-ffmpeg-commands', handler: 'run-multiple-ffmpeg-commands', auth: true },
  { method: 'GET', path: '/commands', handler: 'list-commands', auth: true },
  { method: 'GET', path: '/commands/{command_id}', handler: 'get-command', auth: true },
  // users (issue 16): the OpenAPI document, no key (clients and the console read it)
  { method: 'GET', path: '/openapi.json', handler: 'openapi', auth: false },
];

/** Key of the authorizer context entry that carries the caller's account. */
export const AUTHORIZER_ACCOUNT_KEY = 'accountId';

export function handlerEntry(name: RouteHandlerName | BackgroundHandlerName): string {
  return `lambdas/${name}/index.ts`;
}
