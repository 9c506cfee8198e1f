/**
 * Which patients a run takes (the oldest dirty marks first, refreshes in the room
 * left and a tenth of the run whatever the backlog), and the job's wake-up after a
 * commit (nudge) instead of its idle interval.
 */
import { describe, expect, it } from 'vitest';
import { Aggregator } from '../../src/aggregation/aggregator.ts';
import { decodeReading } from '../../src/ingest/decode.ts';
import { createLogger } from '../../src/logger.ts';
import { takeWork } from '../../src/store/aggregation.repository.ts';
import { Partitions } from '../../src/store/partitions.ts';
import { writeBatch } from '../../src/store/reading-sink.ts';
import { waitFor } from '../helpers/device.ts';
import { useTestDatabase } from '../fixture.ts';

const t = useTestDatabase();

describe('the patients a run takes', () => {
  it('takes the oldest dirty marks first, whatever their ids, and keeps a tenth of the run for refreshes', async () => {
    await t.query(`DELETE FROM aggregation_dirty`);
    await t.query(`DELETE FROM indicators_dirty`);
    // Dirty patients whose ids sort against their age, and more refreshes due than a run takes.
    const dirty = ['p-order-a', 'p-order-b', 'p-order-c', 'p-order-d'];
    for (const [i, id] of dirty.entries()) {
      await t.addPatient(id);
      await t.query(
        `INSERT INTO aggregation_dirty (patient_id, type, day, first_marked_at)
         VALUES ($1, 'cgm_glucose', '2026-11-10', now() - $2 * interval '1 second')`,
        [id, 10 + i],
      );
    }
    const refresh = Array.from({ length: 30 }, (_, i) => `p-order-r${String(i).padStart(2, '0')}`);
    for (const [i, id] of refresh.entries()) {
      await t.addPatient(id);
      await t.query(
        `INSERT INTO indicators_dirty (patient_id, marked_at) VALUES ($1, now() - $2 * interval '1 hour')`,
        [id, 1 + i],
      );
    }
    const take = (limit: number) => t.db.transaction().execute((trx) => takeWork(trx, limit));
    // 3 a run: one refresh (the oldest due), then the oldest dirty patients.
    expect((await take(3)).patientIds.sort()).toEqual(['p-order-c', 'p-order-d', 'p-order-r29'].sort());
    // 20 a run: two refreshes, the four dirty patients, then refreshes in the room left, oldest first.
    const twenty = await take(20);
    expect(twenty.patientIds.length).toBe(20);
    expect(twenty.patientIds.filter((id) => dirty.includes(id)).sort()).toEqual(dirty);
    expect(twenty.patientIds.filter((id) => !dirty.includes(id)).sort()).toEqual(refresh.slice(14).sort());
  });
});

describe('the job after a commit', () => {
  it('runs when nudged instead of waiting out its idle interval', async () => {
    const now = Date.now();
    await t.addPatient('p-nudge');
    await t.provisionDevice('cgm-p-nudge', 'p-nudge', new Date(now - 86_400_000));
    const job = new Aggregator({
      db: t.db,
      log: createLogger('silent'),
      // An hour: without the nudge, nothing runs again during this test.
      intervalMs: 3_600_000,
      batchSize: 10,
      refreshEveryMs: 3_600_000,
      maxBusyShare: 0.25,
      now: Date.now,
    });
    const settled = async () => {
      const { rows } = await t.query(`SELECT count(*)::int AS n FROM aggregation_dirty`);
      return rows[0].n === 0;
    };
    job.start();
    try {
      await waitFor(settled, 'the first run', 60_000);
      const decoded = decodeReading(
        { id: 'n1', type: 'cgm_glucose', at: now - 1000, value: 45, unit: 'mg/dL' },
        { now, maxAgeMs: 86_400_000, maxFutureMs: 300_000 },
      );
      if (!decoded.ok) throw new Error('test reading rejected');
      await writeBatch(t.db, new Partitions(t.db), [
        { deviceId: 'cgm-p-nudge', receivedAt: now, readings: [decoded.reading], rejections: [] },
      ]);
      expect(await settled()).toBe(false);
      job.nudge();
      await waitFor(
        async () => {
          const { rows } = await t.query(`SELECT 1 FROM alerts WHERE patient_id = 'p-nudge' AND rule = 'hypoglycemia'`);
          return rows.length > 0;
        },
        'the alert of the new reading',
        60_000,
      );
      expect(await settled()).toBe(true);
    } finally {
      await job.stop();
    }
  });
});
