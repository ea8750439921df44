/** The pure webhook rules: signatures (checked with the standardwebhooks library), schedule, delivery states, config. */
import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import {
  applyOutcome,
  DEFAULT_BACKOFF_SECONDS,
  deliveryTarget,
  generateWebhookSecret,
  isDue,
  lastAttemptFailed,
  maxAttempts,
  newDelivery,
  nextAttemptAt,
  renderioSignature,
  reopen,
  shouldDisable,
  skip,
  standardWebhooksKey,
  toConfigView,
  toDeliveryView,
  webhookBody,
  webhookHeaders,
  webhookIdFor,
  webhookSettings,
  type AccountWebhookConfig,
} from '../../../core/webhooks/index.ts';

const T0 = new Date('2026-12-01T10:00:00.000Z');
const at = (s: number) => new Date(T0.getTime() + s * 1000);

describe('signatures', () => {
  it('a generated secret is whsec_ + 32 random bytes in base64', () => {
    const a = generateWebhookSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(a.slice(6), 'base64')).toHaveLength(32);
    expect(generateWebhookSecret()).not.toBe(a);
  });

  it('the headers verify with the standardwebhooks library and with a plain HMAC of the raw body', () => {
    const secret = generateWebhookSecret();
    const body = webhookBody({ command_id: 'c', status: 'SUCCESS' }, T0);
    const headers = webhookHeaders(secret, 'msg_c', new Date(), body);
    expect(headers['webhook-id']).toBe('msg_c');
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(secret).verify(body, headers)).toEqual({
      data: { command_id: 'c', status: 'SUCCESS' },
      timestamp: T0.getTime(),
    });
    expect(headers['x-webhook-signature']).toBe(createHmac('sha256', secret).update(body).digest('hex'));
    // A changed body or another secret fails both.
    expect(() => new Webhook(secret).verify(body.replace('SUCCESS', 'FAILED'), headers)).toThrow();
    expect(() => new Webhook(generateWebhookSecret()).verify(body, headers)).toThrow();
    expect(renderioSignature(secret, `${body} `)).not.toBe(headers['x-webhook-signature']);
  });

  it('the Standard Webhooks signature is the base64 HMAC of "id.timestamp.body" keyed with the decoded secret', () => {
    const secret = generateWebhookSecret();
    const body = '{"a":1}';
    const h = webhookHeaders(secret, 'msg_x', T0, body);
    const expected = createHmac('sha256', Buffer.from(secret.slice(6), 'base64'))
      .update(`msg_x.${T0.getTime() / 1000}.${body}`)
      .digest('base64');
    expect(h['webhook-timestamp']).toBe(String(T0.getTime() / 1000));
    expect(h['webhook-signature']).toBe(`v1,${expected}`);
  });

  it('a secret the user chose in another form signs with its UTF-8 bytes', () => {
    expect(Buffer.from(standardWebhooksKey('my-own-secret-of-24-chars!')).toString()).toBe(
      'my-own-secret-of-24-chars!',
    );
    const h = webhookHeaders('my-own-secret-of-24-chars!', 'm', new Date(), 'x');
    expect(() =>
      new Webhook(new TextEncoder().encode('my-own-secret-of-24-chars!'), { format: 'raw' }).verify('x', h, {
        jsonParse: false,
      }),
    ).not.toThrow();
  });

  it('the body is {data, timestamp} and the id is stable per command', () => {
    expect(JSON.parse(webhookBody({ x: 1 }, T0))).toEqual({ data: { x: 1 }, timestamp: T0.getTime() });
    expect(webhookIdFor('abc')).toBe('msg_abc');
  });
});

describe('schedule', () => {
  it('defaults to Standard Webhooks: 8 attempts over about 27.6 h', () => {
    const s = webhookSettings({});
    expect(s.backoffSeconds).toEqual(DEFAULT_BACKOFF_SECONDS);
    expect(maxAttempts(s)).toBe(8);
    expect(DEFAULT_BACKOFF_SECONDS.reduce((a, b) => a + b, 0) / 3600).toBeCloseTo(27.6, 1);
    expect(nextAttemptAt(1, s, T0)).toEqual(at(5));
    expect(nextAttemptAt(2, s, T0)).toEqual(at(300));
    expect(nextAttemptAt(7, s, T0)).toEqual(at(36_000));
    expect(nextAttemptAt(8, s, T0)).toBeNull();
  });

  it('FFAAS_WEBHOOK_BACKOFF_SECONDS lists the delays, FFAAS_WEBHOOK_BACKOFF_SCALE scales the default', () => {
    expect(webhookSettings({ backoffSeconds: '0.5, 1,2' }).backoffSeconds).toEqual([0.5, 1, 2]);
    expect(webhookSettings({ backoffScale: '0.001' }).backoffSeconds).toEqual(
      DEFAULT_BACKOFF_SECONDS.map((s) => s * 0.001),
    );
    expect(webhookSettings({ backoffSeconds: '1', backoffScale: '2' }).backoffSeconds).toEqual([1]);
    expect(webhookSettings({ disableAfter: '3' }).disableAfterFailures).toBe(3);
    expect(() => webhookSettings({ backoffSeconds: '1,x' })).toThrow(/FFAAS_WEBHOOK_BACKOFF_SECONDS/);
    expect(() => webhookSettings({ disableAfter: '0' })).toThrow(/FFAAS_WEBHOOK_DISABLE_AFTER/);
  });
});

describe('a delivery', () => {
  const settings = webhookSettings({ backoffSeconds: '10,20' });
  const fresh = () =>
    newDelivery({
      accountId: 'a',
      commandId: 'c',
      webhookId: 'msg_c',
      eventType: 'FFmpeg Command Succeeded',
      target: 'account',
      url: 'https://h/x',
      now: T0,
    });

  it('starts PENDING and due now', () => {
    const d = fresh();
    expect(d).toMatchObject({ state: 'PENDING', attempts: 0, next_attempt_at: T0.toISOString(), due: 'PENDING' });
    expect(isDue(d, T0)).toBe(true);
    expect(isDue(d, at(-1))).toBe(false);
  });

  it('2xx → DELIVERED, out of the due index', () => {
    const { record, deadLettered } = applyOutcome(
      fresh(),
      { ok: true, status: 204, excerpt: '' },
      'https://h/x',
      settings,
      at(1),
    );
    expect(record).toMatchObject({
      state: 'DELIVERED',
      attempts: 1,
      last_status_code: 204,
      last_error: null,
      delivered_at: at(1).toISOString(),
      next_attempt_at: null,
    });
    expect(record.due).toBeUndefined();
    expect(deadLettered).toBe(false);
  });

  it('failures follow the schedule, then FAILED and dead-lettered; a long answer is cut to an excerpt', () => {
    const fail = { ok: false as const, status: 500, error: 'HTTP 500', excerpt: 'y'.repeat(1024) };
    const one = applyOutcome(fresh(), fail, 'https://h/x', settings, at(0));
    expect(one.record).toMatchObject({
      state: 'PENDING',
      attempts: 1,
      next_attempt_at: at(10).toISOString(),
      due: 'PENDING',
    });
    expect(one.record.last_response_excerpt).toHaveLength(200);
    expect(lastAttemptFailed(one.record)).toBe(true);
    const two = applyOutcome(one.record, fail, 'https://h/x', settings, at(10));
    expect(two.record.next_attempt_at).toBe(at(30).toISOString());
    const three = applyOutcome(
      two.record,
      { ok: false, status: null, error: 'network error (ECONNREFUSED)', excerpt: null },
      'https://h/x',
      settings,
      at(30),
    );
    expect(three.record).toMatchObject({ state: 'FAILED', attempts: 3, last_status_code: null, next_attempt_at: null });
    expect(three.record.due).toBeUndefined();
    expect(three.deadLettered).toBe(true);
    expect(toDeliveryView(three.record)).toMatchObject({
      status: 'FAILED',
      attempts: 3,
      next_attempt_at: null,
      last_error: 'network error (ECONNREFUSED)',
    });
  });

  it('redeliver opens a new schedule with the same webhook-id; attempts keep counting', () => {
    const failed = applyOutcome(
      applyOutcome(
        applyOutcome(fresh(), { ok: false, status: 500, error: 'e', excerpt: null }, 'u', settings, at(0)).record,
        { ok: false, status: 500, error: 'e', excerpt: null },
        'u',
        settings,
        at(10),
      ).record,
      { ok: false, status: 500, error: 'e', excerpt: null },
      'u',
      settings,
      at(30),
    ).record;
    const again = reopen(failed, at(100));
    expect(again).toMatchObject({
      state: 'PENDING',
      webhook_id: 'msg_c',
      attempts: 3,
      schedule_attempts: 0,
      next_attempt_at: at(100).toISOString(),
      due: 'PENDING',
    });
    const next = applyOutcome(again, { ok: false, status: 500, error: 'e', excerpt: null }, 'u', settings, at(100));
    expect(next.record).toMatchObject({ state: 'PENDING', attempts: 4, next_attempt_at: at(110).toISOString() });
  });

  it('skip ends it without an attempt', () => {
    const s = skip(fresh(), 'the account webhook config is disabled', at(1));
    expect(s).toMatchObject({
      state: 'SKIPPED',
      attempts: 0,
      last_error: 'the account webhook config is disabled',
      next_attempt_at: null,
    });
    expect(s.due).toBeUndefined();
  });
});

describe('account config', () => {
  const config: AccountWebhookConfig = {
    url: 'https://a/h',
    secret: 'whsec_x',
    is_active: true,
    consecutive_failures: 0,
    disabled_at: null,
    updated_at: T0.toISOString(),
  };

  it('GET never shows the secret', () => {
    expect(toConfigView(config)).toEqual({
      configured: true,
      url: 'https://a/h',
      is_active: true,
      consecutive_failures: 0,
      disabled_at: null,
    });
    expect(JSON.stringify(toConfigView(config))).not.toContain('whsec_');
    expect(toConfigView(null)).toEqual({
      configured: false,
      url: null,
      is_active: false,
      consecutive_failures: 0,
      disabled_at: null,
    });
  });

  it('the command URL wins over the account URL; none → nothing to send', () => {
    expect(deliveryTarget('https://c/h', config)).toEqual({ target: 'command', url: 'https://c/h' });
    expect(deliveryTarget(undefined, config)).toEqual({ target: 'account', url: 'https://a/h', active: true });
    expect(deliveryTarget(undefined, { ...config, is_active: false })).toMatchObject({ active: false });
    expect(deliveryTarget(undefined, null)).toBeNull();
  });

  it('disables at the threshold', () => {
    expect(shouldDisable(49, 50)).toBe(false);
    expect(shouldDisable(50, 50)).toBe(true);
  });
});
