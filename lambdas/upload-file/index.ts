/**
 * POST /files/upload: multipart/form-data with the bytes in the field `file` (RenderIO) →
 * {file_id, ...file meta} with status PROCESSING. The bytes are stored at once; the ingest
 * task probes them when they land (S3 event) and the file turns STORED, or FAILED (and is
 * removed) when they are not media. The body is bounded by LIMITS.maxUploadBodyBytes (API
 * Gateway's 10 MB cap and the Lambda event's 6 MB, base64 included); larger files go through
 * POST /files/upload-url or /files/init-upload.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { LIMITS } from '../../core/constants.ts';
import { ApiError } from '../../core/api/errors.ts';
import { defaultFileName, newFileItem, toFileMeta } from '../../core/api/files.ts';
import { newCommandId } from '../../core/api/ids.ts';
import { s3Client } from '../../store/clients.ts';
import { config } from '../shared/config.ts';
import { fileRepository } from '../shared/deps.ts';
import { required } from '../shared/config.ts';
import { accountIdOf, httpHandler, json } from '../shared/http.ts';
import { logger } from '../shared/logger.ts';

function header(headers: Record<string, string | undefined> | null | undefined, name: string): string | undefined {
  for (const [k, v] of Object.entries(headers ?? {})) if (k.toLowerCase() === name) return v;
  return undefined;
}

export const handler = httpHandler('upload-file', async (event) => {
  const accountId = accountIdOf(event);
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
    throw new ApiError(
      'PAYLOAD_TOO_LARGE',
      `upload body is over ${LIMITS.maxUploadBodyBytes} bytes; use POST /files/upload-url or /files/init-upload for larger files`,
    );
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
  return json(200, toFileMeta({ ...item, size_bytes: file.size }, null));
});
