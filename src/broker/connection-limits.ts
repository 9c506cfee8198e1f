import type net from 'node:net';

/** Why a listener refused or closed a socket before MQTT began: the `reason` label of `vitalink_listener_refusals_total`. */
export const LISTENER_REFUSAL_REASONS = [
  /** Every MQTT listener together already holds VITALINK_MQTT_MAX_CONNECTIONS sockets. */
  'max_connections',
  /** The source address already holds VITALINK_MQTT_MAX_CONNECTIONS_PER_ADDRESS sockets. */
  'max_connections_per_address',
  /** The TLS handshake did not finish within VITALINK_TLS_HANDSHAKE_TIMEOUT_MS. */
  'tls_handshake_timeout',
  /** The TLS handshake failed (bad record, protocol, cipher, reset). */
  'tls_handshake_failed',
  /** VITALINK_DEVICE_CERTS=required and the client presented no certificate (closed once the handshake is done). */
  'device_cert_missing',
  /** The client's certificate does not verify against VITALINK_DEVICE_CA_FILE and VITALINK_DEVICE_CRL_FILE (unknown issuer, expired, revoked). */
  'device_cert_invalid',
  /** The WebSocket upgrade request's headers did not arrive within VITALINK_WS_HANDSHAKE_TIMEOUT_MS (or were malformed). */
  'ws_handshake_timeout',
  /** No complete CONNECT within VITALINK_MQTT_CONNECT_TIMEOUT_MS of the transport being ready. */
  'connect_timeout',
  /** A packet before authentication (the CONNECT) declared more than VITALINK_MQTT_CONNECT_MAX_BYTES. */
  'connect_too_large',
  /** A connection from VITALINK_TRUSTED_PROXIES did not begin with a valid PROXY protocol header. */
  'proxy_header_invalid',
  /** A connection from VITALINK_TRUSTED_PROXIES sent no PROXY protocol header within the connect timeout. */
  'proxy_header_timeout',
] as const;

export type ListenerRefusalReason = (typeof LISTENER_REFUSAL_REASONS)[number];
/** `https`: the HTTPS listener (src/http/https-listener.ts), with caps of its own. */
export type ListenerName = 'mqtt' | 'mqtts' | 'mqtt-ws' | 'https' | 'http';

export interface ConnectionLimitSettings {
  /** Open sockets of every MQTT listener together. */
  readonly maxConnections: number;
  /** Open sockets from one source address, every MQTT listener together. */
  readonly maxPerAddress: number;
}

export interface ConnectionLimitEvents {
  refused(listener: ListenerName, reason: ListenerRefusalReason): void;
  /** The listener's count of open sockets changed. */
  counted(listener: ListenerName, open: number): void;
}

/**
 * Caps the sockets the MQTT listeners hold, in all and per source address, and
 * counts them. State is one integer per address that has an open socket, so it
 * is bounded by the global cap. A refused socket is destroyed at once, before
 * TLS, HTTP or Aedes allocate anything for it.
 */
export class ConnectionLimits {
  readonly #s: ConnectionLimitSettings;
  readonly #perAddress = new Map<string, number>();
  readonly #perListener = new Map<ListenerName, number>();
  #open = 0;
  readonly #on: ConnectionLimitEvents;

  constructor(settings: ConnectionLimitSettings, on: ConnectionLimitEvents) {
    this.#s = settings;
    this.#on = on;
  }

  /** Open sockets of one listener (or of all), as counted here. */
  open(listener?: ListenerName): number {
    return listener ? (this.#perListener.get(listener) ?? 0) : this.#open;
  }

  /** Addresses with at least one open socket. */
  get addresses(): number {
    return this.#perAddress.size;
  }

  /**
   * Admits a freshly accepted raw socket or destroys it. An admitted socket is
   * released when it closes, whatever closes it. `address`: the client's, when a
   * trusted proxy's PROXY header gave it (src/broker/proxy-protocol.ts).
   */
  admit(listener: ListenerName, socket: net.Socket, address: string = socket.remoteAddress ?? ''): boolean {
    let reason: ListenerRefusalReason | undefined;
    if (this.#open >= this.#s.maxConnections) reason = 'max_connections';
    else if ((this.#perAddress.get(address) ?? 0) >= this.#s.maxPerAddress) reason = 'max_connections_per_address';
    if (reason) {
      this.#on.refused(listener, reason);
      // resetAndDestroy: no FIN handshake to wait for, the descriptor goes now.
      socket.resetAndDestroy();
      return false;
    }
    this.#open++;
    this.#count(listener, 1);
    this.#perAddress.set(address, (this.#perAddress.get(address) ?? 0) + 1);
    socket.once('close', () => {
      this.#open--;
      this.#count(listener, -1);
      const n = (this.#perAddress.get(address) ?? 1) - 1;
      if (n === 0) this.#perAddress.delete(address);
      else this.#perAddress.set(address, n);
    });
    return true;
  }

  #count(listener: ListenerName, delta: number): void {
    const n = (this.#perListener.get(listener) ?? 0) + delta;
    this.#perListener.set(listener, n);
    this.#on.counted(listener, n);
  }
}
