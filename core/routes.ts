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
  // Files and presets (issue 10).
  'upload-file',
  'files',
  'delete-command-files',
  'presets',
  'execute-preset',
  // Webhooks (issue 9)
  'webhook-config',
  'command-webhooks',
  'redeliver-webhook',
  'webhook-deliveries',
  // control (issue 12): cancel, usage
  'cancel-command',
  'get-usage',
  // Dialects and downloads (issue 11): Rendobar's jobs and validate, the /v/ download URLs.
  'download',
  'rendobar-submit-job',
  'rendobar-get-job',
  'rendobar-validate',
  'rendobar-cancel-job',
  'rendobar-assets',
  // users (issue 16): the API describes itself
  'openapi',
] as const;
export type RouteHandlerName = (typeof ROUTE_HANDLERS)[number];

/** Functions that are not behind a route. */
export const BACKGROUND_HANDLERS = ['authorizer', 'reconciler', 'webhook-delivery', 'sweeper'] as const;
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
  /**
   * Largest request body the gateway passes on. @default LIMITS.maxBodyBytes (JSON routes; the
   * handler's own check). Multipart uploads take more: API Gateway's hard cap is 10 MB, and
   * the handler enforces LIMITS.maxUploadBodyBytes on the decoded body.
   */
  maxBodyBytes?: number;
}

/**
 * Content types API Gateway hands to the Lambda base64-encoded (the REST API's
 * binaryMediaTypes); everything else arrives as text. Local mode does the same.
 */
export const BINARY_MEDIA_TYPES = ['multipart/form-data', 'application/octet-stream'] as const;

/** Whether a Content-Type header value is one of BINARY_MEDIA_TYPES. */
export function isBinaryMediaType(contentType: string | undefined): boolean {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  return (BINARY_MEDIA_TYPES as readonly string[]).includes(type);
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
  // Files and presets (issue 10).
  { method: 'POST', path: '/files/upload', handler: 'upload-file', auth: true, maxBodyBytes: 10 * 1024 * 1024 },
  { method: 'POST', path: '/files/upload-url', handler: 'files', auth: true },
  { method: 'POST', path: '/files/init-upload', handler: 'files', auth: true },
  { method: 'POST', path: '/files/store-file', handler: 'files', auth: true },
  { method: 'POST', path: '/files/{file_id}/complete-upload', handler: 'files', auth: true },
  { method: 'GET', path: '/files', handler: 'files', auth: true },
  { method: 'GET', path: '/files/{file_id}', handler: 'files', auth: true },
  { method: 'DELETE', path: '/files/{file_id}', handler: 'files', auth: true },
  { method: 'DELETE', path: '/commands/{command_id}/files', handler: 'delete-command-files', auth: true },
  { method: 'POST', path: '/presets', handler: 'presets', auth: true },
  { method: 'GET', path: '/presets', handler: 'presets', auth: true },
  { method: 'GET', path: '/presets/{preset_id}', handler: 'presets', auth: true },
  { method: 'DELETE', path: '/presets/{preset_id}', handler: 'presets', auth: true },
  { method: 'POST', path: '/presets/{preset_id}/execute', handler: 'execute-preset', auth: true },
  // Webhooks (issue 9): account settings, per-command deliveries, redeliver, recent failures.
  { method: 'PUT', path: '/webhook-config', handler: 'webhook-config', auth: true },
  { method: 'GET', path: '/webhook-config', handler: 'webhook-config', auth: true },
  { method: 'DELETE', path: '/webhook-config', handler: 'webhook-config', auth: true },
  { method: 'GET', path: '/commands/{command_id}/webhooks', handler: 'command-webhooks', auth: true },
  { method: 'POST', path: '/commands/{command_id}/webhooks/redeliver', handler: 'redeliver-webhook', auth: true },
  { method: 'GET', path: '/webhook-deliveries', handler: 'webhook-deliveries', auth: true },
  // control (issue 12): cancel and account usage
  { method: 'POST', path: '/commands/{command_id}/cancel', handler: 'cancel-command', auth: true },
  { method: 'GET', path: '/usage', handler: 'get-usage', auth: true },
  // --- dialects and downloads (issue 11): one contiguous block ---------------------------------
  // Download URLs: the token in the path is the credential (core/api/download-url.ts).
  { method: 'GET', path: '/v/{id}/{token}/{name}', handler: 'download', auth: false, bases: [''] },
  // Rendobar's dialect (core/dialects/rendobar.ts).
  { method: 'POST', path: '/jobs', handler: 'rendobar-submit-job', auth: true, bases: [''] },
  { method: 'GET', path: '/jobs/{job_id}', handler: 'rendobar-get-job', auth: true, bases: [''] },
  { method: 'POST', path: '/ffmpeg/validate', handler: 'rendobar-validate', auth: false, bases: [''] },
  { method: 'POST', path: '/jobs/{job_id}/cancel', handler: 'rendobar-cancel-job', auth: true, bases: [''] },
  // Rendobar's uploads: an asset is a stored file; its content URL is an input of the same account.
  {
    method: 'POST',
    path: '/assets/upload',
    handler: 'rendobar-assets',
    auth: true,
    bases: [''],
    maxBodyBytes: 10 * 1024 * 1024,
  },
  { method: 'GET', path: '/assets/{asset_id}', handler: 'rendobar-assets', auth: true, bases: [''] },
  { method: 'GET', path: '/assets/{asset_id}/content', handler: 'rendobar-assets', auth: true, bases: [''] },
  // users (issue 16): the OpenAPI document, no key (clients and the console read it)
  { method: 'GET', path: '/openapi.json', handler: 'openapi', auth: false },
];

/** The base paths `route` is served under. */
export function routeBases(route: RouteSpec): readonly string[] {
  return route.bases ?? API_BASE_PATHS;
}

/** Every path of a route as API Gateway spells it (base + path), one per base. */
export function routePaths(route: RouteSpec): string[] {
  return routeBases(route).map((base) => `${base}${route.path}`);
}

/** The route of a proxy event's `resource` without its base path (`/api/v1/files/{file_id}` → `/files/{file_id}`). */
export function routePath(resource: string | undefined): string {
  const r = resource ?? '';
  for (const base of API_BASE_PATHS) if (r.startsWith(`${base}/`)) return r.slice(base.length);
  return r;
}

/** Whether the request came in under Rendi's base path (`/v1`), whose lists are bare arrays. */
export function isRendiPath(resource: string | undefined): boolean {
  return (resource ?? '').startsWith('/v1/');
}

/** Key of the authorizer context entry that carries the caller's account. */
export const AUTHORIZER_ACCOUNT_KEY = 'accountId';

export function handlerEntry(name: RouteHandlerName | BackgroundHandlerName): string {
  return `lambdas/${name}/index.ts`;
}
