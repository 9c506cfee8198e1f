import { describe, expect, it } from 'vitest';
import { DAY_MS } from '../../src/domain/retention.ts';
import { useTestDatabase } from '../fixture.ts';
import { runCli } from '../helpers/service.ts';

const t = useTestDatabase();

function vitalink(args: string[], env: Record<string, string> = {}) {
  return runCli(['retention', ...args], { DATABASE_URL: t.url, LOG_LEVEL: 'warn', ...env });
}

async function oldRejections(): Promise<number> {
  return (await t.query(`SELECT count(*)::int AS n FROM rejections WHERE device_id = 'cmd-dev'`)).rows[0].n;
}

describe('vitalink retention', () => {
  it('--dry-run --json says what would go and removes nothing; without --dry-run it removes it', async () => {
    await t.query(
      `INSERT INTO rejections (device_id, reading_id, reason, detail, raw, fingerprint, received_at)
       VALUES ('cmd-dev', 'c-1', 'out_of_range', 'x', '\\x00', 'c1', $1), ('cmd-dev', 'c-2', 'out_of_range', 'x', '\\x00', 'c2', now())`,
      [new Date(Date.now() - 181 * DAY_MS)],
    );
    const dry = await vitalink(['--dry-run', '--json']);
    expect(dry.stderr).toBe('');
    expect(dry.code).toBe(0);
    expect(dry.stdout.trim().split('\n')).toHaveLength(1);
    const report = JSON.parse(dry.stdout);
    expect(Object.keys(report).sort()).toEqual(
      [
        'at',
        'auditLog',
        'cgmPartials',
        'dryRun',
        'interrupted',
        'readingKeys',
        'readings',
        'rejections',
        'skipped',
      ].sort(),
    );
    expect(report).toMatchObject({
      dryRun: true,
      skipped: false,
      readings: { keepDays: null, before: null, partitions: [], rows: 0 },
      readingKeys: { rows: 0, months: [] },
      rejections: { keepDays: 180, rows: 1 },
      auditLog: { keepDays: 3650, rows: 0 },
      cgmPartials: { daily: 0, hourly: 0 },
    });
    expect(Date.parse(report.rejections.before)).toBeLessThan(Date.now() - 179 * DAY_MS);
    expect(await oldRejections()).toBe(2);

    const text = await vitalink(['--dry-run']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/dry run .*nothing was removed/);
    expect(text.stdout).toMatch(/rejections: kept 180 days, before \S+: 1 row\(s\) would be removed/);
    expect(text.stdout).toMatch(/CGM partial aggregates: .*: 0 daily and 0 hourly row\(s\) would be removed/);
    expect(text.stdout).toContain('readings: kept forever');

    const run = await vitalink(['--json']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ dryRun: false, rejections: { rows: 1 } });
    expect(await oldRejections()).toBe(1);
  });

  it('refuses a bad setting before touching the database, naming the variable (exit 2)', async () => {
    const bad = await vitalink(['--json'], { VITALINK_RETENTION_READINGS_DAYS: '30' });
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toContain('VITALINK_RETENTION_READINGS_DAYS: must be 0 (keep forever) or at least 97 days');
    const negative = await vitalink([], { VITALINK_RETENTION_AUDIT_DAYS: '-3' });
    expect(negative.code).toBe(2);
    expect(negative.stderr).toContain('VITALINK_RETENTION_AUDIT_DAYS');
  });

  it('says so and exits 1 while another run holds the lock', async () => {
    const other = await t.pgClient();
    await other.query(`SELECT pg_advisory_lock(${0x7669_7461_6c72_6574n}::bigint)`);
    const busy = await vitalink([]);
    await other.end();
    expect(busy.code).toBe(1);
    expect(busy.stdout).toBe('');
    expect(busy.stderr).toMatch(/another retention run is under way/);
  });

  it('has its own help', async () => {
    const help = await vitalink(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('vitalink retention [--dry-run] [--json]');
  });
});
