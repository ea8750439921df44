/**
 * Rendobar's uploads, on the one files core (core/api/files.ts, the files table, the ingest):
 *   POST /assets/upload               multipart/form-data, the bytes in `file` → {data: asset}
 *   GET  /assets/{asset_id}           → {data: asset} (status processing → ready | failed)
 *   GET  /assets/{asset_id}/content   → 302 to a short signed URL of the bytes (the owner only)
 * An asset is a stored file; its `url` is the content URL, which a job of the same account
 * passes as an input (the worker reads the object from the bucket; the URL is never fetched).
 */
import { ApiError } from '../../core/api/errors.ts';
import { isFileId, type FileItem } from '../../core/api/files.ts';
import { fileIdOfAsset, toRendobarAsset } from '../../core/dialects/rendobar.ts';
import { fileRepository, signGetUrl } from '../common/deps.ts';
import { publicBaseUrl } from '../common/downloads.ts';
import { accountIdOf, httpHandler, json, type ApiEvent, type ApiResult } from '../common/http.ts';
import { logger } from '../common/logger.ts';
import { receiveUpload } from '../common/upload.ts';

async function assetOf(accountId: string, event: ApiEvent): Promise<FileItem> {
  const fileId = fileIdOfAsset(event.pathParameters?.asset_id ?? '');
  const notFound = new ApiError('NOT_FOUND', 'asset not found');
  if (!isFileId(fileId)) throw notFound;
  logger.appendKeys({ file_id: fileId });
  const item = await fileRepository().get(accountId, fileId);
  if (!item) throw notFound;
  return item;
}

async function content(accountId: string, event: ApiEvent): Promise<ApiResult> {
  const item = await assetOf(accountId, event);
  if (item.status !== 'STORED') {
    throw new ApiError(
      'CONFLICT',
      item.status === 'FAILED' ? 'the asset failed and has no content' : 'the asset is still processing',
    );
  }
  return { statusCode: 302, headers: { location: await signGetUrl(item.s3_key, item.filename) }, body: '' };
}

export const handler = httpHandler('rendobar-assets', async (event) => {
  const accountId = accountIdOf(event);
  switch (`${event.httpMethod} ${event.resource}`) {
    case 'POST /assets/upload': {
      const item = await receiveUpload(accountId, event, 'host larger files and pass their URL as an input');
      return json(200, { data: toRendobarAsset(item, publicBaseUrl(event)) });
    }
    case 'GET /assets/{asset_id}':
      return json(200, { data: toRendobarAsset(await assetOf(accountId, event), publicBaseUrl(event)) });
    case 'GET /assets/{asset_id}/content':
      return content(accountId, event);
    default:
      throw new ApiError('NOT_FOUND', 'No such route');
  }
});
