/**
 * README, "Operations", "Read replica": with DATABASE_READ_URL, clinician reads go
 * to a streaming standby while it keeps up, audit rows and every write go to the
 * primary, and reads fall back to the primary when the standby lags past the bound.
 * The primary and the standby are a cluster of the test's own.
 */
import { describe, expect, it } from 'vitest';
import { useTestService } from '../fixture.ts';
import { wrapTestDatabase } from '../helpers/database.ts';
import { heartRate, waitFor } from '../helpers/device.ts';
import { type ReplicaCluster, startReplicaCluster } from '../helpers/replica-cluster.ts';
import { createLogger } from '../../src/logger.ts';
import { createDatabase } from '../../src/store/database.ts';
import { ReadReplica } from '../../src/store/read-replica.ts';

let cluster: ReplicaCluster;

const t = useTestService({
  database: async () => {
    cluster = await startReplicaCluster();
    return wrapTestDatabase(cluster.primaryUrl, () => cluster.stop());
  },
  env: () => ({
    DATABASE_URL: cluster.primaryUrl,
    DATABASE_READ_URL: cluster.standbyUrl,
    VITALINK_READ_REPLICA_MAX_LAG_MS: '1500',
  }),
});

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${t.httpUrl}/metrics`)).text();
  return Number(new RegExp(`^${name} (-?[\\d.e+-]+)$`, 'm').exec(text)?.[1] ?? NaN);
}

/** The readings of the patient as the API shows them (ids). */
async function readingIds(token: string): Promise<string[]> {
  const res = await t.api.get('/api/v1/patients/p-replica/readings', { token });
  expect(res.status).toBe(200);
  return (res.body as { items: Array<{ id: string }> }).items.map((r) => r.id).sort();
}

describe('a read replica for clinician reads', () => {
  it(
    'serves clinician reads from the standby, writes audit rows on the primary, and falls back when it lags',
    {
      timeout: 60_000,
    },
    async () => {
      const client = await t.device('replica-cuff', 'p-replica');
      const clinician = (await t.createToken('clinician', ['p-replica'])).token;
      await t.publish(client, 'replica-cuff', [heartRate('r1')]);
      await waitFor(async () => (await metric('vitalink_read_replica_in_use')) === 1, 'the standby in use');
      expect(await metric('vitalink_read_replica_lag_seconds')).toBeLessThan(1.5);
      // The standby has the reading: the read is served (from whichever database, both agree).
      await waitFor(async () => (await readingIds(clinician)).includes('r1'), 'the first reading on the standby');

      // Replay paused: the standby keeps its past. Reads made while it is still within the
      // bound show that past, which proves they come from the standby.
      await cluster.pauseReplay();
      await t.publish(client, 'replica-cuff', [heartRate('r2')]);
      expect(await readingIds(clinician)).toEqual(['r1']);
      // Its audit row was written nonetheless: on the primary.
      const audited = await t.query(`SELECT count(*)::int AS n FROM audit_log WHERE action = 'readings.read'`);
      expect(audited.rows[0].n).toBeGreaterThanOrEqual(2);

      // Past the bound (1.5 s), reads go to the primary, which has the new reading.
      await waitFor(async () => (await metric('vitalink_read_replica_in_use')) === 0, 'the fallback to the primary');
      expect(await metric('vitalink_read_replica_lag_seconds')).toBeGreaterThan(1.5);
      expect(await readingIds(clinician)).toEqual(['r1', 'r2']);

      // Replay resumed: the standby catches up and serves again.
      await cluster.resumeReplay();
      await waitFor(async () => (await metric('vitalink_read_replica_in_use')) === 1, 'the standby in use again');
      expect(await readingIds(clinician)).toEqual(['r1', 'r2']);
    },
  );

  it('keeps the aggregation job on the primary: indicators are computed while the standby serves reads', async () => {
    const clinician = (await t.createToken('clinician', ['p-replica'])).token;
    await t.settled();
    const res = await t.api.get('/api/v1/patients/p-replica/indicators', { token: clinician });
    expect(res.status).toBe(200);
    const keys = (res.body as { indicators: Array<{ key: string }> }).indicators.map((i) => i.key);
    expect(keys).toContain('hr_mean');
  });

  it('sends reads to the primary when the replica does not answer, and says so', async () => {
    const dead = createDatabase('postgres://postgres@127.0.0.1:1/none', 1, createLogger('silent'));
    const seen: Array<[number | null, boolean]> = [];
    const routing = new ReadReplica({
      primary: t.db,
      replica: dead.db,
      maxLagMs: 1_000,
      log: createLogger('silent'),
      observed: (lag, inUse) => seen.push([lag, inUse]),
    });
    await routing.check();
    expect(routing.db()).toBe(t.db);
    expect(seen).toEqual([[null, false]]);
    await dead.db.destroy();
  });
});
