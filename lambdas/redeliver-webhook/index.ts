/**
 * POST /commands/{command_id}/webhooks/redeliver → {command_id, webhook}: the completion is
 * delivered again with the same webhook-id on a new retry schedule, first attempt now. 422 when
 * the command has not finished or has nowhere to send to.
 */
import { ApiError } from '../../core/api/errors.ts';
import { isCommandId } from '../../core/api/ids.ts';
import { toDeliveryView } from '../../core/webhooks/delivery.ts';
import { accountIdOf, httpHandler, json } from '../common/http.ts';
import { commandRepository } from '../common/deps.ts';
import { createWebhookDeliverer } from '../common/webhook-deps.ts';

export const handler = httpHandler('redeliver-webhook', async (event) => {
  const accountId = accountIdOf(event);
  const commandId = event.pathParameters?.command_id ?? '';
  const notFound = new ApiError('NOT_FOUND', 'command not found');
  if (!isCommandId(commandId)) throw notFound;
  const item = await commandRepository().get(accountId, commandId);
  if (!item) throw notFound;
  if (item.status !== 'SUCCESS' && item.status !== 'FAILED') {
    throw new ApiError(
      'VALIDATION_ERROR',
      `the command is ${item.status}: only a finished command's webhook can be redelivered`,
    );
  }
  // Records and schedules only; the delivery function (local: the delivery loop) sends.
  const record = await createWebhookDeliverer().redeliver(accountId, commandId);
  if (!record)
    throw new ApiError(
      'VALIDATION_ERROR',
      'nowhere to deliver: the command has no webhook_url and the account no webhook config',
    );
  return json(200, { command_id: commandId, webhook: toDeliveryView(record) });
});
