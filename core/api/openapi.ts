/**
 * The OpenAPI 3.1 document of the API, built from the route table (core/routes.ts) and the zod
 * schemas of requests (schemas.ts) and responses (responses.ts): nothing in it is written by
 * hand but the summaries and the per-status descriptions. scripts/openapi.ts writes it to
 * docs/openapi.json (a test keeps that file current); a route may serve it as it is.
 */
import * as z from 'zod';
import pkg from '../../package.json' with { type: 'json' };
import { API_KEY_HEADER } from '../constants.ts';
import { API_BASE_PATHS, ROUTES, type RouteHandlerName } from '../routes.ts';
import {
  ErrorEnvelopeSchema,
  HealthResponseSchema,
  ListCommandsResponseSchema,
  OutputFileMetaSchema,
  PollResponseSchema,
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
} from './schemas.ts';

type JsonSchema = Record<string, unknown>;

/** Component name → schema. Request bodies describe what is accepted (zod's input side). */
const REQUEST_COMPONENTS = {
  RunFfmpegCommandRequest: RunFfmpegCommandSchema,
  RunChainedFfmpegCommandsRequest: RunChainedFfmpegCommandsSchema,
  RunMultipleFfmpegCommandsRequest: RunMultipleFfmpegCommandsSchema,
  ValidateRequest: ValidateSchema,
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
  ErrorEnvelope: ErrorEnvelopeSchema,
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
  '422': error('VALIDATION_ERROR: metadata, URL scheme or private address, timeout, vcpu_count, GPU not available'),
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
const body = (name: ComponentName, example: unknown) => ({
  required: true,
  content: { 'application/json': { schema: ref(name), example } },
});
const EXAMPLE_ID = '3f1c9a52-6f0e-4a7b-9d1e-2b7c8e4f5a60';
const EXAMPLE_INPUT = 'https://example.com/input.mp4';
const submitted = {
  description: 'accepted',
  content: { 'application/json': { schema: ref('SubmitResponse'), example: { command_id: EXAMPLE_ID, vcpu_count: 2 } } },
};

const OPERATIONS: Record<RouteHandlerName, JsonSchema> = {
  health: {
    summary: 'Liveness and version',
    responses: { '200': ok('ok', 'HealthResponse'), ...internal },
  },
  validate: {
    summary: 'Check a command without recording or running it',
    requestBody: body('ValidateRequest', {
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
    requestBody: body('RunFfmpegCommandRequest', {
      input_files: { in_video: EXAMPLE_INPUT },
      output_files: { out_video: 'small.webm' },
      ffmpeg_command: 'ffmpeg -i {{in_video}} -c:v libvpx-vp9 -deadline realtime -c:a libopus {{out_video}}',
      metadata: { project: 'demo' },
    }),
    responses: { '200': submitted, ...submitErrors },
  },
  'run-chained-ffmpeg-commands': {
    summary: 'Run 1-10 FFmpeg commands one after another in one workspace',
    requestBody: body('RunChainedFfmpegCommandsRequest', {
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
    requestBody: body('RunMultipleFfmpegCommandsRequest', {
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
      '422': error('VALIDATION_ERROR: limit, offset or status'),
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
    const path = `${API_BASE_PATHS[0]}${route.path}`;
    const operation = {
      operationId: route.handler,
      ...OPERATIONS[route.handler],
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
        `Every route is also served under ${API_BASE_PATHS.slice(1).join(', ')} (same paths without /api). ` +
        'Errors are {"error": {"code", "message", "details"?}, "message", "detail"} (see ErrorEnvelope). ' +
        'Responses may gain fields: ignore keys you do not know.',
    },
    servers: [{ url: 'http://127.0.0.1:8080', description: 'local mode' }],
    security: [{ ApiKey: [] }],
    paths,
    components: {
      securitySchemes: { ApiKey: { type: 'apiKey', in: 'header', name: API_KEY_HEADER.toUpperCase() } },
      schemas: { ...components(REQUEST_COMPONENTS, 'input'), ...components(RESPONSE_COMPONENTS, 'output') },
    },
  };
}
