/**
 * GET /webhook-deliveries?limit= → {deliveries: [...]}: the account's recent deliveries whose
 * last attempt failed (still retrying, or FAILED for good), most recently changed first.
 */
import * as z from 'zod';
import { parseOrThrow } from '../../core/api/errors.ts';
import { toDeliveryView } from '../../core/webhooks/delivery.ts';
import { accountIdOf, httpHandler, json } from '../common/http.ts';
import { deliveryRepository } from '../common/deps.ts';

const QuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  status: z.literal('failed').default('failed'),
});

export const handler = httpHandler('webhook-deliveries', async (event) => {
  const accountId = accountIdOf(event);
  const raw = Object.fromEntries(
    Object.entries(event.queryStringParameters ?? {}).filter(([, v]) => v !== undefined && v !== ''),
  );
  const query = parseOrThrow(QuerySchema, raw);
  const records = await deliveryRepository().listRecentFailed(accountId, query.limit);
  return json(200, { deliveries: records.map(toDeliveryView), limit: query.limit });
});
