/** GET /commands/{command_id}/webhooks → {command_id, webhooks: [delivery]} (empty when none). */
import { ApiError } from '../../core/api/errors.ts';
import { isCommandId } from '../../core/api/ids.ts';
import { toDeliveryView } from '../../core/webhooks/delivery.ts';
import { accountIdOf, httpHandler, json } from '../common/http.ts';
import { commandRepository, deliveryRepository } from '../common/deps.ts';

export const handler = httpHandler('command-webhooks', async (event) => {
  const accountId = accountIdOf(event);
  const commandId = event.pathParameters?.command_id ?? '';
  const notFound = new ApiError('NOT_FOUND', 'command not found');
  if (!isCommandId(commandId)) throw notFound;
  const [item, delivery] = await Promise.all([
    commandRepository().get(accountId, commandId),
    deliveryRepository().get(accountId, commandId),
  ]);
  if (!item) throw notFound;
  return json(200, { command_id: commandId, webhooks: delivery ? [toDeliveryView(delivery)] : [] });
});
