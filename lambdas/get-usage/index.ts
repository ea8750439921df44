/** GET /usage?from=&to= → the account's usage: totals and per day (core/control/usage.ts). */
import { LIMITS } from '../../core/constants.ts';
import { ApiError } from '../../core/api/errors.ts';
import { usageRange, usageReport } from '../../core/control/usage.ts';
import { accountIdOf, httpHandler, json } from '../common/http.ts';
import { commandRepository } from '../common/deps.ts';

export const handler = httpHandler('get-usage', async (event) => {
  const accountId = accountIdOf(event);
  const now = new Date();
  const q = event.queryStringParameters ?? {};
  const range = usageRange({ from: q.from ?? undefined, to: q.to ?? undefined }, now);
  if ('error' in range) {
    const field = range.error.startsWith('to') ? 'to' : 'from';
    throw new ApiError('VALIDATION_ERROR', range.error, [{ path: [field], message: range.error }]);
  }
  const items = await commandRepository().listCreatedBetween(accountId, range.from, range.to);
  return json(200, usageReport(items, range, now, LIMITS.retentionDays));
});
