/**
 * Webhook signatures. Every delivery carries two:
 * - Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>`), the
 *   HMAC-SHA256 of `id.timestamp.body` made by the `standardwebhooks` library itself. Its key is
 *   the secret's bytes after `whsec_` (base64), as that library and every Standard Webhooks
 *   verifier read a `whsec_` secret; a secret the user chose in another form is used as its
 *   UTF-8 bytes.
 * - RenderIO's `X-Webhook-Signature: <hex HMAC-SHA256 of the raw body>`, keyed with the secret
 *   string exactly as shown to the user (`whsec_` included), which is what a client does with
 *   `createHmac('sha256', secret).update(rawBody).digest('hex')`.
 */
import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { SECRET_PREFIX } from './config.ts';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The key Standard Webhooks signs with (see the module comment). */
export function standardWebhooksKey(secret: string): Uint8Array {
  if (secret.startsWith(SECRET_PREFIX)) {
    const rest = secret.slice(SECRET_PREFIX.length);
    if (rest.length > 0 && BASE64.test(rest)) return new Uint8Array(Buffer.from(rest, 'base64'));
  }
  return new Uint8Array(Buffer.from(secret, 'utf8'));
}

/** `v1,<base64>` for one attempt. */
export function standardSignature(secret: string, webhookId: string, timestamp: Date, body: string): string {
  return new Webhook(standardWebhooksKey(secret), { format: 'raw' }).sign(webhookId, timestamp, body);
}

/** RenderIO's hex HMAC-SHA256 of the raw body. */
export function renderioSignature(secret: string, body: string): string {
  return createHmac('sha256', secret).update(body, 'utf8').digest('hex');
}

/** Every header of one attempt (the timestamp is the attempt's, in whole seconds). */
export function webhookHeaders(secret: string, webhookId: string, now: Date, body: string): Record<string, string> {
  const timestamp = new Date(Math.floor(now.getTime() / 1000) * 1000);
  return {
    'content-type': 'application/json',
    'webhook-id': webhookId,
    'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
    'webhook-signature': standardSignature(secret, webhookId, timestamp, body),
    'x-webhook-signature': renderioSignature(secret, body),
  };
}

/** The body: `{"data": <poll response>, "timestamp": <unix ms>}`. */
export function webhookBody(data: unknown, now: Date): string {
  return JSON.stringify({ data, timestamp: now.getTime() });
}

/** The stable id of the delivery of one command's completion (the same on every attempt). */
export function webhookIdFor(commandId: string): string {
  return `msg_${commandId}`;
}
