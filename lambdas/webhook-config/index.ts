/**
 * /webhook-config (RenderIO): PUT {url, secret?} → {success, url, secret} (a `whsec_` secret is
 * generated when none is given and shown only in this answer; a given secret is echoed back to
 * its sender once); GET → {configured, url, is_active, consecutive_failures, disabled_at};
 * DELETE → {success, deleted}. The URL passes the SSRF policy now and again on every attempt.
 */
import { ApiError, parseOrThrow } from '../../core/api/errors.ts';
import { WebhookConfigSchema } from '../../core/api/schemas.ts';
import { generateWebhookSecret, toConfigView } from '../../core/webhooks/config.ts';
import { accountIdOf, httpHandler, json } from '../common/http.ts';
import { secretBox, webhookConfigRepository } from '../common/deps.ts';
import { urlRefusal } from '../common/check.ts';
import { logger } from '../common/logger.ts';

export const handler = httpHandler(
  'webhook-config',
  async (event) => {
    const accountId = accountIdOf(event);
    const repo = webhookConfigRepository();
    switch (event.httpMethod) {
      case 'GET':
        return json(200, toConfigView(await repo.get(accountId)));
      case 'DELETE': {
        const deleted = await repo.delete(accountId);
        return json(200, { success: true, deleted });
      }
      case 'PUT': {
        const body = parseOrThrow(WebhookConfigSchema, event.jsonBody);
        const refusal = await urlRefusal(body.url);
        if (refusal) {
          const message = `URL refused: ${refusal}`;
          throw new ApiError('VALIDATION_ERROR', `url: ${message}`, [
            { path: ['url'], message, type: 'url_not_allowed' },
          ]);
        }
        const secret = body.secret ?? generateWebhookSecret();
        // Encrypted at rest (KMS on AWS); the plain secret is in this answer only.
        await repo.put(accountId, body.url, await secretBox().seal(secret, accountId), new Date());
        logger.info('webhook config set', { generated_secret: body.secret === undefined });
        return json(200, { success: true, url: body.url, secret });
      }
      default:
        throw new ApiError('NOT_FOUND', 'No such route');
    }
  },
  { body: true },
);
