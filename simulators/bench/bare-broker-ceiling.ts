import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { Aedes } from 'aedes';
import type { IClientOptions, MqttClient } from 'mqtt';
import { connectClient } from '../mqtt-connect.ts';

/**
 * The MQTT side of `vitalink bench`: closed-loop QoS 1 publishers, and the figure
 * they reach against a bare Aedes broker that acknowledges every publish at once
 * and stores nothing (no subscribers, no persistence beyond Aedes' in-memory
 * default, which keeps nothing for QoS 1 publishes nobody subscribed to).
 *
 * The broker runs in the calling process, on the same event loop as the
 * publishers, as the service's broker would if benched in-process: the figure is
 * that of this pairing, not of Aedes alone. `publishClosedLoop` takes any broker
 * URL, so the same publishers can be pointed at another broker (a Mosquitto on the
 * machine, or the service itself with per-publisher credentials and topics).
 */

export interface PublishOptions {
  /** Broker URL, e.g. `mqtt://127.0.0.1:PORT`. */
  readonly url: string;
  /** Number of MQTT connections, each publishing on its own. */
  readonly publishers: number;
  /** How long PUBACKs are counted, from the moment every publisher is connected. */
  readonly durationMs: number;
  /** QoS 1 messages each publisher keeps in flight (a new one is sent on each PUBACK). */
  readonly inflight: number;
  readonly payloadBytes: number;
  /** Topic of publisher `index`; `bench/{index}` unless given. */
  readonly topic?: (index: number) => string;
  /** Payload of publisher `index` (e.g. a valid reading for the service); a filler of `payloadBytes` unless given. */
  readonly payload?: (index: number) => Buffer;
  /** Extra connect options of publisher `index` (client id, username, password...). */
  readonly clientOptions?: (index: number) => IClientOptions;
  /** How long to wait for the PUBACKs still due after the window, before closing. */
  readonly drainTimeoutMs?: number;
}

export interface PublishResult {
  /** PUBACKs counted in the window, per second of the window. */
  readonly messagesPerSecond: number;
  /** PUBACKs counted in the window. */
  readonly acked: number;
  readonly elapsedMs: number;
}

export interface BareBrokerOptions {
  readonly publishers: number;
  readonly durationMs: number;
  readonly inflight: number;
  readonly payloadBytes: number;
}

export interface BareBrokerResult extends PublishResult {
  /** Where the bare broker listened (closed by the time this is returned). */
  readonly url: string;
}

export interface BareBroker {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** An Aedes broker on 127.0.0.1, on a port the system picks, that acknowledges without storing. */
export async function startBareBroker(): Promise<BareBroker> {
  const aedes = new Aedes({
    authorizePublish: (_client, _packet, callback) => callback(null),
  });
  await aedes.listen();
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ noDelay: true }, (socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    aedes.handle(socket);
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    async close() {
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await serverClosed;
    },
  };
}

function checkPositive(name: string, value: number, integer: boolean): void {
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new RangeError(`${name} must be a positive ${integer ? 'integer' : 'number'}`);
  }
}

function connect(url: string, options: IClientOptions): Promise<MqttClient> {
  return connectClient(url, { connectTimeout: 5_000, ...options });
}

/**
 * Connects `publishers` clients to `url`, then for `durationMs` keeps `inflight`
 * QoS 1 publishes outstanding on each (closed loop) and counts the PUBACKs.
 * Rejects if a connection fails or drops, or a publish fails, during the window.
 */
export async function publishClosedLoop(options: PublishOptions): Promise<PublishResult> {
  const { url, publishers, durationMs, inflight, payloadBytes } = options;
  checkPositive('publishers', publishers, true);
  checkPositive('durationMs', durationMs, false);
  checkPositive('inflight', inflight, true);
  if (!Number.isInteger(payloadBytes) || payloadBytes < 0) throw new RangeError('payloadBytes must be an integer >= 0');
  const topicOf = options.topic ?? ((i: number) => `bench/${i}`);
  const filler = Buffer.alloc(payloadBytes, 'x');
  const payloadOf = options.payload ?? (() => filler);
  const run = randomBytes(4).toString('hex');

  const clients: MqttClient[] = [];
  try {
    const connected = await Promise.allSettled(
      Array.from({ length: publishers }, (_, i) =>
        connect(url, { clientId: `bench-${run}-${i}`, ...options.clientOptions?.(i) }),
      ),
    );
    for (const c of connected) if (c.status === 'fulfilled') clients.push(c.value);
    const refused = connected.find((c) => c.status === 'rejected');
    if (refused) throw (refused as PromiseRejectedResult).reason;

    let counting = true;
    let acked = 0;
    let outstanding = 0;
    let failure: Error | undefined;
    let drained: (() => void) | undefined;
    const fail = (error: Error) => {
      failure ??= error;
      counting = false;
      drained?.();
    };

    const send = (client: MqttClient, topic: string, payload: Buffer) => {
      outstanding++;
      client.publish(topic, payload, { qos: 1 }, (error) => {
        outstanding--;
        if (error) return fail(error);
        if (!counting) {
          if (outstanding === 0) drained?.();
          return;
        }
        acked++;
        send(client, topic, payload);
      });
    };

    const start = performance.now();
    clients.forEach((client, i) => {
      client.on('error', fail);
      client.on('close', () => {
        if (counting) fail(new Error(`publisher ${i} disconnected during the measurement`));
      });
      const topic = topicOf(i);
      const payload = payloadOf(i);
      for (let k = 0; k < inflight; k++) send(client, topic, payload);
    });

    const { count, elapsedMs } = await new Promise<{ count: number; elapsedMs: number }>((resolve) => {
      setTimeout(() => {
        counting = false;
        resolve({ count: acked, elapsedMs: performance.now() - start });
      }, durationMs);
    });
    if (failure) throw failure;

    // Let the PUBACKs still due arrive, so connections end cleanly.
    if (outstanding > 0) {
      await new Promise<void>((resolve) => {
        drained = resolve;
        setTimeout(resolve, options.drainTimeoutMs ?? 5_000).unref();
      });
    }
    if (failure) throw failure;
    return { messagesPerSecond: count / (elapsedMs / 1000), acked: count, elapsedMs };
  } finally {
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => {})));
  }
}

/** The closed-loop publishers against a bare Aedes broker started (and closed) for the purpose. */
export async function measureBareBrokerCeiling(options: BareBrokerOptions): Promise<BareBrokerResult> {
  const broker = await startBareBroker();
  try {
    const result = await publishClosedLoop({ ...options, url: broker.url });
    return { ...result, url: broker.url };
  } finally {
    await broker.close();
  }
}
