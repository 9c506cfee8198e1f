import { describe, expect, it } from 'vitest';
import { DAY_MS, utcMonthStart } from '../../src/domain/retention.ts';
import { decodeMessage } from '../../src/ingest/decode.ts';
import { Partitions } from '../../src/store/partitions.ts';
import { writeBatch } from '../../src/store/reading-sink.ts';
import { type ServiceContext, useTestService } from '../fixture.ts';
import { collectRejections, heartRate, waitFor } from '../helpers/device.ts';

const started = Date.now();
const OLD_AT = started - 200 * DAY_MS;
const RECENT_AT = started - 30 * DAY_MS;
/** In a month whose keys are recorded as removed, yet within today's 90-day window. */
const RAISED_AT = started - 75 * DAY_MS;
let secret = '';

/** Stores a reading as the service did when it arrived, back when it was measured. */
async function storedBack(t: ServiceContext, readingId: string, at: number): Promise<void> {
  const payload = Buffer.from(JSON.stringify(heartRate(readingId, 72, at)));
  const decoded = decodeMessage(payload, { now: at, maxAgeMs: 90 * DAY_MS, maxFutureMs: 300_000 });
  const [outcome] = await writeBatch(t.db, new Partitions(t.db), [{ deviceId: 'svc-d1', receivedAt: at, ...decoded }]);
  expect(outcome.stored).toBe(1);
}

const t = useTestService({
  // Readings are kept forever (the default); rejections 180 days (the default).
  env: { VITALINK_RETENTION_INTERVAL_MS: '200' },
  beforeStart: async (ctx) => {
    secret = await ctx.provisionDevice('svc-d1', 'svc-p1', new Date(started - 300 * DAY_MS));
    await storedBack(ctx, 'old-1', OLD_AT);
    await storedBack(ctx, 'recent-1', RECENT_AT);
    // As if the keys of that month (inside today's window) had been removed under a shorter window.
    await ctx.query(`INSERT INTO reading_keys_pruned (month, keys_removed) VALUES ($1, 0)`, [
      new Date(utcMonthStart(RAISED_AT)),
    ]);
    await ctx.query(
      `INSERT INTO rejections (device_id, reading_id, reason, detail, raw, fingerprint, received_at)
       VALUES ('svc-d1', 'rj-old', 'out_of_range', 'x', '\\x00', 'svc-old', $1)`,
      [new Date(started - 200 * DAY_MS)],
    );
  },
});

async function metric(line: string): Promise<number> {
  const res = await t.api.get('/metrics');
  const found = String(res.body)
    .split('\n')
    .find((l) => l.startsWith(`${line} `));
  return found === undefined ? NaN : Number(found.split(' ')[1]);
}

async function count(sql: string): Promise<number> {
  return (await t.query(sql)).rows[0].n;
}

describe('the scheduled retention run in serve', () => {
  it('runs shortly after start: removes expired keys and old rejections, keeps the readings, counts them', async () => {
    await waitFor(
      async () => (await count(`SELECT count(*)::int AS n FROM reading_keys WHERE reading_id = 'old-1'`)) === 0,
      'the old key to be removed',
    );
    await waitFor(
      async () => (await count(`SELECT count(*)::int AS n FROM rejections WHERE reading_id = 'rj-old'`)) === 0,
      'the old rejection to be removed',
    );
    expect(await count(`SELECT count(*)::int AS n FROM reading_keys WHERE reading_id = 'recent-1'`)).toBe(1);
    expect(await count(`SELECT count(*)::int AS n FROM readings WHERE device_id = 'svc-d1'`)).toBe(2);
    await waitFor(async () => (await metric('vitalink_retention_runs_total{outcome="applied"}')) >= 1, 'a run');
    expect(await metric('vitalink_retention_removed_total{kind="readingKeys"}')).toBe(1);
    expect(await metric('vitalink_retention_removed_total{kind="rejections"}')).toBe(1);
    expect(await metric('vitalink_retention_removed_total{kind="readings"}')).toBe(0);
    expect(await metric('vitalink_retention_last_run_timestamp_seconds')).toBeGreaterThan(started / 1000);
  });

  it('a reading resent after its key was removed is rejected as too old, never stored twice', async () => {
    const client = await t.connectDevice('svc-d1', secret);
    const rejections = await collectRejections(client, 'svc-d1');
    await t.publish(client, 'svc-d1', [heartRate('old-1', 72, OLD_AT)]);
    await t.publish(client, 'svc-d1', [heartRate('recent-1', 72, RECENT_AT)]);
    await waitFor(() => rejections.length > 0, 'the rejection message');
    expect(rejections).toEqual([{ id: 'old-1', reason: 'too_old', detail: expect.any(String) }]);
    // recent-1's key is there: a duplicate, acknowledged, not stored again, not rejected.
    expect(await count(`SELECT count(*)::int AS n FROM readings WHERE reading_id = 'old-1'`)).toBe(1);
    expect(await count(`SELECT count(*)::int AS n FROM readings WHERE reading_id = 'recent-1'`)).toBe(1);
    expect(await count(`SELECT count(*)::int AS n FROM reading_keys WHERE reading_id = 'old-1'`)).toBe(0);
    await client.endAsync();
  });

  it('refuses readings before the newest month whose keys were removed, even inside a window raised since', async () => {
    const client = await t.connectDevice('svc-d1', secret);
    const rejections = await collectRejections(client, 'svc-d1');
    await t.publish(client, 'svc-d1', [heartRate('raised-1', 72, RAISED_AT)]);
    await waitFor(() => rejections.length > 0, 'the rejection message');
    expect(rejections).toEqual([
      { id: 'raised-1', reason: 'too_old', detail: expect.stringMatching(/recognises duplicates/) },
    ]);
    expect(await count(`SELECT count(*)::int AS n FROM readings WHERE reading_id = 'raised-1'`)).toBe(0);
    await client.endAsync();
  });

  it('skips, and counts it, while another session holds the retention lock', async () => {
    const skippedBefore = await metric('vitalink_retention_runs_total{outcome="skipped"}');
    const other = await t.pgClient();
    // The key of src/store/retention.repository.ts, taken as another instance would.
    await waitFor(
      async () =>
        (await other.query(`SELECT pg_try_advisory_lock(${0x7669_7461_6c72_6574n}::bigint) AS ok`)).rows[0].ok,
      'the lock between two runs',
    );
    await waitFor(
      async () => (await metric('vitalink_retention_runs_total{outcome="skipped"}')) > skippedBefore,
      'a skipped run',
    );
    await other.end();
    const applied = await metric('vitalink_retention_runs_total{outcome="applied"}');
    await waitFor(
      async () => (await metric('vitalink_retention_runs_total{outcome="applied"}')) > applied,
      'a run once the lock is free',
    );
  });
});
