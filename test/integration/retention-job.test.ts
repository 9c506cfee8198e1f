import { describe, expect, it } from 'vitest';
import { RetentionJob } from '../../src/actions/retention-job.ts';
import { DAY_MS } from '../../src/domain/retention.ts';
import { createLogger } from '../../src/logger.ts';
import { createMetrics } from '../../src/metrics/metrics.ts';
import { releaseRetentionLock, tryRetentionLock } from '../../src/store/retention.repository.ts';
import { useTestDatabase } from '../fixture.ts';
import { waitFor } from '../helpers/device.ts';

const t = useTestDatabase();

function job(intervalMs: number) {
  const lines: Record<string, any>[] = [];
  const log = createLogger('info', { write: (line: string) => void lines.push(JSON.parse(line)) });
  const metrics = createMetrics();
  const retention = new RetentionJob({
    db: t.db,
    settings: { readingsDays: null, rejectionsDays: 30, auditDays: null, readingMaxAgeMs: 90 * DAY_MS },
    intervalMs,
    log,
    metrics,
    now: Date.now,
  });
  return { retention, lines, metrics };
}

describe('RetentionJob', () => {
  it('logs one constant line per run with the counts, and a skip while another session holds the lock', async () => {
    await t.query(
      `INSERT INTO rejections (device_id, reading_id, reason, detail, raw, fingerprint, received_at)
       SELECT 'job-dev', 'j-' || g, 'out_of_range', 'x', '\\x00', 'job' || g, now() - interval '31 days'
       FROM generate_series(1, 3) g`,
    );
    const { retention, lines } = job(100);
    retention.start();
    try {
      const applied = await waitFor(() => lines.find((l) => l.msg === 'retention applied'), 'a run');
      expect(applied.removed).toEqual({
        readings: 0,
        readingPartitions: 0,
        rollupsDaily: 0,
        rollupsHourly: 0,
        readingKeys: 0,
        rejections: 3,
        auditLog: 0,
        cgmPartialsDaily: 0,
        cgmPartialsHourly: 0,
      });
      expect(JSON.stringify(lines)).not.toContain('j-1');

      await t.db.connection().execute(async (conn) => {
        await waitFor(() => tryRetentionLock(conn), 'the lock between two runs');
        try {
          await waitFor(
            () => lines.find((l) => l.msg === 'retention skipped: another instance is applying it'),
            'a skipped run',
          );
        } finally {
          await releaseRetentionLock(conn);
        }
      });
    } finally {
      await retention.stop();
    }
    const count = lines.length;
    await new Promise((r) => setTimeout(r, 300));
    expect(lines.length).toBe(count);
  });
});
