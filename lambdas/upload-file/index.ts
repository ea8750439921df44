/**
 * POST /files/upload: multipart/form-data with the bytes in the field `file` (RenderIO) →
 * {file_id, ...file meta} with status PROCESSING. The bytes are stored at once; the ingest
 * task probes them when they land (S3 event) and the file turns STORED, or FAILED (and is
 * removed) when they are not media. The body is bounded by LIMITS.maxUploadBodyBytes (API
 * Gateway's 10 MB cap and the Lambda event's 6 MB, base64 included); larger files go through
 * POST /files/upload-url or /files/init-upload.
 */
import { toFileMeta } from '../../core/api/files.ts';
import { accountIdOf, httpHandler, json } from '../common/http.ts';
import { receiveUpload } from '../common/upload.ts';

export const handler = httpHandler('upload-file', async (event) => {
  const item = await receiveUpload(
    accountIdOf(event),
    event,
    'use POST /files/upload-url or /files/init-upload for larger files',
  );
  return json(200, toFileMeta(item, null));
});
