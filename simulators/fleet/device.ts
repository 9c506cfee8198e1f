/**
 * One simulated device: a real MQTT client with its own credentials (client id =
 * username = device id), publishing at QoS 1. Like a device following
 * device-protocol.md, it keeps every message until its PUBACK and resends those
 * still unacknowledged after a reconnect; it listens on its rejections topic.
 */
import type { MqttClient } from 'mqtt';
import { connectClient } from '../mqtt-connect.ts';
import { type PlannedMessage, SLOW_CONSUMER_PAUSE_MS } from './faults.ts';

export interface DeviceStats {
  messagesPublished: number;
  messagesAcked: number;
  messagesResent: number;
  readingsPublished: number;
  readingsAcked: number;
  readingsResent: number;
  reconnects: number;
  /** Messages received on the rejections topic, by reason. */
  rejections: Record<string, number>;
}

interface Outgoing extends PlannedMessage {
  seq: number;
  acked: boolean;
  dropped: boolean;
  paused: boolean;
}

const RECONNECT_ATTEMPTS = 20;

export class SimulatedDevice {
  readonly id: string;
  readonly stats: DeviceStats = {
    messagesPublished: 0,
    messagesAcked: 0,
    messagesResent: 0,
    readingsPublished: 0,
    readingsAcked: 0,
    readingsResent: 0,
    reconnects: 0,
    rejections: {},
  };
  private readonly url: string;
  private readonly secret: string;
  private readonly window: number;
  private readonly onFailure: (error: Error) => void;
  private client: MqttClient | undefined;
  private connected = false;
  private stopping = false;
  private seq = 0;
  private readonly queue: Outgoing[] = [];
  private readonly inflight = new Map<number, Outgoing>();
  private idleWaiters: (() => void)[] = [];

  constructor(o: { id: string; secret: string; url: string; window: number; onFailure: (error: Error) => void }) {
    this.id = o.id;
    this.secret = o.secret;
    this.url = o.url;
    this.window = o.window;
    this.onFailure = o.onFailure;
  }

  get isConnected(): boolean {
    return this.connected;
  }

  /** Messages published and not yet acknowledged. */
  get inFlight(): number {
    return this.inflight.size;
  }

  get pending(): number {
    return this.queue.length + this.inflight.size;
  }

  get rejectionsReceived(): number {
    return Object.values(this.stats.rejections).reduce((a, b) => a + b, 0);
  }

  async connect(): Promise<void> {
    const client = await openClient(this.url, this.id, this.secret);
    client.on('message', (_topic, payload) => {
      let reason = 'unparseable';
      try {
        const parsed = JSON.parse(payload.toString()) as { reason?: unknown };
        if (typeof parsed.reason === 'string') reason = parsed.reason;
      } catch {
        // counted as unparseable
      }
      this.stats.rejections[reason] = (this.stats.rejections[reason] ?? 0) + 1;
    });
    client.on('error', () => {}); // a close follows; handled there
    client.once('close', () => this.onClose(client));
    await client.subscribeAsync(`v1/devices/${this.id}/rejections`, { qos: 1 });
    this.client = client;
    this.connected = true;
    // Resend what the previous connection left unacknowledged, in order.
    for (const m of [...this.inflight.values()].sort((a, b) => a.seq - b.seq)) {
      this.stats.messagesResent++;
      this.stats.readingsResent += m.readings;
      this.send(m);
    }
    this.pump();
  }

  enqueue(messages: readonly PlannedMessage[]): void {
    for (const m of messages) this.queue.push({ ...m, seq: ++this.seq, acked: false, dropped: false, paused: false });
    this.pump();
  }

  /** Resolves once every enqueued message is acknowledged. */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.connected = false;
    const client = this.client;
    this.client = undefined;
    if (client) await client.endAsync().catch(() => {});
  }

  private pump(): void {
    while (this.connected && this.queue.length > 0 && this.inflight.size < this.window) {
      const next = this.queue[0];
      if (next.barrier && this.inflight.size > 0) break;
      this.queue.shift();
      this.inflight.set(next.seq, next);
      this.stats.messagesPublished++;
      this.stats.readingsPublished += next.readings;
      this.send(next);
    }
    if (this.pending === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private send(m: Outgoing): void {
    const client = this.client!;
    client.publish(`v1/devices/${this.id}/readings`, m.payload, { qos: 1 }, (error) => {
      // An error means the connection went away: the message stays in flight and is resent.
      if (error || !this.inflight.has(m.seq)) return;
      this.inflight.delete(m.seq);
      if (!m.acked) {
        m.acked = true;
        this.stats.messagesAcked++;
        this.stats.readingsAcked += m.readings;
      }
      this.pump();
    });
    if (m.pauseAfter && !m.paused) {
      // A device that stops reading: its PUBACKs and rejection messages wait unread in the socket.
      m.paused = true;
      const stream = client.stream;
      stream.pause();
      setTimeout(() => stream.resume(), SLOW_CONSUMER_PAUSE_MS).unref();
    }
    if (m.dropAfter && !m.dropped) {
      m.dropped = true;
      // Drop the TCP connection without DISCONNECT, before the PUBACK can arrive.
      this.connected = false;
      client.end(true);
    }
  }

  private onClose(client: MqttClient): void {
    if (this.client !== client) return;
    this.client = undefined;
    this.connected = false;
    if (this.stopping) return;
    void this.reconnect();
  }

  private async reconnect(): Promise<void> {
    for (let attempt = 1; attempt <= RECONNECT_ATTEMPTS && !this.stopping; attempt++) {
      await new Promise((r) => setTimeout(r, Math.min(50 * 2 ** attempt, 2000)));
      if (this.stopping) return;
      try {
        await this.connect();
        this.stats.reconnects++;
        return;
      } catch {
        // try again
      }
    }
    if (!this.stopping) this.onFailure(new Error(`device ${this.id} could not reconnect to ${this.url}`));
  }
}

/** Connects a device with its credentials (client id = username = device id). */
export function openClient(url: string, id: string, secret: string): Promise<MqttClient> {
  return connectClient(url, { clientId: id, username: id, password: secret });
}
