/** POST /commands/{command_id}/cancel → the command as polled, FAILED / CANCELLED (409 when already finished). */
import { ApiError } from '../../core/api/errors.ts';
import { isCommandId } from '../../core/api/ids.ts';
import { toPollResponse } from '../../core/api/poll.ts';
import { cancelCommand } from '../../core/control/cancel.ts';
import { cancelPorts } from '../common/cancel.ts';
import { accountIdOf, httpHandler, json } from '../common/http.ts';
import { logger } from '../common/logger.ts';
import { signedOutputUrls } from '../common/outputs.ts';

export const handler = httpHandler('cancel-command', async (event) => {
  const accountId = accountIdOf(event);
  const commandId = event.pathParameters?.command_id ?? '';
  if (!isCommandId(commandId)) throw new ApiError('NOT_FOUND', 'command not found');
  logger.appendKeys({ command_id: commandId });
  const item = await cancelCommand(accountId, commandId, cancelPorts());
  logger.info('command cancelled');
  return json(200, toPollResponse(item, await signedOutputUrls(item, event), new Date()));
});
