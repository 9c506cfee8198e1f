import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { runCli } from '../helpers/service.ts';

/**
 * `vitalink audit export`: a patient's access request. The CLI as a process, on a
 * real PostgreSQL; more rows than one page (1000), with ties on `at`, so that the
 * keyset pages are what is tested.
 */

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
  // 2,500 rows about p-exp: 5 per second, so ties on `at` fall across page boundaries,
  // inserted newest first so that id order and time order differ.
  await database.query(
    `INSERT INTO audit_log (at, role, principal, patient_id, action, outcome, request_id, source_address)
     SELECT timestamptz '2026-12-01T00:00:00Z' + ((2499 - g) / 5) * interval '1 second', 'clinician', 'token:7',
            'p-exp', 'readings.read', CASE WHEN g % 10 = 0 THEN 'denied' ELSE 'allowed' END, 'req-' || (2499 - g),
            '127.0.0.1'
     FROM generate_series(0, 2499) g`,
  );
  // Noise: another patient's rows, and a row from before the audit columns existed.
  await database.query(
    `INSERT INTO audit_log (at, role, patient_id, action)
     VALUES ('2026-12-01T00:00:10Z', 'clinician', 'p-other', 'patients.read'),
            ('2026-11-30T00:00:00Z', 'clinician', 'p-exp', 'patients.read')`,
  );
});

afterAll(async () => {
  await database?.drop();
});

function vitalink(args: string[]) {
  return runCli(args, { DATABASE_URL: database.url, LOG_LEVEL: 'warn' });
}

describe('vitalink audit export', () => {
  it('prints every row about the patient, oldest first, across pages, as JSON Lines', async () => {
    const out = await vitalink(['audit', 'export', '--patient', 'p-exp', '--json']);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    const rows = out.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows).toHaveLength(2501);
    expect(new Set(rows.map((r) => r.patientId))).toEqual(new Set(['p-exp']));
    // The old row first, with its missing fields null.
    expect(rows[0]).toMatchObject({ at: '2026-11-30T00:00:00.000Z', action: 'patients.read', outcome: null });
    // Then req-0 .. req-2499 in time order, ties by id: each exactly once.
    expect(rows.slice(1).map((r) => r.requestId)).toEqual(
      Array.from({ length: 2500 }, (_, i) => `req-${i}`).sort((a, b) => {
        const [x, y] = [Number(a.slice(4)), Number(b.slice(4))];
        return Math.floor(x / 5) - Math.floor(y / 5) || y - x;
      }),
    );
    for (let i = 1; i < rows.length; i++) {
      const order = rows[i - 1].at.localeCompare(rows[i].at) || Number(rows[i - 1].id) - Number(rows[i].id);
      expect(order, `row ${i}`).toBeLessThan(0);
    }
    expect(rows[1]).toMatchObject({
      role: 'clinician',
      principal: 'token:7',
      sourceAddress: '127.0.0.1',
      action: 'readings.read',
    });
    expect(rows.filter((r) => r.outcome === 'denied')).toHaveLength(250);
  });

  it('keeps to [--from, --to) and prints one text line per row, with the count on stderr', async () => {
    const out = await vitalink([
      'audit',
      'export',
      '--patient',
      'p-exp',
      '--from',
      '2026-12-01T00:00:10Z',
      '--to',
      '2026-12-01T00:00:12Z',
    ]);
    expect(out.code).toBe(0);
    const lines = out.stdout.trim().split('\n');
    expect(lines).toHaveLength(10);
    expect(lines[0].split('\t')).toEqual([
      '2026-12-01T00:00:10.000Z',
      expect.stringMatching(/^(allowed|denied)$/),
      'readings.read',
      'clinician',
      'token:7',
      expect.stringMatching(/^req-\d+$/),
      '127.0.0.1',
    ]);
    expect(lines.at(-1)).toMatch(/^2026-12-01T00:00:11\.000Z\t/);
    expect(out.stderr).toBe('10 audit row(s) about patient p-exp\n');
  });

  it('prints nothing for a patient without rows, and refuses a bad time with exit code 2', async () => {
    const none = await vitalink(['audit', 'export', '--patient', 'p-none', '--json']);
    expect(none.code).toBe(0);
    expect(none.stdout).toBe('');
    const bad = await vitalink(['audit', 'export', '--patient', 'p-exp', '--from', 'yesterday-ish']);
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toContain('--from must be a date');
  });
});
