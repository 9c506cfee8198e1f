import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { createWebSocketStream, WebSocketServer } from 'ws';
import type { Logger } from '../logger.ts';

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

export async function listenTcp(port: number, host: string, handle: ConnectionHandler, log: Logger): Promise<Listener> {
  const server = net.createServer({ noDelay: true }, (socket) => {
    prepareSocket(socket);
    handle(socket);
  });
  const real = await listen(server, port, host);
  log.info({ listener: 'mqtt', host, port: real }, 'listening');
  return { name: 'mqtt', port: real, close: () => closeServer(server) };
}

export async function listenTls(
  opts: { port: number; certFile: string; keyFile: string },
  host: string,
  handle: ConnectionHandler,
  log: Logger,
): Promise<Listener> {
  const server = tls.createServer(
    { cert: readFileSync(opts.certFile), key: readFileSync(opts.keyFile), handshakeTimeout: 10_000 },
    (socket) => {
      prepareSocket(socket);
      handle(socket);
    },
  );
  server.on('tlsClientError', (err) => log.debug({ err }, 'tls handshake failed'));
  const real = await listen(server, opts.port, host);
  log.info({ listener: 'mqtts', host, port: real }, 'listening');
  return { name: 'mqtts', port: real, close: () => closeServer(server) };
}

export async function listenWebSocket(
  port: number,
  host: string,
  maxFrameBytes: number,
  handle: ConnectionHandler,
  log: Logger,
): Promise<Listener> {
  const server = http.createServer((_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain' }).end('MQTT over WebSocket: connect to /mqtt\n');
  });
  server.on('connection', (socket) => prepareSocket(socket));
  const wss = new WebSocketServer({ server, path: '/mqtt', maxPayload: maxFrameBytes, perMessageDeflate: false });
  wss.on('connection', (ws, req) => {
    const stream = createWebSocketStream(ws);
    stream.on('error', () => {}); // reported by Aedes through the client; avoid an unhandled error here
    handle(stream, req);
  });
  const real = await listen(server, port, host);
  log.info({ listener: 'mqtt-ws', host, port: real, path: '/mqtt' }, 'listening');
  return {
    name: 'mqtt-ws',
    port: real,
    close: async () => {
      wss.close();
      await closeServer(server);
    },
  };
}
