import http from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { createWebSocketStream, WebSocketServer } from 'ws';
import type { Logger } from '../logger.ts';
import { guardedTlsFront } from '../tls/guarded-tls-server.ts';
import type { TlsConsumer, TlsMaterial } from '../tls/tls-material.ts';
import type { ConnectionLimits, ListenerName, ListenerRefusalReason } from './connection-limits.ts';
import { clientAddressOf, readProxyHeader } from './proxy-protocol.ts';

/** Where a connection came from, handed to Aedes with the stream. */
export type ConnectionHandler = (stream: Duplex, req?: http.IncomingMessage) => void;

export interface Listener {
  readonly name: 'mqtt' | 'mqtts' | 'mqtt-ws';
  /** The real port once listening (the configured one, or the one picked for 0). */
  readonly port: number;
  /** Stops accepting connections now; open ones are left to the broker to end. */
  close(): Promise<void>;
}

/** Dead peers are found by TCP keepalive even when a device asked for MQTT keepalive 0. */
const TCP_KEEPALIVE_MS = 60_000;

function listen(server: net.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

/**
 * Stops accepting at once. `server.close()` calls back only once every open
 * connection has ended, which the broker does later in the stop sequence: the
 * callback is not waited for, or a stop with devices connected would never end.
 */
function closeServer(server: net.Server): Promise<void> {
  server.close();
  return Promise.resolve();
}

function prepareSocket(socket: net.Socket): void {
  // Nagle off: a PUBACK should leave when it is written (architecture.md).
  socket.setNoDelay(true);
  socket.setKeepAlive(true, TCP_KEEPALIVE_MS);
}

/** Raises a WebSocket connection's message bound once its session is authenticated (absent on TCP and TLS). */
export const RAISE_FRAME_LIMIT = Symbol('raiseFrameLimit');
export interface FrameLimited {
  [RAISE_FRAME_LIMIT]?: () => void;
}

/** What every listener is given besides its port: the caps, the counter of refusals, the log. */
export interface ListenerGuards {
  readonly limits: ConnectionLimits;
  readonly refused: (listener: ListenerName, reason: ListenerRefusalReason) => void;
  readonly log: Logger;
}

/**
 * Plain MQTT. A connection from a trusted proxy (VITALINK_TRUSTED_PROXIES) begins
 * with a PROXY protocol header, read first (src/broker/proxy-protocol.ts): the caps,
 * the throttles and the logs then hold the client's address, not the proxy's.
 */
export async function listenTcp(
  port: number,
  host: string,
  handle: ConnectionHandler,
  g: ListenerGuards,
  proxies: { readonly trusted: (address: string) => boolean; readonly headerTimeoutMs: number } = {
    trusted: () => false,
    headerTimeoutMs: 0,
  },
): Promise<Listener> {
  const accept = (socket: net.Socket) => {
    if (!g.limits.admit('mqtt', socket, clientAddressOf(socket))) return;
    prepareSocket(socket);
    handle(socket);
  };
  const server = net.createServer({ noDelay: true }, (socket) => {
    if (!proxies.trusted(socket.remoteAddress ?? '')) return accept(socket);
    readProxyHeader(socket, proxies.headerTimeoutMs, accept, (reason) => {
      g.refused('mqtt', reason);
      g.log.info({ listener: 'mqtt', reason }, 'connection from a trusted proxy refused');
    });
  });
  const real = await listen(server, port, host);
  g.log.info({ listener: 'mqtt', host, port: real }, 'listening');
  return { name: 'mqtt', port: real, close: () => closeServer(server) };
}

/** The device certificate settings of the MQTT TLS listener (README, "Security", "Device certificates"). */
export interface DeviceCertSettings {
  readonly mode: 'optional' | 'required';
}

/** What the TLS listener learnt of a device's certificate, read by the authenticator. */
export const DEVICE_CERT_SUBJECT = Symbol('deviceCertSubject');
export interface DeviceCertified {
  /** The verified certificate's subject CN; null: no certificate; absent: certificates are off. */
  [DEVICE_CERT_SUBJECT]?: string | null;
}

/** The certificate's CN when there is exactly one (a certificate with several is bound to none). */
function subjectCn(cert: tls.PeerCertificate): string | undefined {
  const cn = (cert.subject as unknown as Record<string, string | string[] | undefined> | undefined)?.CN;
  return typeof cn === 'string' ? cn : undefined;
}

/**
 * TLS: accepted through the caps and the handshake bound (src/tls/guarded-tls-server.ts),
 * with the service's certificate from `material`, reloaded there when it changes
 * (`setSecureContext`: new connections get the new one). With device certificates
 * the listener asks every client for one, verified against VITALINK_DEVICE_CA_FILE
 * and VITALINK_DEVICE_CRL_FILE (reloaded the same way): a presented certificate that
 * does not verify (unknown issuer, expired, revoked), or none when they are required,
 * closes the socket as soon as the handshake is done, before any MQTT byte is read;
 * a verified one's CN goes with the stream to the authenticator, which binds it to
 * the device id. Node's own `rejectUnauthorized` would close such sockets too, but
 * without telling (no event): the check is done here so that each refusal is counted.
 */
export async function listenTls(
  opts: {
    port: number;
    material: TlsMaterial;
    handshakeTimeoutMs: number;
    deviceCerts: DeviceCertSettings | undefined;
  },
  host: string,
  handle: ConnectionHandler,
  g: ListenerGuards,
): Promise<Listener> {
  const certs = opts.deviceCerts;
  const build: TlsConsumer['build'] = (files) => ({
    cert: files.TLS_CERT_FILE,
    key: files.TLS_KEY_FILE,
    ...(certs ? { ca: files.VITALINK_DEVICE_CA_FILE, crl: files.VITALINK_DEVICE_CRL_FILE } : {}),
  });
  const tlsServer = tls.createServer(
    {
      ...build(opts.material.contents),
      handshakeTimeout: opts.handshakeTimeoutMs,
      requestCert: certs !== undefined,
      rejectUnauthorized: false,
    },
    (socket) => {
      if (certs) {
        const cert = socket.getPeerCertificate();
        const presented = cert && Object.keys(cert).length > 0;
        const refusal = presented
          ? socket.authorized
            ? undefined
            : ('device_cert_invalid' as const)
          : certs.mode === 'required'
            ? ('device_cert_missing' as const)
            : undefined;
        if (refusal) {
          g.refused('mqtts', refusal);
          g.log.info({ reason: refusal, code: socket.authorizationError ?? null }, 'device certificate refused');
          socket.destroy();
          return;
        }
        (socket as tls.TLSSocket & DeviceCertified)[DEVICE_CERT_SUBJECT] = presented ? (subjectCn(cert) ?? '') : null;
      }
      prepareSocket(socket);
      handle(socket);
    },
  );
  opts.material.use({ build, apply: (options) => tlsServer.setSecureContext(options) });
  const server = guardedTlsFront(tlsServer, {
    admit: (raw) => g.limits.admit('mqtts', raw),
    refused: (reason) => g.refused('mqtts', reason),
    log: g.log,
  });
  const real = await listen(server, opts.port, host);
  g.log.info({ listener: 'mqtts', host, port: real }, 'listening');
  return { name: 'mqtts', port: real, close: () => closeServer(server) };
}

const HTTP_408 = 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n';
const HTTP_400 = 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n';

/** How often Node's HTTP server checks its header and request timeouts (its default is 30 s). */
const HTTP_TIMEOUT_CHECK_MS = 1_000;

/**
 * WebSocket: the HTTP server behind it refuses over-cap sockets first, then
 * bounds the upgrade request (headersTimeout, requestTimeout: an upgrade that
 * does not arrive in time is answered 408 and closed); once upgraded, the
 * broker's CONNECT timeout applies as on the other listeners.
 */
export async function listenWebSocket(
  opts: { port: number; preConnectFrameBytes: number; maxFrameBytes: number; handshakeTimeoutMs: number },
  host: string,
  handle: ConnectionHandler,
  g: ListenerGuards,
): Promise<Listener> {
  const server = http.createServer(
    {
      headersTimeout: opts.handshakeTimeoutMs,
      requestTimeout: opts.handshakeTimeoutMs,
      connectionsCheckingInterval: Math.min(HTTP_TIMEOUT_CHECK_MS, opts.handshakeTimeoutMs),
      keepAliveTimeout: Math.min(5_000, opts.handshakeTimeoutMs),
    },
    (_req, res) => {
      res
        .writeHead(426, { 'content-type': 'text/plain', connection: 'close' })
        .end('MQTT over WebSocket: connect to /mqtt\n');
    },
  );
  // Before the HTTP server's own listener: a refused socket never gets a parser.
  server.prependListener('connection', (socket: net.Socket) => {
    if (g.limits.admit('mqtt-ws', socket)) prepareSocket(socket);
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    const timeout = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' || err.code === 'ERR_HTTP_HEADERS_TIMEOUT';
    if (timeout) g.refused('mqtt-ws', 'ws_handshake_timeout');
    if (socket.writable) {
      socket.write(timeout ? HTTP_408 : HTTP_400);
    }
    socket.destroy();
  });
  // A socket silent for this long before or during its upgrade request (headersTimeout
  // counts only once a request has begun). ws clears this timeout on the upgraded socket.
  server.setTimeout(opts.handshakeTimeoutMs, (socket: net.Socket) => {
    g.refused('mqtt-ws', 'ws_handshake_timeout');
    if (socket.writable) socket.write(HTTP_408);
    socket.destroy();
  });
  // ws buffers a whole message (up to maxPayload) before the frame guard sees it: the
  // bound starts at the pre-CONNECT one and is raised once the session is authenticated.
  const wss = new WebSocketServer({
    server,
    path: '/mqtt',
    maxPayload: opts.preConnectFrameBytes,
    perMessageDeflate: false,
  });
  wss.on('connection', (ws, req) => {
    const stream = createWebSocketStream(ws) as Duplex & FrameLimited;
    stream.on('error', () => {}); // reported by Aedes through the client; avoid an unhandled error here
    let raised = false;
    ws.on('error', (err: NodeJS.ErrnoException) => {
      if (!raised && err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') g.refused('mqtt-ws', 'connect_too_large');
    });
    stream[RAISE_FRAME_LIMIT] = () => {
      raised = true;
      // ws has no public setter for one connection's bound; its receiver holds it.
      const receiver = (ws as unknown as { _receiver?: { _maxPayload: number } })._receiver;
      if (receiver) receiver._maxPayload = opts.maxFrameBytes;
    };
    handle(stream, req);
  });
  const real = await listen(server, opts.port, host);
  g.log.info({ listener: 'mqtt-ws', host, port: real, path: '/mqtt' }, 'listening');
  return {
    name: 'mqtt-ws',
    port: real,
    close: async () => {
      wss.close();
      await closeServer(server);
    },
  };
}
