/**
 * Writes docs/openapi.json from the zod schemas of core/api (request bodies) and the shapes
 * of API.md (responses). Run: `node scripts/openapi.ts` (Node 22 strips the types), or with
 * `--check` to fail when the committed document is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as z from 'zod';
import {
  RunChainedFfmpegCommandsSchema,
  RunFfmpegCommandSchema,
  RunMultipleFfmpegCommandsSchema,
  ValidateSchema,
} from '../core/api/schemas.ts';
import { API_BASE_PATHS, ROUTES } from '../core/routes.ts';
import { API_ERROR, API_KEY_HEADER, COMMAND_STATUS, COMMAND_TYPE, ERROR_STATUS, LIMITS, VCPU_COUNTS } from '../core/constants.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };

function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const out = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  delete out.$schema;
  return out;
}

const nullable = (type: string, extra: Record<string, unknown> = {}) => ({ type: [type, 'null'], ...extra });

const OutputFileMeta = {
  type: 'object',
  required: [
    'file_id', 'storage_url', 'status', 'rendi_store_type', 'is_deleted', 'filename', 'size_mbytes', 'duration', 'file_type',
    'file_format', 'codec', 'pixel_format', 'mime_type', 'width', 'height', 'frame_rate', 'bitrate_video_kb', 'bitrate_audio_kb',
    'file_count',
  ],
  properties: {
    file_id: { type: 'string' },
    storage_url: nullable('string', { description: `Signed GET URL, minted on every poll (valid ${LIMITS.signedUrlSeconds} s by default); null when deleted.` }),
    status: { enum: ['PROCESSING', 'STORED', 'FAILED'] },
    rendi_store_type: { enum: ['OUTPUT', 'STORED_FILE', 'UPLOAD'] },
    is_deleted: { type: 'boolean' },
    filename: { type: 'string' },
    size_mbytes: nullable('number', { description: 'MiB; for a playlist output, the total of the manifest and all its segment/companion files.' }),
    duration: nullable('number'),
    file_type: { enum: ['video', 'audio', 'image', 'other'] },
    file_format: nullable('string'),
    codec: nullable('string'),
    pixel_format: nullable('string'),
    mime_type: nullable('string'),
    width: nullable('integer'),
    height: nullable('integer'),
    frame_rate: nullable('number'),
    bitrate_video_kb: nullable('number'),
    bitrate_audio_kb: nullable('number'),
    file_count: {
      type: 'integer',
      minimum: 1,
      description:
        'Files that make up the output: 1, or for a playlist output (.m3u8 / .mpd name or an out_playlist_ alias) 1 manifest + its segments, sub-playlists and init files, stored next to it.',
    },
  },
};

const PollResponse = {
  type: 'object',
  required: [
    'command_id', 'status', 'command_type', 'created_at', 'started_at', 'finished_at', 'total_processing_seconds',
    'ffmpeg_command_run_seconds', 'metadata', 'error_status', 'error_message', 'progress', 'output_files', 'original_request', 'vcpu_count',
    'attempts',
  ],
  properties: {
    command_id: { type: 'string', format: 'uuid' },
    status: { enum: [...COMMAND_STATUS] },
    command_type: { enum: [...COMMAND_TYPE] },
    created_at: { type: 'string', format: 'date-time' },
    started_at: nullable('string', { format: 'date-time' }),
    finished_at: nullable('string', { format: 'date-time' }),
    total_processing_seconds: nullable('number', { description: 'Submission to completion.' }),
    ffmpeg_command_run_seconds: nullable('number', { description: 'FFmpeg alone.' }),
    metadata: nullable('object'),
    error_status: { enum: [...ERROR_STATUS, null] },
    error_message: nullable('string'),
    progress: {
      oneOf: [
        { type: 'null' },
        {
          type: 'object',
          required: ['percent', 'out_time_seconds', 'speed', 'fps'],
          properties: { percent: nullable('number'), out_time_seconds: { type: 'number' }, speed: nullable('number'), fps: nullable('number') },
        },
      ],
    },
    output_files: { type: 'object', additionalProperties: { $ref: '#/components/schemas/OutputFileMeta' } },
    original_request: {
      type: 'object',
      required: ['input_files', 'output_files'],
      properties: {
        input_files: { type: 'object', additionalProperties: { type: 'string' } },
        output_files: { type: 'object', additionalProperties: { type: 'string' } },
        ffmpeg_command: { type: 'string' },
        ffmpeg_commands: { type: 'array', items: { type: 'string' } },
      },
    },
    vcpu_count: { enum: [...VCPU_COUNTS] },
    attempts: { type: 'integer', minimum: 0, description: 'Worker starts: a lost worker is started again, up to 3 in all (docs/FAILURES.md).' },
  },
};

const ErrorEnvelope = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { enum: Object.keys(API_ERROR) },
        message: { type: 'string' },
        details: {
          type: 'array',
          items: {
            type: 'object',
            required: ['path', 'message'],
            properties: { path: { type: 'array', items: { type: ['string', 'integer'] } }, message: { type: 'string' } },
          },
        },
      },
    },
    detail: {
      description: 'FastAPI/RenderIO-style copy of the details, on 422 only.',
      type: 'array',
      items: {
        type: 'object',
        required: ['loc', 'msg', 'type'],
        properties: { loc: { type: 'array', items: { type: ['string', 'integer'] } }, msg: { type: 'string' }, type: { type: 'string' } },
      },
    },
  },
};

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: unknown) => ({ content: { 'application/json': { schema } } });
const error = (description: string) => ({ description, ...json(ref('ErrorEnvelope')) });
const submitResponses = {
  '400': error('INVALID_REQUEST: body not JSON, missing fields, bad aliases, malformed or forbidden command'),
  '401': error('UNAUTHORIZED'),
  '413': error('PAYLOAD_TOO_LARGE (over 256 KiB)'),
  '422': error('VALIDATION_ERROR: metadata, URL scheme or private address, timeout, vcpu_count, GPU not available'),
  '500': error('INTERNAL_ERROR'),
};

type Operation = Record<string, unknown>;
const operations: Record<string, Operation> = {
  health: {
    summary: 'Liveness and version',
    responses: { '200': { description: 'ok', ...json({ type: 'object', properties: { status: { const: 'ok' }, version: { type: 'string' } } }) } },
  },
  validate: {
    summary: 'Check a command without recording or running it (no key needed)',
    requestBody: { required: true, ...json(ref('ValidateRequest')) },
    responses: {
      '200': {
        description: 'valid or not',
        ...json({
          oneOf: [
            { type: 'object', required: ['valid', 'args', 'compute'], properties: { valid: { const: true }, args: { type: 'array' }, compute: { enum: ['cpu', 'gpu'] } } },
            {
              type: 'object',
              required: ['valid', 'errors'],
              properties: {
                valid: { const: false },
                errors: { type: 'array', items: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' }, path: { type: 'array' }, rule: { type: 'string' } } } },
              },
            },
          ],
        }),
      },
      '400': error('body not JSON'),
      '413': error('PAYLOAD_TOO_LARGE'),
    },
  },
  'run-ffmpeg-command': {
    summary: 'Run one FFmpeg command',
    requestBody: { required: true, ...json(ref('RunFfmpegCommandRequest')) },
    responses: { '200': { description: 'accepted', ...json({ type: 'object', required: ['command_id'], properties: { command_id: { type: 'string', format: 'uuid' }, vcpu_count: { enum: [...VCPU_COUNTS] } } }) }, ...submitResponses },
  },
  'run-chained-ffmpeg-commands': {
    summary: 'Run 1-10 FFmpeg commands one after another in one workspace',
    requestBody: { required: true, ...json(ref('RunChainedFfmpegCommandsRequest')) },
    responses: { '200': { description: 'accepted', ...json({ type: 'object', required: ['command_id'], properties: { command_id: { type: 'string', format: 'uuid' }, vcpu_count: { enum: [...VCPU_COUNTS] } } }) }, ...submitResponses },
  },
  'run-multiple-ffmpeg-commands': {
    summary: 'Run 1-10 independent FFmpeg commands in parallel (all are checked before any is recorded)',
    requestBody: { required: true, ...json(ref('RunMultipleFfmpegCommandsRequest')) },
    responses: { '200': { description: 'accepted, one id per command in order', ...json({ type: 'object', required: ['command_ids'], properties: { command_ids: { type: 'array', items: { type: 'string', format: 'uuid' } } } }) }, ...submitResponses },
  },
  'get-command': {
    summary: 'Poll a command',
    parameters: [{ name: 'command_id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }],
    responses: { '200': { description: 'the command', ...json(ref('PollResponse')) }, '401': error('UNAUTHORIZED'), '404': error('NOT_FOUND (also for another account\'s command)') },
  },
  'list-commands': {
    summary: 'List the account\'s commands, newest first',
    parameters: [
      { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: LIMITS.listMaxLimit, default: LIMITS.listDefaultLimit } },
      { name: 'offset', in: 'query', schema: { type: 'integer', minimum: 0, default: 0 } },
      { name: 'status', in: 'query', schema: { enum: [...COMMAND_STATUS] } },
      { name: 'cursor', in: 'query', description: 'next_cursor of the previous page (opaque)', schema: { type: 'string' } },
    ],
    responses: {
      '200': {
        description: 'a page',
        ...json({
          type: 'object',
          required: ['commands', 'limit', 'offset', 'next_cursor'],
          properties: { commands: { type: 'array', items: ref('PollResponse') }, limit: { type: 'integer' }, offset: { type: 'integer' }, next_cursor: nullable('string') },
        }),
      },
      '400': error('INVALID_REQUEST: a cursor this API did not hand out'),
      '401': error('UNAUTHORIZED'),
      '422': error('VALIDATION_ERROR: limit, offset or status'),
    },
  },
};

export function buildOpenApi(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of ROUTES) {
    const op = { operationId: route.handler, ...operations[route.handler], ...(route.auth ? {} : { security: [] }) };
    paths[`${API_BASE_PATHS[0]}${route.path}`] = { ...paths[`${API_BASE_PATHS[0]}${route.path}`], [route.method.toLowerCase()]: op };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'ffaas: FFmpeg as a Service',
      version: pkg.version,
      description: `Every route is also served under ${API_BASE_PATHS.slice(1).join(', ')} (same paths without /api). Errors are {"error": {"code", "message", "details"?}}, plus a FastAPI-style "detail" on 422.`,
    },
    servers: [{ url: 'http://127.0.0.1:8080', description: 'local mode' }],
    security: [{ ApiKey: [] }],
    paths,
    components: {
      securitySchemes: { ApiKey: { type: 'apiKey', in: 'header', name: API_KEY_HEADER.toUpperCase() } },
      schemas: {
        RunFfmpegCommandRequest: jsonSchema(RunFfmpegCommandSchema),
        RunChainedFfmpegCommandsRequest: jsonSchema(RunChainedFfmpegCommandsSchema),
        RunMultipleFfmpegCommandsRequest: jsonSchema(RunMultipleFfmpegCommandsSchema),
        ValidateRequest: jsonSchema(ValidateSchema),
        PollResponse,
        OutputFileMeta,
        ErrorEnvelope,
      },
    },
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const target = path.join(root, 'docs', 'openapi.json');
  const text = `${JSON.stringify(buildOpenApi(), null, 2)}\n`;
  if (process.argv.includes('--check')) {
    const current = readFileSync(target, 'utf8');
    if (current !== text) {
      console.error('docs/openapi.json is stale: run node scripts/openapi.ts');
      process.exit(1);
    }
  } else {
    writeFileSync(target, text);
    console.log(`wrote ${path.relative(root, target)}`);
  }
}
