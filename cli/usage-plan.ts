/**
 * Per-account throttling on a deployed stack (docs/CONTROL.md, "Rate limits"): every account
 * needs an API Gateway API key whose value is usageKeyValue(account) in the stack's usage plan,
 * or API Gateway refuses its requests (403). `keys create --stack` calls this for the key's
 * account; it is idempotent (an existing key or plan membership is kept).
 */
import {
  APIGatewayClient,
  CreateApiKeyCommand,
  CreateUsagePlanKeyCommand,
  GetApiKeysCommand,
} from '@aws-sdk/client-api-gateway';
import { usageKeyName, usageKeyValue } from '../core/control/usage-key.ts';
import { isAwsError } from '../store/errors.ts';

/** Returns what it did: 'created', 'existed'. */
export async function ensureAccountUsageKey(opts: {
  usagePlanId: string;
  accountId: string;
  region?: string;
}): Promise<'created' | 'existed'> {
  const client = new APIGatewayClient(opts.region ? { region: opts.region } : {});
  try {
    const name = usageKeyName(opts.accountId);
    let keyId: string | undefined;
    let outcome: 'created' | 'existed' = 'created';
    try {
      const key = await client.send(
        new CreateApiKeyCommand({
          name,
          value: usageKeyValue(opts.accountId),
          enabled: true,
          description: 'ffaas account usage key (throttling only; not a credential)',
        }),
      );
      keyId = key.id;
    } catch (err) {
      if (!isAwsError(err, 'ConflictException')) throw err;
      outcome = 'existed';
    }
    if (!keyId) {
      const found = await client.send(new GetApiKeysCommand({ nameQuery: name, limit: 500 }));
      keyId = found.items?.find((k) => k.name === name)?.id;
      if (!keyId) throw new Error(`API Gateway key ${name} exists but could not be found by name`);
    }
    try {
      await client.send(new CreateUsagePlanKeyCommand({ usagePlanId: opts.usagePlanId, keyId, keyType: 'API_KEY' }));
    } catch (err) {
      if (!isAwsError(err, 'ConflictException')) throw err;
    }
    return outcome;
  } finally {
    client.destroy();
  }
}
