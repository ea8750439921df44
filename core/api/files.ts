/**
 * Stored files (docs/API.md "Files"): the item kept per file, its API view, how a stored file is
 * referenced from `input_files`, and where its bytes live. Pure: the handlers, the ingest task
 * and local mode share it.
 *
 * Life of a file: the item is written PROCESSING with the object key its bytes will have; the
 * bytes land (API upload, presigned PUT, Rendi multipart, or the service's own fetch for
 * store-file); the ingest task probes them once and marks the item STORED with the probe's
 * meta, or deletes the object and marks it FAILED (not media, too large, unreachable URL).
 */
import { LIMITS, S3_KEYS } from '../constants.ts';
import type { FileType, OutputFileMeta } from '../types.ts';
import { isCommandId } from './ids.ts';

export type FileStatus = 'PROCESSING' | 'STORED' | 'FAILED';
export type FileStoreType = 'STORED_FILE' | 'UPLOAD';
/** How the bytes arrive. */
export type FileSource = 'upload' | 'upload_url' | 'multipart' | 'store_file';

/** Why a file FAILED (error_status). */
export const FILE_ERROR_STATUS = ['UNREACHABLE_INPUT_FILE', 'FILE_TOO_LARGE', 'NOT_MEDIA', 'INTERNAL_ERROR'] as const;
export type FileErrorStatus = (typeof FILE_ERROR_STATUS)[number];

/** The probe's facts, as stored on the item once STORED (OutputFileMeta minus URL and ids). */
export type FileProbe = Pick<
  OutputFileMeta,
  | 'size_mbytes'
  | 'duration'
  | 'file_type'
  | 'file_format'
  | 'codec'
  | 'pixel_format'
  | 'mime_type'
  | 'width'
  | 'height'
  | 'frame_rate'
  | 'bitrate_video_kb'
  | 'bitrate_audio_kb'
>;

/** The files table item (key: account_id + file_id; TTL expire_at). */
export interface FileItem {
  account_id: string;
  file_id: string;
  created_at: string;
  status: FileStatus;
  rendi_store_type: FileStoreType;
  source: FileSource;
  filename: string;
  /** Where the bytes are (or will be): S3_KEYS.storedFile(account, file, filename). */
  s3_key: string;
  original_file_url?: string;
  /** Rendi multipart: the S3 multipart upload, until complete-upload. */
  upload_id?: string;
  probe?: FileProbe;
  size_bytes?: number;
  error_status?: FileErrorStatus;
  error_message?: string;
  stored_at?: string;
  /** Epoch seconds; DynamoDB TTL (S3 lifecycle expires the object after the same days). */
  expire_at: number;
}

/** GET /files/{id}: OutputFileMeta plus original_file_url, created_at, expires_at, errors. */
export interface FileMeta extends Omit<OutputFileMeta, 'file_type' | 'rendi_store_type'> {
  rendi_store_type: FileStoreType;
  file_type: FileType | null;
  original_file_url: string | null;
  created_at: string;
  expires_at: string | null;
  error_status: FileErrorStatus | null;
  error_message: string | null;
}

/** Epoch seconds `days` after `now` (the TTL of commands and files). */
export function expiryEpoch(now: Date, days: number): number {
  return Math.floor(now.getTime() / 1000) + Math.round(days * 86_400);
}

/** ISO-8601 of a TTL epoch, or null. */
export function expiryIso(epoch: number | undefined): string | null {
  return typeof epoch === 'number' && Number.isFinite(epoch) ? new Date(epoch * 1000).toISOString() : null;
}

/** Retention days from a configured value (a positive number), else LIMITS.retentionDays. */
export function retentionDays(raw: string | number | undefined): number {
  const n = typeof raw === 'number' ? raw : Number(raw);
  return Number.isFinite(n) && n > 0 && n <= 3650 ? n : LIMITS.retentionDays;
}

export function newFileItem(args: {
  accountId: string;
  fileId: string;
  filename: string;
  source: FileSource;
  originalFileUrl?: string;
  now: Date;
  retentionDays: number;
}): FileItem {
  const item: FileItem = {
    account_id: args.accountId,
    file_id: args.fileId,
    created_at: args.now.toISOString(),
    status: 'PROCESSING',
    rendi_store_type: args.source === 'store_file' ? 'STORED_FILE' : 'UPLOAD',
    source: args.source,
    filename: args.filename,
    s3_key: S3_KEYS.storedFile(args.accountId, args.fileId, args.filename),
    expire_at: expiryEpoch(args.now, args.retentionDays),
  };
  if (args.originalFileUrl !== undefined) item.original_file_url = args.originalFileUrl;
  return item;
}

/** The API view of a file item; `storageUrl` only counts while the file is STORED. */
export function toFileMeta(item: FileItem, storageUrl: string | null): FileMeta {
  const p = item.probe;
  const stored = item.status === 'STORED';
  return {
    file_id: item.file_id,
    storage_url: stored ? storageUrl : null,
    status: item.status,
    rendi_store_type: item.rendi_store_type,
    is_deleted: false,
    filename: item.filename,
    size_mbytes:
      p?.size_mbytes ?? (item.size_bytes !== undefined ? Math.round((item.size_bytes / 1048576) * 1e6) / 1e6 : null),
    duration: p?.duration ?? null,
    file_type: p?.file_type ?? null,
    file_format: p?.file_format ?? null,
    codec: p?.codec ?? null,
    pixel_format: p?.pixel_format ?? null,
    mime_type: p?.mime_type ?? null,
    width: p?.width ?? null,
    height: p?.height ?? null,
    frame_rate: p?.frame_rate ?? null,
    bitrate_video_kb: p?.bitrate_video_kb ?? null,
    bitrate_audio_kb: p?.bitrate_audio_kb ?? null,
    file_count: 1,
    original_file_url: item.original_file_url ?? null,
    created_at: item.created_at,
    expires_at: expiryIso(item.expire_at),
    error_status: item.error_status ?? null,
    error_message: item.error_message ?? null,
  };
}

/** Whether a path parameter can be a file id (anything else is a 404 without a read). */
export const isFileId = isCommandId;

/** The parts of a stored file's object key, or null when the key is not one. */
export function storedFileKeyParts(key: string): { accountId: string; fileId: string; filename: string } | null {
  const m = /^files\/([^/]+)\/([0-9a-f-]{36})\/([^/]+)$/.exec(key);
  if (!m || !isFileId(m[2]!)) return null;
  return { accountId: m[1]!, fileId: m[2]!, filename: m[3]! };
}

/** Where the service's bucket is reachable, to recognise a stored file's storage_url. */
export interface BucketLocation {
  bucket: string;
  /** Host (with port) of a custom S3 endpoint (local mode: s3rver), if any. */
  endpointHost?: string;
}

/** A stored file named by an `input_files` value. */
export interface StoredFileRef {
  fileId: string;
  /** Present when the reference was a storage_url (it names the owning account). */
  accountId?: string;
}

/**
 * Whether an `input_files` value names a stored file: its file_id (a UUID), or a storage_url
 * the API handed out (a URL of this bucket under `files/`, path-style or virtual-hosted; its
 * signature and expiry do not matter, the worker reads the object itself). Any other URL is
 * an ordinary input (null).
 */
export function storedFileRef(value: string, where: BucketLocation): StoredFileRef | null {
  if (isFileId(value)) return { fileId: value };
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  let path: string;
  try {
    path = decodeURIComponent(url.pathname);
  } catch {
    return null;
  }
  const host = url.host.toLowerCase();
  const bucket = where.bucket.toLowerCase();
  let key: string | null = null;
  const isS3Host =
    /(^|\.)s3[.-]([a-z0-9-]+\.)*amazonaws\.com$/.test(url.hostname.toLowerCase()) ||
    host === where.endpointHost?.toLowerCase();
  if (url.hostname.toLowerCase().startsWith(`${bucket}.`) && /\.amazonaws\.com$/.test(url.hostname.toLowerCase())) {
    key = path.slice(1);
  } else if (isS3Host && path.startsWith(`/${where.bucket}/`)) {
    key = path.slice(where.bucket.length + 2);
  }
  if (key === null) return null;
  const parts = storedFileKeyParts(key);
  return parts ? { fileId: parts.fileId, accountId: parts.accountId } : null;
}

/**
 * Why a stored file cannot be used as an input now, or null when it can. `item` is the
 * caller's account's item for the reference (null: missing, deleted, or another account's).
 */
export function storedInputProblem(ref: StoredFileRef, callerAccountId: string, item: FileItem | null): string | null {
  if ((ref.accountId !== undefined && ref.accountId !== callerAccountId) || !item) {
    return `stored file ${ref.fileId} not found (deleted, expired or never stored)`;
  }
  if (item.status === 'PROCESSING')
    return `stored file ${ref.fileId} is not ready yet (status PROCESSING); poll GET /files/${ref.fileId} until STORED`;
  if (item.status === 'FAILED')
    return `stored file ${ref.fileId} failed (${item.error_status ?? 'FAILED'}) and cannot be used`;
  return null;
}

/** Input to the file ingest task (one execution per file and step). */
export type FileIngestInput =
  /** store-file: fetch `original_file_url` through the SSRF-safe fetcher into `s3_key`. */
  | { mode: 'fetch'; account_id: string; file_id: string }
  /** Bytes landed at `key` (an S3 ObjectCreated event): probe them once. */
  | { mode: 'probe'; key: string };

/** Name of the ingest execution: one per file and mode (StartExecution is then idempotent). */
export function ingestExecutionName(input: FileIngestInput): string {
  if (input.mode === 'fetch') return `fetch-${input.file_id}`;
  const parts = storedFileKeyParts(input.key);
  return `probe-${parts?.fileId ?? 'unknown'}`;
}

/** Content types a Rendi/RenderIO multipart part URL or upload accepts: anything. */
export function defaultFileName(name: string | undefined): string {
  const base = (name ?? '').split(/[\\/]/).pop()!.trim();
  const cleaned = base
    .replace(/[^A-Za-z0-9._ -]/g, '_')
    .replace(/^[.-]+/, '')
    .slice(0, 200);
  return cleaned.length > 0 ? cleaned : 'file';
}
