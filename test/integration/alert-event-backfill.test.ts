import type { Kysely } from 'kysely';
import { describe, expect, it } from 'vitest';
import { down, up } from '../../migrations/2026-12-07T1760-alert-acknowledgements.ts';
import { Partitions } from '../../src/store/partitions.ts';
import { useTestDatabase } from '../fixture.ts';

/**
 * Migration 2026-12-07T1760 on a database with alerts from before it: the event
 * values of the single-reading rules are found by one index probe each; the others
 * keep NULL (README, "Indicators and alerts", "The event of an alert").
 */

const t = useTestDatabase();
const T = '2026-11-05T10:00:00Z';

describe('migration 2026-12-07T1760: event values of existing alerts', () => {
  it('fills single-reading alerts whose reading is still there; leaves the others NULL', async () => {
    const db = t.db as unknown as Kysely<unknown>;
    await down(db);
    await new Partitions(t.db).ensureRange(Date.parse(T), Date.parse(T));
    await t.query(`INSERT INTO patients (id) VALUES ('p-bf')`);
    await t.query(
      `INSERT INTO readings (patient_id, device_id, reading_id, type, loinc, unit, value, systolic, diastolic, sent_unit,
                             measured_at, received_at)
       VALUES ('p-bf', 'd-bf', 'r1', 'spo2', '59408-5', '%', 88, NULL, NULL, '%', $1, $1),
              ('p-bf', 'd-bf', 'r2', 'blood_pressure', '85354-9', 'mm[Hg]', NULL, 185, 95, 'mm[Hg]', $1, $1),
              ('p-bf', 'd-bf', 'r3', 'heart_rate', '8867-4', '/min', 130, NULL, NULL, '/min', $1::timestamptz - interval '5 minutes', $1),
              ('p-bf', 'd-bf', 'r4', 'heart_rate', '8867-4', '/min', 131, NULL, NULL, '/min', $1, $1),
              ('p-bf', 'd-bf', 'r9', 'spo2', '59408-5', '%', 97, NULL, NULL, '%', $1, $1)`,
      [T],
    );
    const alert = async (rule: string, readingIds: string[], occurredAt: string | null) => {
      const { rows } = await t.query(
        `INSERT INTO alerts (patient_id, rule, status, opened_at, threshold, reading_ids, occurred_at)
         VALUES ('p-bf', $1, 'resolved', $2, '1', $3, $4) RETURNING id::text`,
        [rule, T, readingIds, occurredAt],
      );
      return rows[0].id as string;
    };
    const low = await alert('spo2_low', ['d-bf/r1'], T);
    const high = await alert('bp_high', ['d-bf/r2'], T);
    const tachy = await alert('tachycardia', ['d-bf/r3', 'd-bf/r4'], T);
    const gone = await alert('fever', ['d-bf/r5'], T); // removed by retention since
    const gap = await alert('no_data', [], null);

    await up(db);

    const { rows } = await t.query(`SELECT id::text, event_readings FROM alerts ORDER BY id`);
    const by = new Map(rows.map((r) => [r.id, r.event_readings]));
    expect(by.get(low)).toEqual([
      { deviceId: 'd-bf', readingId: 'r1', type: 'spo2', at: '2026-11-05T10:00:00.000Z', unit: '%', value: 88 },
    ]);
    expect(by.get(high)).toEqual([
      {
        deviceId: 'd-bf',
        readingId: 'r2',
        type: 'blood_pressure',
        at: '2026-11-05T10:00:00.000Z',
        unit: 'mm[Hg]',
        systolic: 185,
        diastolic: 95,
      },
    ]);
    expect(by.get(tachy)).toBeNull();
    expect(by.get(gone)).toBeNull();
    expect(by.get(gap)).toBeNull();
  });
});
