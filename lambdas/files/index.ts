/**
 * The JSON routes of stored files (docs/API.md "Files"), one function:
 *   POST   /files/upload-url                 {filename} → {file_id, upload_url, expires_at}
 *   POST   /files/init-upload                {filename, size_bytes?, parts?} → {file_id, upload_id, part_size_bytes, parts: [{part_number, upload_url}], ...}
 *   POST   /files/{file_id}/complete-upload  {parts?: [{part_number, etag}]} → file meta
 *   POST   /files/store-file                 {file_url} → {file_id} (fetched by the ingest task)
 *   GET    /files?limit=&offset=             → {files, limit, offset} (/v1: a bare array, as Rendi)
 *   GET    /files/{file_id}                  → file meta
 *   DELETE /files/{file_id}                  → {success, file_id, is_deleted}
 * Bytes that land (a presigned PUT, a completed multipart upload) are probed by the ingest
 * task from the bucket's ObjectCreated event; store-file starts the ingest's fetch itself.
 */
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { LIMITS } from '../../core/constants.ts';
import { ApiError, parseOrThrow } from '../../core/api/errors.ts';
import { defaultFileName, isFileId, newFileItem, toFileMeta, type FileItem } from '../../core/api/files.ts';
import { newCommandId } from '../../core/api/ids.ts';
import {
  CompleteUploadSchema,
  InitUploadSchema,
  ListFilesQuerySchema,
  StoreFileSchema,
  UploadUrlSchema,
} from '../../core/api/schemas.ts';
import { isRendiPath, routePath } from '../../core/routes.ts';
import { s3Client } from '../../store/clients.ts';
import { config } from '../common/config.ts';
import { urlRefusal } from '../common/check.ts';
import { fileIngestStarter, fileRepository } from '../common/deps.ts';
import { required } from '../common/config.ts';
import { accountIdOf, httpHandler, json, type ApiEvent, type ApiResult } from '../common/http.ts';
import { logger } from '../common/logger.ts';
import { deleteFileBytes, fileMetaWithUrl } from '../common/stored-files.ts';

const notFound = () => new ApiError('NOT_FOUND', 'file not found');

function newItem(accountId: string, filename: string, source: FileItem['source'], originalFileUrl?: string): FileItem {
  return newFileItem({
    accountId,
    fileId: newCommandId(),
    filename,
    source,
    originalFileUrl,
    now: new Date(),
    retentionDays: config().retentionDays,
  });
}

function expiresAt(): string {
  return new Date(Date.now() + config().signedUrlSeconds * 1000).toISOString();
}

async function fileOf(accountId: string, event: ApiEvent): Promise<FileItem> {
  const fileId = event.pathParameters?.file_id ?? '';
  if (!isFileId(fileId)) throw notFound();
  logger.appendKeys({ file_id: fileId });
  const item = await fileRepository().get(accountId, fileId);
  if (!item) throw notFound();
  return item;
}

async function uploadUrl(accountId: string, event: ApiEvent): Promise<ApiResult> {
  const body = parseOrThrow(UploadUrlSchema, event.jsonBody);
  const item = newItem(accountId, body.filename, 'upload_url');
  await fileRepository().create(item);
  const upload_url = await getSignedUrl(
    s3Client(),
    new PutObjectCommand({ Bucket: required('bucket'), Key: item.s3_key }),
    {
      expiresIn: config().signedUrlSeconds,
    },
  );
  return json(200, { file_id: item.file_id, upload_url, expires_at: expiresAt(), status: item.status });
}

/** Rendi's multipart flow, step 1: an S3 multipart upload and a presigned URL per part. */
async function initUpload(accountId: string, event: ApiEvent): Promise<ApiResult> {
  const body = parseOrThrow(InitUploadSchema, event.jsonBody);
  const size = body.size_bytes ?? body.file_size;
  // Every part but the last must be at least 5 MiB (S3); parts of LIMITS.multipartPartBytes unless told.
  let count = body.parts ?? (size !== undefined ? Math.max(1, Math.ceil(size / LIMITS.multipartPartBytes)) : 1);
  if (size !== undefined && count > 1 && Math.ceil(size / count) < 5 * 1024 * 1024)
    count = Math.max(1, Math.floor(size / (5 * 1024 * 1024)));
  if (count > LIMITS.maxMultipartParts) {
    throw new ApiError('VALIDATION_ERROR', `at most ${LIMITS.maxMultipartParts} parts`, [
      { path: ['parts'], message: `at most ${LIMITS.maxMultipartParts}` },
    ]);
  }
  const item = newItem(accountId, body.filename, 'multipart');
  const created = await s3Client().send(
    new CreateMultipartUploadCommand({ Bucket: required('bucket'), Key: item.s3_key }),
  );
  item.upload_id = created.UploadId!;
  await fileRepository().create(item);
  const parts = await Promise.all(
    Array.from({ length: count }, async (_, i) => ({
      part_number: i + 1,
      upload_url: await getSignedUrl(
        s3Client(),
        new UploadPartCommand({
          Bucket: required('bucket'),
          Key: item.s3_key,
          UploadId: item.upload_id,
          PartNumber: i + 1,
        }),
        { expiresIn: config().signedUrlSeconds },
      ),
    })),
  );
  return json(200, {
    file_id: item.file_id,
    upload_id: item.upload_id,
    status: item.status,
    part_size_bytes: size !== undefined ? Math.ceil(size / count) : null,
    parts,
    upload_urls: parts.map((p) => p.upload_url),
    expires_at: expiresAt(),
  });
}

/** Step 3: assemble the parts; the ObjectCreated event then starts the probe. */
async function completeUpload(accountId: string, event: ApiEvent): Promise<ApiResult> {
  const body = parseOrThrow(CompleteUploadSchema, event.jsonBody);
  const item = await fileOf(accountId, event);
  if (item.source !== 'multipart' || !item.upload_id || item.status !== 'PROCESSING') {
    throw new ApiError('CONFLICT', `file ${item.file_id} has no multipart upload to complete (status ${item.status})`);
  }
  let parts = body?.parts?.map((p) => ({ PartNumber: p.part_number, ETag: p.etag }));
  if (!parts || parts.length === 0) {
    const listed = await s3Client()
      .send(new ListPartsCommand({ Bucket: required('bucket'), Key: item.s3_key, UploadId: item.upload_id }))
      .catch(() => null);
    parts = (listed?.Parts ?? []).map((p) => ({ PartNumber: p.PartNumber!, ETag: p.ETag! }));
    if (parts.length === 0) {
      throw new ApiError(
        'INVALID_REQUEST',
        'no uploaded parts found: PUT the parts first, or send {"parts": [{"part_number", "etag"}]}',
        [{ path: ['parts'], message: 'required when the parts cannot be listed' }],
      );
    }
  }
  parts.sort((a, b) => a.PartNumber - b.PartNumber);
  try {
    await s3Client().send(
      new CompleteMultipartUploadCommand({
        Bucket: required('bucket'),
        Key: item.s3_key,
        UploadId: item.upload_id,
        MultipartUpload: { Parts: parts },
      }),
    );
  } catch (err) {
    const name = (err as Error)?.name ?? '';
    if (['InvalidPart', 'InvalidPartOrder', 'EntityTooSmall', 'NoSuchUpload'].includes(name)) {
      throw new ApiError('INVALID_REQUEST', `the upload could not be completed (${name})`, [
        { path: ['parts'], message: name },
      ]);
    }
    throw err;
  }
  logger.info('multipart upload completed', { file_id: item.file_id, parts: parts.length });
  return json(200, toFileMeta(item, null));
}

async function storeFile(accountId: string, event: ApiEvent): Promise<ApiResult> {
  const body = parseOrThrow(StoreFileSchema, event.jsonBody);
  const refusal = await urlRefusal(body.file_url);
  if (refusal) {
    throw new ApiError('VALIDATION_ERROR', `file_url: URL refused: ${refusal}`, [
      { path: ['file_url'], message: `URL refused: ${refusal}`, type: 'url_not_allowed' },
    ]);
  }
  let name = 'file';
  try {
    name = decodeURIComponent(new URL(body.file_url).pathname.split('/').pop() ?? '') || 'file';
  } catch {
    /* keep the default */
  }
  const item = newItem(accountId, defaultFileName(name), 'store_file', body.file_url);
  await fileRepository().create(item);
  try {
    await fileIngestStarter().start({ mode: 'fetch', account_id: accountId, file_id: item.file_id });
  } catch (err) {
    // Not left PROCESSING forever: the caller sees a 500 and the file reads FAILED.
    await fileRepository()
      .markFailed(accountId, item.file_id, 'INTERNAL_ERROR', 'the fetch could not be started')
      .catch(() => undefined);
    throw err;
  }
  logger.info('store-file accepted', { file_id: item.file_id });
  return json(200, { file_id: item.file_id, status: item.status });
}

async function listFiles(accountId: string, event: ApiEvent): Promise<ApiResult> {
  const raw = Object.fromEntries(
    Object.entries(event.queryStringParameters ?? {}).filter(([, v]) => v !== undefined && v !== ''),
  );
  const query = parseOrThrow(ListFilesQuerySchema, raw);
  const items = await fileRepository().list(accountId, query);
  const files = await Promise.all(items.map(fileMetaWithUrl));
  return json(200, isRendiPath(event.resource) ? files : { files, limit: query.limit, offset: query.offset });
}

async function deleteFile(accountId: string, event: ApiEvent): Promise<ApiResult> {
  const item = await fileOf(accountId, event);
  // Bytes first: a failure leaves the item, so the delete can be retried.
  await deleteFileBytes(item);
  await fileRepository().delete(accountId, item.file_id);
  logger.info('file deleted', { file_id: item.file_id });
  return json(200, { success: true, file_id: item.file_id, is_deleted: true });
}

export const handler = httpHandler(
  'files',
  async (event) => {
    const accountId = accountIdOf(event);
    const route = `${event.httpMethod} ${routePath(event.resource)}`;
    switch (route) {
      case 'POST /files/upload-url':
        return uploadUrl(accountId, event);
      case 'POST /files/init-upload':
        return initUpload(accountId, event);
      case 'POST /files/{file_id}/complete-upload':
        return completeUpload(accountId, event);
      case 'POST /files/store-file':
        return storeFile(accountId, event);
      case 'GET /files':
        return listFiles(accountId, event);
      case 'GET /files/{file_id}':
        return json(200, await fileMetaWithUrl(await fileOf(accountId, event)));
      case 'DELETE /files/{file_id}':
        return deleteFile(accountId, event);
      default:
        throw new ApiError('NOT_FOUND', 'No such route');
    }
  },
  { body: true },
);
