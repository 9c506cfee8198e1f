import https from 'node:https';
import type net from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Logger } from '../logger.ts';
import { guardedTlsFront, type HandshakeRefusal } from '../tls/guarded-tls-server.ts';
import type { TlsConsumer, TlsMaterial } from '../tls/tls-material.ts';

/** The timeouts fastify gives its own server (src/http/server.ts), given to this one too. */
const REQUEST_TIMEOUT_MS = 30_000;
const CONNECTION_TIMEOUT_MS = 30_000;
const KEEP_ALIVE_TIMEOUT_MS = 72_000;

export interface HttpsListener {
  /** The real port once listening (the configured one, or the one picked for 0). */
  readonly port: number;
  /** Stops accepting; idle connections are closed now, the others once their request is answered. */
  close(): Promise<void>;
}

/**
 * HTTPS_PORT: the same fastify application as HTTP_PORT, served over TLS. One
 * application, two servers: this one hands every request to `app.routing`
 * (fastify's documented entry to its router), so routes, hooks, the rate limits'
 * counters and the security headers are the very same objects on both listeners
 * (a second fastify instance would count rate limits apart and build everything
 * twice). What fastify does on its own server only, this one does itself: the
 * request and connection timeouts, and closing at stop. (fastify has no option
 * for two servers: its maintainers point to a custom server, fastify/fastify#4768.)
 *
 * In front, as on the MQTT TLS listener (src/tls/guarded-tls-server.ts): the caps
 * admit or refuse the raw socket, a handshake not finished within
 * `handshakeTimeoutMs` closes it. The certificate comes from `material` and is
 * replaced on new connections when the files change.
 *
 * With device certificates (VITALINK_DEVICE_CERTS `optional` or `required`) the
 * server asks every client for one, verified against VITALINK_DEVICE_CA_FILE and
 * VITALINK_DEVICE_CRL_FILE (reloaded with the rest), but never refuses the
 * handshake for it, unlike the MQTT TLS listener: this listener also serves
 * browsers and API clients, which have none. What came of the verification is
 * read per request by the device readings route (src/http/device-auth.ts), which
 * answers 401 for a certificate that did not verify.
 */
export async function listenHttps(
  app: FastifyInstance,
  opts: {
    port: number;
    host: string;
    material: TlsMaterial;
    handshakeTimeoutMs: number;
    /** VITALINK_DEVICE_CERTS: ask every client for a certificate, verified against the device CA and CRL. */
    deviceCerts?: { readonly mode: 'optional' | 'required' };
    admit: (raw: net.Socket) => boolean;
    refused: (reason: HandshakeRefusal) => void;
    log: Logger;
  },
): Promise<HttpsListener> {
  await app.ready();
  const certs = opts.deviceCerts;
  const build: TlsConsumer['build'] = (files) => ({
    cert: files.TLS_CERT_FILE,
    key: files.TLS_KEY_FILE,
    ...(certs ? { ca: files.VITALINK_DEVICE_CA_FILE, crl: files.VITALINK_DEVICE_CRL_FILE } : {}),
  });
  const server = https.createServer(
    {
      ...build(opts.material.contents),
      // Device certificates: asked for, verified, never required at the handshake (browsers
      // and API clients have none); src/http/device-auth.ts reads the outcome per request.
      requestCert: certs !== undefined,
      rejectUnauthorized: false,
      handshakeTimeout: opts.handshakeTimeoutMs,
      requestTimeout: REQUEST_TIMEOUT_MS,
      keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    },
    (req, res) => app.routing(req, res),
  );
  server.setTimeout(CONNECTION_TIMEOUT_MS);
  opts.material.use({ build, apply: (options) => server.setSecureContext(options) });
  const front = guardedTlsFront(server, { admit: opts.admit, refused: opts.refused, log: opts.log });
  // Node's HTTP server starts tracking its connections (the request and header timeouts,
  // closeIdleConnections) on its 'listening' event: the front listens for it.
  front.once('listening', () => server.emit('listening'));
  const port = await new Promise<number>((resolve, reject) => {
    front.once('error', reject);
    front.listen(opts.port, opts.host, () => {
      front.off('error', reject);
      const address = front.address();
      resolve(typeof address === 'object' && address ? address.port : opts.port);
    });
  });
  opts.log.info({ listener: 'https', host: opts.host, port }, 'listening');
  return {
    port,
    close: async () => {
      front.close();
      server.close();
      server.closeIdleConnections();
    },
  };
}
