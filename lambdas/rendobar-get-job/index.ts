/**
 * GET /jobs/{job_id} (Rendobar) → {data: job}, with fresh download URLs on every poll. The item
 * keeps one size per playlist or sequence, so when there are such sets the command's objects
 * are listed (one call per 1000) for each file's own size.
 */
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { S3_KEYS } from '../../core/constants.ts';
import { outputAttemptOf } from '../../core/api/download-url.ts';
import { ApiError } from '../../core/api/errors.ts';
import { storedOutputs } from '../../core/api/poll.ts';
import type { CommandItem } from '../../core/types.ts';
import { s3Client } from '../../store/clients.ts';
import { required } from '../common/config.ts';
import { isCommandId } from '../../core/api/ids.ts';
import { commandIdOfJob, toRendobarJob } from '../../core/dialects/rendobar.ts';
import { commandRepository } from '../common/deps.ts';
import { commandDownloads, publicBaseUrl } from '../common/downloads.ts';
import { accountIdOf, httpHandler, json } from '../common/http.ts';
import { logger } from '../common/logger.ts';

/** Whether an output stored several files (playlist segments, a sequence) under one total size. */
function hasFileSets(item: CommandItem): boolean {
  return Object.values(storedOutputs(item)).some((o) => (o.companion_names?.length ?? 0) > 0 && !o.is_deleted);
}

/** The folder of the command's stored outputs: the one successful attempt's (S3_KEYS.output). */
function outputFolder(item: CommandItem): string {
  const key = Object.values(storedOutputs(item)).find((o) => o.s3_key)?.s3_key;
  return S3_KEYS.output(item.account_id, item.command_id, '', key ? outputAttemptOf(key) : undefined);
}

/** File name → bytes of every object under `prefix` (one List call per 1000 files). */
async function objectSizes(prefix: string): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  let ContinuationToken: string | undefined;
  do {
    const page = await s3Client().send(
      new ListObjectsV2Command({ Bucket: required('bucket'), Prefix: prefix, ContinuationToken }),
    );
    for (const o of page.Contents ?? [])
      if (o.Key && o.Size !== undefined) sizes.set(o.Key.slice(prefix.length), o.Size);
    ContinuationToken = page.NextContinuationToken;
  } while (ContinuationToken);
  return sizes;
}

export const handler = httpHandler('rendobar-get-job', async (event) => {
  const accountId = accountIdOf(event);
  const commandId = commandIdOfJob(event.pathParameters?.job_id ?? '');
  const notFound = new ApiError('NOT_FOUND', 'job not found');
  if (!isCommandId(commandId)) throw notFound;
  logger.appendKeys({ command_id: commandId });
  const item = await commandRepository().get(accountId, commandId);
  if (!item) throw notFound;
  const downloads = item.status === 'SUCCESS' ? await commandDownloads(item, publicBaseUrl(event)) : undefined;
  const sizes = downloads && hasFileSets(item) ? await objectSizes(outputFolder(item)) : undefined;
  return json(200, { data: toRendobarJob(item, downloads && { ...downloads, sizes }) });
});
