/**
 * Webhook delivery in local mode: the same deliverer as the AWS delivery function
 * (lambdas/common/webhook-deliverer.ts), fed by
 *   - the local bus's events that match the stack rule's pattern (WEBHOOK_EVENT_PATTERN): a
 *     finished command's delivery is recorded and first attempted at once;
 *   - a loop over the deliveries table's `due` index (every FFAAS_WEBHOOK_POLL_MS, default 1 s),
 *     in place of the SQS retry queue: retries, redeliveries, and deliveries that fell due while
 *     local mode was stopped (the table lives in the data dir, so they survive a restart).
 * Needs the handler environment set (table names, endpoints, FFAAS_ALLOW_PRIVATE_URLS).
 */
import { ENV, WEBHOOK_EVENT_PATTERN } from '../core/constants.ts';
import type { CommandEventDetail } from '../core/types.ts';
import type { BusEvent, LocalEventBus } from './event-bus.ts';

/** WEBHOOK_EVENT_PATTERN (exact values of source and detail-type) applied to a local event. */
export function matchesWebhookRule(event: Pick<BusEvent, 'source' | 'detail-type'>): boolean {
  return (
    WEBHOOK_EVENT_PATTERN.source.includes(event.source) &&
    WEBHOOK_EVENT_PATTERN['detail-type'].includes(event['detail-type'])
  );
}

export interface LocalWebhookDelivery {
  /** Attempt what is due now (tests, and the loop). */
  runDue(): Promise<number>;
  stop(): Promise<void>;
}

export async function startWebhookDelivery(opts: {
  bus: LocalEventBus;
  pollMs?: number;
  log?: (line: string) => void;
}): Promise<LocalWebhookDelivery> {
  const log = opts.log ?? ((line: string) => console.error(line));
  const { config } = await import('../lambdas/common/config.ts');
  const { createWebhookDeliverer } = await import('../lambdas/common/webhook-deps.ts');
  const { safeWebhookSender } = await import('../lambdas/common/webhook-sender.ts');
  const deliverer = createWebhookDeliverer(safeWebhookSender(config().allowPrivateUrls));
  const inFlight = new Set<Promise<unknown>>();
  let stopped = false;
  const track = <T>(p: Promise<T>): Promise<T> => {
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p)).catch(() => undefined);
    return p;
  };

  // The stack's rule, mirrored: the bus emits every event; this takes those its pattern matches.
  const onEvent = (event: BusEvent) => {
    if (stopped || !matchesWebhookRule(event)) return;
    const detail = event.detail as CommandEventDetail;
    void track(deliverer.onCommandFinished(detail.account_id, detail.command_id, event['detail-type'])).catch((err) =>
      log(`webhook: delivery of ${detail.command_id} failed: ${(err as Error).message}`),
    );
  };
  opts.bus.on('event', onEvent);

  const envPoll = Number(process.env[ENV.WEBHOOK_POLL_MS]);
  const pollMs = opts.pollMs ?? (Number.isFinite(envPoll) && envPoll > 0 ? envPoll : 1000);
  let running = false;
  const runDue = () => track(deliverer.runDue());
  const timer = setInterval(() => {
    if (running || stopped) return;
    running = true;
    runDue()
      .catch((err) => log(`webhook: due deliveries failed: ${(err as Error).message}`))
      .finally(() => {
        running = false;
      });
  }, pollMs);
  timer.unref();

  return {
    runDue,
    stop: async () => {
      stopped = true;
      opts.bus.off('event', onEvent);
      clearInterval(timer);
      await Promise.allSettled([...inFlight]);
    },
  };
}
