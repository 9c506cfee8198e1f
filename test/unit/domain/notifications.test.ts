import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RETRY,
  emailContent,
  type NotificationMessage,
  retryDelayMs,
  signWebhook,
  smtpCodeOutcome,
  webhookBody,
  webhookStatusOutcome,
} from '../../../src/domain/notifications.ts';
import { openSecret, sealSecret } from '../../../src/domain/sealed-secrets.ts';
import { KeyRing, SecretKey } from '../../../src/domain/secret-keys.ts';

const message: NotificationMessage = {
  notificationId: '5b0c2f7e-0000-4000-8000-000000000001',
  purpose: 'alert',
  teamId: 'cardio',
  alertId: '42',
  patientId: 'p-secret-id',
  rule: 'bp_high',
  openedAt: new Date('2026-12-07T07:42:10Z'),
  url: 'https://vitalink.example.org/#/alerts/42',
};

describe('retry schedule', () => {
  it('doubles from the base, capped, with half of it random (equal jitter)', () => {
    const s = { maxAttempts: 8, baseDelayMs: 30_000, maxDelayMs: 3_600_000 };
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n, s, 0))).toEqual([15_000, 30_000, 60_000, 120_000]);
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n, s, 0.5))).toEqual([22_500, 45_000, 90_000, 180_000]);
    expect(retryDelayMs(20, s, 0)).toBe(1_800_000);
    expect(retryDelayMs(20, s, 0.5)).toBe(2_700_000);
    expect(DEFAULT_RETRY).toEqual(s);
  });
});

describe('what an answer means', () => {
  it('webhook: 2xx delivered, 408/429/5xx/3xx retried, other 4xx refused for good', () => {
    expect([200, 202, 204].map(webhookStatusOutcome)).toEqual(['delivered', 'delivered', 'delivered']);
    expect([408, 429, 500, 503, 301].map(webhookStatusOutcome)).toEqual(['retry', 'retry', 'retry', 'retry', 'retry']);
    expect([400, 401, 404, 410, 422].map(webhookStatusOutcome)).toEqual(Array(5).fill('refused'));
  });

  it('SMTP: 5xx is permanent, 4xx and no code (network, TLS) are retried', () => {
    expect([550, 554, 421, 451, undefined].map(smtpCodeOutcome)).toEqual([
      'refused',
      'refused',
      'retry',
      'retry',
      'retry',
    ]);
  });
});

describe('webhook signature', () => {
  it('is v1= and the hex HMAC-SHA256 of "timestamp.body" under the secret', () => {
    const expected = createHmac('sha256', 'the-secret').update('1700000000.{"a":1}').digest('hex');
    expect(signWebhook('the-secret', 1_700_000_000, '{"a":1}')).toBe(`v1=${expected}`);
    expect(signWebhook('other-secret', 1_700_000_000, '{"a":1}')).not.toBe(`v1=${expected}`);
  });
});

describe('what a notification says', () => {
  it('the webhook: ids, rule, label, severity, time and link; no value', () => {
    expect(JSON.parse(webhookBody(message))).toEqual({
      id: message.notificationId,
      type: 'alert.opened',
      teamId: 'cardio',
      alert: {
        id: '42',
        patientId: 'p-secret-id',
        rule: 'bp_high',
        label: 'High blood pressure',
        severity: 'critical',
        openedAt: '2026-12-07T07:42:10.000Z',
        url: 'https://vitalink.example.org/#/alerts/42',
      },
    });
    expect(JSON.parse(webhookBody({ ...message, purpose: 'escalation' })).type).toBe('alert.escalated');
  });

  it('the e-mail: severity, label and link, never the patient', () => {
    const mail = emailContent(message);
    expect(mail.subject).toBe('[Vitalink] critical alert: High blood pressure');
    expect(mail.text).toContain('https://vitalink.example.org/#/alerts/42');
    expect(`${mail.subject}\n${mail.text}`).not.toContain('p-secret-id');
    expect(emailContent({ ...message, purpose: 'escalation' }).subject).toBe(
      '[Vitalink] Not acknowledged: critical alert: High blood pressure',
    );
    expect(emailContent({ ...message, url: null }).text).toContain('See it in the Vitalink dashboard.');
  });
});

describe('sealed secrets', () => {
  const current = new SecretKey(Buffer.alloc(32, 1), 'VITALINK_SECRET_KEY');
  const previous = new SecretKey(Buffer.alloc(32, 2), 'VITALINK_SECRET_KEY_PREVIOUS');

  it('open under the key they name, also once it is a previous key', () => {
    const sealed = sealSecret(previous, 'webhook-secret', 'team\nhttps://x');
    expect(sealed.keyId).toBe(previous.id);
    expect(sealed.sealed.includes(Buffer.from('webhook-secret'))).toBe(false);
    expect(openSecret(new KeyRing(current, [previous]), sealed, 'team\nhttps://x')).toEqual({
      ok: true,
      secret: 'webhook-secret',
    });
  });

  it('do not open without their key, in another context, or altered', () => {
    const sealed = sealSecret(current, 'webhook-secret', 'team\nhttps://x');
    const without = openSecret(new KeyRing(previous), sealed, 'team\nhttps://x');
    expect(without.ok).toBe(false);
    expect(!without.ok && without.problem).toContain('VITALINK_SECRET_KEY_PREVIOUS');
    expect(openSecret(new KeyRing(current), sealed, 'team\nhttps://y').ok).toBe(false);
    const altered = Buffer.from(sealed.sealed);
    altered[altered.length - 1]! ^= 1;
    expect(openSecret(new KeyRing(current), { ...sealed, sealed: altered }, 'team\nhttps://x').ok).toBe(false);
  });
});
