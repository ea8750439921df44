/**
 * Key management for the web console, local mode only (docs/CONSOLE.md): the keys of the
 * caller's own account, authenticated by one of them (X-API-KEY or Authorization: Bearer).
 *   GET    /console/api/keys            → {keys: [{prefix, name, created_at, revoked_at}]}
 *   POST   /console/api/keys {name}     → {key, prefix, name} (the key is shown only now)
 *   DELETE /console/api/keys/{prefix}   → the revoked key
 * A deployed stack has no such routes: its keys are managed with `ffaas keys --stack`.
 */
import { apiKeyFromHeaders, hashApiKey, safeEqual } from '../core/api/api-keys.ts';
import type { ApiErrorCode } from '../core/constants.ts';
import type { ApiKeyRecord } from '../store/api-key-repository.ts';
import { apiKeyRepository } from '../lambdas/common/deps.ts';

export const CONSOLE_KEYS_PATH = '/console/api/keys';

export interface ConsoleKeysAnswer {
  status: number;
  body: unknown;
  error?: { code: ApiErrorCode; message: string };
}

const fail = (status: number, code: ApiErrorCode, message: string): ConsoleKeysAnswer => ({
  status,
  body: null,
  error: { code, message },
});

const view = (r: ApiKeyRecord) => ({
  prefix: r.prefix,
  name: r.name,
  created_at: r.created_at,
  revoked_at: r.revoked_at ?? null,
});

export async function consoleKeys(
  method: string,
  pathname: string,
  header: (lowerCaseName: string) => string | undefined,
  body: Buffer,
): Promise<ConsoleKeysAnswer> {
  const repository = apiKeyRepository();
  const key = apiKeyFromHeaders(header);
  const hash = key ? hashApiKey(key) : '';
  const caller = key ? await repository.findByHash(hash) : null;
  if (!caller || !safeEqual(caller.key_hash, hash) || caller.revoked_at)
    return fail(401, 'UNAUTHORIZED', 'Send a valid API key (X-API-KEY) of the account whose keys to manage');
  const own = async () => (await repository.list()).filter((r) => r.account_id === caller.account_id);

  if (pathname === CONSOLE_KEYS_PATH && method === 'GET')
    return { status: 200, body: { keys: (await own()).map(view) } };
  if (pathname === CONSOLE_KEYS_PATH && method === 'POST') {
    let name: unknown;
    try {
      name = (JSON.parse(body.toString('utf8') || '{}') as { name?: unknown }).name;
    } catch {
      return fail(400, 'INVALID_REQUEST', 'The body must be JSON: {"name": "…"}');
    }
    if (typeof name !== 'string' || !name.trim() || name.length > 100)
      return fail(400, 'INVALID_REQUEST', 'name: a key needs a name of 1 to 100 characters');
    const created = await repository.create({ name: name.trim(), accountId: caller.account_id });
    return { status: 201, body: { key: created.key, prefix: created.prefix, name: created.name } };
  }
  const prefix = decodeURIComponent(pathname.slice(CONSOLE_KEYS_PATH.length + 1));
  if (method === 'DELETE' && prefix && !prefix.includes('/')) {
    const target = (await own()).find((r) => r.prefix === prefix);
    if (!target) return fail(404, 'NOT_FOUND', `No key ${prefix} in this account`);
    return { status: 200, body: view(await repository.revoke(target.prefix)) };
  }
  return fail(404, 'NOT_FOUND', 'No such route');
}
