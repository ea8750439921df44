/**
 * Receiving an uploaded file (multipart/form-data, the bytes in the field `file`): the one
 * implementation behind RenderIO's POST /files/upload and Rendobar's POST /assets/upload.
 * The item first, then the bytes; the ingest task probes them when they land.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { LIMITS } from '../../core/constants.ts';
import { ApiError } from '../../core/api/errors.ts';
import { defaultFileName, newFileItem, type FileItem } from '../../core/api/files.ts';
import { newCommandId } from '../../core/api/ids.ts';
import { s3Client } from '../../store/clients.ts';
import { config, required } from './config.ts';
import { fileRepository } from './deps.ts';
import type { ApiEvent } from './http.ts';
import { logger } from './logger.ts';

function header(headers: Record<string, string | undefined> | null | undefined, name: string): string | undefined {
  for (const [k, v] of Object.entries(headers ?? {})) if (k.toLowerCase() === name) return v;
  return undefined;
}

/**
 * Store the file of a multipart upload for `accountId` → its item (PROCESSING, with
 * size_bytes). Throws the ApiError to answer with; `otherRoute` names where larger files go.
 */
export async function receiveUpload(accountId: string, event: ApiEvent, otherRoute: string): Promise<FileItem> {
  const contentType = header(event.headers, 'content-type');
  if (!contentType || !/^multipart\/form-data\s*;/i.test(contentType)) {
    throw new ApiError(
      'VALIDATION_ERROR',
      'Content-Type must be multipart/form-data with the file in the field "file"',
      [{ path: ['file'], message: 'send the file as multipart/form-data field "file"', type: 'content_type' }],
    );
  }
  const body =
    event.body === null || event.body === undefined
      ? Buffer.alloc(0)
      : Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
  if (body.length > LIMITS.maxUploadBodyBytes) {
    throw new ApiError('PAYLOAD_TOO_LARGE', `upload body is over ${LIMITS.maxUploadBodyBytes} bytes; ${otherRoute}`);
  }
  let form: FormData;
  try {
    // Node's own multipart parser (undici), as fetch uses it.
    form = await new Request('http://upload.invalid/', {
      method: 'POST',
      headers: { 'content-type': contentType },
      body,
    }).formData();
  } catch {
    throw new ApiError('INVALID_REQUEST', 'the multipart/form-data body could not be parsed');
  }
  const file = form.get('file');
  if (!file || typeof file === 'string') {
    throw new ApiError('VALIDATION_ERROR', 'the form has no file in the field "file"', [
      { path: ['file'], message: 'required', type: 'missing' },
    ]);
  }
  if (file.size === 0) {
    throw new ApiError('VALIDATION_ERROR', 'the uploaded file is empty', [
      { path: ['file'], message: 'empty file', type: 'value_error' },
    ]);
  }

  const item = newFileItem({
    accountId,
    fileId: newCommandId(),
    filename: defaultFileName(file.name),
    source: 'upload',
    now: new Date(),
    retentionDays: config().retentionDays,
  });
  // The item first: when the object lands, its event finds the item to probe.
  await fileRepository().create(item);
  try {
    await s3Client().send(
      new PutObjectCommand({
        Bucket: required('bucket'),
        Key: item.s3_key,
        Body: Buffer.from(await file.arrayBuffer()),
        ContentType: file.type || 'application/octet-stream',
      }),
    );
  } catch (err) {
    // Nothing half-stored: without its bytes the item goes too.
    await fileRepository()
      .delete(accountId, item.file_id)
      .catch(() => undefined);
    throw err;
  }
  logger.info('file uploaded', { file_id: item.file_id, bytes: file.size });
  return { ...item, size_bytes: file.size };
}
