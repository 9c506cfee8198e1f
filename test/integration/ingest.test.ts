import type { MqttClient } from 'mqtt';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestService } from '../fixture.ts';
import { heartRate } from '../helpers/device.ts';

const DEVICE = 'cuff-ingest-1';
let secret: string;
let device: MqttClient;
// The device exists before the service starts.
const t = useTestService({
  beforeStart: async (fixture) => {
    secret = await fixture.provisionDevice(DEVICE, 'patient-ingest');
  },
});

beforeAll(async () => {
  device = await t.connectDevice(DEVICE, secret);
});

const topic = `v1/devices/${DEVICE}/readings`;

describe('ingestion', () => {
  it('stores one reading with its LOINC code and stored unit, attributed to the assigned patient', async () => {
    // Two days ago at 08:15 in +01:00, written with its offset as a device would.
    const day = new Date(Date.now() - 2 * 86_400_000).toISOString().slice(0, 10);
    const at = `${day}T08:15:00+01:00`;
    await device.publishAsync(topic, JSON.stringify(heartRate('one-1', 72, at)), { qos: 1 });
    const { rows } = await t.query(
      `SELECT patient_id, device_id, type, loinc, unit, value, sent_unit, sent_value, measured_at, received_at
       FROM readings WHERE reading_id = 'one-1'`,
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      patient_id: 'patient-ingest',
      device_id: DEVICE,
      type: 'heart_rate',
      loinc: '8867-4',
      unit: '/min',
      value: 72,
      sent_unit: '/min',
      sent_value: 72,
    });
    expect((rows[0].measured_at as Date).toISOString()).toBe(`${day}T07:15:00.000Z`);
  });

  it('stores a batch of 1000 readings once each, converted to the stored unit', async () => {
    const base = Date.now() - 3_600_000;
    const readings = Array.from({ length: 1000 }, (_, i) => ({
      id: `bp-${i}`,
      type: 'blood_pressure',
      at: base + i * 1000,
      systolic: 16,
      diastolic: 10.5,
      pulse: 70,
      unit: 'kPa',
    }));
    await device.publishAsync(topic, JSON.stringify({ readings }), { qos: 1 });
    const { rows } = await t.query(
      `SELECT count(*)::int AS n, count(DISTINCT reading_id)::int AS ids, min(systolic) AS sys, max(diastolic) AS dia,
              min(unit) AS unit, min(sent_unit) AS sent_unit, min(sent_systolic) AS sent_sys, min(loinc) AS loinc
       FROM readings WHERE reading_id LIKE 'bp-%'`,
    );
    expect(rows[0].n).toBe(1000);
    expect(rows[0].ids).toBe(1000);
    expect(rows[0].sys).toBeCloseTo(16 * 7.50062, 6);
    expect(rows[0].dia).toBeCloseTo(10.5 * 7.50062, 6);
    expect(rows[0]).toMatchObject({ unit: 'mm[Hg]', sent_unit: 'kPa', sent_sys: 16, loinc: '85354-9' });
  });

  it('converts glucose, weight and temperature and keeps the value as sent', async () => {
    const at = Date.now() - 60_000;
    await device.publishAsync(
      topic,
      JSON.stringify({
        readings: [
          { id: 'g-1', type: 'blood_glucose', at, value: 5.5, unit: 'mmol/L', context: 'fasting' },
          { id: 'w-1', type: 'body_weight', at, value: 165, unit: '[lb_av]' },
          { id: 't-1', type: 'body_temperature', at, value: 100.4, unit: '[degF]' },
        ],
      }),
      { qos: 1 },
    );
    const { rows } = await t.query(
      `SELECT reading_id, value, unit, sent_value, sent_unit, context FROM readings
       WHERE reading_id IN ('g-1', 'w-1', 't-1') ORDER BY reading_id`,
    );
    const byId = Object.fromEntries(rows.map((r) => [r.reading_id, r]));
    expect(byId['g-1'].value).toBeCloseTo(99.0858, 4);
    expect(byId['g-1']).toMatchObject({ unit: 'mg/dL', sent_value: 5.5, sent_unit: 'mmol/L', context: 'fasting' });
    expect(byId['w-1'].value).toBeCloseTo(74.842741, 5);
    expect(byId['w-1'].unit).toBe('kg');
    expect(byId['t-1'].value).toBeCloseTo(38, 6);
    expect(byId['t-1'].unit).toBe('Cel');
  });

  it('stores QoS 0 and QoS 2 publishes too', async () => {
    await device.publishAsync(topic, JSON.stringify(heartRate('q2-1')), { qos: 2 });
    const q2 = await t.query(`SELECT 1 FROM readings WHERE reading_id = 'q2-1'`);
    expect(q2.rowCount).toBe(1);
    await device.publishAsync(topic, JSON.stringify(heartRate('q0-1')), { qos: 0 });
    const deadline = Date.now() + 5_000;
    let found = 0;
    while (Date.now() < deadline && found === 0) {
      found = (await t.query(`SELECT 1 FROM readings WHERE reading_id = 'q0-1'`)).rowCount ?? 0;
      if (!found) await new Promise((r) => setTimeout(r, 50));
    }
    expect(found).toBe(1);
  });

  it('processes a retained publish like any other and does not retain it', async () => {
    await device.publishAsync(topic, JSON.stringify(heartRate('ret-1')), { qos: 1, retain: true });
    expect((await t.query(`SELECT 1 FROM readings WHERE reading_id = 'ret-1'`)).rowCount).toBe(1);
    const received: string[] = [];
    device.on('message', (t) => received.push(t));
    await device.subscribeAsync(topic, { qos: 1 });
    await new Promise((r) => setTimeout(r, 300));
    await device.unsubscribeAsync(topic);
    expect(received).toEqual([]);
  });

  it('sends PUBACKs in the order the publishes arrived', async () => {
    const order: number[] = [];
    const sizes = [500, 1, 300, 1, 1, 800, 1];
    await Promise.all(
      sizes.map((size, k) =>
        device
          .publishAsync(
            topic,
            JSON.stringify({
              readings: Array.from({ length: size }, (_, i) => heartRate(`order-${k}-${i}`, 70, Date.now() - 5000)),
            }),
            { qos: 1 },
          )
          .then(() => order.push(k)),
      ),
    );
    expect(order).toEqual(sizes.map((_, k) => k));
  });

  it('counts what it received and stored in /metrics', async () => {
    const res = await fetch(`${t.httpUrl}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    const stored = Number(/^vitalink_readings_stored_total (\d+)/m.exec(text)?.[1]);
    const { rows } = await t.query(`SELECT count(*)::int AS n FROM readings`);
    expect(stored).toBe(rows[0].n);
    expect(text).toMatch(/^vitalink_connected_devices 1$/m);
    expect(text).toMatch(/^vitalink_batch_commit_seconds_count \d+/m);
    expect(text).toMatch(/^vitalink_publish_to_ack_seconds_count \d+/m);
  });

  it('answers /healthz and /readyz', async () => {
    expect((await fetch(`${t.httpUrl}/healthz`)).status).toBe(200);
    const ready = await fetch(`${t.httpUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { database: true, broker: true } });
  });
});
