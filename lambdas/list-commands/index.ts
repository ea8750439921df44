/**
 * GET /commands?limit=&offset=&status=&cursor= → {commands, limit, offset, next_cursor},
 * newest first. Bad limit/offset/status: 422; a cursor this API did not hand out: 400.
 * Under Rendi's /v1 the answer is the bare array of commands, `limit` default and maximum
 * 1000 (core/dialects/rendi.ts).
 */
import { ListCommandsQuerySchema } from '../../core/api/schemas.ts';
import { isRendiRequest, RendiListQuerySchema, toRendiList } from '../../core/dialects/rendi.ts';
import { parseOrThrow } from '../../core/api/errors.ts';
import { decodeCursor, encodeCursor } from '../../core/api/list.ts';
import { toPollResponse } from '../../core/api/poll.ts';
import type { ListCommandsResponse } from '../../core/api/responses.ts';
import { accountIdOf, httpHandler, json } from '../common/http.ts';
import { commandRepository } from '../common/deps.ts';
import { signedOutputUrls } from '../common/outputs.ts';

export const handler = httpHandler('list-commands', async (event) => {
  const accountId = accountIdOf(event);
  const raw = Object.fromEntries(
    Object.entries(event.queryStringParameters ?? {}).filter(([, v]) => v !== undefined && v !== ''),
  );
  const rendi = isRendiRequest(event.resource);
  const query = parseOrThrow(rendi ? RendiListQuerySchema : ListCommandsQuerySchema, raw);
  const cursor = query.cursor !== undefined ? decodeCursor(query.cursor, accountId) : undefined;
  const page = await commandRepository().listByAccount(accountId, {
    limit: query.limit,
    offset: query.offset,
    status: query.status,
    cursor,
  });
  const now = new Date();
  const commands = await Promise.all(
    page.items.map(async (item) => toPollResponse(item, await signedOutputUrls(item, event, now), now)),
  );
  if (rendi) return json(200, toRendiList(commands));
  return json(200, {
    commands,
    limit: query.limit,
    offset: query.offset,
    next_cursor: page.next ? encodeCursor(page.next) : null,
  } satisfies ListCommandsResponse);
});
