import net from 'node:net';
import type { IClientOptions, MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { useTestService } from '../fixture.ts';
import { connectPacket, publishPacket } from '../helpers/mqtt-packets.ts';
import { heartRate, waitFor } from '../helpers/device.ts';

/**
 * device-protocol.md, "Transport", "Identity", "Topics" and "Payload": what the
 * broker refuses, and that a refusal stores nothing.
 */

const secrets: Record<string, string> = {};

/** Devices, one or more per test, so that "nothing stored for this device" is exact. */
const AUTH = 'sec-auth-1';
const DISABLED = 'sec-disabled-1';
const ACL = 'sec-acl-1';
const VICTIM = 'sec-victim-1';
const SUB = 'sec-sub-1';
const SIZE = 'sec-size-1';
const SIZE_OK = 'sec-size-ok-1';
const V5 = 'sec-v5-1';
const WILL = 'sec-will-1';
const TWICE = 'sec-twice-1';
const METRICS = 'sec-metrics-1';
const UNKNOWN = 'sec-unknown-1';
const OTHER = 'sec-other-1';

const readingsTopic = (id: string) => `v1/devices/${id}/readings`;
const rejectionsTopic = (id: string) => `v1/devices/${id}/rejections`;

const KiB = 1024;
const MAX_PAYLOAD = 256 * KiB;

// The devices exist before the service starts.
const t = useTestService({
  beforeStart: async (fixture) => {
    for (const id of [AUTH, DISABLED, ACL, VICTIM, SUB, SIZE, SIZE_OK, V5, WILL, TWICE, METRICS, OTHER]) {
      secrets[id] = await fixture.provisionDevice(id);
    }
    await fixture.query('UPDATE devices SET enabled = false WHERE id = $1', [DISABLED]);
  },
});

/** Every raw socket a test opens, destroyed after the test whatever happened (the fixture ends its MQTT clients). */
const sockets: net.Socket[] = [];

afterEach(() => {
  for (const s of sockets.splice(0)) s.destroy();
});

async function connect(id: string, options: IClientOptions = {}): Promise<MqttClient> {
  const client = await t.connectDevice(id, secrets[id], options);
  client.on('error', () => {});
  return client;
}

/** Resolves when the client's connection has closed (at once if it already has). */
function closed(client: MqttClient): Promise<void> {
  const stream = client.stream as unknown as { destroyed?: boolean } | undefined;
  if (!client.connected && stream?.destroyed) return Promise.resolve();
  return new Promise((resolve) => client.once('close', () => resolve()));
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
    }),
  ]);
}

async function storedFor(deviceId: string): Promise<{ readings: number; rejections: number }> {
  const r = await t.query('SELECT count(*)::int AS n FROM readings WHERE device_id = $1', [deviceId]);
  const j = await t.query('SELECT count(*)::int AS n FROM rejections WHERE device_id = $1', [deviceId]);
  return { readings: r.rows[0].n, rejections: j.rows[0].n };
}

/**
 * Waits a little so that anything the service might still be writing would be
 * committed, then checks that nothing was stored for these devices.
 */
async function expectNothingStored(...deviceIds: string[]): Promise<void> {
  await new Promise((r) => setTimeout(r, 300));
  for (const id of deviceIds) expect({ id, ...(await storedFor(id)) }).toEqual({ id, readings: 0, rejections: 0 });
}

/** A raw TCP connection that records every byte the server sends and when it closes. */
interface RawConnection {
  readonly socket: net.Socket;
  received(): Buffer;
  /** Resolves when the server has closed the connection (end or reset). */
  readonly closed: Promise<void>;
}

function openRaw(port: number): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    sockets.push(socket);
    const chunks: Buffer[] = [];
    const closedPromise = new Promise<void>((done) => {
      socket.once('end', () => done());
      socket.once('close', () => done());
    });
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', () => {}); // a reset is one way for the server to close
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve({ socket, received: () => Buffer.concat(chunks), closed: closedPromise });
    });
    socket.once('error', reject);
  });
}

interface Refusal {
  readonly name: string;
  /** The device whose table rows must stay empty. */
  readonly deviceId: string;
  readonly clientId: string;
  readonly username?: string;
  /** The password to send (secrets are known only once the devices are provisioned). */
  readonly password: () => string | undefined;
  readonly returnCode: 4 | 5;
  readonly reason: string;
}

const REFUSALS: readonly Refusal[] = [
  {
    name: 'a wrong password',
    deviceId: AUTH,
    clientId: AUTH,
    username: AUTH,
    password: () => `${secrets[AUTH]}x`,
    returnCode: 4,
    reason: 'wrong_secret',
  },
  {
    name: 'a missing password',
    deviceId: AUTH,
    clientId: AUTH,
    username: AUTH,
    password: () => undefined,
    returnCode: 4,
    reason: 'missing_credentials',
  },
  {
    name: 'an unknown device',
    deviceId: UNKNOWN,
    clientId: UNKNOWN,
    username: UNKNOWN,
    password: () => secrets[AUTH],
    returnCode: 4,
    reason: 'unknown_device',
  },
  {
    name: 'a client id that is not the username',
    deviceId: AUTH,
    clientId: `${AUTH}-other`,
    username: AUTH,
    password: () => secrets[AUTH],
    returnCode: 5,
    reason: 'client_id_mismatch',
  },
  {
    name: 'a disabled device',
    deviceId: DISABLED,
    clientId: DISABLED,
    username: DISABLED,
    password: () => secrets[DISABLED],
    returnCode: 5,
    reason: 'device_disabled',
  },
];

/** Connects with mqtt.js and returns the error of the refused CONNECT. */
async function refusedConnect(
  r: Pick<Refusal, 'name' | 'clientId' | 'username' | 'password'>,
  protocolVersion: 4 | 5 = 4,
): Promise<{ code?: number; message: string }> {
  const options: IClientOptions = {
    clientId: r.clientId,
    username: r.username,
    password: r.password(),
    protocolVersion,
    reconnectPeriod: 0,
    connectTimeout: 5_000,
  };
  try {
    await t.mqttClient(options);
  } catch (error) {
    return error as { code?: number; message: string };
  }
  throw new Error(`${r.name}: the CONNECT was accepted`);
}

async function metricsText(): Promise<string> {
  const res = await fetch(`${t.httpUrl}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
}

/** The value of one sample, 0 when the labelled series does not exist yet. */
function sample(text: string, name: string, reason: string, listener?: string): number {
  const labels = listener ? `listener="${listener}",reason="${reason}"` : `reason="${reason}"`;
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
  return line ? Number(line.split(' ')[1]) : 0;
}

async function connectedDevices(): Promise<number> {
  const m = /^vitalink_connected_devices (\d+)$/m.exec(await metricsText());
  return Number(m?.[1]);
}

describe('CONNECT refusals (device-protocol.md, "Identity")', () => {
  for (const [index, r] of REFUSALS.entries()) {
    it(`refuses ${r.name} with return code ${r.returnCode}, closes the connection and stores nothing`, async () => {
      const error = await refusedConnect(r);
      expect(error.code).toBe(r.returnCode);

      // The same CONNECT by hand, with a reading publish right behind it in the
      // same write: the server answers only the CONNACK, then closes the connection.
      const raw = await openRaw(t.ports.mqtt!);
      raw.socket.write(
        Buffer.concat([
          connectPacket({
            clientId: r.clientId,
            username: r.username,
            password: r.password() === undefined ? undefined : Buffer.from(r.password() as string),
          }),
          publishPacket(readingsTopic(r.deviceId), JSON.stringify(heartRate(`refused-${index}`))),
        ]),
      );
      await within(raw.closed, 5_000, 'the server closing the refused connection');
      expect(raw.received().toString('hex')).toBe(`200200${r.returnCode.toString(16).padStart(2, '0')}`);

      await expectNothingStored(r.deviceId);
    });
  }

  it('still accepts the right credentials of the devices used above (the refusals were not for another reason)', async () => {
    const client = await connect(AUTH);
    expect(client.connected).toBe(true);
    await client.endAsync();
    await t.query('UPDATE devices SET enabled = true WHERE id = $1', [DISABLED]);
    try {
      const enabled = await connect(DISABLED);
      expect(enabled.connected).toBe(true);
      await enabled.endAsync();
    } finally {
      await t.query('UPDATE devices SET enabled = false WHERE id = $1', [DISABLED]);
    }
    await expectNothingStored(AUTH, DISABLED);
  });
});

describe('topic authorization (device-protocol.md, "Topics")', () => {
  it("closes the connection of a device that publishes to another device's readings topic, storing nothing", async () => {
    const client = await connect(ACL);
    const gone = closed(client);
    client.publish(readingsTopic(VICTIM), JSON.stringify(heartRate('acl-foreign-1')), { qos: 1 }, () => {});
    await within(gone, 5_000, 'the connection closing');
    await expectNothingStored(ACL, VICTIM);
  });

  it('closes the connection of a device that publishes to an arbitrary topic, storing nothing', async () => {
    const client = await connect(ACL);
    const gone = closed(client);
    client.publish('foo/bar', JSON.stringify(heartRate('acl-foo-1')), { qos: 1 }, () => {});
    await within(gone, 5_000, 'the connection closing');
    await expectNothingStored(ACL, VICTIM);
  });

  it('closes the connection on a QoS 0 publish outside its own topic too', async () => {
    const client = await connect(ACL);
    const gone = closed(client);
    client.publish(readingsTopic(VICTIM), JSON.stringify(heartRate('acl-foreign-q0')), { qos: 0 });
    await within(gone, 5_000, 'the connection closing');
    await expectNothingStored(ACL, VICTIM);
  });

  for (const [n, filter] of [
    rejectionsTopic(VICTIM),
    readingsTopic(VICTIM),
    '#',
    'v1/devices/+/rejections',
    '$SYS/#',
    'v1/#',
  ].entries()) {
    it(`answers SUBACK 0x80 to a subscription to ${filter}`, async () => {
      const client = await connect(SUB);
      // mqtt.js 5 turns a SUBACK failure code into a rejected promise carrying the SUBACK.
      const error = (await client.subscribeAsync(filter, { qos: 1 }).then(
        () => {
          throw new Error(`subscription to ${filter} was granted`);
        },
        (e: unknown) => e,
      )) as { packet?: { granted?: unknown } };
      expect(error.packet?.granted).toEqual([128]);
      // A refused subscription is not a reason to close the connection.
      expect(client.connected).toBe(true);
      await client.publishAsync(readingsTopic(SUB), JSON.stringify(heartRate(`sub-still-usable-${n}`)), { qos: 1 });
    });
  }

  it('grants subscriptions inside the own namespace', async () => {
    const client = await connect(SUB);
    const granted = await client.subscribeAsync({
      [rejectionsTopic(SUB)]: { qos: 1 },
      [`v1/devices/${SUB}/#`]: { qos: 1 },
    });
    expect(granted.map((g) => [g.topic, g.qos])).toEqual([
      [rejectionsTopic(SUB), 1],
      [`v1/devices/${SUB}/#`, 1],
    ]);
  });

  it("does not deliver another device's messages to a device whose wildcard subscription was refused", async () => {
    const watcher = await connect(SUB);
    const received: string[] = [];
    watcher.on('message', (topic) => received.push(topic));
    await watcher.subscribeAsync('#', { qos: 1 }).catch(() => {});
    await watcher.subscribeAsync(`v1/devices/${SUB}/#`, { qos: 1 });

    const other = await connect(OTHER);
    await other.publishAsync(readingsTopic(OTHER), '{"not": "a reading"', { qos: 1 });
    await watcher.publishAsync(readingsTopic(SUB), '{"not": "a reading"', { qos: 1 });
    await waitFor(() => received.includes(rejectionsTopic(SUB)), 'the own rejection', 5_000);
    await new Promise((r) => setTimeout(r, 300));
    // Its own publish comes back through its own `v1/devices/{id}/#`; nothing of the other device does.
    expect([...new Set(received)].sort()).toEqual([readingsTopic(SUB), rejectionsTopic(SUB)]);
    expect((await storedFor(OTHER)).rejections).toBe(1);
  });
});

describe('packet size (device-protocol.md, "Payload" and "Rejections")', () => {
  it('closes a connection that declares a 200 MB packet before CONNECT, without waiting for the body', async () => {
    const raw = await openRaw(t.ports.mqtt!);
    // PUBLISH QoS 0, remaining length 200 MiB as a four-byte variable byte integer.
    let length = 200 * 1024 * 1024;
    const varint: number[] = [];
    do {
      let byte = length % 128;
      length = Math.floor(length / 128);
      if (length > 0) byte |= 0x80;
      varint.push(byte);
    } while (length > 0);
    expect(varint).toHaveLength(4);
    raw.socket.write(Buffer.from([0x30, ...varint]));
    await within(raw.closed, 2_000, 'the server closing the connection');
    expect(raw.received()).toHaveLength(0);
  });

  it('closes the connection of a device that publishes 300 KiB at the transport, storing nothing', async () => {
    const before = await metricsText();
    const client = await connect(SIZE);
    const gone = closed(client);
    const padding = ' '.repeat(300 * KiB);
    const payload = `{"readings": [${JSON.stringify(heartRate('size-300k'))}]}${padding}`;
    client.publish(readingsTopic(SIZE), payload, { qos: 1 }, () => {});
    await within(gone, 5_000, 'the connection closing');
    await expectNothingStored(SIZE);
    // Refused from the fixed header by the size guard, not after the payload was read.
    const after = await metricsText();
    const closedBy = (reason: string) =>
      sample(after, 'vitalink_connections_closed_total', reason) -
      sample(before, 'vitalink_connections_closed_total', reason);
    expect([closedBy('packet_too_large'), closedBy('payload_too_large')]).toEqual([1, 0]);
  });

  it('closes the connection of a device that publishes 256 KiB + 1 byte, storing nothing', async () => {
    const client = await connect(SIZE);
    const gone = closed(client);
    client.publish(readingsTopic(SIZE), paddedBatch('size-256k-plus-1', MAX_PAYLOAD + 1), { qos: 1 }, () => {});
    await within(gone, 5_000, 'the connection closing');
    await expectNothingStored(SIZE);
  });

  it('accepts and stores a payload of exactly 256 KiB', async () => {
    const client = await connect(SIZE_OK);
    const payload = paddedBatch('size-256k', MAX_PAYLOAD);
    expect(Buffer.byteLength(payload)).toBe(262_144);
    const gone = closed(client).then(() => {
      throw new Error('the connection was closed instead of the PUBACK');
    });
    await Promise.race([client.publishAsync(readingsTopic(SIZE_OK), payload, { qos: 1 }), gone]);
    const { rows } = await t.query('SELECT reading_id FROM readings WHERE device_id = $1 ORDER BY reading_id', [
      SIZE_OK,
    ]);
    expect(rows.map((r) => r.reading_id)).toEqual(['size-256k-a', 'size-256k-b']);
    expect((await storedFor(SIZE_OK)).rejections).toBe(0);
    expect(client.connected).toBe(true);
  });
});

/** A valid batch of two readings whose JSON is padded with spaces to exactly `bytes`. */
function paddedBatch(idPrefix: string, bytes: number): string {
  const at = Date.now() - 60_000;
  const head = `{"readings": [${JSON.stringify(heartRate(`${idPrefix}-a`, 70, at))}, ${JSON.stringify(heartRate(`${idPrefix}-b`, 71, at))}]`;
  const payload = `${head}${' '.repeat(bytes - head.length - 1)}}`;
  JSON.parse(payload);
  return payload;
}

describe('protocol version (device-protocol.md, "Transport")', () => {
  it('answers an MQTT 5 CONNECT with the 3.1.1 refusal "unacceptable protocol version", then closes', async () => {
    // mqtt.js in version-5 mode reads the 3.1.1 CONNACK's return code as reason code 1.
    const error = await refusedConnect({ name: 'mqtt 5', clientId: V5, username: V5, password: () => secrets[V5] }, 5);
    expect(error.code).toBe(1);
    expect(error.message).toBe('Connection refused: Unacceptable protocol version');

    // The exact bytes, written by hand: a 3.1.1 CONNACK with return code 1, then the close.
    const raw = await openRaw(t.ports.mqtt!);
    raw.socket.write(
      Buffer.concat([
        connectPacket({
          protocolVersion: 5,
          clientId: V5,
          username: V5,
          password: Buffer.from(secrets[V5]),
          properties: { sessionExpiryInterval: 0 },
        }),
        publishPacket(readingsTopic(V5), JSON.stringify(heartRate('v5-1')), 5),
      ]),
    );
    await within(raw.closed, 5_000, 'the server closing the connection');
    expect(raw.received().toString('hex')).toBe('20020001');
    await expectNothingStored(V5);
  });
});

describe('will messages', () => {
  it('does not store a will with a reading when the device disconnects ungracefully', async () => {
    const before = await connectedDevices();
    const client = await connect(WILL, {
      will: {
        topic: readingsTopic(WILL),
        payload: Buffer.from(JSON.stringify(heartRate('will-1', 80, Date.now() - 1000))),
        qos: 1,
        retain: false,
      },
    });
    await waitFor(async () => (await connectedDevices()) === before + 1, 'the device counted as connected', 5_000);
    client.stream.destroy();
    await waitFor(async () => (await connectedDevices()) === before, 'the broker noticing the disconnect', 5_000);

    // A reading published afterwards is committed after anything the will could have caused.
    const again = await connect(WILL);
    await again.publishAsync(readingsTopic(WILL), JSON.stringify(heartRate('after-will-1')), { qos: 1 });
    const { rows } = await t.query('SELECT reading_id FROM readings WHERE device_id = $1', [WILL]);
    expect(rows.map((r) => r.reading_id)).toEqual(['after-will-1']);
    expect((await storedFor(WILL)).rejections).toBe(0);
  });
});

describe('session takeover', () => {
  it('closes the first connection when the same device connects again, and both work in turn', async () => {
    const first = await connect(TWICE);
    await first.publishAsync(readingsTopic(TWICE), JSON.stringify(heartRate('twice-1')), { qos: 1 });
    const firstGone = closed(first);
    const second = await connect(TWICE);
    await within(firstGone, 5_000, 'the first connection closing');
    expect(first.connected).toBe(false);
    await second.publishAsync(readingsTopic(TWICE), JSON.stringify(heartRate('twice-2')), { qos: 1 });
    expect(second.connected).toBe(true);

    // And back: the first device reconnects, which closes the second connection in turn.
    const secondGone = closed(second);
    const third = await connect(TWICE);
    await within(secondGone, 5_000, 'the second connection closing');
    await third.publishAsync(readingsTopic(TWICE), JSON.stringify(heartRate('twice-3')), { qos: 1 });
    const { rows } = await t.query('SELECT reading_id FROM readings WHERE device_id = $1 ORDER BY reading_id', [TWICE]);
    expect(rows.map((r) => r.reading_id)).toEqual(['twice-1', 'twice-2', 'twice-3']);
  });
});

describe('metrics', () => {
  it('counts each refusal and each closed connection by reason in /metrics', async () => {
    const before = await metricsText();

    for (const r of REFUSALS) expect((await refusedConnect(r)).code).toBe(r.returnCode);

    const acl = await connect(METRICS);
    const aclGone = closed(acl);
    await acl.subscribeAsync('#', { qos: 1 }).catch(() => {});
    acl.publish(readingsTopic(VICTIM), JSON.stringify(heartRate('metrics-acl')), { qos: 1 }, () => {});
    await within(aclGone, 5_000, 'the connection closing');

    const raw = await openRaw(t.ports.mqtt!);
    raw.socket.write(Buffer.from([0x30, 0xff, 0xff, 0xff, 0x7f]));
    await within(raw.closed, 2_000, 'the server closing the connection');

    const after = await metricsText();
    const refused = 'vitalink_connections_refused_total';
    const closedTotal = 'vitalink_connections_closed_total';
    const delta = (name: string, reason: string, listener?: string) =>
      sample(after, name, reason, listener) - sample(before, name, reason, listener);
    expect({
      wrong_secret: delta(refused, 'wrong_secret'),
      missing_credentials: delta(refused, 'missing_credentials'),
      unknown_device: delta(refused, 'unknown_device'),
      client_id_mismatch: delta(refused, 'client_id_mismatch'),
      device_disabled: delta(refused, 'device_disabled'),
      subscribe_not_authorized: delta(refused, 'subscribe_not_authorized'),
      publish_not_authorized: delta(closedTotal, 'publish_not_authorized'),
      // Before CONNECT, the smaller bound: a refusal of the listener (README, "Security").
      connect_too_large: delta('vitalink_listener_refusals_total', 'connect_too_large', 'mqtt'),
    }).toEqual({
      wrong_secret: 1,
      missing_credentials: 1,
      unknown_device: 1,
      client_id_mismatch: 1,
      device_disabled: 1,
      subscribe_not_authorized: 1,
      publish_not_authorized: 1,
      connect_too_large: 1,
    });
    await expectNothingStored(METRICS, VICTIM, AUTH, DISABLED, UNKNOWN);
  });
});
