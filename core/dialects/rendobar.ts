/**
 * Rendobar's dialect (docs/API.md "Dialects"): POST /jobs, GET /jobs/{id}, POST /ffmpeg/validate.
 * Pure: a request adapter that turns a job into the one command model (input_files /
 * output_files / a command with {{alias}} placeholders, checked by the one command checker),
 * and a response shaper that turns a command item into Rendobar's job object.
 *
 * The adapter, argument by argument (classifyArgs reads positions as FFmpeg does):
 * - `-i https://…` → a declared input `in_url_N` (downloaded by the service, same URL policy);
 * - `-i clip.mp4` where `clip.mp4` is a key of `inputs` → a declared input named after it,
 *   staged in the workspace under its exact name (`input_names`);
 * - a bare file name a filter reads (`subtitles=subs.srt`, `fontfile=font.ttf`) that is a key
 *   of `inputs` → the same placeholder inside the filtergraph;
 * - each output file name (`output.mp4`, `master.m3u8`) → a declared output `out_…`;
 * - file names given to output options (`-hls_segment_filename seg_%03d.ts`) stay as written:
 *   the checker allows them in the workspace and the worker collects them.
 */
import * as z from 'zod';
import { ERROR_STATUS, type Compute, type ErrorStatus } from '../constants.ts';
import type { CommandItem, StoredOutput } from '../types.ts';
import { classifyArgs } from '../command/classify.ts';
import { pathProblem } from '../command/paths.ts';
import { tokenize } from '../command/tokenize.ts';
import { quoteArgv } from '../command/tokenize.ts';
import { numeric, isHttpUrl } from '../api/schemas.ts';
import { storedOutputs } from '../api/poll.ts';
import type { ErrorDetail } from '../api/errors.ts';

/** Largest `{content}` input (Rendobar: ≤ 64 KB). */
export const MAX_INLINE_CONTENT_BYTES = 64 * 1024;
export const RENDOBAR_TIMEOUT = { min: 1, max: 900, default: 120 } as const;
/** Job ids are the command id with Rendobar's `job_` prefix; GET accepts either. */
export const JOB_ID_PREFIX = 'job_';

const S400 = { status: 400 as const };
const S422 = { status: 422 as const };

const InputSourceSchema = z.union([
  z.string().refine(isHttpUrl, { message: 'must be an http(s) URL', params: S422 }),
  z.object({ url: z.string().refine(isHttpUrl, { message: 'must be an http(s) URL', params: S422 }) }).strict(),
  z
    .object({ content: z.string() })
    .strict()
    .refine((v) => Buffer.byteLength(v.content, 'utf8') <= MAX_INLINE_CONTENT_BYTES, {
      message: `content is over ${MAX_INLINE_CONTENT_BYTES} bytes`,
      params: S422,
    }),
]);

/** A key of `inputs`: a plain file name staged under that name. */
const InputNameSchema = z
  .string()
  .refine(
    (n) =>
      n.length > 0 &&
      n.length <= 200 &&
      !/[/\\:\u0000-\u001f\u007f]/.test(n) &&
      !n.startsWith('-') &&
      !n.startsWith('.'),
    {
      message: "input names must be plain file names (no '/', '\\', ':', no leading '-' or '.')",
      params: S400,
    },
  );

export const RendobarJobSchema = z.object({
  type: z.literal('ffmpeg', { error: 'type must be "ffmpeg"' }),
  inputs: z.record(InputNameSchema, InputSourceSchema).default({}),
  params: z.object({
    command: z
      .string()
      .max(16 * 1024)
      .refine((s) => s.trim().length > 0, { message: 'must not be empty', params: S400 }),
    outputFormat: z
      .string()
      .regex(/^[a-z0-9_]{1,32}$/, 'outputFormat must be a format name such as "mp4"')
      .optional(),
    timeout: numeric(z.number().int().min(RENDOBAR_TIMEOUT.min).max(RENDOBAR_TIMEOUT.max)).default(
      RENDOBAR_TIMEOUT.default,
    ),
    compute: z.enum(['auto', 'cpu', 'gpu']).default('auto'),
  }),
});
export type RendobarJobRequest = z.infer<typeof RendobarJobSchema>;

export const RendobarValidateSchema = z.object({
  command: z
    .string()
    .max(16 * 1024)
    .refine((s) => s.trim().length > 0, { message: 'must not be empty', params: S400 }),
  inputs: z.record(InputNameSchema, InputSourceSchema).optional(),
  outputFormat: z
    .string()
    .regex(/^[a-z0-9_]{1,32}$/)
    .optional(),
});

/** What the adapter hands to the one submit flow. */
export interface AdaptedCommand {
  input_files: Record<string, string>;
  output_files: Record<string, string>;
  ffmpeg_command: string;
  max_command_run_seconds: number;
  compute: 'auto' | Compute;
  /**
   * Inline `{content}` inputs by alias, with the file name they are staged under: the service
   * stores each in the bucket and the worker reads it like a stored file (never downloaded).
   */
  inline_inputs: Record<string, { name: string; content: string }>;
  /** alias → the `inputs` key it is staged under (its exact file name in the workspace). */
  input_names: Record<string, string>;
  /** Aliases whose URL is a stand-in (inline content, validate's bare names): never fetched or URL-checked. */
  stand_ins: string[];
  /** The user's arguments as parsed (validate's `args`). */
  args: string[];
  inferredOutputFormat: string | null;
}

export type AdaptResult = { ok: true; command: AdaptedCommand } | { ok: false; details: ErrorDetail[] };

function aliasPart(name: string): string {
  return name.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 60) || 'file';
}

function unique(base: string, taken: Set<string>): string {
  let alias = base;
  for (let n = 2; taken.has(alias); n++) alias = `${base}_${n}`;
  taken.add(alias);
  return alias;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function extensionOf(name: string): string | null {
  const dot = name.lastIndexOf('.');
  return dot > 0 && dot < name.length - 1 ? name.slice(dot + 1).toLowerCase() : null;
}

/** Options whose value is a filtergraph, where a filter may read a staged file by name. */
const FILTERGRAPH_OPTIONS = new Set(['vf', 'af', 'filter', 'filter_complex', 'lavfi']);

export interface AdaptOptions {
  /**
   * Validate only: a bare input name that is neither a URL nor a key of `inputs` is taken as
   * a file the job would stage (Rendobar's validate takes bare names), with a stand-in URL.
   */
  lenientInputs?: boolean;
}

/**
 * A Rendobar job (already schema-checked) → the one command model. Problems are returned
 * with paths into the Rendobar body; policy problems are left to the command checker.
 */
export function adaptRendobarJob(
  job: {
    inputs: RendobarJobRequest['inputs'];
    params: Pick<RendobarJobRequest['params'], 'command' | 'outputFormat'> & Partial<RendobarJobRequest['params']>;
  },
  options: AdaptOptions = {},
): AdaptResult {
  const details: ErrorDetail[] = [];
  const cmdPath = ['params', 'command'];
  const tk = tokenize(job.params.command);
  if (!tk.ok) return { ok: false, details: [{ path: cmdPath, message: tk.error.message, type: tk.error.rule }] };
  const tokens = [...tk.tokens];
  if (tokens[0] === 'ffmpeg') tokens.shift();
  const args = [...tokens];
  if (tokens.length === 0)
    return { ok: false, details: [{ path: cmdPath, message: 'the command has no arguments', type: 'empty-command' }] };

  const taken = new Set<string>();
  const input_files: Record<string, string> = {};
  const inline_inputs: AdaptedCommand['inline_inputs'] = {};
  const output_files: Record<string, string> = {};
  const stand_ins: string[] = [];
  const input_names: Record<string, string> = {};
  /** inputs key → alias, made on first use. */
  const staged = new Map<string, string>();
  const stage = (name: string): string | null => {
    const existing = staged.get(name);
    if (existing) return existing;
    const source = Object.hasOwn(job.inputs, name) ? job.inputs[name] : undefined;
    if (source === undefined && !options.lenientInputs) return null;
    const alias = unique(`in_${aliasPart(name)}`, taken);
    staged.set(name, alias);
    // Its exact name when that is a plain workspace name (letters, digits, . _ -); others
    // (spaces, non-ASCII) keep the alias's name: the command reads them through the placeholder.
    if (pathProblem(name) === null) input_names[alias] = name;
    if (source === undefined) {
      input_files[alias] = `https://validate.invalid/${encodeURIComponent(name)}`;
      stand_ins.push(alias);
    } else if (typeof source === 'string') input_files[alias] = source;
    else if ('url' in source) input_files[alias] = source.url;
    else {
      inline_inputs[alias] = { name, content: source.content };
      // A stand-in URL for the checker; the service stages the content instead of fetching it.
      input_files[alias] = `https://inline.invalid/${encodeURIComponent(name)}`;
      stand_ins.push(alias);
    }
    return alias;
  };

  const cls = classifyArgs(tokens);
  let urlInputs = 0;
  for (const input of cls.inputs) {
    const value = input.file;
    if (/^[a-z][a-z0-9+.-]*:/i.test(value) && !isHttpUrl(value)) continue; // the checker refuses protocols with its reason
    if (isHttpUrl(value)) {
      const alias = unique(`in_url_${++urlInputs}`, taken);
      input_files[alias] = value;
      tokens[input.index] = `{{${alias}}}`;
      continue;
    }
    const alias = stage(value);
    if (alias === null) {
      details.push({
        path: cmdPath,
        message: `input "${value}" is neither an http(s) URL nor a key of inputs: put the URL in the -i position or add "${value}" to inputs`,
        type: 'input-not-staged',
      });
      continue;
    }
    tokens[input.index] = `{{${alias}}}`;
  }

  // Files filters read by name: a key of inputs written as a whole filter option value.
  const names = Object.keys(job.inputs).sort((a, b) => b.length - a.length);
  for (const use of [
    ...cls.globals,
    ...cls.inputs.flatMap((f) => f.options),
    ...cls.outputs.flatMap((f) => f.options),
  ]) {
    if (!FILTERGRAPH_OPTIONS.has(use.name) || use.value === null) continue;
    let graph = use.value;
    for (const name of names) {
      const re = new RegExp(`(?<=[=:'])${escapeRegExp(name)}(?=[:,;'\\[]|$)`, 'g');
      if (!re.test(graph)) continue;
      const alias = stage(name)!;
      graph = graph.replace(re, `{{${alias}}}`);
    }
    tokens[use.index + 1] = graph;
  }

  let lastOutputFormat: string | null = null;
  let lastOutputName: string | null = null;
  for (const output of cls.outputs) {
    const name = output.file;
    const alias = unique(`out_${aliasPart(name)}`, taken);
    output_files[alias] = name;
    tokens[output.index] = `{{${alias}}}`;
    lastOutputName = name;
    lastOutputFormat = output.options.find((o) => o.name === 'f')?.value ?? null;
  }
  if (job.params.outputFormat && cls.outputs.length > 0 && lastOutputFormat === null) {
    const last = cls.outputs.at(-1)!;
    tokens.splice(last.index, 0, '-f', job.params.outputFormat);
  }
  if (details.length > 0) return { ok: false, details };
  const inferredOutputFormat =
    job.params.outputFormat ?? lastOutputFormat ?? (lastOutputName ? extensionOf(lastOutputName) : null);
  return {
    ok: true,
    command: {
      input_files,
      output_files,
      ffmpeg_command: quoteArgv(tokens),
      max_command_run_seconds: job.params.timeout ?? RENDOBAR_TIMEOUT.default,
      compute: job.params.compute ?? 'auto',
      inline_inputs,
      input_names,
      stand_ins,
      args,
      inferredOutputFormat,
    },
  };
}

/** Error paths of the command model (ffmpeg_command, input_files.x) read as Rendobar's. */
export function rendobarPath(path: (string | number)[]): (string | number)[] {
  if (path[0] === 'ffmpeg_command' || path[0] === 'ffmpeg_commands') return ['params', 'command'];
  if (path[0] === 'max_command_run_seconds') return ['params', 'timeout'];
  if (path[0] === 'compute') return ['params', 'compute'];
  return path;
}

// --- response shaper -----------------------------------------------------------------------------

export const RENDOBAR_STATUSES = ['waiting', 'running', 'complete', 'failed', 'cancelled'] as const;
export type RendobarStatus = (typeof RENDOBAR_STATUSES)[number];
export const RENDOBAR_FILE_TYPES = ['video', 'image', 'audio', 'captions', 'playlist', 'data', 'other'] as const;
export type RendobarFileType = (typeof RENDOBAR_FILE_TYPES)[number];

export const RendobarFileSchema = z.object({
  url: z.string().meta({ description: '/v/{id}/{token}/{path}: ends in the file name, no query string' }),
  path: z.string(),
  type: z.enum(RENDOBAR_FILE_TYPES).meta({ description: 'An open enum: tolerate values you do not know.' }),
  size: z.int().nullable().meta({ description: 'Bytes (null only when the size could not be read).' }),
  meta: z
    .object({
      format: z.string().nullable(),
      width: z.int().nullable(),
      height: z.int().nullable(),
      durationMs: z.int().nullable(),
    })
    .optional(),
});
export type RendobarFile = z.infer<typeof RendobarFileSchema>;

export const RendobarOutputSchema = z.object({
  data: z.null(),
  file: RendobarFileSchema.nullable().meta({
    description: 'One plain output, or the manifest of one playlist output; null for a set.',
  }),
  files: z.array(RendobarFileSchema),
  fileCount: z.int(),
  expiresAt: z.int().optional().meta({ description: 'Unix ms when the URLs expire; present when files is non-empty.' }),
});
export type RendobarOutput = z.infer<typeof RendobarOutputSchema>;

export const RendobarErrorSchema = z.object({
  code: z.string(),
  message: z.string(),
  detail: z.string().nullable().meta({ description: "For PROVIDER_ERROR the last ~2 KB of FFmpeg's stderr." }),
  retryable: z.boolean().meta({ description: 'True only for faults of the service.' }),
});
export type RendobarError = z.infer<typeof RendobarErrorSchema>;

export const RendobarJobSchemaOut = z.object({
  id: z.string().meta({ description: 'job_<command id>' }),
  type: z.literal('ffmpeg'),
  status: z.enum(RENDOBAR_STATUSES),
  createdAt: z.int(),
  startedAt: z.int().nullable(),
  completedAt: z.int().nullable(),
  progress: z.number().nullable(),
  output: RendobarOutputSchema.optional(),
  error: RendobarErrorSchema.optional(),
});
export type RendobarJob = z.infer<typeof RendobarJobSchemaOut>;

/** GET /jobs/{id} and POST /jobs. */
export const RendobarJobResponseSchema = z.object({ data: RendobarJobSchemaOut });

/** POST /ffmpeg/validate. */
export const RendobarValidateResponseSchema = z.object({
  data: z.union([
    z.object({ valid: z.literal(true), args: z.array(z.string()), inferredOutputFormat: z.string().nullable() }),
    z.object({ valid: z.literal(false), error: z.string() }),
  ]),
});

export function jobIdOf(commandId: string): string {
  return `${JOB_ID_PREFIX}${commandId}`;
}

/** The command id a job id names (`job_<uuid>` or the bare uuid). */
export function commandIdOfJob(jobId: string): string {
  return jobId.startsWith(JOB_ID_PREFIX) ? jobId.slice(JOB_ID_PREFIX.length) : jobId;
}

// --- uploads (assets) ----------------------------------------------------------------------------

/** Asset ids are a stored file's id with Rendobar's `asset_` prefix. */
export const ASSET_ID_PREFIX = 'asset_';
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

export function assetIdOf(fileId: string): string {
  return `${ASSET_ID_PREFIX}${fileId}`;
}

/** The file id an asset id names (`asset_<uuid>` or the bare uuid). */
export function fileIdOfAsset(assetId: string): string {
  return assetId.startsWith(ASSET_ID_PREFIX) ? assetId.slice(ASSET_ID_PREFIX.length) : assetId;
}

/** An asset's content URL: usable as an input (by its own account) and fetchable with the key. */
export function assetContentUrl(base: string, fileId: string): string {
  return `${base}/assets/${assetIdOf(fileId)}/content`;
}

/**
 * The stored file an input URL names when it is one of this service's asset content URLs
 * (`<base>/assets/asset_<id>/content`), else null. The worker then reads the object from the
 * bucket: the URL is never fetched, and another account's asset is refused like its file id.
 */
export function assetContentRef(value: string, base: string): { fileId: string } | null {
  if (!value.startsWith(`${base}/assets/`)) return null;
  const m = new RegExp(`^/assets/(?:${ASSET_ID_PREFIX})?(${UUID})/content$`).exec(value.slice(base.length));
  return m ? { fileId: m[1]! } : null;
}

export const RENDOBAR_ASSET_STATUSES = ['processing', 'ready', 'failed'] as const;

export const RendobarAssetSchema = z.object({
  id: z.string().meta({ description: 'asset_<file id>' }),
  url: z.string().meta({ description: 'Content URL: pass it as an input of a job of the same account.' }),
  filename: z.string(),
  type: z.enum(RENDOBAR_FILE_TYPES),
  size: z.int().nullable(),
  status: z.enum(RENDOBAR_ASSET_STATUSES).meta({ description: 'Usable as an input once ready.' }),
  createdAt: z.int(),
  expiresAt: z.int().nullable(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
});
export type RendobarAsset = z.infer<typeof RendobarAssetSchema>;
export const RendobarAssetResponseSchema = z.object({ data: RendobarAssetSchema });

/** A stored file as Rendobar's asset. */
export function toRendobarAsset(
  item: {
    file_id: string;
    filename: string;
    status: 'PROCESSING' | 'STORED' | 'FAILED';
    created_at: string;
    expire_at?: number;
    size_bytes?: number;
    error_status?: string;
    error_message?: string;
  },
  base: string,
): RendobarAsset {
  const status = item.status === 'STORED' ? 'ready' : item.status === 'FAILED' ? 'failed' : 'processing';
  return {
    id: assetIdOf(item.file_id),
    url: assetContentUrl(base, item.file_id),
    filename: item.filename,
    type: rendobarFileType(item.filename),
    size: item.size_bytes ?? null,
    status,
    createdAt: ms(item.created_at) ?? 0,
    expiresAt: typeof item.expire_at === 'number' ? item.expire_at * 1000 : null,
    ...(status === 'failed'
      ? { error: { code: item.error_status ?? 'INTERNAL_ERROR', message: item.error_message ?? 'the upload failed' } }
      : {}),
  };
}

export function rendobarStatus(item: Pick<CommandItem, 'status' | 'error_status'>): RendobarStatus {
  switch (item.status) {
    case 'QUEUED':
      return 'waiting';
    case 'PROCESSING':
      return 'running';
    case 'SUCCESS':
      return 'complete';
    default:
      return (item.error_status as string | undefined) === 'CANCELLED' ? 'cancelled' : 'failed';
  }
}

const EXT_TYPES: [RendobarFileType, string[]][] = [
  ['playlist', ['m3u8', 'mpd']],
  ['video', ['mp4', 'm4v', 'mov', 'mkv', 'webm', 'ts', 'm4s', 'avi', 'flv', 'mpg', 'mpeg', 'ogv', '3gp', 'mxf', 'gif']],
  ['audio', ['mp3', 'm4a', 'aac', 'wav', 'flac', 'ogg', 'oga', 'opus', 'ac3', 'eac3', 'weba', 'aiff', 'wma', 'mka']],
  ['image', ['png', 'jpg', 'jpeg', 'webp', 'bmp', 'tif', 'tiff', 'avif', 'heic']],
  ['captions', ['srt', 'vtt', 'ass', 'ssa', 'ttml', 'sub', 'sbv', 'scc']],
  ['data', ['json', 'txt', 'csv', 'xml', 'log', 'ffmeta']],
];

/** Rendobar's file type by file name (an open enum; unknown names are "other"). */
export function rendobarFileType(name: string): RendobarFileType {
  const ext = extensionOf(name);
  if (ext === null) return 'other';
  for (const [type, exts] of EXT_TYPES) if (exts.includes(ext)) return type;
  return 'other';
}

/**
 * A stored output's type: by name for playlists, captions and data; for media the probe's
 * reading wins (an audio-only .mp4 is audio, a .mkv of one picture is still video by probe).
 */
function mediaType(byName: RendobarFileType, probed: string | null | undefined): RendobarFileType {
  if (byName === 'playlist' || byName === 'captions' || byName === 'data') return byName;
  return probed === 'video' || probed === 'audio' || probed === 'image' ? probed : byName;
}

/** Service faults a client may retry as they are; the rest need a changed request. */
export const RETRYABLE_ERRORS: ReadonlySet<string> = new Set([
  'WORKER_LOST',
  'NO_CAPACITY',
  'INTERNAL_ERROR',
  'OUTPUT_UPLOAD_FAILED',
]);

/** ffaas error_status → Rendobar's error code (its catalogue where it has one). */
export function rendobarErrorCode(status: string): string {
  if (status === 'FFMPEG_FAILED') return 'PROVIDER_ERROR';
  if (status === 'TIMEOUT') return 'PROVIDER_TIMEOUT';
  return status;
}

/**
 * The failed job's error: message is the first line of error_message, detail the rest (for
 * FFMPEG_FAILED the last ~2 KB of FFmpeg's stderr).
 */
export function rendobarError(item: Pick<CommandItem, 'error_status' | 'error_message'>): RendobarError {
  const status = item.error_status ?? 'INTERNAL_ERROR';
  const text = item.error_message ?? status;
  const nl = text.indexOf('\n');
  const message = (nl < 0 ? text : text.slice(0, nl)).replace(/:\s*$/, '');
  const detail = nl < 0 ? null : text.slice(nl + 1);
  return { code: rendobarErrorCode(status), message, detail, retryable: RETRYABLE_ERRORS.has(status) };
}

function baseName(key: string): string {
  return key.slice(key.lastIndexOf('/') + 1);
}

/**
 * Every stored file of the item as Rendobar's files, with `file` chosen as its page says: one
 * plain output → it; one playlist output → its manifest; a set (several outputs, segments of a
 * non-playlist output) → null.
 */
export function rendobarOutput(
  item: CommandItem,
  urlOf: (name: string) => string,
  expiresAtSeconds: number,
  /**
   * Bytes of each stored object by file name (a listing of the command's prefix): the item
   * keeps one total per playlist or sequence, so its files' own sizes come from here.
   */
  sizes?: ReadonlyMap<string, number>,
): RendobarOutput {
  const outputs = Object.values(storedOutputs(item)).filter(
    (o: StoredOutput) => o.status === 'STORED' && !o.is_deleted && o.s3_key,
  );
  const files: RendobarFile[] = [];
  const heads: { file: RendobarFile; playlist: boolean; companions: number }[] = [];
  for (const out of outputs) {
    const name = baseName(out.s3_key);
    const companions = out.companion_names ?? [];
    const type = rendobarFileType(name);
    const head: RendobarFile = {
      url: urlOf(name),
      path: name,
      type: mediaType(type, out.file_type),
      size:
        sizes?.get(name) ??
        (companions.length === 0 && out.size_mbytes !== null ? Math.round(out.size_mbytes * 1024 * 1024) : null),
      ...(companions.length === 0 && type !== 'playlist'
        ? {
            meta: {
              format: out.file_format ?? null,
              width: out.width ?? null,
              height: out.height ?? null,
              durationMs: typeof out.duration === 'number' ? Math.round(out.duration * 1000) : null,
            },
          }
        : {}),
    };
    files.push(head);
    heads.push({ file: head, playlist: type === 'playlist', companions: companions.length });
    for (const c of companions)
      files.push({ url: urlOf(c), path: c, type: rendobarFileType(c), size: sizes?.get(c) ?? null });
  }
  const file = heads.length === 1 && (heads[0]!.playlist || heads[0]!.companions === 0) ? heads[0]!.file : null;
  return {
    data: null,
    file,
    files,
    fileCount: files.length,
    ...(files.length > 0 ? { expiresAt: expiresAtSeconds * 1000 } : {}),
  };
}

function ms(iso: string | undefined): number | null {
  if (!iso) return null;
  const t = Date.parse(iso);
  return Number.isFinite(t) ? t : null;
}

/** The job object of GET /jobs/{id} (inside `{data: …}`). */
export function toRendobarJob(
  item: CommandItem,
  downloads?: { urlOf: (name: string) => string; expiresAt: number; sizes?: ReadonlyMap<string, number> },
): RendobarJob {
  const status = rendobarStatus(item);
  return {
    id: jobIdOf(item.command_id),
    type: 'ffmpeg',
    status,
    createdAt: ms(item.created_at) ?? 0,
    startedAt: ms(item.started_at),
    completedAt: ms(item.finished_at),
    progress: item.progress?.percent ?? (status === 'complete' ? 100 : null),
    ...(status === 'complete' && downloads
      ? { output: rendobarOutput(item, downloads.urlOf, downloads.expiresAt, downloads.sizes) }
      : {}),
    ...(status === 'failed' || status === 'cancelled' ? { error: rendobarError(item) } : {}),
  };
}

/** Kept in step with ERROR_STATUS: every ffaas failure has a Rendobar reading. */
export const RENDOBAR_ERROR_CODES: Record<ErrorStatus, string> = Object.fromEntries(
  ERROR_STATUS.map((s) => [s, rendobarErrorCode(s)]),
) as Record<ErrorStatus, string>;
