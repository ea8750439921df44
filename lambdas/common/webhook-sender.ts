/**
 * Sends one webhook attempt through the SSRF-safe fetcher of core/net: the URL is resolved and
 * every address checked on each attempt, the connection pinned to a checked address, redirects
 * returned as failures (never followed), 10 s overall, at most 1 KiB of the answer read.
 * Kept apart from the deliverer so that API bundles that only schedule do not carry the fetcher.
 */
import { safeFetch, SafeFetchError } from '../../core/net/fetch.ts';
import { ATTEMPT_TIMEOUT_MS, MAX_RESPONSE_BYTES } from '../../core/webhooks/schedule.ts';
import { isSuccessStatus } from '../../core/webhooks/delivery.ts';
import type { WebhookSender } from './webhook-deliverer.ts';

/** One POST through core/net: any failure becomes an outcome, never a throw. */
export function safeWebhookSender(allowPrivate: boolean): WebhookSender {
  return async (url, body, headers) => {
    try {
      const res = await safeFetch(
        url,
        { method: 'POST', headers, body },
        {
          allowPrivate,
          maxBytes: MAX_RESPONSE_BYTES,
          truncateBody: true,
          timeoutMs: ATTEMPT_TIMEOUT_MS,
          maxRedirects: 0,
          redirect: 'return',
          retries: 0,
        },
      );
      const text = res.body.toString('utf8');
      if (isSuccessStatus(res.status)) return { ok: true, status: res.status, excerpt: text };
      const why = res.status >= 300 && res.status < 400 ? ' (redirects are not followed)' : '';
      return { ok: false, status: res.status, error: `HTTP ${res.status}${why}`, excerpt: text };
    } catch (err) {
      if (err instanceof SafeFetchError) {
        const error = err.reason === 'policy' ? `URL refused: ${err.message}` : err.message;
        return { ok: false, status: err.status ?? null, error, excerpt: null };
      }
      return { ok: false, status: null, error: `request failed (${(err as Error)?.name ?? 'Error'})`, excerpt: null };
    }
  };
}
