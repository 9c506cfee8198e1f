import { describe, expect, it } from 'vitest';
import { addPatient, assignDevice } from '../../src/actions/provisioning.ts';
import { decodeMessage } from '../../src/ingest/decode.ts';
import { writeBatch } from '../../src/store/reading-sink.ts';
import { Partitions } from '../../src/store/partitions.ts';
import { useTestDatabase } from '../fixture.ts';
import { heartRate } from '../helpers/device.ts';

const t = useTestDatabase();

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * device-protocol.md, "Patients": a reading belongs to the patient its device was
 * assigned to at `at`. insertReadings reads each device's assignments once per batch
 * and matches every reading against them by time.
 */
describe('attribution of a batch of readings to patients', () => {
  it('gives each reading the assignment in force at its time, across reassignments, devices and gaps', async () => {
    const now = Date.now();
    const t0 = new Date(now - 3 * DAY);
    const t1 = new Date(now - 2 * DAY);
    const t2 = new Date(now - DAY);
    await t.provisionDevice('att-a', 'att-p1', t0);
    await addPatient(t.db, { id: 'att-p2' });
    // att-a: p1 from t0 to t1, nobody from t1 to t2, p2 from t2 on.
    await assignDevice(t.db, { deviceId: 'att-a', patientId: 'att-p2', from: t2, to: null });
    await t.query(`UPDATE device_assignments SET valid_to = $1 WHERE device_id = 'att-a' AND patient_id = 'att-p1'`, [
      t1,
    ]);
    // att-b: p2 from t1 on.
    await t.provisionDevice('att-b', 'att-p2', t1);

    const at = {
      beforeAny: t0.getTime() - HOUR,
      firstStart: t0.getTime(),
      firstLast: t1.getTime() - 1,
      gap: t1.getTime() + HOUR,
      secondStart: t2.getTime(),
      secondLater: now - HOUR,
    };
    const messageOf = (deviceId: string, readings: ReturnType<typeof heartRate>[]) => ({
      deviceId,
      receivedAt: now,
      ...decodeMessage(Buffer.from(JSON.stringify({ readings })), {
        now,
        maxAgeMs: 90 * DAY,
        maxFutureMs: 300_000,
      }),
    });
    const outcomes = await writeBatch(t.db, new Partitions(t.db), [
      messageOf('att-a', [
        heartRate('a-before', 70, at.beforeAny),
        heartRate('a-first-start', 71, at.firstStart),
        heartRate('a-first-last', 72, at.firstLast),
        heartRate('a-gap', 73, at.gap),
        heartRate('a-second-start', 74, at.secondStart),
        heartRate('a-second-later', 75, at.secondLater),
      ]),
      messageOf('att-b', [heartRate('b-before', 80, at.firstLast), heartRate('b-in', 81, at.gap)]),
    ]);

    expect(outcomes.map((o) => o.stored)).toEqual([4, 1]);
    expect(outcomes.map((o) => o.rejections.map((r) => [r.readingId, r.reason]))).toEqual([
      [
        ['a-before', 'unassigned'],
        ['a-gap', 'unassigned'],
      ],
      [['b-before', 'unassigned']],
    ]);
    const { rows } = await t.query<{ reading_id: string; patient_id: string }>(
      `SELECT reading_id, patient_id FROM readings WHERE device_id IN ('att-a', 'att-b') ORDER BY reading_id`,
    );
    expect(rows.map((r) => [r.reading_id, r.patient_id])).toEqual([
      ['a-first-last', 'att-p1'],
      ['a-first-start', 'att-p1'],
      ['a-second-later', 'att-p2'],
      ['a-second-start', 'att-p2'],
      ['b-in', 'att-p2'],
    ]);
    // Only stored readings have a key: an unassigned one is kept for reprocessing.
    const keys = await t.query<{ reading_id: string }>(
      `SELECT reading_id FROM reading_keys WHERE device_id IN ('att-a', 'att-b') ORDER BY reading_id`,
    );
    expect(keys.rows.map((r) => r.reading_id)).toEqual([
      'a-first-last',
      'a-first-start',
      'a-second-later',
      'a-second-start',
      'b-in',
    ]);
  });
});
