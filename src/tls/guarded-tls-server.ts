import net from 'node:net';
import type tls from 'node:tls';
import type { Logger } from '../logger.ts';

/** Why a TLS listener closed a socket during its handshake. */
export type HandshakeRefusal = 'tls_handshake_timeout' | 'tls_handshake_failed';

export interface TlsGuards {
  /** Admits a freshly accepted raw socket (the caps) or destroys it and returns false. */
  readonly admit: (raw: net.Socket) => boolean;
  readonly refused: (reason: HandshakeRefusal) => void;
  readonly log: Logger;
}

/**
 * The front of a TLS listener (MQTT over TLS and HTTPS alike): a plain TCP server
 * accepts, the caps admit or destroy the raw socket before any TLS state exists,
 * and only admitted sockets are handed to the TLS server (`emit('connection')`,
 * its documented injection point). Node emits `tlsClientError` when the TLS
 * server's `handshakeTimeout` expires but leaves the socket open: it is destroyed
 * here, as on any other handshake failure, and counted.
 */
export function guardedTlsFront(tlsServer: tls.Server, g: TlsGuards): net.Server {
  tlsServer.on('tlsClientError', (err: NodeJS.ErrnoException, socket: tls.TLSSocket) => {
    const timeout = err.code === 'ERR_TLS_HANDSHAKE_TIMEOUT';
    g.refused(timeout ? 'tls_handshake_timeout' : 'tls_handshake_failed');
    g.log.debug({ code: err.code }, timeout ? 'tls handshake timed out' : 'tls handshake failed');
    socket.destroy();
  });
  return net.createServer({ noDelay: true }, (raw) => {
    if (!g.admit(raw)) return;
    tlsServer.emit('connection', raw);
  });
}
