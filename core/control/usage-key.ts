/**
 * The API Gateway API key value of an account, for per-account throttling on AWS (docs/CONTROL.md,
 * "Rate limits"). The API's key source is AUTHORIZER: API Gateway takes the key value from the
 * authorizer's `usageIdentifierKey`, never from a request header, so this value is not a secret
 * and clients never send it; it only names the account's usage-plan key. Derived from the
 * account id, so the authorizer needs no extra lookup, and the CLI creates the same value.
 */
import { createHash } from 'node:crypto';

export function usageKeyValue(accountId: string): string {
  return `ffaas-usage-${createHash('sha256').update(`ffaas-usage:${accountId}`).digest('hex')}`;
}

/** The API Gateway key's name (readable in the console). */
export function usageKeyName(accountId: string): string {
  return `ffaas-account-${accountId}`.slice(0, 1024);
}
