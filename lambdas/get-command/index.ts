/**
 * GET /commands/{command_id} → the poll response, with freshly signed output URLs and the
 * command's webhook deliveries (`webhooks`, docs/API.md).
 */
import { ApiError } from '../../core/api/errors.ts';
import { isCommandId } from '../../core/api/ids.ts';
import { isFinalStatus } from '../../core/constants.ts';
import { toPollResponse } from '../../core/api/poll.ts';
import { accountIdOf, httpHandler, json } from '../common/http.ts';
import { commandRepository, deliveryRepository } from '../common/deps.ts';
import { toDeliveryView } from '../../core/webhooks/delivery.ts';
import { logger } from '../common/logger.ts';
import { signedOutputUrls } from '../common/outputs.ts';

export const handler = httpHandler('get-command', async (event) => {
  const accountId = accountIdOf(event);
  const commandId = event.pathParameters?.command_id ?? '';
  const notFound = new ApiError('NOT_FOUND', 'command not found');
  if (!isCommandId(commandId)) throw notFound;
  logger.appendKeys({ command_id: commandId });
  // Scoped by account in the key itself: another account's command reads as missing.
  const item = await commandRepository().get(accountId, commandId);
  if (!item) throw notFound;
  // A delivery is recorded only once the command has finished (its SUCCEEDED/FAILED event):
  // the polls of a running command, most polls, skip that read.
  const delivery = isFinalStatus(item.status) ? await deliveryRepository().get(accountId, commandId) : null;
  const webhooks = delivery ? [toDeliveryView(delivery)] : [];
  return json(200, { ...toPollResponse(item, await signedOutputUrls(item, event), new Date()), webhooks });
});
