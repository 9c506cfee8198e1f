import net from 'node:net';
import type { MqttClient } from 'mqtt';
import mqttPacket from 'mqtt-packet';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestService } from '../fixture.ts';
import { startTestApp } from '../helpers/app.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { connectDevice, heartRate, waitFor } from '../helpers/device.ts';
import { provisionDevice } from '../helpers/provision.ts';

let device: MqttClient;
const DEVICE = 'oximeter-ack-1';
const topic = `v1/devices/${DEVICE}/readings`;
let secret: string;
// The device exists before the service starts.
const t = useTestService({
  beforeStart: async (fixture) => {
    secret = await fixture.provisionDevice(DEVICE);
  },
});

beforeAll(async () => {
  device = await t.connectDevice(DEVICE, secret, { keepalive: 60 });
});

/** Holds a lock that blocks every insert into `table` until release(). */
async function lockTable(table: string): Promise<{ release(): Promise<void> }> {
  const client = await t.pgClient();
  await client.query('BEGIN');
  await client.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      await client.query('ROLLBACK');
      await client.end();
    },
  };
}

async function countReadings(id: string): Promise<number> {
  const { rows } = await t.query(`SELECT count(*)::int AS n FROM readings WHERE reading_id = $1`, [id]);
  return rows[0].n;
}

describe('a PUBACK means committed', () => {
  it('withholds the PUBACK while the insert is blocked, and sends it once the rows are committed', async () => {
    const lock = await lockTable('reading_keys');
    let acked = false;
    const published = device.publishAsync(topic, JSON.stringify(heartRate('held-1')), { qos: 1 }).then(() => {
      acked = true;
    });
    await new Promise((r) => setTimeout(r, 1_500));
    expect(acked).toBe(false);
    expect(await countReadings('held-1')).toBe(0);

    await lock.release();
    await published;
    // The row is there the moment the PUBACK is: it was committed before.
    expect(await countReadings('held-1')).toBe(1);
  });

  it('withholds the PUBACK of an invalid reading until its rejection is committed', async () => {
    const lock = await lockTable('rejections');
    let acked = false;
    const published = device
      .publishAsync(topic, JSON.stringify({ ...heartRate('held-bad'), unit: 'kg' }), { qos: 1 })
      .then(() => {
        acked = true;
      });
    await new Promise((r) => setTimeout(r, 1_000));
    expect(acked).toBe(false);
    await lock.release();
    await published;
    const { rows } = await t.query(`SELECT reason FROM rejections WHERE reading_id = 'held-bad'`);
    expect(rows).toEqual([{ reason: 'unit' }]);
  });

  it('keeps a later PUBACK of the same connection behind a held one, even when its batch committed first', async () => {
    // Two PUBLISH packets in one TCP write reach Aedes in one read, so both hooks
    // run at once and their batches may commit in any order.
    const id = 'raw-order-1';
    const secret = await t.provisionDevice(id);
    // One message per batch, so that the two messages are written by two transactions.
    const app = await startTestApp(t.database, { VITALINK_BATCH_MAX_ROWS: '1' });
    const socket = net.connect(app.ports.mqtt!, '127.0.0.1');
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    const received: mqttPacket.Packet[] = [];
    parser.on('packet', (p) => received.push(p));
    socket.on('data', (d) => parser.parse(d));
    await new Promise<void>((r) => socket.once('connect', () => r()));
    socket.write(
      mqttPacket.generate({
        cmd: 'connect',
        protocolId: 'MQTT',
        protocolVersion: 4,
        clean: true,
        clientId: id,
        keepalive: 60,
        username: id,
        password: Buffer.from(secret),
      }),
    );
    await waitFor(() => received.find((p) => p.cmd === 'connack'), 'CONNACK');

    const lock = await lockTable('reading_keys');
    try {
      const publish = (messageId: number, body: unknown) =>
        mqttPacket.generate({
          cmd: 'publish',
          topic: `v1/devices/${id}/readings`,
          payload: Buffer.from(JSON.stringify(body)),
          qos: 1,
          messageId,
          retain: false,
          dup: false,
        });
      socket.write(
        Buffer.concat([
          publish(1, heartRate('raw-held')),
          // Invalid: needs only a rejections row, which the lock does not block.
          publish(2, { ...heartRate('raw-free'), type: 'mood' }),
        ]),
      );
      await waitFor(async () => {
        const { rowCount } = await t.query(`SELECT 1 FROM rejections WHERE reading_id = 'raw-free'`);
        return rowCount === 1;
      }, 'the second message to commit');
      await new Promise((r) => setTimeout(r, 300));
      expect(received.filter((p) => p.cmd === 'puback')).toEqual([]);

      await lock.release();
      await waitFor(() => received.filter((p) => p.cmd === 'puback').length === 2, 'both PUBACKs');
      expect(received.filter((p) => p.cmd === 'puback').map((p) => (p as mqttPacket.IPubackPacket).messageId)).toEqual([
        1, 2,
      ]);
    } finally {
      await lock.release().catch(() => {});
      socket.destroy();
      await app.stop();
    }
  });
});

describe('a publish held past its bound', () => {
  it('closes the connection without acknowledging; the resend after reconnect is stored once', async () => {
    const holdDb = await createTestDatabase();
    const id = 'scale-hold-1';
    const secret = await provisionDevice(holdDb.db, id);
    const app = await startTestApp(holdDb, { VITALINK_HOLD_MAX_MS: '1500' });
    try {
      const url = `mqtt://127.0.0.1:${app.ports.mqtt}`;
      const client = await connectDevice(url, id, secret, { keepalive: 60 });
      let closed = false;
      client.on('close', () => {
        closed = true;
      });
      client.on('error', () => {});
      const lockClient = new pg.Client({ connectionString: holdDb.url });
      await lockClient.connect();
      await lockClient.query('BEGIN');
      await lockClient.query('LOCK TABLE reading_keys IN ACCESS EXCLUSIVE MODE');
      let acked = false;
      client
        .publishAsync(`v1/devices/${id}/readings`, JSON.stringify(heartRate('hold-r1')), { qos: 1 })
        .then(() => {
          acked = true;
        })
        .catch(() => {});
      await waitFor(() => closed, 'the service to close the held connection', 10_000);
      expect(acked).toBe(false);
      await lockClient.query('ROLLBACK');
      await lockClient.end();

      // The device did not get its PUBACK: it resends after reconnecting.
      const again = await connectDevice(url, id, secret);
      await again.publishAsync(`v1/devices/${id}/readings`, JSON.stringify(heartRate('hold-r1')), { qos: 1 });
      await again.endAsync();
      await client.endAsync(true).catch(() => {});
      const { rows } = await holdDb.query(`SELECT count(*)::int AS n FROM readings WHERE reading_id = 'hold-r1'`);
      expect(rows[0].n).toBe(1);
      const metrics = await (await fetch(`http://127.0.0.1:${app.ports.http}/metrics`)).text();
      expect(metrics).toMatch(/^vitalink_connections_closed_total\{reason="ack_hold_timeout"\} 1$/m);
    } finally {
      await app.stop();
      await holdDb.drop();
    }
  });
});
