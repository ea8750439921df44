/**
 * GET /v/{id}/{token}/{name}: a download URL (core/api/download-url.ts). The token in the path
 * is the credential. Media answers 302 to a short presigned S3 URL (bytes never pass through
 * Lambda); a manifest (.m3u8/.mpd, bounded) is served here, so the relative references in it
 * resolve against /v/{id}/{token}/ and reach this route again with the same token.
 * Wrong, malformed or expired token, odd name, or no such object: 404 NOT_FOUND (the envelope),
 * the same answer for all, so the route tells nothing about what exists.
 */
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { ApiError } from '../../core/api/errors.ts';
import {
  checkDownloadToken,
  downloadObjectKey,
  isDownloadName,
  isManifestName,
  manifestContentType,
  MAX_INLINE_MANIFEST_BYTES,
} from '../../core/api/download-url.ts';
import { s3Client } from '../../store/clients.ts';
import { isAwsError } from '../../store/errors.ts';
import { required } from '../common/config.ts';
import { signGetUrl } from '../common/deps.ts';
import { urlSecret } from '../common/downloads.ts';
import { httpHandler, type ApiResult } from '../common/http.ts';
import { logger } from '../common/logger.ts';

const notFound = () =>
  new ApiError('NOT_FOUND', 'no such file, or the download URL has expired: poll again for a fresh URL');

function missing(err: unknown): boolean {
  return (
    isAwsError(err, 'NoSuchKey') ||
    isAwsError(err, 'NotFound') ||
    (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode === 404
  );
}

export const handler = httpHandler('download', async (event): Promise<ApiResult> => {
  const id = event.pathParameters?.id ?? '';
  const token = event.pathParameters?.token ?? '';
  const name = event.pathParameters?.name ?? '';
  const check = checkDownloadToken(await urlSecret(), id, token, Math.floor(Date.now() / 1000));
  if (!check.ok) {
    logger.info('download refused', { reason: check.reason });
    throw notFound();
  }
  if (!isDownloadName(name)) throw notFound();
  const key = downloadObjectKey(check.grant, name);
  const bucket = required('bucket');
  const cacheControl = `private, max-age=${Math.max(0, Math.min(300, check.grant.expiresAt - Math.floor(Date.now() / 1000)))}`;
  let size: number;
  try {
    const head = await s3Client().send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    size = head.ContentLength ?? 0;
  } catch (err) {
    if (missing(err)) throw notFound();
    throw err;
  }
  if (isManifestName(name) && size <= MAX_INLINE_MANIFEST_BYTES) {
    try {
      const obj = await s3Client().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const text = (await obj.Body?.transformToString('utf8')) ?? '';
      return {
        statusCode: 200,
        headers: { 'content-type': manifestContentType(name), 'cache-control': cacheControl },
        body: text,
      };
    } catch (err) {
      if (missing(err)) throw notFound();
      throw err;
    }
  }
  return {
    statusCode: 302,
    headers: {
      location: await signGetUrl(key, name),
      'cache-control': cacheControl,
      'content-type': 'text/plain; charset=utf-8',
    },
    body: '',
  };
});
