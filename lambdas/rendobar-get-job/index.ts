/** GET /jobs/{job_id} (Rendobar) → {data: job}, with fresh download URLs on every poll. */
import { ApiError } from '../../core/api/errors.ts';
import { isCommandId } from '../../core/api/ids.ts';
import { commandIdOfJob, toRendobarJob } from '../../core/dialects/rendobar.ts';
import { commandRepository } from '../shared/deps.ts';
import { commandDownloads, publicBaseUrl } from '../shared/downloads.ts';
import { accountIdOf, httpHandler, json } from '../shared/http.ts';
import { logger } from '../shared/logger.ts';

export const handler = httpHandler('rendobar-get-job', async (event) => {
  const accountId = accountIdOf(event);
  const commandId = commandIdOfJob(event.pathParameters?.job_id ?? '');
  const notFound = new ApiError('NOT_FOUND', 'job not found');
  if (!isCommandId(commandId)) throw notFound;
  logger.appendKeys({ command_id: commandId });
  const item = await commandRepository().get(accountId, commandId);
  if (!item) throw notFound;
  const downloads = item.status === 'SUCCESS' ? await commandDownloads(item, publicBaseUrl(event)) : undefined;
  return json(200, { data: toRendobarJob(item, downloads) });
});
