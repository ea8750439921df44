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
  CompleteUploadSchema,
  CreatePresetSchema,
  ExecutePresetSchema,
  InitUploadSchema,
  StoreFileSchema,
  UploadUrlSchema,
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
    'expires_at',
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
    expires_at: nullable('string', {
      format: 'date-time',
      description: `When the record and its outputs are deleted (retention, default ${LIMITS.retentionDays} days after submission; FFAAS_RETENTION_DAYS / the retentionDays prop).`,
    }),
  },
};

/** A stored file: OutputFileMeta plus where it came from, when, and until when. */
const FileMeta = {
  type: 'object',
  required: [...OutputFileMeta.required, 'original_file_url', 'created_at', 'expires_at', 'error_status', 'error_message'],
  properties: {
    ...OutputFileMeta.properties,
    storage_url: nullable('string', { description: 'Signed GET URL while STORED (minted on every read); usable as an input_files value, like file_id.' }),
    rendi_store_type: { enum: ['STORED_FILE', 'UPLOAD'] },
    file_type: { enum: ['video', 'audio', 'image', 'other', null], description: 'null until probed.' },
    original_file_url: nullable('string', { description: 'The store-file URL.' }),
    created_at: { type: 'string', format: 'date-time' },
    expires_at: nullable('string', { format: 'date-time', description: 'When the file is deleted (retention).' }),
    error_status: { enum: ['UNREACHABLE_INPUT_FILE', 'FILE_TOO_LARGE', 'NOT_MEDIA', 'INTERNAL_ERROR', null] },
    error_message: nullable('string'),
  },
};

const PresetResponse = {
  type: 'object',
  required: ['preset_id', 'name', 'command_type', 'input_file_keys', 'output_file_definitions', 'input_files', 'output_files', 'created_at'],
  properties: {
    preset_id: { type: 'string', format: 'uuid' },
    name: { type: 'string' },
    description: nullable('string'),
    is_system: { const: false },
    command_type: { enum: ['FFMPEG_COMMAND', 'CHAINED_COMMAND'] },
    ffmpeg_command: nullable('string'),
    ffmpeg_commands: { type: ['array', 'null'], items: { type: 'string' } },
    input_file_keys: { type: 'array', items: { type: 'string' } },
    output_file_definitions: { type: 'object', additionalProperties: { type: 'string' } },
    input_files: { type: 'array', items: { type: 'string' }, description: 'Same as input_file_keys (API.md name).' },
    output_files: { type: 'object', additionalProperties: { type: 'string' }, description: 'Same as output_file_definitions (API.md name).' },
    metadata: nullable('object'),
    created_at: { type: 'string', format: 'date-time' },
    updated_at: { type: 'string', format: 'date-time' },
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

// ---- Files and presets (issue 10): several routes share a handler, so these are by route ----
const fileIdParam = [{ name: 'file_id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }];
const presetIdParam = [{ name: 'preset_id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }];
const uuidObject = (key: string) => ({ type: 'object', required: [key], properties: { [key]: { type: 'string', format: 'uuid' } } });
const routeOperations: Record<string, Operation> = {
  'POST /files/upload': {
    operationId: 'upload-file',
    summary: `Upload a file (multipart/form-data, field "file"; body up to ${LIMITS.maxUploadBodyBytes} bytes). Probed asynchronously: poll GET /files/{file_id} until STORED.`,
    requestBody: {
      required: true,
      content: { 'multipart/form-data': { schema: { type: 'object', required: ['file'], properties: { file: { type: 'string', format: 'binary' } } } } },
    },
    responses: {
      '200': { description: 'stored, PROCESSING until probed', ...json(ref('FileMeta')) },
      '401': error('UNAUTHORIZED'),
      '413': error('PAYLOAD_TOO_LARGE: use upload-url or init-upload for larger files'),
      '422': error('VALIDATION_ERROR: not multipart/form-data, or no "file" field'),
    },
  },
  'POST /files/upload-url': {
    operationId: 'create-upload-url',
    summary: 'A presigned PUT URL for a file of any size (up to 5 GB); the file is probed once the bytes land',
    requestBody: { required: true, ...json(jsonSchema(UploadUrlSchema)) },
    responses: {
      '200': {
        description: 'PUT the bytes to upload_url before expires_at',
        ...json({ type: 'object', required: ['file_id', 'upload_url', 'expires_at'], properties: { file_id: { type: 'string' }, upload_url: { type: 'string' }, expires_at: { type: 'string', format: 'date-time' }, status: { const: 'PROCESSING' } } }),
      },
      '400': error('INVALID_REQUEST: filename missing or not a plain file name'),
      '401': error('UNAUTHORIZED'),
    },
  },
  'POST /files/init-upload': {
    operationId: 'init-upload',
    summary: "Rendi's multipart upload, step 1: one presigned PUT URL per part (PUT each part, keep its ETag)",
    requestBody: { required: true, ...json(jsonSchema(InitUploadSchema)) },
    responses: {
      '200': {
        description: 'the parts to PUT',
        ...json({
          type: 'object',
          required: ['file_id', 'upload_id', 'parts'],
          properties: {
            file_id: { type: 'string' },
            upload_id: { type: 'string' },
            status: { const: 'PROCESSING' },
            part_size_bytes: nullable('integer'),
            parts: { type: 'array', items: { type: 'object', properties: { part_number: { type: 'integer' }, upload_url: { type: 'string' } } } },
            upload_urls: { type: 'array', items: { type: 'string' } },
            expires_at: { type: 'string', format: 'date-time' },
          },
        }),
      },
      '401': error('UNAUTHORIZED'),
      '422': error('VALIDATION_ERROR: size over the limit, too many parts'),
    },
  },
  'POST /files/{file_id}/complete-upload': {
    operationId: 'complete-upload',
    summary: "Rendi's multipart upload, step 3: assemble the parts (ETags optional where S3 can list them); the file is then probed",
    parameters: fileIdParam,
    requestBody: { required: false, ...json(jsonSchema(CompleteUploadSchema)) },
    responses: {
      '200': { description: 'assembled, PROCESSING until probed', ...json(ref('FileMeta')) },
      '400': error('INVALID_REQUEST: parts missing or invalid'),
      '404': error('NOT_FOUND'),
      '409': error('CONFLICT: no multipart upload to complete (already completed)'),
    },
  },
  'POST /files/store-file': {
    operationId: 'store-file',
    summary: 'The service fetches file_url (SSRF-safe) and stores it; poll GET /files/{file_id} until STORED or FAILED',
    requestBody: { required: true, ...json(jsonSchema(StoreFileSchema)) },
    responses: {
      '200': { description: 'accepted', ...json(uuidObject('file_id')) },
      '400': error('INVALID_REQUEST: file_url missing'),
      '401': error('UNAUTHORIZED'),
      '422': error('VALIDATION_ERROR: not http(s), or a private/loopback/link-local/metadata address'),
    },
  },
  'GET /files': {
    operationId: 'list-files',
    summary: 'The account\'s stored files, newest first ({files, limit, offset}; under /v1 a bare array, as Rendi)',
    parameters: [
      { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: LIMITS.listDefaultLimit } },
      { name: 'offset', in: 'query', schema: { type: 'integer', minimum: 0, default: 0 } },
    ],
    responses: {
      '200': { description: 'a page', ...json({ type: 'object', properties: { files: { type: 'array', items: ref('FileMeta') }, limit: { type: 'integer' }, offset: { type: 'integer' } } }) },
      '401': error('UNAUTHORIZED'),
      '422': error('VALIDATION_ERROR: limit or offset'),
    },
  },
  'GET /files/{file_id}': {
    operationId: 'get-file',
    summary: 'A stored file, with a fresh signed URL while STORED',
    parameters: fileIdParam,
    responses: { '200': { description: 'the file', ...json(ref('FileMeta')) }, '401': error('UNAUTHORIZED'), '404': error("NOT_FOUND (also another account's file)") },
  },
  'DELETE /files/{file_id}': {
    operationId: 'delete-file',
    summary: 'Delete a stored file and its bytes',
    parameters: fileIdParam,
    responses: {
      '200': { description: 'deleted', ...json({ type: 'object', properties: { success: { const: true }, file_id: { type: 'string' }, is_deleted: { const: true } } }) },
      '404': error('NOT_FOUND'),
    },
  },
  'DELETE /commands/{command_id}/files': {
    operationId: 'delete-command-files',
    summary: "Delete a finished command's stored outputs (playlists with their segments); they then read is_deleted true, storage_url null",
    parameters: [{ name: 'command_id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }],
    responses: { '200': { description: 'the command as polled', ...json(ref('PollResponse')) }, '404': error('NOT_FOUND'), '409': error('CONFLICT: the command has not finished') },
  },
  'POST /presets': {
    operationId: 'create-preset',
    summary: 'Save a command template (checked by the command policy now)',
    requestBody: { required: true, ...json(jsonSchema(CreatePresetSchema)) },
    responses: {
      '201': { description: 'created', ...json(ref('PresetResponse')) },
      '400': error('INVALID_REQUEST: missing fields, malformed or forbidden command'),
      '422': error('VALIDATION_ERROR: refused by the command policy, too many presets'),
    },
  },
  'GET /presets': {
    operationId: 'list-presets',
    summary: "The account's presets, newest first",
    responses: { '200': { description: 'all of them', ...json({ type: 'object', properties: { presets: { type: 'array', items: ref('PresetResponse') } } }) } },
  },
  'GET /presets/{preset_id}': {
    operationId: 'get-preset',
    summary: 'A preset',
    parameters: presetIdParam,
    responses: { '200': { description: 'the preset', ...json(ref('PresetResponse')) }, '404': error('NOT_FOUND') },
  },
  'DELETE /presets/{preset_id}': {
    operationId: 'delete-preset',
    summary: 'Delete a preset',
    parameters: presetIdParam,
    responses: { '200': { description: 'deleted', ...json({ type: 'object', properties: { success: { const: true }, preset_id: { type: 'string' } } }) }, '404': error('NOT_FOUND') },
  },
  'POST /presets/{preset_id}/execute': {
    operationId: 'execute-preset',
    summary: "Run a preset with these inputs (exactly the preset's input keys; file_id or URL values)",
    parameters: presetIdParam,
    requestBody: { required: true, ...json(jsonSchema(ExecutePresetSchema)) },
    responses: {
      '200': { description: 'accepted', ...json(uuidObject('command_id')) },
      '404': error('NOT_FOUND'),
      '422': error("VALIDATION_ERROR: inputs not the preset's keys, a URL refused, a stored file missing, foreign or not STORED"),
    },
  },
};

export function buildOpenApi(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of ROUTES) {
    const byRoute = routeOperations[`${route.method} ${route.path}`];
    const op = byRoute
      ? { ...byRoute, ...(route.auth ? {} : { security: [] }) }
      : { operationId: route.handler, ...operations[route.handler], ...(route.auth ? {} : { security: [] }) };
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
        FileMeta,
        PresetResponse,
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
