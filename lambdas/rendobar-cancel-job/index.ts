/**
 * POST /jobs/{job_id}/cancel (Rendobar) → {data: job} with status `cancelled`: the one cancel
 * (core/control/cancel.ts, the same ports as POST /commands/{id}/cancel). 409 CONFLICT when the
 * job has already finished, 404 when it is not the caller's.
 */
import { ApiError } from '../../core/api/errors.ts';
import { isCommandId } from '../../core/api/ids.ts';
import { cancelCommand } from '../../core/control/cancel.ts';
import { commandIdOfJob, toRendobarJob } from '../../core/dialects/rendobar.ts';
import { cancelPorts } from '../common/cancel.ts';
import { accountIdOf, httpHandler, json } from '../common/http.ts';
import { logger } from '../common/logger.ts';

export const handler = httpHandler('rendobar-cancel-job', async (event) => {
  const accountId = accountIdOf(event);
  const commandId = commandIdOfJob(event.pathParameters?.job_id ?? '');
  if (!isCommandId(commandId)) throw new ApiError('NOT_FOUND', 'job not found');
  logger.appendKeys({ command_id: commandId });
  const item = await cancelCommand(accountId, commandId, cancelPorts());
  logger.info('job cancelled');
  return json(200, { data: toRendobarJob(item) });
});
