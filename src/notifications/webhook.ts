import {
  IDEMPOTENCY_KEY_HEADER,
  signWebhook,
  WEBHOOK_SIGNATURE_HEADER,
  WEBHOOK_TIMESTAMP_HEADER,
  webhookStatusOutcome,
} from '../domain/notifications.ts';
import type { SendResult } from './send-result.ts';

export interface WebhookRequest {
  readonly url: string;
  readonly secret: string;
  /** The JSON body, signed as sent. */
  readonly body: string;
  readonly idempotencyKey: string;
  readonly timestampSeconds: number;
  readonly timeoutMs: number;
}

/**
 * POSTs a notification to a webhook (README, "Verifying a webhook"): the body,
 * its timestamp, the HMAC-SHA256 of "timestamp.body" under the channel's secret,
 * and the idempotency key. Redirects are not followed (the signature and the
 * content stay with the URL the team gave). The response body is not read beyond
 * what closing it takes.
 */
export async function sendWebhook(r: WebhookRequest): Promise<SendResult> {
  let response: Response;
  try {
    response = await fetch(r.url, {
      method: 'POST',
      redirect: 'manual',
      signal: AbortSignal.timeout(r.timeoutMs),
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Vitalink-Webhook/1',
        [WEBHOOK_TIMESTAMP_HEADER]: String(r.timestampSeconds),
        [WEBHOOK_SIGNATURE_HEADER]: signWebhook(r.secret, r.timestampSeconds, r.body),
        [IDEMPOTENCY_KEY_HEADER]: r.idempotencyKey,
      },
      body: r.body,
    });
  } catch (error) {
    const name = (error as { name?: string }).name;
    if (name === 'TimeoutError' || name === 'AbortError') {
      return { outcome: 'retry', error: `no answer within ${r.timeoutMs} ms (VITALINK_NOTIFY_TIMEOUT_MS)` };
    }
    const cause = (error as { cause?: { code?: string } }).cause;
    return { outcome: 'retry', error: `could not reach the webhook (${cause?.code ?? 'network error'})` };
  }
  await response.body?.cancel().catch(() => undefined);
  const outcome = webhookStatusOutcome(response.status);
  if (outcome === 'delivered') return { outcome };
  const redirect =
    response.status >= 300 && response.status < 400 ? ': redirects are not followed, give the final URL' : '';
  return { outcome, error: `the webhook answered HTTP ${response.status}${redirect}` };
}
