/**
 * Webhook delivery, the same code on AWS (the delivery Lambda, fed by the bus rule and the
 * retry queue) and in local mode (fed by the local bus and a loop over the due index):
 *   event → record the delivery (one per command, webhook-id `msg_<command_id>`) → attempt.
 *   attempt = claim (lease) → resolve the URL and secret now → build the body with fresh signed
 *   URLs → POST through the SSRF-safe fetcher (resolved, pinned, checked on every attempt; no
 *   redirects; 10 s; at most 1 KiB of the answer read) → schedule the retry BEFORE writing the
 *   outcome (a crash in between costs an extra attempt, never a lost one) → write the outcome →
 *   count the account's consecutive failures → dead-letter when the schedule is spent.
 * Secrets and bodies are never logged.
 */
import type { CommandItem } from '../../core/types.ts';
import { toPollResponse } from '../../core/api/poll.ts';
import {
  applyOutcome,
  deliveryTarget,
  newDelivery,
  reopen,
  skip,
  webhookBody,
  webhookHeaders,
  webhookIdFor,
  type AccountWebhookConfig,
  type AttemptOutcome,
  type DeliveryRecord,
  type WebhookSettings,
} from '../../core/webhooks/index.ts';
import type { CommandRepository } from '../../store/command-repository.ts';
import type { DeliveryRepository, WebhookConfigRepository } from '../../store/webhook-repository.ts';
import type { DeliveryScheduler } from './webhook-queue.ts';
import { logger } from './logger.ts';

/** Sends one attempt; the default is the SSRF-safe fetcher. */
export type WebhookSender = (url: string, body: string, headers: Record<string, string>) => Promise<AttemptOutcome>;

export interface WebhookDelivererDeps {
  deliveries: DeliveryRepository;
  configs: WebhookConfigRepository;
  commands: CommandRepository;
  /** Fresh signed URL per stored output (alias → URL). */
  signUrls: (item: CommandItem) => Promise<Record<string, string | null>>;
  scheduler: DeliveryScheduler;
  /** Decrypts the stored secret (secret-box.ts). */
  openSecret: (stored: string, accountId: string) => Promise<string>;
  settings: WebhookSettings;
  allowPrivateUrls: boolean;
  clock?: () => Date;
  /** How attempts are sent (webhook-sender.ts: the SSRF-safe fetcher). Absent: this deliverer only records and schedules. */
  send?: WebhookSender;
}

const TERMINAL = new Set(['SUCCESS', 'FAILED']);

export class WebhookDeliverer {
  private readonly clock: () => Date;
  private readonly send: WebhookSender;

  constructor(private readonly deps: WebhookDelivererDeps) {
    this.clock = deps.clock ?? (() => new Date());
    this.send =
      deps.send ??
      (() => {
        throw new Error('this WebhookDeliverer was built without a sender');
      });
  }

  /**
   * A command finished (its terminal event): record its delivery and make the first attempt.
   * Repeated events (EventBridge delivers at least once) find the delivery recorded and do not
   * start another. Null when there is nothing to send to.
   */
  async onCommandFinished(accountId: string, commandId: string, eventType: string): Promise<DeliveryRecord | null> {
    const item = await this.deps.commands.get(accountId, commandId);
    if (!item) {
      logger.warn('webhook: event for an unknown command', { command_id: commandId });
      return null;
    }
    const config = await this.deps.configs.get(accountId);
    const target = deliveryTarget(item.webhook_url, config);
    if (!target) return null;
    const now = this.clock();
    const record = newDelivery({
      accountId,
      commandId,
      webhookId: webhookIdFor(commandId),
      eventType,
      target: target.target,
      url: target.url,
      now,
    });
    const created = await this.deps.deliveries.create(record);
    if (!created) {
      const existing = await this.deps.deliveries.get(accountId, commandId);
      // A repeat of the event before the first attempt was recorded: attempt it now.
      if (existing && existing.state === 'PENDING' && existing.attempts === 0)
        return (await this.attemptOrReschedule(accountId, commandId)) ?? existing;
      return existing;
    }
    return (await this.attemptOrReschedule(accountId, commandId)) ?? record;
  }

  /**
   * Attempt a due delivery once. Null when it is not due or someone else holds it (their
   * attempt stands).
   */
  async attempt(accountId: string, commandId: string): Promise<DeliveryRecord | null> {
    const now = this.clock();
    const claimed = await this.deps.deliveries.claim(accountId, commandId, now);
    if (!claimed) return null;
    const item = await this.deps.commands.get(accountId, commandId);
    const config = await this.deps.configs.get(accountId);
    const target = item ? deliveryTarget(item.webhook_url, config) : null;
    if (!item || !target || (target.target === 'account' && !target.active)) {
      const reason = !item
        ? 'the command no longer exists'
        : !target
          ? 'no webhook URL: the command has none and the account config was removed'
          : 'the account webhook config is disabled';
      const skipped = skip(claimed, reason, now);
      await this.deps.deliveries.save(skipped, claimed.updated_at);
      logger.info('webhook delivery skipped', { command_id: commandId, reason });
      return skipped;
    }

    const body = webhookBody(toPollResponse(item, await this.deps.signUrls(item), now), now);
    const headers = config
      ? webhookHeaders(await this.deps.openSecret(config.secret, accountId), claimed.webhook_id, now, body)
      : unsignedHeaders(claimed.webhook_id, now);
    const outcome = await this.send(target.url, body, headers);
    const done = this.clock();
    const applied = applyOutcome({ ...claimed, target: target.target }, outcome, target.url, this.deps.settings, done);
    const record = applied.record;
    if (record.state === 'PENDING' && record.next_attempt_at) {
      await this.deps.scheduler.retryAt(record, new Date(record.next_attempt_at), done);
    }
    const saved = await this.deps.deliveries.save(record, claimed.updated_at);
    logger.info('webhook attempt', {
      command_id: commandId,
      webhook_id: record.webhook_id,
      attempt: record.attempts,
      status_code: outcome.status,
      outcome: outcome.ok ? 'delivered' : 'failed',
      error: outcome.ok ? undefined : outcome.error,
      next_attempt_at: record.next_attempt_at ?? undefined,
      saved,
    });
    if (target.target === 'account' && config) await this.countForAccount(accountId, config, outcome.ok, done);
    if (applied.deadLettered) {
      await this.deps.scheduler.deadLetter(record);
      logger.warn('webhook delivery failed for good; dead-lettered', {
        command_id: commandId,
        webhook_id: record.webhook_id,
        attempts: record.attempts,
      });
    }
    return record;
  }

  /**
   * Attempt if due; otherwise, if the delivery still waits, make sure an attempt is scheduled
   * for when it falls due (a holder of the lease that died leaves no message behind). Duplicate
   * schedules are harmless: only one claim per attempt succeeds.
   */
  async attemptOrReschedule(accountId: string, commandId: string): Promise<DeliveryRecord | null> {
    const done = await this.attempt(accountId, commandId);
    if (done) return done;
    const record = await this.deps.deliveries.get(accountId, commandId);
    if (record?.state === 'PENDING' && record.next_attempt_at) {
      await this.deps.scheduler.retryAt(record, new Date(record.next_attempt_at), this.clock());
    }
    return record;
  }

  /**
   * A dead-lettered delivery came back (an operator redrove the dead-letter queue): a new
   * schedule, attempted now.
   */
  async revive(accountId: string, commandId: string): Promise<DeliveryRecord | null> {
    const record = await this.deps.deliveries.get(accountId, commandId);
    if (!record || record.state !== 'FAILED') return record;
    if (!(await this.deps.deliveries.save(reopen(record, this.clock()), record.updated_at)))
      return this.deps.deliveries.get(accountId, commandId);
    return this.attemptOrReschedule(accountId, commandId);
  }

  private async countForAccount(
    accountId: string,
    config: AccountWebhookConfig,
    ok: boolean,
    now: Date,
  ): Promise<void> {
    if (ok) {
      await this.deps.configs.recordSuccess(accountId, config.url);
      return;
    }
    const after = await this.deps.configs.recordFailure(
      accountId,
      config.url,
      this.deps.settings.disableAfterFailures,
      now,
    );
    if (after && !after.is_active && config.is_active) {
      logger.warn('account webhook config disabled after consecutive failures', {
        consecutive_failures: after.consecutive_failures,
      });
    }
  }

  /**
   * Deliver the command's completion again (same webhook-id, a new schedule), due now. Creates
   * the delivery when the command finished without one (e.g. the config was set afterwards).
   * Null when the command is unknown, not finished, or has nowhere to send to.
   */
  async redeliver(accountId: string, commandId: string): Promise<DeliveryRecord | null> {
    const item = await this.deps.commands.get(accountId, commandId);
    if (!item || !TERMINAL.has(item.status)) return null;
    const now = this.clock();
    let record = await this.deps.deliveries.get(accountId, commandId);
    if (!record) {
      const target = deliveryTarget(item.webhook_url, await this.deps.configs.get(accountId));
      if (!target) return null;
      const eventType = item.status === 'SUCCESS' ? 'FFmpeg Command Succeeded' : 'FFmpeg Command Failed';
      record = newDelivery({
        accountId,
        commandId,
        webhookId: webhookIdFor(commandId),
        eventType,
        target: target.target,
        url: target.url,
        now,
      });
      if (!(await this.deps.deliveries.create(record)))
        record = (await this.deps.deliveries.get(accountId, commandId))!;
    } else {
      const reopened = reopen(record, now);
      if (!(await this.deps.deliveries.save(reopened, record.updated_at))) {
        record = (await this.deps.deliveries.get(accountId, commandId))!;
      } else record = reopened;
    }
    await this.deps.scheduler.retryAt(record, now, now);
    return record;
  }

  /** Attempt every delivery due now (local mode's loop). Returns how many were attempted. */
  async runDue(limit = 25): Promise<number> {
    const due = await this.deps.deliveries.listDue(this.clock(), limit);
    let attempted = 0;
    await Promise.all(
      due.map(async (d) => {
        if (await this.attempt(d.account_id, d.command_id)) attempted++;
      }),
    );
    return attempted;
  }
}

/** A command's own webhook_url on an account without a webhook config: no secret to sign with. */
function unsignedHeaders(webhookId: string, now: Date): Record<string, string> {
  return {
    'content-type': 'application/json',
    'webhook-id': webhookId,
    'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
  };
}
