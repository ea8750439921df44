/**
 * The OpenAPI 3.1 document of the API, built from the route table (core/routes.ts) and the zod
 * schemas of requests (schemas.ts) and responses (responses.ts): nothing in it is written by
 * hand but the summaries and the per-status descriptions. scripts/openapi.ts writes it to
 * docs/openapi.json (a test keeps that file current); a route may serve it as it is.
 */
import * as z from 'zod';
import pkg from '../../package.json' with { type: 'json' };
import { API_KEY_HEADER } from '../constants.ts';
import {
  RendobarAssetResponseSchema,
  RendobarJobResponseSchema,
  RendobarJobSchema,
  RendobarValidateResponseSchema,
  RendobarValidateSchema,
} from '../dialects/rendobar.ts';
import { API_BASE_PATHS, ROUTES, routeBases, type RouteHandlerName } from '../routes.ts';
import { ROUTE_OPERATIONS } from './openapi-files.ts';
import {
  ErrorEnvelopeSchema,
  HealthResponseSchema,
  ListCommandsResponseSchema,
  OutputFileMetaSchema,
  PollResponseSchema,
  UsageReportResponseSchema,
  SubmitMultipleResponseSchema,
  SubmitResponseSchema,
  ValidateResponseSchema,
} from './responses.ts';
import {
  ListCommandsQuerySchema,
  RunChainedFfmpegCommandsSchema,
  RunFfmpegCommandSchema,
  RunMultipleFfmpegCommandsSchema,
  ValidateSchema,
  WebhookConfigSchema,
} from './schemas.ts';

type JsonSchema = Record<string, unknown>;

/** Component name → schema. Request bodies describe what is accepted (zod's input side). */
const REQUEST_COMPONENTS = {
  RunFfmpegCommandRequest: RunFfmpegCommandSchema,
  RunChainedFfmpegCommandsRequest: RunChainedFfmpegCommandsSchema,
  RunMultipleFfmpegCommandsRequest: RunMultipleFfmpegCommandsSchema,
  ValidateRequest: ValidateSchema,
  RendobarJobRequest: RendobarJobSchema,
  RendobarValidateRequest: RendobarValidateSchema,
} satisfies Record<string, z.ZodType>;

/** Component name → schema. Responses describe what is sent (zod's output side). */
const RESPONSE_COMPONENTS = {
  HealthResponse: HealthResponseSchema,
  ValidateResponse: ValidateResponseSchema,
  SubmitResponse: SubmitResponseSchema,
  SubmitMultipleResponse: SubmitMultipleResponseSchema,
  PollResponse: PollResponseSchema,
  OutputFileMeta: OutputFileMetaSchema,
  ListCommandsResponse: ListCommandsResponseSchema,
  UsageReportResponse: UsageReportResponseSchema,
  ErrorEnvelope: ErrorEnvelopeSchema,
  RendobarJobResponse: RendobarJobResponseSchema,
  RendobarValidateResponse: RendobarValidateResponseSchema,
  RendobarAssetResponse: RendobarAssetResponseSchema,
} satisfies Record<string, z.ZodType>;

type ComponentName = keyof typeof REQUEST_COMPONENTS | keyof typeof RESPONSE_COMPONENTS;

/**
 * Trims what zod emits to what a reader of the document needs: no JSON Schema dialect or ids
 * (OpenAPI 3.1's default dialect is 2020-12), no ±2^53 bounds on integers, no regex beside a
 * `format` that says the same, and no `additionalProperties: false` on responses, which may
 * gain fields (clients must ignore keys they do not know).
 */
function tidy(ctx: { jsonSchema: JsonSchema }): void {
  const s = ctx.jsonSchema;
  if (s.maximum === Number.MAX_SAFE_INTEGER) delete s.maximum;
  if (s.minimum === Number.MIN_SAFE_INTEGER) delete s.minimum;
  if (typeof s.format === 'string' && typeof s.pattern === 'string') delete s.pattern;
  if (s.additionalProperties === false) delete s.additionalProperties;
}

function components(named: Record<string, z.ZodType>, io: 'input' | 'output'): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(named)) registry.add(schema, { id });
  const out = z.toJSONSchema(registry, {
    io,
    unrepresentable: 'any',
    uri: (id) => `#/components/schemas/${id}`,
    override: tidy,
  }) as { schemas: Record<string, JsonSchema> };
  for (const schema of Object.values(out.schemas)) {
    delete schema.$schema;
    delete schema.$id;
  }
  return out.schemas;
}

/** One schema without a component of its own (a parameter). */
function inline(schema: z.ZodType): JsonSchema {
  const out = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', override: tidy }) as JsonSchema;
  delete out.$schema;
  return out;
}

const ref = (name: ComponentName) => ({ $ref: `#/components/schemas/${name}` });
const json = (name: ComponentName) => ({ content: { 'application/json': { schema: ref(name) } } });
const ok = (description: string, name: ComponentName) => ({ description, ...json(name) });
const error = (description: string) => ({ description, ...json('ErrorEnvelope') });

const internal = { '500': error('INTERNAL_ERROR (the message names only the request id)') };
const submitErrors = {
  '400': error('INVALID_REQUEST: body not JSON, missing fields, bad aliases, malformed or forbidden command'),
  '401': error('UNAUTHORIZED'),
  '413': error('PAYLOAD_TOO_LARGE (over 256 KiB)'),
  '422': error(
    'VALIDATION_ERROR: metadata, URL scheme or private address, timeout, vcpu_count, GPU not available; an Idempotency-Key reused with another body',
  ),
  '409': error('CONFLICT: a request with this Idempotency-Key is still running'),
  '429': error('RATE_LIMITED: over the account rate, queued-command cap or daily spend limit (Retry-After header)'),
  ...internal,
};

/** The query of GET /commands as OpenAPI parameters, from its schema. */
function queryParameters(schema: z.ZodObject): JsonSchema[] {
  const properties = (inline(schema).properties ?? {}) as Record<string, JsonSchema>;
  return Object.entries(properties).map(([name, property]) => {
    const { description, ...rest } = property;
    return { name, in: 'query', ...(description ? { description } : {}), schema: rest };
  });
}

/** A request body with a worked example (the examples are what docs/REFERENCE.md shows). */
const exampleBody = (name: ComponentName, example: unknown) => ({
  required: true,
  content: { 'application/json': { schema: ref(name), example } },
});
const EXAMPLE_ID = '3f1c9a52-6f0e-4a7b-9d1e-2b7c8e4f5a60';
const EXAMPLE_INPUT = 'https://example.com/input.mp4';
const submitted = {
  description: 'accepted',
  content: {
    'application/json': { schema: ref('SubmitResponse'), example: { command_id: EXAMPLE_ID, vcpu_count: 2 } },
  },
};

// ---- Webhooks (issue 9) ---------------------------------------------------------------------
const nullable = (type: string, extra: JsonSchema = {}) => ({ type: [type, 'null'], ...extra });
const commandIdParameter = {
  name: 'command_id',
  in: 'path',
  required: true,
  schema: { type: 'string', format: 'uuid' },
};
const WEBHOOK_DELIVERY: JsonSchema = {
  type: 'object',
  required: [
    'webhook_id',
    'command_id',
    'event_type',
    'url',
    'status',
    'attempts',
    'last_status_code',
    'last_error',
    'last_response_excerpt',
    'last_attempt_at',
    'next_attempt_at',
    'delivered_at',
    'created_at',
  ],
  properties: {
    webhook_id: {
      type: 'string',
      description: 'The Standard Webhooks webhook-id, the same on every attempt: msg_<command_id>',
    },
    command_id: { type: 'string', format: 'uuid' },
    event_type: { enum: ['FFmpeg Command Succeeded', 'FFmpeg Command Failed'] },
    url: nullable('string'),
    status: { enum: ['PENDING', 'DELIVERED', 'FAILED', 'SKIPPED'] },
    attempts: { type: 'integer', minimum: 0 },
    last_status_code: nullable('integer'),
    last_error: nullable('string'),
    last_response_excerpt: nullable('string', {
      description: 'First 200 characters of the last answer (at most 1 KiB is read)',
    }),
    last_attempt_at: nullable('string', { format: 'date-time' }),
    next_attempt_at: nullable('string', { format: 'date-time' }),
    delivered_at: nullable('string', { format: 'date-time' }),
    created_at: { type: 'string', format: 'date-time' },
  },
};
const body = (schema: JsonSchema) => ({ content: { 'application/json': { schema } } });
/** webhook-config serves three methods: one operation each (operationId webhook-config-<method>). */
const WEBHOOK_CONFIG_OPERATIONS: Record<string, JsonSchema> = {
  PUT: {
    summary: 'Set the account webhook; a whsec_ secret is generated when none is given and shown only in this answer',
    requestBody: { required: true, ...body(inline(WebhookConfigSchema)) },
    responses: {
      '200': {
        description: 'set',
        ...body({
          type: 'object',
          required: ['success', 'url', 'secret'],
          properties: { success: { const: true }, url: { type: 'string' }, secret: { type: 'string' } },
        }),
      },
      '401': error('UNAUTHORIZED'),
      '422': error('VALIDATION_ERROR: not http(s), or a private/loopback/link-local address'),
      ...internal,
    },
  },
  GET: {
    summary: 'The account webhook (never the secret)',
    responses: {
      '200': {
        description: 'the config',
        ...body({
          type: 'object',
          required: ['configured', 'url', 'is_active', 'consecutive_failures', 'disabled_at'],
          properties: {
            configured: { type: 'boolean' },
            url: nullable('string'),
            is_active: { type: 'boolean' },
            consecutive_failures: { type: 'integer' },
            disabled_at: nullable('string', { format: 'date-time' }),
          },
        }),
      },
      '401': error('UNAUTHORIZED'),
      ...internal,
    },
  },
  DELETE: {
    summary: 'Remove the account webhook',
    responses: {
      '200': {
        description: 'removed (deleted: false when there was none)',
        ...body({ type: 'object', properties: { success: { const: true }, deleted: { type: 'boolean' } } }),
      },
      '401': error('UNAUTHORIZED'),
      ...internal,
    },
  },
};
const WEBHOOK_OPERATIONS = {
  'webhook-config': WEBHOOK_CONFIG_OPERATIONS.GET!,
  'command-webhooks': {
    summary: 'The webhook deliveries of a command (also in the poll response as webhooks)',
    parameters: [commandIdParameter],
    responses: {
      '200': {
        description: 'deliveries',
        ...body({
          type: 'object',
          properties: { command_id: { type: 'string' }, webhooks: { type: 'array', items: WEBHOOK_DELIVERY } },
        }),
      },
      '401': error('UNAUTHORIZED'),
      '404': error('NOT_FOUND'),
      ...internal,
    },
  },
  'redeliver-webhook': {
    summary: "Deliver the command's webhook again (same webhook-id, a new retry schedule, first attempt now)",
    parameters: [commandIdParameter],
    responses: {
      '200': {
        description: 'scheduled',
        ...body({ type: 'object', properties: { command_id: { type: 'string' }, webhook: WEBHOOK_DELIVERY } }),
      },
      '401': error('UNAUTHORIZED'),
      '404': error('NOT_FOUND'),
      '422': error('VALIDATION_ERROR: not finished, or nowhere to deliver'),
      ...internal,
    },
  },
  'webhook-deliveries': {
    summary: "The account's recent deliveries whose last attempt failed, most recent first",
    parameters: [
      { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 } },
      { name: 'status', in: 'query', schema: { const: 'failed', default: 'failed' } },
    ],
    responses: {
      '200': {
        description: 'deliveries',
        ...body({
          type: 'object',
          properties: { deliveries: { type: 'array', items: WEBHOOK_DELIVERY }, limit: { type: 'integer' } },
        }),
      },
      '401': error('UNAUTHORIZED'),
      '422': error('VALIDATION_ERROR'),
      ...internal,
    },
  },
} satisfies Record<string, JsonSchema>;

const OPERATIONS: Partial<Record<RouteHandlerName, JsonSchema>> = {
  ...WEBHOOK_OPERATIONS,
  health: {
    summary: 'Liveness and version',
    responses: { '200': ok('ok', 'HealthResponse'), ...internal },
  },
  validate: {
    summary: 'Check a command without recording or running it',
    requestBody: exampleBody('ValidateRequest', {
      input_files: { in_video: EXAMPLE_INPUT },
      output_files: { out_video: 'out.mp4' },
      ffmpeg_command: 'ffmpeg -i {{in_video}} -vf scale=640:-2 {{out_video}}',
    }),
    responses: {
      '200': ok('valid or not', 'ValidateResponse'),
      '400': error('body not JSON'),
      '413': error('PAYLOAD_TOO_LARGE'),
      ...internal,
    },
  },
  'run-ffmpeg-command': {
    summary: 'Run one FFmpeg command',
    requestBody: exampleBody('RunFfmpegCommandRequest', {
      input_files: { in_video: EXAMPLE_INPUT },
      output_files: { out_video: 'small.webm' },
      ffmpeg_command: 'ffmpeg -i {{in_video}} -c:v libvpx-vp9 -deadline realtime -c:a libopus {{out_video}}',
      metadata: { project: 'demo' },
    }),
    responses: { '200': submitted, ...submitErrors },
  },
  'run-chained-ffmpeg-commands': {
    summary: 'Run 1-10 FFmpeg commands one after another in one workspace',
    requestBody: exampleBody('RunChainedFfmpegCommandsRequest', {
      input_files: { in_video: EXAMPLE_INPUT },
      output_files: { out_clip: 'clip.mp4', out_thumb: 'thumb.jpg' },
      ffmpeg_commands: [
        'ffmpeg -i {{in_video}} -t 5 -c copy {{out_clip}}',
        'ffmpeg -i {{out_clip}} -frames:v 1 {{out_thumb}}',
      ],
    }),
    responses: { '200': submitted, ...submitErrors },
  },
  'run-multiple-ffmpeg-commands': {
    summary: 'Run 1-10 independent FFmpeg commands in parallel (all are checked before any is recorded)',
    requestBody: exampleBody('RunMultipleFfmpegCommandsRequest', {
      commands: [
        {
          input_files: { in_video: EXAMPLE_INPUT },
          output_files: { out_audio: 'audio.mp3' },
          ffmpeg_command: 'ffmpeg -i {{in_video}} -vn {{out_audio}}',
        },
        {
          input_files: { in_video: EXAMPLE_INPUT },
          output_files: { out_thumb: 'thumb.jpg' },
          ffmpeg_command: 'ffmpeg -i {{in_video}} -frames:v 1 {{out_thumb}}',
        },
      ],
    }),
    responses: { '200': ok('accepted, one id per command in order', 'SubmitMultipleResponse'), ...submitErrors },
  },
  'get-command': {
    summary: 'Poll a command',
    parameters: [
      { name: 'command_id', in: 'path', required: true, schema: inline(PollResponseSchema.shape.command_id) },
    ],
    responses: {
      '200': ok('the command', 'PollResponse'),
      '401': error('UNAUTHORIZED'),
      '404': error("NOT_FOUND (also for another account's command)"),
      ...internal,
    },
  },
  'list-commands': {
    summary: "List the account's commands, newest first",
    parameters: queryParameters(ListCommandsQuerySchema),
    responses: {
      '200': ok('a page', 'ListCommandsResponse'),
      '400': error('INVALID_REQUEST: a cursor this API did not hand out'),
      '401': error('UNAUTHORIZED'),
      '422': error(
        'VALIDATION_ERROR: limit, offset or status (under /v1: the bare array, limit default and maximum 1000)',
      ),
      ...internal,
    },
  },
  // control (issue 12)
  'cancel-command': {
    summary: 'Cancel a QUEUED or PROCESSING command: it ends FAILED / CANCELLED, its worker is stopped',
    parameters: [
      { name: 'command_id', in: 'path', required: true, schema: inline(PollResponseSchema.shape.command_id) },
    ],
    responses: {
      '200': ok('the command as polled, FAILED / CANCELLED', 'PollResponse'),
      '401': error('UNAUTHORIZED'),
      '404': error("NOT_FOUND (also for another account's command)"),
      '409': error('CONFLICT: the command has already finished'),
      ...internal,
    },
  },
  'get-usage': {
    summary: "The account's usage (vCPU/GPU seconds, stored bytes, estimated USD), in total and per day",
    parameters: [
      {
        name: 'from',
        in: 'query',
        description: 'ISO date (YYYY-MM-DD, UTC) or timestamp; default 30 days ago',
        schema: { type: 'string' },
      },
      {
        name: 'to',
        in: 'query',
        description: 'ISO date (inclusive) or timestamp; default now',
        schema: { type: 'string' },
      },
    ],
    responses: {
      '200': ok('totals and days', 'UsageReportResponse'),
      '401': error('UNAUTHORIZED'),
      '422': error('VALIDATION_ERROR: from/to not a date, reversed, or over 366 days'),
      ...internal,
    },
  },
  // --- dialects and downloads ---
  download: {
    summary: 'A download URL a poll handed out (/v/{id}/{token}/{name}); the token in the path is the credential',
    parameters: ['id', 'token', 'name'].map((name) => ({
      name,
      in: 'path',
      required: true,
      schema: { type: 'string' },
    })),
    responses: {
      '200': {
        description:
          'a playlist manifest (.m3u8 / .mpd), served here so its relative references resolve under /v/{id}/{token}/',
        content: { 'application/vnd.apple.mpegurl': {}, 'application/dash+xml': {} },
      },
      '302': { description: 'media: a redirect to a short-lived presigned URL of the stored object' },
      '404': error('NOT_FOUND: wrong or expired token, or no such file'),
      ...internal,
    },
  },
  'rendobar-submit-job': {
    summary: 'Rendobar: submit an FFmpeg job (key as Authorization: Bearer or X-API-KEY)',
    requestBody: { required: true, ...json('RendobarJobRequest') },
    responses: {
      '200': ok('accepted: {data: job} with status "waiting"', 'RendobarJobResponse'),
      '400': error('INVALID_REQUEST: body not JSON or not a job'),
      '401': error('UNAUTHORIZED'),
      '413': error('PAYLOAD_TOO_LARGE (over 256 KiB)'),
      '422': error('VALIDATION_ERROR: a refused flag, filter or URL, an input not staged, timeout outside 1..900'),
      ...internal,
    },
  },
  'rendobar-get-job': {
    summary: 'Rendobar: poll a job (fresh download URLs on every call)',
    parameters: [
      {
        name: 'job_id',
        in: 'path',
        required: true,
        schema: { type: 'string', description: 'job_<command id>, or the bare command id' },
      },
    ],
    responses: {
      '200': ok('{data: job}', 'RendobarJobResponse'),
      '401': error('UNAUTHORIZED'),
      '404': error('NOT_FOUND'),
      ...internal,
    },
  },
  'rendobar-validate': {
    summary: 'Rendobar: check a command without running it (no key; bare file names accepted)',
    requestBody: { required: true, ...json('RendobarValidateRequest') },
    responses: { '200': ok('valid or not', 'RendobarValidateResponse'), '400': error('body not JSON'), ...internal },
  },
  'rendobar-cancel-job': {
    summary: 'Rendobar: cancel a waiting or running job → {data: job} with status "cancelled"',
    parameters: [{ name: 'job_id', in: 'path', required: true, schema: { type: 'string' } }],
    responses: {
      '200': ok('{data: job}, status "cancelled"', 'RendobarJobResponse'),
      '401': error('UNAUTHORIZED'),
      '404': error('NOT_FOUND'),
      '409': error('CONFLICT: the job has already finished'),
      ...internal,
    },
  },
  openapi: {
    summary: 'This document (OpenAPI 3.1), no key needed',
    responses: {
      '200': { description: 'the document', content: { 'application/json': { schema: { type: 'object' } } } },
      ...internal,
    },
  },
};

/** The OpenAPI 3.1 document of every route in ROUTES. */
export function buildOpenApiDocument(): JsonSchema {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of ROUTES) {
    const path = `${routeBases(route)[0]}${route.path}`;
    const byRoute = ROUTE_OPERATIONS[`${route.method} ${route.path}`];
    const perMethod = route.handler === 'webhook-config' ? WEBHOOK_CONFIG_OPERATIONS[route.method] : undefined;
    const operation = byRoute
      ? { ...byRoute, ...(route.auth ? {} : { security: [] }) }
      : {
          operationId: perMethod ? `${route.handler}-${route.method.toLowerCase()}` : route.handler,
          ...(perMethod ?? OPERATIONS[route.handler]),
          ...(route.auth ? {} : { security: [] }),
        };
    paths[path] = { ...paths[path], [route.method.toLowerCase()]: operation };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'ffaas: FFmpeg as a Service',
      version: pkg.version,
      description:
        `Every /api/v1 route is also served under ${API_BASE_PATHS.slice(1).join(', ')} (Rendi's dialect). ` +
        "Rendobar's dialect is /jobs and /ffmpeg/validate; downloads are /v/{id}/{token}/{name}. " +
        'The key goes in X-API-KEY or Authorization: Bearer. ' +
        'Errors are {"error": {"code", "message", "details"?}, "message", "detail"} (see ErrorEnvelope). ' +
        'Responses may gain fields: ignore keys you do not know.',
    },
    servers: [{ url: 'http://127.0.0.1:8080', description: 'local mode' }],
    security: [{ ApiKey: [] }, { Bearer: [] }],
    paths,
    components: {
      securitySchemes: {
        ApiKey: { type: 'apiKey', in: 'header', name: API_KEY_HEADER.toUpperCase() },
        Bearer: { type: 'http', scheme: 'bearer', description: 'The same API key, as Authorization: Bearer <key>' },
      },
      schemas: { ...components(REQUEST_COMPONENTS, 'input'), ...components(RESPONSE_COMPONENTS, 'output') },
    },
  };
}
