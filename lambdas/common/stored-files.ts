/** Bucket operations of the files routes: signed URLs for files, and removing a file's bytes. */
import { AbortMultipartUploadCommand, DeleteObjectsCommand } from '@aws-sdk/client-s3';
import { toFileMeta, type FileItem, type FileMeta } from '../../core/api/files.ts';
import { s3Client } from '../../store/clients.ts';
import { signGetUrl } from './deps.ts';
import { required } from './config.ts';

/** The API view of a file, with a fresh signed URL when it is STORED. */
export async function fileMetaWithUrl(item: FileItem): Promise<FileMeta> {
  return toFileMeta(item, item.status === 'STORED' ? await signGetUrl(item.s3_key, item.filename) : null);
}

/** Delete S3 objects in batches of 1000 (DeleteObjects' limit); missing keys are not errors. */
export async function deleteObjects(keys: string[]): Promise<void> {
  for (let i = 0; i < keys.length; i += 1000) {
    const batch = keys.slice(i, i + 1000);
    const out = await s3Client().send(
      new DeleteObjectsCommand({
        Bucket: required('bucket'),
        Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
      }),
    );
    if (out.Errors && out.Errors.length > 0) {
      throw new Error(`could not delete ${out.Errors.length} object(s): ${out.Errors[0]?.Code ?? 'error'}`);
    }
  }
}

/** Remove what a file has in the bucket: its object, and an unfinished multipart upload. */
export async function deleteFileBytes(item: FileItem): Promise<void> {
  if (item.upload_id) {
    await s3Client()
      .send(new AbortMultipartUploadCommand({ Bucket: required('bucket'), Key: item.s3_key, UploadId: item.upload_id }))
      .catch((err: unknown) => {
        if ((err as Error)?.name !== 'NoSuchUpload') throw err;
      });
  }
  await deleteObjects([item.s3_key]);
}
