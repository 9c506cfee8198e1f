import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { Aedes, type Client } from 'aedes';
import type { Config } from '../config.ts';
import { MAX_PAYLOAD_BYTES } from '../domain/protocol.ts';
import type { Rejection } from '../domain/reading.ts';
import type { Ingest } from '../ingest/ingest.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { CloseReason } from '../domain/close-reasons.ts';
import {
  ConnectRefused,
  type CredentialStore,
  SERVER_UNAVAILABLE,
  createAuthenticator,
  type StoredCredentials,
} from './authenticate.ts';
import { type LiveSession, SessionRevocation } from './session-revocation.ts';
import {
  DEVICE_CERT_SUBJECT,
  type DeviceCertified,
  type FrameLimited,
  type Listener,
  listenTcp,
  listenTls,
  listenWebSocket,
  RAISE_FRAME_LIMIT,
} from './listeners.ts';
import { AckQueue } from './ordered-acks.ts';
import { guardPacketSize, type PacketLengthTracker } from './packet-size-guard.ts';
import { ConnectThrottle } from './connect-throttle.ts';
import { ConnectionLimits, type ListenerName, type ListenerRefusalReason } from './connection-limits.ts';
import { createPublishHook } from './publish-hook.ts';
import { RejectionPublisher } from './rejection-publisher.ts';
import { isInsideDeviceNamespace } from './topics.ts';
import type { TlsMaterial } from '../tls/tls-material.ts';
import { SessionTakeover } from './session-takeover.ts';
import { clientAddressOf, trustedProxies } from './proxy-protocol.ts';
import { skipUnheardReadings } from './unheard-readings.ts';

/**
 * Largest remaining length of an MQTT packet: the protocol's 256 KiB payload plus
 * room for the topic (at most ~90 bytes here) and the fixed fields.
 */
export const MAX_REMAINING_LENGTH = MAX_PAYLOAD_BYTES + 1024;

/** Rejection messages waiting to be published to one device; beyond, they stay in the database only. */
const MAX_QUEUED_REJECTIONS_PER_DEVICE = 10_000;

/** Fraction of a device's keepalive that a publish may wait for its PUBACK. */
const HOLD_FRACTION_OF_KEEPALIVE = 0.75;
const MIN_HOLD_MS = 500;

export interface BrokerDeps {
  readonly config: Config;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly ingest: Pick<Ingest, 'submit'>;
  readonly credentials: CredentialStore & {
    /** The stored credentials of several devices (the re-check of live sessions). */
    findMany(ids: readonly string[]): Promise<Map<string, StoredCredentials>>;
  };
  readonly now: () => number;
  /** Told when a device connects, publishes or disconnects (src/broker/device-activity.ts). */
  readonly activity?: { seen(deviceId: string, at: number): void };
  /** Period of the re-check of every live session's credentials (the fallback of notifications). */
  readonly revocationCheckMs?: number;
  /** The TLS files (src/tls/tls-material.ts), loaded: needed when MQTT_TLS_PORT is set. */
  readonly tlsMaterial?: TlsMaterial;
  /**
   * Tells every instance that these devices have a new session on this one (a
   * NOTIFY; src/broker/session-takeover.ts). Without it, a device that moves to
   * another instance keeps its session here until its keepalive ends it.
   */
  readonly announceSessions?: (deviceIds: readonly string[]) => Promise<void>;
}

/** Default period of the fallback re-check of live sessions' credentials. */
export const REVOCATION_CHECK_MS = 10_000;

export interface ListeningPorts {
  /** Absent with MQTT_PORT=off. */
  mqtt?: number;
  mqtts?: number;
  mqttWs?: number;
}

/**
 * The embedded Aedes broker, closed by default (architecture.md, "Security
 * facts"): every hook is overridden, a device reaches only its own topics, and
 * packets over the size bound are refused before they are buffered.
 *
 * It adapts Aedes only: listeners, authentication, the ACL, the frame-size
 * guard, ordered acks per connection and their hold bound, cancellation when a
 * connection closes, draining. What becomes of a payload is ingest/'s (the
 * publish hook calls `ingest.submit`); committed rejections come back through
 * `publishRejections`.
 *
 * States: created → listening (start) → draining (stopAccepting: no new
 * connections, publishes held unacknowledged) → closed (close).
 */
export class Broker {
  readonly #d: BrokerDeps;
  readonly #log: Logger;
  readonly aedes: Aedes;
  #listeners: Listener[] = [];
  #acks = new Map<Client, AckQueue>();
  #keepalive = new WeakMap<Client, number>();
  /** Sessions whose keepalive (0 or over the maximum) was replaced by the maximum: an idle bound. */
  #idleBound = new WeakSet<Client>();
  /** Each connection's frame guard: small until the session is authenticated. */
  #guards = new WeakMap<Client, PacketLengthTracker>();
  #listenerOf = new WeakMap<Client, ListenerName>();
  /** Source address of each connection (the throttle's key). */
  #addressOf = new WeakMap<Client, string>();
  readonly throttle: ConnectThrottle;
  readonly limits: ConnectionLimits;
  /** The stored secret hashes that stand for the secret each session authenticated with. */
  #sessionHash = new WeakMap<Client, readonly Buffer[]>();
  #revocationTimer: NodeJS.Timeout | undefined;
  readonly #revocation: SessionRevocation;
  #draining = false;
  #holdTimer: NodeJS.Timeout | undefined;
  readonly #rejections: RejectionPublisher;
  readonly #takeover: SessionTakeover | undefined;

  constructor(deps: BrokerDeps) {
    this.#d = deps;
    this.#log = deps.log.child({ component: 'broker' });
    const authenticate = createAuthenticator(deps.credentials, this.#log, deps.metrics);
    const log = this.#log;
    const { listenerLimits } = deps.config;
    this.throttle = new ConnectThrottle(listenerLimits.throttle);
    this.limits = new ConnectionLimits(
      { maxConnections: listenerLimits.maxConnections, maxPerAddress: listenerLimits.maxConnectionsPerAddress },
      {
        refused: (listener, reason) => {
          deps.metrics.listenerRefusals.labels(listener, reason).inc();
          log.debug({ listener, reason }, 'socket refused by a listener limit');
        },
        counted: (listener, open) => deps.metrics.listenerOpenSockets.labels(listener).set(open),
      },
    );
    this.#rejections = new RejectionPublisher(() => this.aedes, {
      maxQueuedPerDevice: MAX_QUEUED_REJECTIONS_PER_DEVICE,
      onDropped: (count) => deps.metrics.rejectionMessagesDropped.inc(count),
    });
    const acksFor = (client: Client): AckQueue => {
      let q = this.#acks.get(client);
      if (!q) {
        q = new AckQueue();
        this.#acks.set(client, q);
      }
      return q;
    };

    this.aedes = new Aedes({
      connectTimeout: deps.config.mqttConnectTimeoutMs,
      maxClientsIdLength: 64,
      heartbeatInterval: 60_000,
      // drainTimeout: a device that stops reading is disconnected after this long.
      drainTimeout: 30_000,
      preConnect: (client, packet, callback) => {
        // MQTT 3.1.1 lets a device ask for keepalive 0 (never silent-checked) or up to
        // 18 h, and has no CONNACK code to refuse it: both are served as the maximum,
        // which Aedes then enforces (a connection silent for 1.5 times as long is closed).
        const asked = packet.keepalive ?? 0;
        if (asked === 0 || asked > listenerLimits.maxKeepaliveS) {
          packet.keepalive = listenerLimits.maxKeepaliveS;
          this.#idleBound.add(client);
        }
        this.#keepalive.set(client, packet.keepalive ?? listenerLimits.maxKeepaliveS);
        callback(null, true);
      },
      authenticate: (client, username, password, callback) => {
        const address = this.#addressOf.get(client) ?? '';
        const throttled = this.throttle.check(address, client.id, deps.now());
        if (throttled) {
          // Refused before any lookup: CONNACK 3, "server unavailable", which devices retry later.
          deps.metrics.connectionsRefused.labels(throttled).inc();
          log.info({ clientId: client.id, reason: throttled }, 'connection refused');
          return callback(Object.assign(new ConnectRefused(SERVER_UNAVAILABLE, throttled), { returnCode: 3 }), false);
        }
        const certificateSubject = (client.conn as DeviceCertified | undefined)?.[DEVICE_CERT_SUBJECT];
        authenticate(client, username, password, certificateSubject).then(
          (secretHashes) => {
            if (this.throttle.connected(client.id, deps.now())) {
              deps.metrics.connectionsRefused.labels('flapping').inc();
              log.info({ clientId: client.id, reason: 'flapping' }, 'connection refused');
              return callback(
                Object.assign(new ConnectRefused(SERVER_UNAVAILABLE, 'flapping'), { returnCode: 3 }),
                false,
              );
            }
            this.#sessionHash.set(client, secretHashes);
            // Authenticated: packets up to the protocol's bound from now on.
            this.#guards.get(client)?.setLimit(MAX_REMAINING_LENGTH);
            (client.conn as FrameLimited)[RAISE_FRAME_LIMIT]?.();
            callback(null, true);
          },
          (error: unknown) => {
            const refused = error instanceof ConnectRefused ? error : new ConnectRefused(3, 'authentication_failed');
            if (refused.reason !== 'database_unavailable' && refused.reason !== 'authentication_failed') {
              this.throttle.failed(address, client.id, deps.now());
            }
            callback(Object.assign(refused, { returnCode: refused.returnCode }), false);
          },
        );
      },
      authorizePublish: (() => {
        const hook = createPublishHook({
          ingest: deps.ingest,
          metrics: deps.metrics,
          log: this.#log,
          now: deps.now,
          acksFor,
          isDraining: () => this.#draining,
        });
        const activity = deps.activity;
        if (!activity) return hook;
        return (client: Client | null, packet: Parameters<typeof hook>[1], callback: Parameters<typeof hook>[2]) => {
          if (client) activity.seen(client.id, deps.now());
          hook(client, packet, callback);
        };
      })(),
      authorizeSubscribe: (client, sub, callback) => {
        if (isInsideDeviceNamespace(client.id, sub.topic)) return callback(null, sub);
        deps.metrics.connectionsRefused.labels('subscribe_not_authorized').inc();
        log.info({ clientId: client.id }, 'subscription outside the device namespace refused');
        callback(null, null); // SUBACK 0x80
      },
      // Deny by default: a device receives only what is in its own namespace.
      authorizeForward: (client, packet) => (isInsideDeviceNamespace(client.id, packet.topic) ? packet : null),
    });
    skipUnheardReadings(this.aedes);

    const announce = deps.announceSessions;
    this.#takeover = announce
      ? new SessionTakeover({
          instanceId: deps.config.instanceId,
          announce,
          session: (deviceId) => {
            const client = this.#liveClient(deviceId);
            return client && { key: client, close: () => this.#closeSession(client, 'taken_over') };
          },
          log: this.#log,
        })
      : undefined;
    this.aedes.on('client', (client) => {
      deps.metrics.connectedDevices.inc();
      deps.activity?.seen(client.id, deps.now());
      this.#takeover?.started(client.id, client);
    });
    this.aedes.on('clientDisconnect', (client) => {
      deps.metrics.connectedDevices.dec();
      deps.activity?.seen(client.id, deps.now());
      this.#forget(client);
    });
    this.#revocation = new SessionRevocation({
      sessions: (ids) => this.#liveSessions(ids),
      credentials: (ids) => deps.credentials.findMany(ids),
      log: this.#log,
    });
    this.aedes.on('clientError', (client, err) => {
      if (err.message === 'keep alive timeout') {
        deps.metrics.connectionsClosed.labels(this.#idleBound.has(client) ? 'idle_timeout' : 'keepalive_timeout').inc();
      }
      this.#forget(client);
      log.debug({ clientId: client.id, error: err.message }, 'client connection error');
    });
    this.aedes.on('connectionError', (client, err) => {
      if (err.message === 'connect did not arrive in time') {
        deps.metrics.listenerRefusals.labels(this.#listenerOf.get(client) ?? 'mqtt', 'connect_timeout').inc();
      }
      log.debug({ error: err.message }, 'connection error before CONNECT');
    });
  }

  /** Publishes a committed message's rejections on the device's rejections topic (device-protocol.md, "Rejections"). */
  publishRejections(deviceId: string, rejections: Rejection[]): void {
    this.#rejections.publish(deviceId, rejections);
  }

  /**
   * Re-checks the live sessions of a device (a notification said its credentials
   * changed), or of every device; closes those whose credentials no longer hold.
   */
  recheckSessions(deviceIds?: readonly string[]): Promise<number> {
    return this.#revocation.check(deviceIds);
  }

  /**
   * Sessions announced by an instance, this one included, in the order every
   * instance receives them: this instance's older sessions of those devices are
   * closed (README, "Running several instances"). Returns how many.
   */
  sessionsAnnounced(instanceId: string, deviceIds: readonly string[]): number {
    return this.#takeover?.announced(instanceId, deviceIds) ?? 0;
  }

  /** The announcement connection was (re)established: announcements may have been missed. */
  sessionsAnnouncementsReset(): void {
    this.#takeover?.reset();
  }

  /** Whether the device has a live session on this instance. */
  isConnected(deviceId: string): boolean {
    return this.#liveSessions([deviceId]).length > 0;
  }

  get draining(): boolean {
    return this.#draining;
  }

  get connectedDevices(): number {
    return this.aedes.connectedClients;
  }

  async start(): Promise<ListeningPorts> {
    await this.aedes.listen();
    const { config } = this.#d;
    const handler = (listener: ListenerName) => (stream: Duplex, req?: IncomingMessage) =>
      this.#handleConnection(listener, stream, req);
    const guards = {
      limits: this.limits,
      refused: (listener: ListenerName, reason: ListenerRefusalReason) =>
        this.#d.metrics.listenerRefusals.labels(listener, reason).inc(),
      log: this.#log,
    };
    const limits = config.listenerLimits;
    if (config.mqttPort !== undefined) {
      this.#listeners.push(
        await listenTcp(config.mqttPort, config.host, handler('mqtt'), guards, {
          trusted: trustedProxies(config.trustedProxies),
          headerTimeoutMs: config.mqttConnectTimeoutMs,
        }),
      );
    }
    if (config.tls) {
      if (!this.#d.tlsMaterial) throw new Error('MQTT_TLS_PORT is set: the broker needs the TLS material');
      this.#listeners.push(
        await listenTls(
          {
            port: config.tls.port,
            material: this.#d.tlsMaterial,
            handshakeTimeoutMs: limits.tlsHandshakeTimeoutMs,
            deviceCerts: config.deviceCerts ? { mode: config.deviceCerts.mode } : undefined,
          },
          config.host,
          handler('mqtts'),
          guards,
        ),
      );
    }
    if (config.wsPort !== undefined) {
      this.#listeners.push(
        await listenWebSocket(
          {
            port: config.wsPort,
            preConnectFrameBytes: limits.connectMaxBytes + 5,
            maxFrameBytes: MAX_REMAINING_LENGTH + 5,
            handshakeTimeoutMs: limits.wsHandshakeTimeoutMs,
          },
          config.host,
          handler('mqtt-ws'),
          guards,
        ),
      );
    }
    for (const l of this.#listeners) this.#d.metrics.listenerOpenSockets.labels(l.name).set(this.limits.open(l.name));
    this.#holdTimer = setInterval(() => this.#closeOverheldConnections(), 250);
    this.#holdTimer.unref();
    this.#revocationTimer = setInterval(
      () => void this.#revocation.check(),
      this.#d.revocationCheckMs ?? REVOCATION_CHECK_MS,
    );
    this.#revocationTimer.unref();
    return this.ports();
  }

  ports(): ListeningPorts {
    const port = (name: Listener['name']) => this.#listeners.find((l) => l.name === name)?.port;
    return { mqtt: port('mqtt'), mqtts: port('mqtts'), mqttWs: port('mqtt-ws') };
  }

  get listening(): boolean {
    return this.#listeners.length > 0 && !this.#draining;
  }

  /** First step of a graceful stop: no new connections, no new publishes taken in. */
  async stopAccepting(): Promise<void> {
    this.#draining = true;
    this.#takeover?.stop();
    await Promise.all(this.#listeners.map((l) => l.close()));
  }

  /**
   * Last step: ends every connection after what was written to it (the PUBACKs of
   * committed messages) has been flushed, then closes the broker.
   */
  async close(timeoutMs = 5_000): Promise<void> {
    if (this.#holdTimer) clearInterval(this.#holdTimer);
    if (this.#revocationTimer) clearInterval(this.#revocationTimer);
    const clients = Object.values((this.aedes as unknown as { clients: Record<string, Client> }).clients);
    await Promise.all(
      clients.map(
        (client) =>
          new Promise<void>((resolve) => {
            const conn = (client as unknown as { conn: Duplex }).conn;
            if (!conn || conn.destroyed) return resolve();
            const timer = setTimeout(() => {
              conn.destroy();
              resolve();
            }, timeoutMs);
            conn.once('close', () => {
              clearTimeout(timer);
              resolve();
            });
            conn.end();
          }),
      ),
    );
    await new Promise<void>((resolve) => this.aedes.close(() => resolve()));
  }

  #handleConnection(listener: ListenerName, stream: Duplex, req?: IncomingMessage): void {
    const preConnectBound = this.#d.config.listenerLimits.connectMaxBytes;
    const guard = guardPacketSize(stream, preConnectBound, (declared, limit) => {
      if (limit === preConnectBound) {
        this.#d.metrics.listenerRefusals.labels(listener, 'connect_too_large').inc();
        this.#log.info(
          { listener, declaredBytes: declared },
          'packet before authentication over the size limit, connection closed',
        );
      } else {
        this.#d.metrics.connectionsClosed.labels('packet_too_large').inc();
        this.#log.info({ declaredBytes: declared }, 'packet over the size limit, connection closed');
      }
    });
    const client = this.aedes.handle(stream, req as IncomingMessage);
    this.#guards.set(client, guard);
    this.#listenerOf.set(client, listener);
    this.#addressOf.set(client, req ? (req.socket.remoteAddress ?? '') : clientAddressOf(stream as Partial<Socket>));
  }

  #liveSessions(ids?: readonly string[]): LiveSession[] {
    const clients = (this.aedes as unknown as { clients: Record<string, Client> }).clients;
    const candidates = ids
      ? ids.map((id) => (Object.hasOwn(clients, id) ? clients[id] : undefined))
      : Object.values(clients);
    const sessions: LiveSession[] = [];
    for (const client of candidates) {
      const secretHashes = client ? this.#sessionHash.get(client) : undefined;
      if (!client || !secretHashes || client.closed) continue;
      sessions.push({
        deviceId: client.id,
        secretHashes,
        close: (reason: CloseReason) => this.#closeSession(client, reason),
      });
    }
    return sessions;
  }

  /** The device's authenticated, open session on this instance. */
  #liveClient(deviceId: string): Client | undefined {
    const clients = (this.aedes as unknown as { clients: Record<string, Client> }).clients;
    const client = Object.hasOwn(clients, deviceId) ? clients[deviceId] : undefined;
    return client && !client.closed && this.#sessionHash.has(client) ? client : undefined;
  }

  /** Closes a session for a reason of the catalogue (revoked credentials, taken over elsewhere). */
  #closeSession(client: Client, reason: CloseReason): void {
    this.#d.metrics.connectionsClosed.labels(reason).inc();
    this.#log.info({ clientId: client.id, reason }, 'closing connection');
    this.#forget(client);
    client.close();
  }

  #forget(client: Client): void {
    const q = this.#acks.get(client);
    if (q) {
      q.close();
      this.#acks.delete(client);
    }
  }

  /**
   * A publish held longer than its bound (database unreachable, queue full) closes
   * its connection before the device's keepalive would: the device reconnects and
   * resends later, and the resend is absorbed as a duplicate if it was stored.
   */
  #closeOverheldConnections(): void {
    const now = performance.now();
    for (const [client, q] of this.#acks) {
      const oldest = q.oldestArrival;
      if (oldest === undefined || this.#draining) continue;
      const keepaliveS = this.#keepalive.get(client) ?? 0;
      const bound =
        keepaliveS > 0
          ? Math.min(this.#d.config.holdMaxMs, Math.max(MIN_HOLD_MS, keepaliveS * 1000 * HOLD_FRACTION_OF_KEEPALIVE))
          : this.#d.config.holdMaxMs;
      if (now - oldest > bound) {
        this.#d.metrics.connectionsClosed.labels('ack_hold_timeout').inc();
        this.#log.warn(
          { clientId: client.id, heldMs: Math.round(now - oldest) },
          'publish held too long, closing connection',
        );
        this.#forget(client);
        client.close();
      }
    }
  }
}
