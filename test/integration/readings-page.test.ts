/**
 * readingsPage (GET /api/v1/patients/{id}/readings and GET /fhir/Observation): one
 * patient's readings of several types and devices, with readings of different types
 * and devices at the same instant and a month boundary between them (two
 * partitions), paged through at every small page size and with every kind of filter
 * the APIs accept (no type, one type, a list of types, date bounds). The pages put
 * end to end must be exactly the matching readings in the order of the keyset
 * (measured time, device, reading id), newest first: each once, none skipped.
 */
import { describe, expect, it } from 'vitest';
import { addDevice, addPatient } from '../../src/actions/provisioning.ts';
import type { ReadingFilter } from '../../src/store/reading-filter.ts';
import { type ReadingKey, readingsPage } from '../../src/store/readings-page.ts';
import { useTestDatabase } from '../fixture.ts';
import { type TestReadingInput, writeReadings } from '../helpers/readings.ts';

const MIN = 60_000;
const DAY = 86_400_000;
const t = useTestDatabase();

/** The first instant of the current UTC month: readings on both sides of it fall in two partitions. */
function monthStart(now: number): number {
  const d = new Date(now);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

type Input = TestReadingInput;

const write = (deviceId: string, inputs: Input[], now: number) => writeReadings(t.db, deviceId, inputs, now);

/** Every page of a filter at a page size, put end to end, as "device/reading". */
async function pageThrough(filter: ReadingFilter, limit: number): Promise<string[]> {
  const seen: string[] = [];
  let after: ReadingKey | undefined;
  for (let pages = 0; pages < 200; pages++) {
    const { readings, next } = await readingsPage(t.db, filter, after, limit);
    expect(readings.length).toBeLessThanOrEqual(limit);
    if (next) expect(readings.length).toBe(limit);
    seen.push(...readings.map((r) => `${r.deviceId}/${r.readingId}`));
    if (!next) return seen;
    after = next;
  }
  throw new Error('more than 200 pages');
}

async function expected(patientId: string, where: string, values: unknown[]): Promise<string[]> {
  const { rows } = await t.query(
    `SELECT device_id || '/' || reading_id AS key FROM readings WHERE patient_id = $1 ${where}
     ORDER BY measured_at DESC, device_id DESC, reading_id DESC`,
    [patientId, ...values],
  );
  return rows.map((r) => r.key as string);
}

describe('readingsPage', () => {
  it('pages through several types and devices, ties and partitions included, with every filter', async () => {
    const now = Date.now();
    // Around the start of this month, unless that is under 3 days ago: then around a time 2 days back.
    const m = monthStart(now);
    const pivot = now - m > 3 * DAY ? m : now - 2 * DAY;
    await addPatient(t.db, { id: 'p-page' });
    await addPatient(t.db, { id: 'p-other' });
    const from = new Date(pivot - 10 * DAY);
    const keys = await t.keys();
    await addDevice(t.db, keys, { id: 'cgm-a', patientId: 'p-page' }, from);
    await addDevice(t.db, keys, { id: 'hub-b', patientId: 'p-page' }, from);
    await addDevice(t.db, keys, { id: 'cgm-other', patientId: 'p-other' }, from);

    const at = (k: number) => pivot - 3 * 60 * MIN + k * 20 * MIN; // 3 hours either side of the pivot
    const cgm: Input[] = [];
    const hub: Input[] = [];
    for (let k = 0; k < 18; k++) {
      cgm.push({ id: `g-${k}`, type: 'cgm_glucose', at: at(k), value: 100 + k, unit: 'mg/dL' });
      // The hub: at the same instants as the CGM every third step (ties across devices and types),
      // and two readings of different types at one instant (ties within a device).
      if (k % 3 === 0) {
        hub.push({ id: `hr-${k}`, type: 'heart_rate', at: at(k), value: 60 + k, unit: '/min' });
        hub.push({ id: `s-${k}`, type: 'spo2', at: at(k), value: 95, unit: '%' });
      }
      if (k % 4 === 1) {
        hub.push({
          id: `bp-${k}`,
          type: 'blood_pressure',
          at: at(k) + MIN,
          systolic: 120,
          diastolic: 80,
          unit: 'mm[Hg]',
        });
      }
    }
    // Same reading ids on both devices at one instant: the device decides the order.
    cgm.push({ id: 'same', type: 'cgm_glucose', at: at(7), value: 140, unit: 'mg/dL' });
    hub.push({ id: 'same', type: 'heart_rate', at: at(7), value: 70, unit: '/min' });
    await write('cgm-a', cgm, now);
    await write('hub-b', hub, now);
    await write('cgm-other', [{ id: 'x', type: 'cgm_glucose', at: at(5), value: 90, unit: 'mg/dL' }], now);
    const partitions = await t.query(`SELECT count(DISTINCT tableoid) AS n FROM readings WHERE patient_id = 'p-page'`);
    if (pivot === m) expect(Number(partitions.rows[0].n)).toBe(2);

    const lo = new Date(at(4));
    const hi = new Date(at(13));
    const cases: [string, ReadingFilter, string, unknown[]][] = [
      ['all types', { patientId: 'p-page' }, '', []],
      ['one type', { patientId: 'p-page', type: 'heart_rate' }, `AND type = 'heart_rate'`, []],
      [
        'a list of types',
        { patientId: 'p-page', type: ['spo2', 'cgm_glucose', 'blood_pressure'] },
        `AND type IN ('spo2', 'cgm_glucose', 'blood_pressure')`,
        [],
      ],
      [
        'date bounds',
        {
          patientId: 'p-page',
          measuredAt: [
            { op: '>=', at: lo },
            { op: '<', at: hi },
          ],
        },
        'AND measured_at >= $2 AND measured_at < $3',
        [lo, hi],
      ],
      [
        'a list of types and date bounds',
        { patientId: 'p-page', type: ['heart_rate', 'spo2'], measuredAt: [{ op: '>=', at: lo }] },
        `AND type IN ('heart_rate', 'spo2') AND measured_at >= $2`,
        [lo],
      ],
    ];
    for (const [name, filter, where, values] of cases) {
      const all = await expected('p-page', where, values);
      expect(all.length, name).toBeGreaterThan(3);
      for (const limit of [1, 2, 3, 5, 1000]) {
        expect(await pageThrough(filter, limit), `${name}, pages of ${limit}`).toEqual(all);
      }
    }
    expect(await pageThrough({ patientId: 'p-page', type: [] }, 10)).toEqual([]);
    expect(await pageThrough({ patientId: 'p-page', type: 'body_weight' }, 10)).toEqual([]);
  });
});
