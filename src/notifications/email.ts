import { readFile } from 'node:fs/promises';
import nodemailer from 'nodemailer';
import { smtpCodeOutcome } from '../domain/notifications.ts';
import type { SendResult } from './send-result.ts';

/**
 * The SMTP server notifications are submitted to (README, "Notifications",
 * "E-mail and MSSanté"): MSSanté's shape is submission on 587 with STARTTLS and a
 * client certificate (mutual TLS).
 */
export interface SmtpSettings {
  readonly host: string;
  readonly port: number;
  /** required: STARTTLS or fail; opportunistic: STARTTLS when offered; implicit: TLS from the first byte (465). */
  readonly tls: 'required' | 'opportunistic' | 'implicit';
  readonly clientCertFile?: string;
  readonly clientKeyFile?: string;
  readonly caFile?: string;
  readonly from: string;
  readonly user?: string;
  readonly password?: string;
  readonly timeoutMs: number;
}

export interface Email {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  /** The notification's id: the Message-ID's local part, so that a re-sent message is recognised. */
  readonly idempotencyKey: string;
}

export interface Mailer {
  send(email: Email): Promise<SendResult>;
  close(): void;
}

/**
 * A mailer for one round of deliveries. The certificate, key and CA files are read
 * here, each round, so that a renewed certificate is used without a restart.
 */
export async function openMailer(s: SmtpSettings): Promise<Mailer> {
  const [cert, key, ca] = await Promise.all([
    s.clientCertFile ? readFile(s.clientCertFile) : undefined,
    s.clientKeyFile ? readFile(s.clientKeyFile) : undefined,
    s.caFile ? readFile(s.caFile) : undefined,
  ]);
  const transport = nodemailer.createTransport({
    host: s.host,
    port: s.port,
    secure: s.tls === 'implicit',
    requireTLS: s.tls === 'required',
    connectionTimeout: s.timeoutMs,
    greetingTimeout: s.timeoutMs,
    socketTimeout: s.timeoutMs,
    ...(s.user !== undefined ? { auth: { user: s.user, pass: s.password ?? '' } } : {}),
    tls: {
      minVersion: 'TLSv1.2',
      ...(cert ? { cert } : {}),
      ...(key ? { key } : {}),
      ...(ca ? { ca } : {}),
    },
    logger: false,
    debug: false,
  });
  const domain = /@([^>\s]+)>?\s*$/.exec(s.from)?.[1] ?? 'vitalink.invalid';
  return {
    async send(email) {
      try {
        await transport.sendMail({
          from: s.from,
          to: email.to,
          subject: email.subject,
          text: email.text,
          messageId: `<${email.idempotencyKey}@${domain}>`,
        });
        return { outcome: 'delivered' };
      } catch (error) {
        const e = error as { responseCode?: number; code?: string };
        const outcome = smtpCodeOutcome(e.responseCode);
        const what = e.responseCode !== undefined ? `answered ${e.responseCode}` : `failed (${e.code ?? 'error'})`;
        return { outcome, error: `the SMTP server ${s.host}:${s.port} ${what}` };
      }
    },
    close() {
      transport.close();
    },
  };
}
