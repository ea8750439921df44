/**
 * The file ingest task (the worker image with FFAAS_TASK_KIND=ingest): what happens to a
 * stored file after its item is written, run once per file and step.
 *   fetch  (store-file): the URL through the SSRF-safe fetcher (address checks on every hop,
 *          byte cap) into the workspace, upload to the file's key, then probe it right here.
 *   probe  (bytes landed by an upload, a presigned PUT or a multipart upload: the bucket's
 *          ObjectCreated event): read the object, probe it once.
 * Probing is ffprobe, sandboxed like the command worker's; bytes that are not media (no audio
 * or video stream), or over LIMITS.maxStoredFileBytes, are deleted and the file marked FAILED:
 * nothing half-stored. Status only moves forward: every mark is conditional on PROCESSING.
 */
import { createWriteStream } from 'node:fs';
import { lstat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DeleteObjectCommand, GetObjectCommand, type S3Client, type GetObjectCommandOutput } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { LIMITS } from '../../core/constants.ts';
import { storedFileKeyParts, type FileIngestInput, type FileItem, type FileProbe } from '../../core/api/files.ts';
import { toOutputFileMeta, type ProbeJson } from '../../core/media/index.ts';
import { SafeFetchError, safeFetchToFile } from '../../core/net/index.ts';
import { FileRepository } from '../../store/file-repository.ts';
import type { Logger } from './log.ts';
import { probeFile } from './probe.ts';
import { uploadFile } from './upload.ts';
import { createWorkspace, removeWorkspace } from './workspace.ts';

export interface IngestDeps {
  ddb: DynamoDBDocumentClient;
  s3: S3Client;
  filesTable: string;
  bucket: string;
  workDir: string;
  allowPrivateUrls: boolean;
  ffprobePath: string;
  ffmpegUid?: number;
  ffmpegGid?: number;
  probeTimeoutMs: number;
  /** Byte cap of a stored file. @default LIMITS.maxStoredFileBytes */
  maxBytes?: number;
  /** Time for the whole fetch. @default LIMITS.downloadTimeoutSeconds */
  fetchTimeoutMs?: number;
  log: Logger;
  now?: () => Date;
}

export type IngestOutcome = 'STORED' | 'FAILED' | 'SKIPPED';

/** Parse FFAAS_INGEST_INPUT; null when it is not a FileIngestInput. */
export function parseIngestInput(raw: string | undefined): FileIngestInput | null {
  try {
    const v = JSON.parse(raw ?? '') as Record<string, unknown>;
    if (v?.mode === 'fetch' && typeof v.account_id === 'string' && typeof v.file_id === 'string') {
      return { mode: 'fetch', account_id: v.account_id, file_id: v.file_id };
    }
    if (v?.mode === 'probe' && typeof v.key === 'string') return { mode: 'probe', key: v.key };
  } catch {
    /* not JSON */
  }
  return null;
}

/** A probe whose file has at least one audio or video stream (images are one-frame video). */
export function isMediaProbe(probe: ProbeJson | null): probe is ProbeJson {
  return !!probe && (probe.streams ?? []).some((s) => s.codec_type === 'video' || s.codec_type === 'audio');
}

function probeFacts(meta: ReturnType<typeof toOutputFileMeta>): FileProbe {
  return {
    size_mbytes: meta.size_mbytes,
    duration: meta.duration,
    file_type: meta.file_type,
    file_format: meta.file_format,
    codec: meta.codec,
    pixel_format: meta.pixel_format,
    mime_type: meta.mime_type,
    width: meta.width,
    height: meta.height,
    frame_rate: meta.frame_rate,
    bitrate_video_kb: meta.bitrate_video_kb,
    bitrate_audio_kb: meta.bitrate_audio_kb,
  };
}

function decodeKey(key: string): string {
  try {
    return decodeURIComponent(key.replace(/\+/g, ' '));
  } catch {
    return key;
  }
}

export async function runIngest(deps: IngestDeps, input: FileIngestInput): Promise<IngestOutcome> {
  const files = new FileRepository(deps.ddb, deps.filesTable);
  const maxBytes = deps.maxBytes ?? LIMITS.maxStoredFileBytes;
  const now = deps.now ?? (() => new Date());

  let item: FileItem | null;
  if (input.mode === 'fetch') {
    item = await files.get(input.account_id, input.file_id);
    if (!item || item.status !== 'PROCESSING' || item.source !== 'store_file' || !item.original_file_url) {
      deps.log.info('ingest skipped', { mode: 'fetch', file_id: input.file_id, status: item?.status ?? 'missing' });
      return 'SKIPPED';
    }
  } else {
    // S3 notifications may carry the key URL-encoded (spaces as '+'): try it as is and decoded.
    const candidates = [...new Set([input.key, decodeKey(input.key)])];
    item = null;
    for (const key of candidates) {
      const parts = storedFileKeyParts(key);
      const found = parts ? await files.get(parts.accountId, parts.fileId) : null;
      if (found && found.s3_key === key) item = found;
    }
    if (!item) {
      // Bytes nobody owns (the file was deleted before they landed): nothing half-stored.
      for (const key of candidates)
        await deps.s3.send(new DeleteObjectCommand({ Bucket: deps.bucket, Key: key })).catch(() => undefined);
      deps.log.warn('ingest: object without a file removed', { key_prefix: input.key.split('/')[0] });
      return 'SKIPPED';
    }
    // store-file's own fetch probes what it stored; its upload event has nothing to add.
    if (item.status !== 'PROCESSING' || item.source === 'store_file') {
      deps.log.info('ingest skipped', {
        mode: 'probe',
        file_id: item.file_id,
        status: item.status,
        source: item.source,
      });
      return 'SKIPPED';
    }
  }

  const log = deps.log;
  const workspace = await createWorkspace({
    parent: deps.workDir,
    commandId: item.file_id,
    ffmpegGid: deps.ffmpegGid,
    log,
  });
  const local = 'file' + (path.extname(item.filename).match(/^\.[A-Za-z0-9]{1,8}$/)?.[0] ?? '');
  const dest = path.join(workspace, local);
  const fail = async (
    status: Parameters<FileRepository['markFailed']>[2],
    message: string,
    removeObject: boolean,
  ): Promise<IngestOutcome> => {
    if (removeObject)
      await deps.s3.send(new DeleteObjectCommand({ Bucket: deps.bucket, Key: item.s3_key })).catch(() => undefined);
    await files.markFailed(item.account_id, item.file_id, status, message);
    log.info('file failed', { file_id: item.file_id, error_status: status });
    return 'FAILED';
  };
  try {
    if (input.mode === 'fetch') {
      try {
        await safeFetchToFile(item.original_file_url!, dest, {
          allowPrivate: deps.allowPrivateUrls,
          maxBytes,
          timeoutMs: deps.fetchTimeoutMs ?? LIMITS.downloadTimeoutSeconds * 1000,
          maxRedirects: LIMITS.maxRedirects,
          retries: 2,
        });
      } catch (err) {
        if (!(err instanceof SafeFetchError)) throw err;
        return await fail(
          err.kind === 'INPUT_TOO_LARGE' ? 'FILE_TOO_LARGE' : 'UNREACHABLE_INPUT_FILE',
          `file_url: ${err.message}`,
          false,
        );
      }
    } else {
      let res: GetObjectCommandOutput;
      try {
        res = await deps.s3.send(new GetObjectCommand({ Bucket: deps.bucket, Key: item.s3_key }));
      } catch (err) {
        if ((err as Error)?.name === 'NoSuchKey') return 'SKIPPED';
        throw err;
      }
      if ((res.ContentLength ?? 0) > maxBytes) {
        (res.Body as Readable | undefined)?.destroy?.();
        return await fail(
          'FILE_TOO_LARGE',
          `the file is ${res.ContentLength} bytes, over the limit of ${maxBytes}`,
          true,
        );
      }
      await pipeline(res.Body as Readable, createWriteStream(dest, { mode: 0o644 }));
    }

    const size = (await lstat(dest)).size;
    const probe = await probeFile(local, {
      cwd: workspace,
      uid: deps.ffmpegUid,
      gid: deps.ffmpegGid,
      ffprobePath: deps.ffprobePath,
      timeoutMs: deps.probeTimeoutMs,
    });
    if (!isMediaProbe(probe)) {
      return await fail(
        'NOT_MEDIA',
        'the file is not audio, video or an image FFmpeg can read',
        input.mode === 'probe',
      );
    }
    const meta = toOutputFileMeta(probe, {
      fileId: item.file_id,
      fileName: item.filename,
      sizeBytes: size,
      storeType: item.rendi_store_type,
    });
    if (input.mode === 'fetch') {
      await uploadFile({
        s3: deps.s3,
        bucket: deps.bucket,
        key: item.s3_key,
        path: dest,
        contentType: meta.mime_type ?? 'application/octet-stream',
      });
    }
    const stored = await files.markStored(item.account_id, item.file_id, probeFacts(meta), size, now());
    if (!stored) {
      // Deleted (or decided) meanwhile: the bytes must not outlive the file.
      const current = await files.get(item.account_id, item.file_id);
      if (!current)
        await deps.s3.send(new DeleteObjectCommand({ Bucket: deps.bucket, Key: item.s3_key })).catch(() => undefined);
      return 'SKIPPED';
    }
    log.info('file stored', { file_id: item.file_id, bytes: size, file_type: meta.file_type });
    return 'STORED';
  } finally {
    await removeWorkspace(workspace, log);
  }
}
