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
  // Dialects and downloads (issue 11): Rendobar's jobs and validate, the /v/ download URLs.
  'download',
  'rendobar-submit-job',
  'rendobar-get-job',
  'rendobar-validate',
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
  /** Whether the API key authorizer (X-API-KEY or Authorization: Bearer) guards the route. */
  auth: boolean;
  /**
   * Base paths the route is served under. @default API_BASE_PATHS. '' serves it at the root
   * (Rendobar's /jobs, the /v/ download URLs).
   */
  bases?: readonly string[];
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
  // --- dialects and downloads (issue 11): one contiguous block ---------------------------------
  // Download URLs: the token in the path is the credential (core/api/download-url.ts).
  { method: 'GET', path: '/v/{id}/{token}/{name}', handler: 'download', auth: false, bases: [''] },
  // Rendobar's dialect (core/dialects/rendobar.ts).
  { method: 'POST', path: '/jobs', handler: 'rendobar-submit-job', auth: true, bases: [''] },
  { method: 'GET', path: '/jobs/{job_id}', handler: 'rendobar-get-job', auth: true, bases: [''] },
  { method: 'POST', path: '/ffmpeg/validate', handler: 'rendobar-validate', auth: false, bases: [''] },
];

/** The base paths `route` is served under. */
export function routeBases(route: RouteSpec): readonly string[] {
  return route.bases ?? API_BASE_PATHS;
}

/** Every path of a route as API Gateway spells it (base + path), one per base. */
export function routePaths(route: RouteSpec): string[] {
  return routeBases(route).map((base) => `${base}${route.path}`);
}

/** Key of the authorizer context entry that carries the caller's account. */
export const AUTHORIZER_ACCOUNT_KEY = 'accountId';

export function handlerEntry(name: RouteHandlerName | BackgroundHandlerName): string {
  return `lambdas/${name}/index.ts`;
}
