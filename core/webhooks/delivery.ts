/**
 * The life of one webhook delivery (one per command: its terminal event), as pure functions
 * over the stored record. States only move forward, except that an explicit redeliver (the API,
 * or a message redriven from the dead-letter queue) opens a new schedule:
 *
 *   PENDING ──2xx──▶ DELIVERED
 *      │ failure, retries left: PENDING again, next_attempt_at = now + backoff
 *      │ failure, schedule spent ─▶ FAILED (dead-lettered)
 *      └ nowhere to send (no URL, account config removed or disabled) ─▶ SKIPPED
 *   DELIVERED | FAILED | SKIPPED ──redeliver──▶ PENDING (same webhook-id, new schedule)
 *
 * `next_attempt_at` doubles as a lease: a worker claims a due delivery by moving it forward
 * (conditional write), so two workers never send the same attempt, and an attempt that dies
 * mid-way is picked up again when the lease runs out.
 */
import { nextAttemptAt, RESPONSE_EXCERPT_CHARS, type WebhookSettings } from './schedule.ts';

export const DELIVERY_STATE = ['PENDING', 'DELIVERED', 'FAILED', 'SKIPPED'] as const;
export type DeliveryState = (typeof DELIVERY_STATE)[number];

/** Where the URL came from: the command's own webhook_url, or the account's config. */
export type DeliveryTarget = 'command' | 'account';

/** Value of `due` while a delivery waits (sparse index of deliveries to attempt). */
export const DUE_MARK = 'PENDING';

/** How long a claimed attempt holds its delivery (longer than an attempt can take). */
export const CLAIM_SECONDS = 60;

export interface DeliveryRecord {
  account_id: string;
  command_id: string;
  /** Stable across attempts and redeliveries: the Standard Webhooks `webhook-id`. */
  webhook_id: string;
  /** Detail-type of the event that started it. */
  event_type: string;
  target: DeliveryTarget;
  /** The URL of the last attempt (or the one to try). */
  url: string | null;
  state: DeliveryState;
  /** Attempts made, all schedules included. */
  attempts: number;
  /** Attempts made in the current schedule (a redeliver starts a new one). */
  schedule_attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  /** The first RESPONSE_EXCERPT_CHARS characters of the receiver's last answer. */
  last_response_excerpt: string | null;
  last_attempt_at: string | null;
  next_attempt_at: string | null;
  delivered_at: string | null;
  created_at: string;
  updated_at: string;
  /** DUE_MARK while PENDING (the `due` index holds only those). */
  due?: string;
}

/** The result of one HTTP attempt. */
export type AttemptOutcome =
  | { ok: true; status: number; excerpt: string | null }
  | { ok: false; status: number | null; error: string; excerpt: string | null };

export function newDelivery(input: {
  accountId: string;
  commandId: string;
  webhookId: string;
  eventType: string;
  target: DeliveryTarget;
  url: string;
  now: Date;
}): DeliveryRecord {
  const now = input.now.toISOString();
  return {
    account_id: input.accountId,
    command_id: input.commandId,
    webhook_id: input.webhookId,
    event_type: input.eventType,
    target: input.target,
    url: input.url,
    state: 'PENDING',
    attempts: 0,
    schedule_attempts: 0,
    last_status_code: null,
    last_error: null,
    last_response_excerpt: null,
    last_attempt_at: null,
    next_attempt_at: now,
    delivered_at: null,
    created_at: now,
    updated_at: now,
    due: DUE_MARK,
  };
}

/** Whether a 2xx answer: anything else (3xx included: redirects are not followed) failed. */
export function isSuccessStatus(status: number): boolean {
  return status >= 200 && status <= 299;
}

export function excerpt(text: string | null | undefined): string | null {
  if (!text) return null;
  return text.length > RESPONSE_EXCERPT_CHARS ? text.slice(0, RESPONSE_EXCERPT_CHARS) : text;
}

export interface AppliedOutcome {
  record: DeliveryRecord;
  /** The delivery failed for good in this attempt: it goes to the dead-letter queue. */
  deadLettered: boolean;
}

/** The record after one attempt to `url` with `outcome`. */
export function applyOutcome(
  record: DeliveryRecord,
  outcome: AttemptOutcome,
  url: string,
  settings: WebhookSettings,
  now: Date,
): AppliedOutcome {
  const at = now.toISOString();
  const base: DeliveryRecord = {
    ...record,
    url,
    attempts: record.attempts + 1,
    schedule_attempts: record.schedule_attempts + 1,
    last_status_code: outcome.status,
    last_error: outcome.ok ? null : outcome.error,
    last_response_excerpt: excerpt(outcome.excerpt),
    last_attempt_at: at,
    updated_at: at,
  };
  if (outcome.ok) {
    const { due: _due, ...rest } = base;
    return { record: { ...rest, state: 'DELIVERED', delivered_at: at, next_attempt_at: null }, deadLettered: false };
  }
  const next = nextAttemptAt(base.schedule_attempts, settings, now);
  if (next)
    return {
      record: { ...base, state: 'PENDING', next_attempt_at: next.toISOString(), due: DUE_MARK },
      deadLettered: false,
    };
  const { due: _due, ...rest } = base;
  return { record: { ...rest, state: 'FAILED', next_attempt_at: null }, deadLettered: true };
}

/** Nothing to send to (no URL any more, or the account config is disabled): stop without an attempt. */
export function skip(record: DeliveryRecord, reason: string, now: Date): DeliveryRecord {
  const { due: _due, ...rest } = record;
  return { ...rest, state: 'SKIPPED', last_error: reason, next_attempt_at: null, updated_at: now.toISOString() };
}

/** A new schedule for the same webhook-id, due now. */
export function reopen(record: DeliveryRecord, now: Date): DeliveryRecord {
  const at = now.toISOString();
  return { ...record, state: 'PENDING', schedule_attempts: 0, next_attempt_at: at, updated_at: at, due: DUE_MARK };
}

/** Whether a claim at `now` may take the delivery: PENDING and due. */
export function isDue(record: Pick<DeliveryRecord, 'state' | 'next_attempt_at'>, now: Date): boolean {
  return (
    record.state === 'PENDING' && record.next_attempt_at !== null && Date.parse(record.next_attempt_at) <= now.getTime()
  );
}

/** What the API shows of a delivery (no secret, no whole response). */
export interface DeliveryView {
  webhook_id: string;
  command_id: string;
  event_type: string;
  url: string | null;
  status: DeliveryState;
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  last_response_excerpt: string | null;
  last_attempt_at: string | null;
  next_attempt_at: string | null;
  delivered_at: string | null;
  created_at: string;
}

export function toDeliveryView(record: DeliveryRecord): DeliveryView {
  return {
    webhook_id: record.webhook_id,
    command_id: record.command_id,
    event_type: record.event_type,
    url: record.url,
    status: record.state,
    attempts: record.attempts,
    last_status_code: record.last_status_code ?? null,
    last_error: record.last_error ?? null,
    last_response_excerpt: record.last_response_excerpt ?? null,
    last_attempt_at: record.last_attempt_at ?? null,
    next_attempt_at: record.state === 'PENDING' ? (record.next_attempt_at ?? null) : null,
    delivered_at: record.delivered_at ?? null,
    created_at: record.created_at,
  };
}

/** A delivery whose last attempt failed (the account's "recent failed deliveries"). */
export function lastAttemptFailed(record: DeliveryRecord): boolean {
  return record.state === 'FAILED' || (record.attempts > 0 && record.state === 'PENDING' && record.last_error !== null);
}
