/**
 * zod schemas of every request body of docs/API.md, and the rule that turns a failed parse into a
 * 400 INVALID_REQUEST or a 422 VALIDATION_ERROR.
 *
 * The rule (docs/API.md "Errors"):
 * - 400: the body is not what the route reads at all: not JSON, missing required fields, wrong
 *   JSON types of structural fields, alias keys that do not match ^in_/^out_, output names that
 *   are not plain file names, empty command lists. (Malformed or forbidden commands are 400 too,
 *   decided by the command parser.)
 * - 422: the body is well-formed but a value is unacceptable: metadata (over 10 keys, values not
 *   string|number|boolean), an input or webhook URL that is not http(s) (or resolves to a
 *   private address, checked by the handler), max_command_run_seconds out of 1..3600,
 *   vcpu_count not in VCPU_COUNTS, compute not auto|cpu|gpu (or gpu where none is configured),
 *   more than 10 inputs/outputs/commands.
 * A custom issue may carry `params: { status }` to state its class explicitly; otherwise the
 * class follows the field the issue is about (VALUE_FIELDS → 422, anything else → 400).
 */
// A namespace import lets esbuild drop what is unused (all of zod's locales: ~450 KB -> ~85 KB a bundle).
import * as z from 'zod';
import { LIMITS, VCPU_COUNTS, COMMAND_STATUS } from '../constants.ts';

export const INPUT_ALIAS_PATTERN = /^in_[A-Za-z0-9_]+$/;
export const OUTPUT_ALIAS_PATTERN = /^out_[A-Za-z0-9_]+$/;
export const MAX_URL_LENGTH = 2048;
export const MAX_FILE_NAME_LENGTH = 200;
export const MAX_COMMAND_LENGTH = 16 * 1024;
export const MAX_METADATA_KEY_LENGTH = 128;
export const MAX_METADATA_STRING_LENGTH = 1024;

/** Issue classes; see the module comment. */
export type IssueStatus = 400 | 422;
const S422 = { status: 422 as const };
const S400 = { status: 400 as const };

/** Top-level fields whose problems are 422 whatever the issue (well-formed JSON, bad value). */
const VALUE_FIELDS = new Set([
  'metadata',
  'max_command_run_seconds',
  'vcpu_count',
  'compute',
  'webhook_url',
  // init-upload: a size over the stored-file limit, or too many parts, is a value problem.
  'size_bytes',
  'file_size',
]);

export function isHttpUrl(value: string): boolean {
  if (value.length > MAX_URL_LENGTH) return false;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
}

/**
 * A plain file name: no directory part, no parent reference, nothing FFmpeg would read as an
 * option (leading '-') or a protocol (':'), no hidden files, no control characters.
 */
export function isPlainFileName(value: string): boolean {
  return (
    value.length > 0 &&
    value.length <= MAX_FILE_NAME_LENGTH &&
    !/[/\\:\u0000-\u001f\u007f]/.test(value) &&
    !value.startsWith('-') &&
    !value.startsWith('.')
  );
}

const urlString = z.string().refine(isHttpUrl, { message: 'must be an http(s) URL', params: S422 });

const FILE_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** An input: an http(s) URL, or a stored file's file_id (its storage_url is a URL). */
const inputValue = z.string().refine((v) => isHttpUrl(v) || FILE_ID_PATTERN.test(v), {
  message: "must be an http(s) URL or a stored file's file_id",
  params: S422,
});

/** in_* alias → http(s) URL or stored file id. */
export const InputFilesSchema = z
  .record(z.string().regex(INPUT_ALIAS_PATTERN, 'input alias must match ^in_[A-Za-z0-9_]+$'), inputValue)
  .superRefine((files, ctx) => {
    if (Object.keys(files).length > LIMITS.maxInputs) {
      ctx.addIssue({ code: 'custom', message: `at most ${LIMITS.maxInputs} input files`, params: S422 });
    }
  });

/** out_* alias → plain file name. */
export const OutputFilesSchema = z
  .record(
    z.string().regex(OUTPUT_ALIAS_PATTERN, 'output alias must match ^out_[A-Za-z0-9_]+$'),
    z.string().refine(isPlainFileName, {
      message: "must be a plain file name (no '/', '\\', ':', '..', no leading '-' or '.')",
      params: S400,
    }),
  )
  .superRefine((files, ctx) => {
    const n = Object.keys(files).length;
    if (n === 0) ctx.addIssue({ code: 'custom', message: 'at least one output file is required', params: S400 });
    if (n > LIMITS.maxOutputs) {
      ctx.addIssue({ code: 'custom', message: `at most ${LIMITS.maxOutputs} output files`, params: S422 });
    }
  });

export const MetadataSchema = z
  .record(
    z.string().min(1).max(MAX_METADATA_KEY_LENGTH),
    z.union([z.string().max(MAX_METADATA_STRING_LENGTH), z.number(), z.boolean()], {
      error: 'metadata values must be string, number or boolean',
    }),
  )
  .superRefine((m, ctx) => {
    if (Object.keys(m).length > LIMITS.maxMetadataKeys) {
      ctx.addIssue({ code: 'custom', message: `at most ${LIMITS.maxMetadataKeys} metadata keys`, params: S422 });
    }
  });

export const CommandStringSchema = z
  .string()
  .max(MAX_COMMAND_LENGTH)
  .refine((s) => s.trim().length > 0, { message: 'must not be empty', params: S400 });

/** A decimal number written as a JSON string ("60", " 2 ", "-1.5"). */
const NUMERIC_STRING = /^\s*-?\d+(\.\d+)?\s*$/;

/**
 * `schema` that also accepts its number as a numeric string, as pydantic (FastAPI) does for
 * Rendi's and RenderIO's own services: "60" reads as 60; other strings fail as `schema` says.
 */
export function numeric<S extends z.ZodType>(schema: S) {
  return z.preprocess((v) => (typeof v === 'string' && NUMERIC_STRING.test(v) ? Number(v) : v), schema);
}

export const ComputeSchema = z.enum(['auto', 'cpu', 'gpu']);
export const VcpuCountSchema = numeric(z.literal(VCPU_COUNTS));
export const MaxRunSecondsSchema = numeric(z.number().int().min(LIMITS.minRunSeconds).max(LIMITS.maxRunSeconds));
export const WebhookUrlSchema = urlString;

/** PUT /webhook-config (RenderIO): the URL, and optionally the signing secret (else generated). */
export const WebhookConfigSchema = z.object({
  url: z.string().refine(isHttpUrl, { message: 'must be an http(s) URL', params: S422 }),
  secret: z.string().min(24).max(256).optional(),
});

/** Options every submit body may carry besides the maps and the command. */
const submitOptions = {
  metadata: MetadataSchema.optional(),
  webhook_url: WebhookUrlSchema.optional(),
  max_command_run_seconds: MaxRunSecondsSchema.optional(),
  compute: ComputeSchema.optional(),
  vcpu_count: VcpuCountSchema.optional(),
};

export const RunFfmpegCommandSchema = z.object({
  input_files: InputFilesSchema,
  output_files: OutputFilesSchema,
  ffmpeg_command: CommandStringSchema,
  ...submitOptions,
});
export type RunFfmpegCommandBody = z.infer<typeof RunFfmpegCommandSchema>;

export const CommandListSchema = z
  .array(CommandStringSchema)
  .min(1, 'at least one command is required')
  .superRefine((list, ctx) => {
    if (list.length > LIMITS.maxChainedCommands) {
      ctx.addIssue({ code: 'custom', message: `at most ${LIMITS.maxChainedCommands} commands`, params: S422 });
    }
  });

export const RunChainedFfmpegCommandsSchema = z.object({
  input_files: InputFilesSchema,
  output_files: OutputFilesSchema,
  ffmpeg_commands: CommandListSchema,
  ...submitOptions,
});
export type RunChainedFfmpegCommandsBody = z.infer<typeof RunChainedFfmpegCommandsSchema>;

export const RunMultipleFfmpegCommandsSchema = z.object({
  commands: z
    .array(RunFfmpegCommandSchema)
    .min(1, 'at least one command is required')
    .superRefine((list, ctx) => {
      if (list.length > LIMITS.maxMultipleCommands) {
        ctx.addIssue({ code: 'custom', message: `at most ${LIMITS.maxMultipleCommands} commands`, params: S422 });
      }
    }),
});
export type RunMultipleFfmpegCommandsBody = z.infer<typeof RunMultipleFfmpegCommandsSchema>;

/**
 * POST /validate: the run-ffmpeg-command body with the maps optional; `ffmpeg_commands` is
 * accepted instead of `ffmpeg_command` to check a chain.
 */
export const ValidateSchema = z
  .object({
    input_files: InputFilesSchema.optional(),
    output_files: z
      .record(
        z.string().regex(OUTPUT_ALIAS_PATTERN, 'output alias must match ^out_[A-Za-z0-9_]+$'),
        z.string().refine(isPlainFileName, { message: 'must be a plain file name', params: S400 }),
      )
      .optional(),
    ffmpeg_command: CommandStringSchema.optional(),
    ffmpeg_commands: CommandListSchema.optional(),
    ...submitOptions,
  })
  .superRefine((body, ctx) => {
    if (body.ffmpeg_command === undefined && body.ffmpeg_commands === undefined) {
      ctx.addIssue({ code: 'custom', path: ['ffmpeg_command'], message: 'ffmpeg_command is required', params: S400 });
    }
  });
export type ValidateBody = z.infer<typeof ValidateSchema>;

/** POST /files/upload-url */
export const UploadUrlSchema = z.object({
  filename: z.string().refine(isPlainFileName, { message: 'must be a plain file name', params: S400 }),
});
/** POST /files/init-upload (Rendi's multipart flow); `size_bytes` (or `file_size`) sizes the parts. */
export const InitUploadSchema = z.object({
  filename: z.string().refine(isPlainFileName, { message: 'must be a plain file name', params: S400 }),
  size_bytes: z.coerce.number().int().min(1).max(LIMITS.maxStoredFileBytes).optional(),
  file_size: z.coerce.number().int().min(1).max(LIMITS.maxStoredFileBytes).optional(),
  parts: z.coerce.number().int().min(1).max(LIMITS.maxMultipartParts).optional(),
});
/** POST /files/{file_id}/complete-upload: the ETag of each part PUT (optional on AWS: then listed). */
export const CompleteUploadSchema = z
  .object({
    parts: z
      .array(
        z.object({
          part_number: z.coerce.number().int().min(1).max(10_000),
          etag: z.string().min(1).max(200),
        }),
      )
      .max(10_000)
      .optional(),
  })
  .optional();
/** POST /files/store-file */
export const StoreFileSchema = z.object({
  file_url: z.string().refine(isHttpUrl, { message: 'must be an http(s) URL', params: S422 }),
});
/** GET /files */
export const ListFilesQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(LIMITS.listDefaultLimit),
  offset: z.coerce.number().int().min(0).max(10_000).default(0),
});

const aliasList = z
  .array(z.string().regex(INPUT_ALIAS_PATTERN, 'input alias must match ^in_[A-Za-z0-9_]+$'))
  .max(LIMITS.maxInputs);

/**
 * POST /presets: docs/API.md's names (`input_files` map or list, `output_files`) or RenderIO's
 * (`input_file_keys`, `output_file_definitions`, `description`, `metadata`).
 */
export const CreatePresetSchema = z
  .object({
    name: z.string().min(1).max(128),
    description: z.string().max(1024).optional(),
    command_type: z.enum(['FFMPEG_COMMAND', 'CHAINED_COMMAND']).optional(),
    input_files: z
      .union([
        z.record(z.string().regex(INPUT_ALIAS_PATTERN, 'input alias must match ^in_[A-Za-z0-9_]+$'), z.string()),
        aliasList,
      ])
      .optional(),
    input_file_keys: aliasList.optional(),
    output_files: OutputFilesSchema.optional(),
    output_file_definitions: OutputFilesSchema.optional(),
    ffmpeg_command: CommandStringSchema.optional(),
    ffmpeg_commands: CommandListSchema.optional(),
    metadata: MetadataSchema.optional(),
  })
  .superRefine((body, ctx) => {
    if ((body.ffmpeg_command === undefined) === (body.ffmpeg_commands === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['ffmpeg_command'],
        message: 'exactly one of ffmpeg_command and ffmpeg_commands is required',
        params: S400,
      });
    }
    if (body.output_files === undefined && body.output_file_definitions === undefined) {
      ctx.addIssue({ code: 'custom', path: ['output_files'], message: 'output_files is required', params: S400 });
    }
  });
/** POST /presets/{preset_id}/execute */
export const ExecutePresetSchema = z.object({
  input_files: InputFilesSchema,
  metadata: MetadataSchema.optional(),
  webhook_url: WebhookUrlSchema.optional(),
});
/** GET /commands query string (all values arrive as strings). */
export const ListCommandsQuerySchema = z.object({
  limit: numeric(z.number().int().min(1).max(LIMITS.listMaxLimit)).default(LIMITS.listDefaultLimit),
  offset: numeric(z.number().int().min(0).max(10_000)).default(0),
  status: z.enum(COMMAND_STATUS).optional(),
  cursor: z.string().max(2048).meta({ description: 'next_cursor of the previous page (opaque)' }).optional(),
});
export type ListCommandsQuery = z.infer<typeof ListCommandsQuerySchema>;

/** Field names the list query treats as values (422); `cursor` problems are 400. */
const LIST_VALUE_FIELDS = new Set(['limit', 'offset', 'status']);

/**
 * The class of one zod issue. `path` is the issue's path; for run-multiple bodies the leading
 * ['commands', i] is skipped so each command's fields follow the same rule.
 */
export function issueStatus(issue: z.core.$ZodIssue): IssueStatus {
  const params = (issue as { params?: { status?: unknown } }).params;
  if (params?.status === 400 || params?.status === 422) return params.status;
  let path = issue.path;
  if (path[0] === 'commands' && typeof path[1] === 'number') path = path.slice(2);
  const field = path[0];
  if (typeof field === 'string' && (VALUE_FIELDS.has(field) || LIST_VALUE_FIELDS.has(field))) return 422;
  // Values of input_files with the right JSON type but not an http(s) URL carry params: 422;
  // anything else in the maps (alias keys, non-string values) is malformed.
  return 400;
}
