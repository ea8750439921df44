/**
 * OpenAPI operations of the files, presets and command-file routes (issue 10). Several of
 * these routes share a handler, so they are keyed by route ("METHOD /path"); core/api/openapi.ts
 * uses them before its per-handler operations.
 */
import * as z from 'zod';
import { LIMITS } from '../constants.ts';
import {
  CompleteUploadSchema,
  CreatePresetSchema,
  ExecutePresetSchema,
  InitUploadSchema,
  StoreFileSchema,
  UploadUrlSchema,
} from './schemas.ts';

type Operation = Record<string, unknown>;
const nullable = (type: string, extra: Record<string, unknown> = {}) => ({ type: [type, 'null'], ...extra });
function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const out = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  delete out.$schema;
  return out;
}
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: unknown) => ({ content: { 'application/json': { schema } } });
const error = (description: string) => ({ description, ...json(ref('ErrorEnvelope')) });

/** A stored file: OutputFileMeta plus where it came from, when, and until when. */
export const FileMeta = {
  allOf: [
    ref('OutputFileMeta'),
    {
      type: 'object',
      required: ['original_file_url', 'created_at', 'expires_at', 'error_status', 'error_message'],
      properties: {
        storage_url: nullable('string', {
          description:
            'Signed GET URL while STORED (minted on every read); usable as an input_files value, like file_id.',
        }),
        rendi_store_type: { enum: ['STORED_FILE', 'UPLOAD'] },
        file_type: { enum: ['video', 'audio', 'image', 'other', null], description: 'null until probed.' },
        original_file_url: nullable('string', { description: 'The store-file URL.' }),
        created_at: { type: 'string', format: 'date-time' },
        expires_at: nullable('string', { format: 'date-time', description: 'When the file is deleted (retention).' }),
        error_status: { enum: ['UNREACHABLE_INPUT_FILE', 'FILE_TOO_LARGE', 'NOT_MEDIA', 'INTERNAL_ERROR', null] },
        error_message: nullable('string'),
      },
    },
  ],
};

export const PresetResponse = {
  type: 'object',
  required: [
    'preset_id',
    'name',
    'command_type',
    'input_file_keys',
    'output_file_definitions',
    'input_files',
    'output_files',
    'created_at',
  ],
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
    input_files: {
      type: 'array',
      items: { type: 'string' },
      description: 'Same as input_file_keys (docs/API.md name).',
    },
    output_files: {
      type: 'object',
      additionalProperties: { type: 'string' },
      description: 'Same as output_file_definitions (docs/API.md name).',
    },
    metadata: nullable('object'),
    created_at: { type: 'string', format: 'date-time' },
    updated_at: { type: 'string', format: 'date-time' },
  },
};

// ---- Files and presets (issue 10): several routes share a handler, so these are by route ----
const fileIdParam = [{ name: 'file_id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }];
const presetIdParam = [{ name: 'preset_id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }];
const uuidObject = (key: string) => ({
  type: 'object',
  required: [key],
  properties: { [key]: { type: 'string', format: 'uuid' } },
});
export const ROUTE_OPERATIONS: Record<string, Operation> = {
  // Rendobar's uploads (one handler, rendobar-assets): an asset is a stored file.
  'POST /assets/upload': {
    operationId: 'rendobar-upload-asset',
    summary: `Rendobar: upload an asset (multipart/form-data, field "file"; body up to ${LIMITS.maxUploadBodyBytes} bytes). Its url is a content URL a job of the same account uses as an input once status is "ready".`,
    requestBody: {
      required: true,
      content: {
        'multipart/form-data': {
          schema: { type: 'object', required: ['file'], properties: { file: { type: 'string', format: 'binary' } } },
        },
      },
    },
    responses: {
      '200': { description: '{data: asset}, status "processing" until probed', ...json(ref('RendobarAssetResponse')) },
      '401': error('UNAUTHORIZED'),
      '413': error('PAYLOAD_TOO_LARGE'),
      '422': error('VALIDATION_ERROR: not multipart/form-data, or no "file" field'),
    },
  },
  'GET /assets/{asset_id}': {
    operationId: 'rendobar-get-asset',
    summary: 'Rendobar: an asset (processing → ready | failed)',
    parameters: [
      { name: 'asset_id', in: 'path', required: true, schema: { type: 'string', description: 'asset_<file id>' } },
    ],
    responses: {
      '200': { description: '{data: asset}', ...json(ref('RendobarAssetResponse')) },
      '401': error('UNAUTHORIZED'),
      '404': error("NOT_FOUND (also another account's asset)"),
    },
  },
  'GET /assets/{asset_id}/content': {
    operationId: 'rendobar-asset-content',
    summary:
      "Rendobar: an asset's bytes (the owner's key only); as a job input the URL is read from storage, never fetched",
    parameters: [
      { name: 'asset_id', in: 'path', required: true, schema: { type: 'string', description: 'asset_<file id>' } },
    ],
    responses: {
      '302': { description: 'a redirect to a short-lived presigned URL of the bytes' },
      '401': error('UNAUTHORIZED'),
      '404': error("NOT_FOUND (also another account's asset)"),
      '409': error('CONFLICT: the asset is still processing, or failed'),
    },
  },
  'POST /files/upload': {
    operationId: 'upload-file',
    summary: `Upload a file (multipart/form-data, field "file"; body up to ${LIMITS.maxUploadBodyBytes} bytes). Probed asynchronously: poll GET /files/{file_id} until STORED.`,
    requestBody: {
      required: true,
      content: {
        'multipart/form-data': {
          schema: { type: 'object', required: ['file'], properties: { file: { type: 'string', format: 'binary' } } },
        },
      },
    },
    responses: {
      '200': { description: 'stored, PROCESSING until probed', ...json(FileMeta) },
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
        ...json({
          type: 'object',
          required: ['file_id', 'upload_url', 'expires_at'],
          properties: {
            file_id: { type: 'string' },
            upload_url: { type: 'string' },
            expires_at: { type: 'string', format: 'date-time' },
            status: { const: 'PROCESSING' },
          },
        }),
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
            parts: {
              type: 'array',
              items: {
                type: 'object',
                properties: { part_number: { type: 'integer' }, upload_url: { type: 'string' } },
              },
            },
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
    summary:
      "Rendi's multipart upload, step 3: assemble the parts (ETags optional where S3 can list them); the file is then probed",
    parameters: fileIdParam,
    requestBody: { required: false, ...json(jsonSchema(CompleteUploadSchema)) },
    responses: {
      '200': { description: 'assembled, PROCESSING until probed', ...json(FileMeta) },
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
    summary: "The account's stored files, newest first ({files, limit, offset}; under /v1 a bare array, as Rendi)",
    parameters: [
      {
        name: 'limit',
        in: 'query',
        schema: { type: 'integer', minimum: 1, maximum: 1000, default: LIMITS.listDefaultLimit },
      },
      { name: 'offset', in: 'query', schema: { type: 'integer', minimum: 0, default: 0 } },
    ],
    responses: {
      '200': {
        description: 'a page',
        ...json({
          type: 'object',
          properties: {
            files: { type: 'array', items: FileMeta },
            limit: { type: 'integer' },
            offset: { type: 'integer' },
          },
        }),
      },
      '401': error('UNAUTHORIZED'),
      '422': error('VALIDATION_ERROR: limit or offset'),
    },
  },
  'GET /files/{file_id}': {
    operationId: 'get-file',
    summary: 'A stored file, with a fresh signed URL while STORED',
    parameters: fileIdParam,
    responses: {
      '200': { description: 'the file', ...json(FileMeta) },
      '401': error('UNAUTHORIZED'),
      '404': error("NOT_FOUND (also another account's file)"),
    },
  },
  'DELETE /files/{file_id}': {
    operationId: 'delete-file',
    summary: 'Delete a stored file and its bytes',
    parameters: fileIdParam,
    responses: {
      '200': {
        description: 'deleted',
        ...json({
          type: 'object',
          properties: { success: { const: true }, file_id: { type: 'string' }, is_deleted: { const: true } },
        }),
      },
      '404': error('NOT_FOUND'),
    },
  },
  'DELETE /commands/{command_id}/files': {
    operationId: 'delete-command-files',
    summary:
      "Delete a finished command's stored outputs (playlists with their segments); they then read is_deleted true, storage_url null",
    parameters: [{ name: 'command_id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }],
    responses: {
      '200': { description: 'the command as polled', ...json(ref('PollResponse')) },
      '404': error('NOT_FOUND'),
      '409': error('CONFLICT: the command has not finished'),
    },
  },
  'POST /presets': {
    operationId: 'create-preset',
    summary: 'Save a command template (checked by the command policy now)',
    requestBody: { required: true, ...json(jsonSchema(CreatePresetSchema)) },
    responses: {
      '201': { description: 'created', ...json(PresetResponse) },
      '400': error('INVALID_REQUEST: missing fields, malformed or forbidden command'),
      '422': error('VALIDATION_ERROR: refused by the command policy, too many presets'),
    },
  },
  'GET /presets': {
    operationId: 'list-presets',
    summary: "The account's presets, newest first",
    responses: {
      '200': {
        description: 'all of them',
        ...json({ type: 'object', properties: { presets: { type: 'array', items: PresetResponse } } }),
      },
      '401': error('UNAUTHORIZED'),
    },
  },
  'GET /presets/{preset_id}': {
    operationId: 'get-preset',
    summary: 'A preset',
    parameters: presetIdParam,
    responses: { '200': { description: 'the preset', ...json(PresetResponse) }, '404': error('NOT_FOUND') },
  },
  'DELETE /presets/{preset_id}': {
    operationId: 'delete-preset',
    summary: 'Delete a preset',
    parameters: presetIdParam,
    responses: {
      '200': {
        description: 'deleted',
        ...json({ type: 'object', properties: { success: { const: true }, preset_id: { type: 'string' } } }),
      },
      '404': error('NOT_FOUND'),
    },
  },
  'POST /presets/{preset_id}/execute': {
    operationId: 'execute-preset',
    summary: "Run a preset with these inputs (exactly the preset's input keys; file_id or URL values)",
    parameters: presetIdParam,
    requestBody: { required: true, ...json(jsonSchema(ExecutePresetSchema)) },
    responses: {
      '200': { description: 'accepted', ...json(uuidObject('command_id')) },
      '404': error('NOT_FOUND'),
      '422': error(
        "VALIDATION_ERROR: inputs not the preset's keys, a URL refused, a stored file missing, foreign or not STORED",
      ),
    },
  },
};
