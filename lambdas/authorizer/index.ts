/**
 * REQUEST authorizer of the API: X-API-KEY (any case) or `Authorization: Bearer <key>` →
 * SHA-256 → key item → account.
 * Missing, malformed, unknown or revoked: throw 'Unauthorized' (API Gateway answers 401; local
 * mode does the same). Allowed: a policy for the whole API stage (`<api>/<stage>/*`), so a
 * cached answer serves every route, with context { accountId }.
 * Lookup failures (DynamoDB unavailable) are thrown as they are: a 500, not a false 401.
 */
import middy from '@middy/core';
import { observability } from '../common/observability.ts';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent, Context } from 'aws-lambda';
import { AUTHORIZER_ACCOUNT_KEY } from '../../core/routes.ts';
import { apiKeyFromHeaders, hashApiKey, isWellFormedApiKey, safeEqual } from '../../core/api/api-keys.ts';
import { apiKeyRepository } from '../common/deps.ts';
import { usageKeyValue } from '../../core/control/usage-key.ts';
import { logger } from '../common/logger.ts';

function headerValue(event: APIGatewayRequestAuthorizerEvent, name: string): string | undefined {
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === name && typeof value === 'string') return value;
  }
  for (const [key, values] of Object.entries(event.multiValueHeaders ?? {})) {
    if (key.toLowerCase() === name && values && values.length > 0) return values[0];
  }
  return undefined;
}

/** `arn:...:<api-id>/<stage>/<METHOD>/<path>` → `arn:...:<api-id>/<stage>/*`. */
export function stageWildcard(methodArn: string | undefined): string {
  if (!methodArn) return '*';
  const parts = methodArn.split('/');
  return parts.length >= 2 ? `${parts[0]}/${parts[1]}/*` : '*';
}

export type AuthorizerContext = { [AUTHORIZER_ACCOUNT_KEY]: string };

type AuthorizerResult = APIGatewayAuthorizerResult & { context: AuthorizerContext; usageIdentifierKey: string };

async function authorize(event: APIGatewayRequestAuthorizerEvent): Promise<AuthorizerResult> {
  const key = apiKeyFromHeaders((name) => headerValue(event, name));
  if (!key || !isWellFormedApiKey(key)) {
    logger.info('unauthorized', { reason: key ? 'malformed key' : 'no key' });
    throw new Error('Unauthorized');
  }
  const hash = hashApiKey(key);
  const record = await apiKeyRepository().findByHash(hash);
  if (!record || !safeEqual(record.key_hash, hash)) {
    logger.info('unauthorized', { reason: 'unknown key' });
    throw new Error('Unauthorized');
  }
  if (record.revoked_at) {
    logger.info('unauthorized', { reason: 'revoked key', key_prefix: record.prefix });
    throw new Error('Unauthorized');
  }
  return {
    principalId: record.account_id,
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: stageWildcard(event.methodArn) }],
    },
    context: { [AUTHORIZER_ACCOUNT_KEY]: record.account_id },
    // control (issue 12): the account's usage-plan key (API key source AUTHORIZER), so API
    // Gateway throttles per account, cached answers included.
    usageIdentifierKey: usageKeyValue(record.account_id),
  };
}

/** Its own Lambda context on its log lines, nothing left from an earlier invocation. */
export const handler = middy<APIGatewayRequestAuthorizerEvent, AuthorizerResult, Error, Context>(authorize)
  .use(observability())
  .use(injectLambdaContext(logger, { resetKeys: true }));
