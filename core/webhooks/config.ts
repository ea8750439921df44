/**
 * The account's webhook settings (RenderIO's /webhook-config): one URL and secret per account,
 * switched off after `disableAfterFailures` failed attempts in a row against it, until set again.
 */
import { randomBytes } from 'node:crypto';

export const SECRET_PREFIX = 'whsec_';

/** A new `whsec_` secret: 32 random bytes, base64 (what Standard Webhooks libraries expect). */
export function generateWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64');
}
export interface AccountWebhookConfig {
  url: string;
  secret: string;
  is_active: boolean;
  consecutive_failures: number;
  disabled_at: string | null;
  updated_at: string;
}

/** GET /webhook-config: never the secret. */
export interface WebhookConfigView {
  configured: boolean;
  url: string | null;
  is_active: boolean;
  consecutive_failures: number;
  disabled_at: string | null;
}

export function toConfigView(config: AccountWebhookConfig | null): WebhookConfigView {
  if (!config) return { configured: false, url: null, is_active: false, consecutive_failures: 0, disabled_at: null };
  return {
    configured: true,
    url: config.url,
    is_active: config.is_active,
    consecutive_failures: config.consecutive_failures,
    disabled_at: config.disabled_at,
  };
}

/** Whether `failures` failed attempts in a row disable the config. */
export function shouldDisable(failures: number, disableAfterFailures: number): boolean {
  return failures >= disableAfterFailures;
}

/** The URL a command's delivery goes to: its own webhook_url, else the account's active config. */
export function deliveryTarget(
  commandWebhookUrl: string | undefined | null,
  account: AccountWebhookConfig | null,
): { target: 'command'; url: string } | { target: 'account'; url: string; active: boolean } | null {
  if (commandWebhookUrl) return { target: 'command', url: commandWebhookUrl };
  if (account) return { target: 'account', url: account.url, active: account.is_active };
  return null;
}
