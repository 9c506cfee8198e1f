import type { IClientOptions, MqttClient } from 'mqtt';
import { connectClient } from '../../simulators/mqtt-connect.ts';

export interface Reading {
  id: string;
  type: string;
  at: string | number;
  value?: number;
  systolic?: number;
  diastolic?: number;
  pulse?: number;
  unit: string;
  context?: string;
}

export function heartRate(id: string, value = 72, at: string | number = Date.now()): Reading {
  return { id, type: 'heart_rate', at, value, unit: '/min' };
}

export interface Rejected {
  id: string | null;
  reason: string;
  detail: string;
}

/** Connects with a device's credentials (username = client id = device id). */
export function connectDevice(
  url: string,
  deviceId: string,
  secret: string,
  options: IClientOptions = {},
): Promise<MqttClient> {
  return connectClient(url, {
    clientId: deviceId,
    username: deviceId,
    password: secret,
    connectTimeout: 5_000,
    ...options,
  });
}

/** Subscribes to the device's rejections topic and collects what arrives. */
export async function collectRejections(client: MqttClient, deviceId: string): Promise<Rejected[]> {
  const received: Rejected[] = [];
  client.on('message', (topic, payload) => {
    if (topic === `v1/devices/${deviceId}/rejections`) received.push(JSON.parse(payload.toString()));
  });
  await client.subscribeAsync(`v1/devices/${deviceId}/rejections`, { qos: 1 });
  return received;
}

export async function waitFor<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A device that behaves as the protocol asks (device-protocol.md, "What a PUBACK
 * means"): it keeps every reading until its PUBACK and resends what was not
 * acknowledged after a reconnect. It records what was sent and acknowledged so
 * a test can compare them with the table.
 */
export class StreamingDevice {
  readonly id: string;
  readonly sent = new Map<string, Reading>();
  readonly acked = new Set<string>();
  #unacked = new Map<string, Reading>();
  #client: MqttClient | undefined;
  #url: string;
  readonly #secret: string;
  #counter = 0;
  #running = false;
  #loop: Promise<void> | undefined;
  connections = 0;

  constructor(url: string, id: string, secret: string) {
    this.#url = url;
    this.id = id;
    this.#secret = secret;
  }

  get unackedCount(): number {
    return this.#unacked.size;
  }

  /** Publishes readings in messages of `perMessage`, `inflight` messages at a time, until stop(). */
  start(perMessage = 10, inflight = 4): void {
    this.#running = true;
    this.#loop = this.#run(perMessage, inflight);
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
  }

  /** Reconnects (to `url` when given) and resends every unacknowledged reading until all are acknowledged. */
  async flushUnacked(url?: string, timeoutMs = 30_000): Promise<void> {
    if (url) this.#url = url;
    const deadline = Date.now() + timeoutMs;
    while (this.#unacked.size > 0) {
      if (Date.now() > deadline) throw new Error(`${this.id}: ${this.#unacked.size} readings never acknowledged`);
      try {
        const client = await this.#connected();
        const pending = [...this.#unacked.values()];
        for (let i = 0; i < pending.length; i += 50) {
          const chunk = pending.slice(i, i + 50);
          await client.publishAsync(`v1/devices/${this.id}/readings`, JSON.stringify({ readings: chunk }), { qos: 1 });
          for (const r of chunk) this.#ack(r.id);
        }
      } catch {
        await this.#drop();
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  async close(): Promise<void> {
    this.#running = false;
    await this.#drop();
  }

  #ack(id: string): void {
    this.acked.add(id);
    this.#unacked.delete(id);
  }

  async #connected(): Promise<MqttClient> {
    if (this.#client?.connected) return this.#client;
    await this.#drop();
    const client = await connectDevice(this.#url, this.id, this.#secret, { connectTimeout: 2_000, keepalive: 10 });
    client.on('error', () => {});
    // A lost connection fails the publishes waiting on it, so that they are resent on the next one.
    client.on('close', () => client.end(true));
    this.#client = client;
    this.connections++;
    return this.#client;
  }

  async #drop(): Promise<void> {
    const c = this.#client;
    this.#client = undefined;
    if (c) await c.endAsync(true).catch(() => {});
  }

  async #run(perMessage: number, inflight: number): Promise<void> {
    const publishOne = async (client: MqttClient) => {
      const readings: Reading[] = [];
      for (let i = 0; i < perMessage; i++) {
        const id = `${this.id}-${++this.#counter}`;
        const r = heartRate(id, 60 + (this.#counter % 40), Date.now() - 1000);
        this.sent.set(id, r);
        this.#unacked.set(id, r);
        readings.push(r);
      }
      await client.publishAsync(`v1/devices/${this.id}/readings`, JSON.stringify({ readings }), { qos: 1 });
      for (const r of readings) this.#ack(r.id);
    };
    while (this.#running) {
      let client: MqttClient;
      try {
        client = await this.#connected();
      } catch {
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      const workers = Array.from({ length: inflight }, async () => {
        while (this.#running && client.connected) await publishOne(client);
      });
      await Promise.all(workers).catch(async () => {
        await this.#drop();
        await new Promise((r) => setTimeout(r, 100));
      });
    }
  }
}
