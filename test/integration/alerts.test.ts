import type { MqttClient } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { acknowledgeAlert, setPatientThreshold } from '../../src/actions/alerts.ts';
import { Aggregator } from '../../src/aggregation/aggregator.ts';
import { AppError } from '../../src/errors.ts';
import { createLogger } from '../../src/logger.ts';
import { useTestService } from '../fixture.ts';
import { type Reading, waitFor } from '../helpers/device.ts';

const HOUR = 3_600_000;
const t = useTestService({ env: { VITALINK_AGGREGATION_INTERVAL_MS: '100' } });

const device = (id: string, patientId: string) => t.device(id, patientId);

async function send(client: MqttClient, deviceId: string, readings: Reading[]): Promise<void> {
  await t.publish(client, deviceId, readings);
  await t.settled();
}

async function alerts(patientId: string, rule: string) {
  const { rows } = await t.query(
    `SELECT id, status, reading_ids, threshold, condition_cleared_at, acknowledged_by, event_readings, occurred_at FROM alerts
     WHERE patient_id = $1 AND rule = $2 ORDER BY id`,
    [patientId, rule],
  );
  return rows;
}

async function events(alertId: string): Promise<string[]> {
  const { rows } = await t.query(`SELECT event FROM alert_events WHERE alert_id = $1 ORDER BY id`, [alertId]);
  return rows.map((r) => r.event);
}

const spo2 = (id: string, value: number, at = Date.now() - 60_000): Reading => ({
  id,
  type: 'spo2',
  at,
  value,
  unit: '%',
});

describe('alerts', () => {
  it('opens one alert per patient and rule, records its reading, and follows acknowledge → resolve', async () => {
    const client = await device('ox-alert-1', 'p-alert-1');
    const s1At = Date.now() - 60_000;
    await send(client, 'ox-alert-1', [spo2('s1', 91, s1At)]);
    let [alert] = await alerts('p-alert-1', 'spo2_low');
    expect(alert).toMatchObject({ status: 'open', reading_ids: ['ox-alert-1/s1'], threshold: 92 });
    // The event: the reading's time and value, kept with the alert (migration 2026-12-07T1760).
    const s1 = { deviceId: 'ox-alert-1', readingId: 's1', type: 'spo2', at: new Date(s1At).toISOString(), unit: '%' };
    expect(alert.event_readings).toEqual([{ ...s1, value: 91 }]);
    expect((alert.occurred_at as Date).getTime()).toBe(s1At);

    // Still low: the same alert, now naming the most recent reading; no second alert.
    await send(client, 'ox-alert-1', [spo2('s2', 90, Date.now() - 30_000)]);
    const list = await alerts('p-alert-1', 'spo2_low');
    expect(list).toHaveLength(1);
    expect(list[0].reading_ids).toEqual(['ox-alert-1/s2']);
    // The update carries the new event: its reading and value, on the alert and in the history.
    expect(list[0].event_readings).toEqual([expect.objectContaining({ readingId: 's2', value: 90 })]);
    const { rows: updated } = await t.query(
      `SELECT readings FROM alert_events WHERE alert_id = $1 AND event = 'updated'`,
      [list[0].id],
    );
    expect(updated.map((r) => r.readings)).toEqual([[expect.objectContaining({ readingId: 's2', value: 90 })]]);

    const acked = await acknowledgeAlert(
      t.db,
      String(alert.id),
      { actor: 'dr-martin', action: 'no_action', note: null },
      new Date(),
    );
    expect(acked.state.status).toBe('acknowledged');
    await expect(
      acknowledgeAlert(t.db, String(alert.id), { actor: 'dr-martin', action: 'no_action', note: null }, new Date()),
    ).rejects.toThrow(AppError);

    // The condition clears: the acknowledged alert resolves.
    await send(client, 'ox-alert-1', [spo2('s3', 97, Date.now() - 10_000)]);
    [alert] = await alerts('p-alert-1', 'spo2_low');
    expect(alert).toMatchObject({ status: 'resolved', acknowledged_by: 'dr-martin' });
    expect(await events(String(alert.id))).toEqual(['opened', 'updated', 'acknowledged', 'resolved']);

    // A new low later is a new alert.
    await send(client, 'ox-alert-1', [spo2('s4', 89, Date.now())]);
    const after = await alerts('p-alert-1', 'spo2_low');
    expect(after.map((a) => a.status)).toEqual(['resolved', 'open']);
  });

  it('stays open when the condition clears before anyone acknowledged it, and resolves on acknowledgement', async () => {
    const client = await device('ox-alert-2', 'p-alert-2');
    await send(client, 'ox-alert-2', [spo2('a1', 90, Date.now() - 120_000)]);
    await send(client, 'ox-alert-2', [spo2('a2', 98, Date.now() - 60_000)]);
    const [alert] = await alerts('p-alert-2', 'spo2_low');
    expect(alert.status).toBe('open');
    expect(alert.condition_cleared_at).not.toBeNull();
    const acked = await acknowledgeAlert(
      t.db,
      String(alert.id),
      { actor: 'dr-b', action: 'no_action', note: null },
      new Date(),
    );
    expect(acked.state.status).toBe('resolved');
  });

  it('uses per-patient thresholds', async () => {
    const client = await device('ox-copd-1', 'p-copd');
    await setPatientThreshold(t.db, 'p-copd', 'spo2_low', 88);
    await send(client, 'ox-copd-1', [spo2('c1', 90)]);
    expect(await alerts('p-copd', 'spo2_low')).toEqual([]);
    await send(client, 'ox-copd-1', [spo2('c2', 87, Date.now() - 30_000)]);
    expect(await alerts('p-copd', 'spo2_low')).toMatchObject([{ status: 'open', threshold: 88 }]);
    await expect(setPatientThreshold(t.db, 'p-copd', 'spo2_low', -1)).rejects.toThrow(AppError);
    await expect(setPatientThreshold(t.db, 'p-copd', 'nonsense', 1)).rejects.toThrow(/does not exist/);
    await expect(setPatientThreshold(t.db, 'nobody', 'spo2_low', 90)).rejects.toThrow(/patient nobody/);
  });

  it('applies a changed threshold to the latest reading and to new ones, not to past readings', async () => {
    const client = await device('ox-change-1', 'p-change');
    await setPatientThreshold(t.db, 'p-change', 'spo2_low', 88);
    await send(client, 'ox-change-1', [spo2('h1', 90, Date.now() - 2 * HOUR), spo2('h2', 97, Date.now() - HOUR)]);
    expect(await alerts('p-change', 'spo2_low')).toEqual([]);
    // Raised to 92: the 90 of two hours ago would meet it, but it is history (the latest is 97).
    await setPatientThreshold(t.db, 'p-change', 'spo2_low', 92);
    await waitFor(async () => {
      const { rows } = await t.query(`SELECT 1 FROM indicators_dirty WHERE patient_id = 'p-change'`);
      return rows.length === 0;
    }, 'the job to re-evaluate the patient');
    expect(await alerts('p-change', 'spo2_low')).toEqual([]);
    // Raised to 98: the latest reading meets it, and the alert opens on it at once.
    await setPatientThreshold(t.db, 'p-change', 'spo2_low', 98);
    await waitFor(async () => (await alerts('p-change', 'spo2_low')).length === 1, 'the alert on the latest reading');
    expect(await alerts('p-change', 'spo2_low')).toMatchObject([
      { status: 'open', reading_ids: ['ox-change-1/h2'], threshold: 98, condition_cleared_at: null },
    ]);
  });

  it('raises hyperglycemia only for two readings in a row, meter and sensor together', async () => {
    const client = await device('gluco-1', 'p-gluco');
    const g = (id: string, value: number, minutesAgo: number, type = 'cgm_glucose'): Reading => ({
      id,
      type,
      at: Date.now() - minutesAgo * 60_000,
      value,
      unit: 'mg/dL',
    });
    await send(client, 'gluco-1', [g('g1', 260, 30), g('g2', 200, 25), g('g3', 270, 20)]);
    expect(await alerts('p-gluco', 'hyperglycemia')).toEqual([]);
    await send(client, 'gluco-1', [g('g4', 280, 15, 'blood_glucose')]);
    expect(await alerts('p-gluco', 'hyperglycemia')).toMatchObject([
      { status: 'open', reading_ids: ['gluco-1/g3', 'gluco-1/g4'] },
    ]);
  });

  it('does not miss a condition that a late reading creates', async () => {
    const client = await device('ox-late-1', 'p-late');
    await send(client, 'ox-late-1', [spo2('n1', 97, Date.now() - 2 * HOUR), spo2('n2', 96, Date.now() - HOUR)]);
    expect(await alerts('p-late', 'spo2_low')).toEqual([]);
    // A reading from three days ago, uploaded only now.
    await send(client, 'ox-late-1', [spo2('late', 85, Date.now() - 72 * HOUR)]);
    const [alert] = await alerts('p-late', 'spo2_low');
    expect(alert).toMatchObject({ status: 'open', reading_ids: ['ox-late-1/late'] });
    // It happened in the past: the condition does not hold now, so acknowledging resolves it.
    expect(alert.condition_cleared_at).not.toBeNull();
  });

  it('raises an alert at once for a reading dated a little ahead of the server clock', async () => {
    const client = await device('thermo-ahead-1', 'p-ahead');
    await client.publishAsync(
      'v1/devices/thermo-ahead-1/readings',
      JSON.stringify({ id: 't1', type: 'body_temperature', at: Date.now() + 120_000, value: 39.5, unit: 'Cel' }),
      { qos: 1 },
    );
    await waitFor(async () => (await alerts('p-ahead', 'fever')).length === 1, 'the fever alert');
    expect(await alerts('p-ahead', 'fever')).toMatchObject([{ status: 'open', reading_ids: ['thermo-ahead-1/t1'] }]);
    // Its indicators are recomputed once the reading's time has come.
    const { rows } = await t.query(`SELECT marked_at FROM indicators_dirty WHERE patient_id = 'p-ahead'`);
    expect(rows).toHaveLength(1);
    expect((rows[0].marked_at as Date).getTime()).toBeGreaterThan(Date.now());
    await t.query(`DELETE FROM indicators_dirty WHERE patient_id = 'p-ahead'`);
  });

  it('raises no_data when an expected type has been silent for 48 hours', async () => {
    const client = await device('scale-quiet-1', 'p-quiet');
    await send(client, 'scale-quiet-1', [
      { id: 'w1', type: 'body_weight', at: Date.now() - HOUR, value: 70, unit: 'kg' },
    ]);
    expect(await alerts('p-quiet', 'no_data')).toEqual([]);
    // The same data, evaluated 49 hours later by a job whose clock says so.
    const later = new Aggregator({
      db: t.db,
      log: createLogger('silent'),
      intervalMs: 10,
      batchSize: 10,
      refreshEveryMs: 3_600_000,
      now: () => Date.now() + 49 * HOUR,
    });
    // The service's own job may take the refresh mark first: mark again until this job has run.
    await waitFor(async () => {
      await t.query(`INSERT INTO indicators_dirty (patient_id) VALUES ('p-quiet') ON CONFLICT DO NOTHING`);
      await later.runOnce();
      return (await alerts('p-quiet', 'no_data')).length > 0;
    }, 'the later job to evaluate the patient');
    expect(await alerts('p-quiet', 'no_data')).toMatchObject([{ status: 'open', threshold: 48 }]);
  });
});
