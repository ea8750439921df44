/**
 * zod schemas of every response body (docs/API.md): the single spelling of each shape. The
 * TypeScript types are inferred from them, the code that builds responses is typed by them,
 * and the OpenAPI document (core/api/openapi.ts) is generated from them, so the three cannot
 * drift. Nothing here parses at run time; tests check the builders' output against them.
 *
 * To add a response: define its schema here, type the builder or handler with `z.infer` (or
 * `satisfies`), and name it in the OpenAPI operation of its route.
 */
// A namespace import lets esbuild drop what is unused (see schemas.ts).
import * as z from 'zod';
import {
  API_ERROR,
  COMMAND_STATUS,
  COMMAND_TYPE,
  COMPUTE,
  ERROR_STATUS,
  LIMITS,
  VCPU_COUNTS,
  type ApiErrorCode,
} from '../constants.ts';

const nullableNumber = z.number().nullable();
const nullableString = z.string().nullable();
const timestamp = z.iso.datetime();
const commandId = z.uuid();

export const FILE_TYPES = ['video', 'audio', 'image', 'other'] as const;

/** The meta of a stored file (docs/API.md "OutputFileMeta"): every key present, null where it does not apply. */
export const OutputFileMetaSchema = z.object({
  file_id: z.string(),
  storage_url: nullableString.meta({
    description: `Signed GET URL, minted on every poll (valid ${LIMITS.signedUrlSeconds} s by default); null when deleted.`,
  }),
  status: z.enum(['PROCESSING', 'STORED', 'FAILED']),
  rendi_store_type: z.enum(['OUTPUT', 'STORED_FILE', 'UPLOAD']),
  is_deleted: z.boolean(),
  filename: z.string(),
  size_mbytes: nullableNumber.meta({
    description: 'MiB; for a playlist output, the total of the manifest and all its segment/companion files.',
  }),
  duration: nullableNumber.meta({ description: 'Seconds (audio and video).' }),
  file_type: z.enum(FILE_TYPES),
  file_format: nullableString,
  codec: nullableString,
  pixel_format: nullableString,
  mime_type: nullableString,
  width: z.int().nullable(),
  height: z.int().nullable(),
  frame_rate: nullableNumber,
  bitrate_video_kb: nullableNumber,
  bitrate_audio_kb: nullableNumber,
  file_count: z.int().min(1).meta({
    description:
      'Files that make up the output: 1, or for a playlist output (.m3u8 / .mpd name or an out_playlist_ alias) 1 manifest + its segments, sub-playlists and init files, stored next to it.',
  }),
});
export type OutputFileMeta = z.infer<typeof OutputFileMetaSchema>;
export type FileType = OutputFileMeta['file_type'];
/** Every OutputFileMeta key, in docs/API.md order (the schema's). */
export const OUTPUT_FILE_META_FIELDS = Object.keys(OutputFileMetaSchema.shape) as (keyof OutputFileMeta)[];

export const ProgressSchema = z.object({
  percent: nullableNumber.meta({ description: '0-100, when the input duration is known.' }),
  out_time_seconds: z.number(),
  speed: nullableNumber,
  fps: nullableNumber,
});
export type Progress = z.infer<typeof ProgressSchema>;

export const MetadataValuesSchema = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));

const phaseSeconds = (what: string) => nullableNumber.meta({ description: `Seconds ${what}; null when not reached.` });

/** Where a command's time went, phase by phase. */
export const TimingsSchema = z.object({
  queued: phaseSeconds('from submission until its execution started'),
  download: phaseSeconds('downloading the inputs'),
  ffmpeg: phaseSeconds('FFmpeg ran (all runs of a chained command)'),
  probe: phaseSeconds('probing inputs (for percent) and outputs (for their metadata)'),
  upload: phaseSeconds('uploading the outputs'),
  report: phaseSeconds('from the worker reporting until the final status was recorded'),
});
export type Timings = z.infer<typeof TimingsSchema>;

/** What the client submitted (the maps and the command or commands), echoed by the poll. */
export const OriginalRequestSchema = z.object({
  input_files: z.record(z.string(), z.string()),
  output_files: z.record(z.string(), z.string()),
  ffmpeg_command: z.string().optional(),
  ffmpeg_commands: z.array(z.string()).optional(),
});
export type OriginalRequest = z.infer<typeof OriginalRequestSchema>;

/** What a command used (core/control/usage.ts): resource units and an estimated price. */
export const UsageSchema = z.object({
  vcpu_seconds: z.number().meta({ description: 'vcpu_count × worker seconds (CPU commands).' }),
  gpu_seconds: z.number().meta({ description: 'Worker seconds on a GPU instance (GPU commands).' }),
  storage_bytes: z.int().meta({ description: 'Bytes of the stored outputs.' }),
  estimated_usd: z
    .number()
    .meta({ description: 'Estimate from on-demand list prices (docs/CONTROL.md); not an invoice.' }),
});

/** GET /usage: the account's usage, in total and per UTC day of created_at. */
export const UsageReportResponseSchema = z.object({
  from: timestamp,
  to: timestamp,
  totals: UsageSchema.extend({ commands: z.int() }),
  days: z.array(UsageSchema.extend({ date: z.string().meta({ description: 'YYYY-MM-DD (UTC)' }), commands: z.int() })),
});
export type UsageReportResponse = z.infer<typeof UsageReportResponseSchema>;

/** GET /commands/{command_id} (docs/API.md "Polling"). */
export const PollResponseSchema = z.object({
  command_id: commandId,
  status: z.enum(COMMAND_STATUS),
  command_type: z.enum(COMMAND_TYPE),
  created_at: timestamp,
  started_at: timestamp.nullable(),
  finished_at: timestamp.nullable(),
  total_processing_seconds: nullableNumber.meta({ description: 'Submission to completion; null until finished.' }),
  ffmpeg_command_run_seconds: nullableNumber.meta({ description: 'FFmpeg alone.' }),
  metadata: MetadataValuesSchema.nullable(),
  error_status: z.enum(ERROR_STATUS).nullable(),
  error_message: nullableString.meta({ description: 'For FFMPEG_FAILED, ends with the last ~2 KB of its stderr.' }),
  progress: ProgressSchema.nullable(),
  timings: TimingsSchema.meta({
    description: 'Where the time went, per phase (every key present, null where not reached).',
  }),
  output_files: z.record(z.string(), OutputFileMetaSchema),
  original_request: OriginalRequestSchema,
  vcpu_count: z.literal(VCPU_COUNTS).meta({ description: 'The worker size asked for (or the default), echoed.' }),
  attempts: z
    .number()
    .int()
    .min(0)
    .meta({ description: 'Worker starts: a lost worker is started again, up to 3 starts in all (docs/FAILURES.md).' }),
  expires_at: z.string().nullable().meta({
    description:
      'When the record and its outputs are deleted (retention: 30 days by default, FFAAS_RETENTION_DAYS / the retentionDays prop).',
  }),
  usage: UsageSchema,
});
export type PollResponse = z.infer<typeof PollResponseSchema>;

/** GET /commands: a page, newest first. */
export const ListCommandsResponseSchema = z.object({
  commands: z.array(PollResponseSchema),
  limit: z.int(),
  offset: z.int(),
  next_cursor: nullableString.meta({ description: 'Pass as ?cursor= for the next page; null on the last page.' }),
});
export type ListCommandsResponse = z.infer<typeof ListCommandsResponseSchema>;

/** POST /run-ffmpeg-command and /run-chained-ffmpeg-commands. */
export const SubmitResponseSchema = z.object({ command_id: commandId, vcpu_count: z.literal(VCPU_COUNTS) });
export type SubmitResponse = z.infer<typeof SubmitResponseSchema>;

/** POST /run-multiple-ffmpeg-commands: one id per command, in order. */
export const SubmitMultipleResponseSchema = z.object({ command_ids: z.array(commandId) });
export type SubmitMultipleResponse = z.infer<typeof SubmitMultipleResponseSchema>;

export const ValidationErrorEntrySchema = z.object({
  code: z.enum(['INVALID_REQUEST', 'VALIDATION_ERROR']),
  message: z.string(),
  path: z.array(z.union([z.string(), z.int()])),
  rule: z.string().optional().meta({ description: 'The policy rule a command broke, e.g. "option-not-allowed".' }),
});
export type ValidationErrorEntry = z.infer<typeof ValidationErrorEntrySchema>;

/** POST /validate: always 200 when the body is JSON; `valid` says which. */
export const ValidateResponseSchema = z.union([
  z.object({
    valid: z.literal(true),
    args: z.union([z.array(z.string()), z.array(z.array(z.string()))]).meta({
      description: 'The checked argv (without the program name); one argv per command for a chain.',
    }),
    compute: z.enum(COMPUTE),
  }),
  z.object({ valid: z.literal(false), errors: z.array(ValidationErrorEntrySchema) }),
]);
export type ValidateResponse = z.infer<typeof ValidateResponseSchema>;

/** GET /health. */
export const HealthResponseSchema = z.object({ status: z.literal('ok'), version: z.string() });
export type HealthResponse = z.infer<typeof HealthResponseSchema>;

const API_ERROR_CODES = Object.keys(API_ERROR) as [ApiErrorCode, ...ApiErrorCode[]];
const errorPath = z.array(z.union([z.string(), z.int()]));

/**
 * The error envelope (docs/API.md "Errors"): `error` is the service's own form; the top-level
 * `message` and `detail` are there because RenderIO and Rendi clients read `message` or the
 * FastAPI `detail`, and each must find something readable.
 */
export const ErrorEnvelopeSchema = z.object({
  error: z.object({
    code: z.enum(API_ERROR_CODES),
    message: z.string(),
    details: z
      .array(z.object({ path: errorPath, message: z.string() }))
      .optional()
      .meta({ description: 'One entry per failing field, with its path into the body (or query).' }),
  }),
  message: z.string().meta({ description: 'The same text as error.message.' }),
  detail: z.union([z.array(z.object({ loc: errorPath, msg: z.string(), type: z.string() })), z.string()]).meta({
    description:
      'FastAPI form: [{loc, msg, type}] when fields failed (loc starts with "body" or "query"), else the message.',
  }),
});
export type ErrorEnvelope = z.infer<typeof ErrorEnvelopeSchema>;
