import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
  /** The session was upgraded with STARTTLS. */
  secure: boolean;
}

/**
 * A real SMTP server on a local port (npm smtp-server) offering STARTTLS with the
 * given certificate, and, with `clientCa`, requiring a client certificate issued by
 * that CA (mutual TLS, as MSSanté does). It refuses mail sent without TLS.
 */
export async function startSmtpReceiver(options: {
  cert: string;
  key: string;
  clientCa?: string;
}): Promise<{ port: number; received: ReceivedMail[]; stop(): Promise<void> }> {
  const received: ReceivedMail[] = [];
  const server = new SMTPServer({
    secure: false,
    key: readFileSync(options.key),
    cert: readFileSync(options.cert),
    ...(options.clientCa ? { ca: readFileSync(options.clientCa), requestCert: true, rejectUnauthorized: true } : {}),
    authOptional: true,
    disabledCommands: ['AUTH'],
    logger: false,
    onMailFrom(_address, session, callback) {
      if (!session.secure) return callback(new Error('530 Must issue a STARTTLS command first'));
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
          secure: session.secure,
        });
        callback();
      });
    },
  });
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    received,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
