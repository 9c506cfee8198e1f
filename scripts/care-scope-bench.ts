/**
 * What scoping a practitioner's request costs (README, "Care teams", "Cost"): 10,000
 * patients in 20 teams of a scratch database (migrated); a practitioner in two
 * teams (1,000 patients) and one in all twenty. Prints p50/p99 of reading the
 * enrolments (the query behind the scope, run on every request before the care
 * scope cache) and of `patientsInCareOf` once warm (one read of the version row).
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres node scripts/care-scope-bench.ts [--repetitions 200]
 */
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { createScratchDatabase } from '../simulators/harness/scratch-database.ts';
import { createLogger } from '../src/logger.ts';
import { patientsInCareOf } from '../src/store/care-scope.ts';
import { createDatabase } from '../src/store/database.ts';
import { migrateToLatest } from '../src/store/migrations.ts';

const { values } = parseArgs({ options: { repetitions: { type: 'string', default: '200' } } });
const repetitions = Number(values.repetitions);
const base = process.env.DATABASE_URL;
if (!base) {
  process.stderr.write(
    'care-scope-bench: set DATABASE_URL to a PostgreSQL server (a scratch database is made there)\n',
  );
  process.exit(2);
}
const scratch = await createScratchDatabase(base, { prefix: 'vitalink_scope' });
const log = createLogger('warn', process.stderr);
const { db } = createDatabase(scratch.url, 2, log, 'care-scope-bench');
try {
  await migrateToLatest(db, log);
  await sql`INSERT INTO patients (id, time_zone) SELECT 'sp-' || i, 'Europe/Paris' FROM generate_series(1, 10000) i`.execute(
    db,
  );
  await sql`INSERT INTO care_teams (id) SELECT 'team-' || t FROM generate_series(1, 20) t`.execute(db);
  await sql`INSERT INTO practitioners (id, name) VALUES ('dr-two', 'Two teams'), ('dr-all', 'All teams')`.execute(db);
  await sql`INSERT INTO team_members (team_id, practitioner_id)
    SELECT 'team-' || t, 'dr-two' FROM generate_series(1, 2) t
    UNION ALL SELECT 'team-' || t, 'dr-all' FROM generate_series(1, 20) t`.execute(db);
  // Two enrolments a patient: an ended one and a running one.
  await sql`INSERT INTO enrolments (patient_id, team_id, programme, starts_at, ends_at)
    SELECT 'sp-' || i, 'team-' || (1 + i % 20), 'heart_failure', now() - interval '400 days', now() - interval '200 days'
    FROM generate_series(1, 10000) i
    UNION ALL
    SELECT 'sp-' || i, 'team-' || (1 + i % 20), 'heart_failure', now() - interval '100 days', NULL
    FROM generate_series(1, 10000) i`.execute(db);
  await sql`ANALYZE`.execute(db);
  const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.floor(p * (xs.length - 1))];
  const time = async (run: () => Promise<unknown>) => {
    const ms: number[] = [];
    for (let i = 0; i < repetitions; i++) {
      const t0 = performance.now();
      await run();
      ms.push(performance.now() - t0);
    }
    return { p50: Number(q(ms, 0.5).toFixed(2)), p99: Number(q(ms, 0.99).toFixed(2)) };
  };
  const out: Record<string, unknown> = {};
  for (const practitioner of ['dr-two', 'dr-all']) {
    const now = new Date();
    const enrolments = await time(() =>
      sql`SELECT DISTINCT e.patient_id FROM team_members m JOIN enrolments e ON e.team_id = m.team_id
          WHERE m.practitioner_id = ${practitioner} AND e.starts_at <= ${now} AND (e.ends_at IS NULL OR e.ends_at > ${now})`.execute(
        db,
      ),
    );
    const patients = (await patientsInCareOf(db, practitioner, now)).size;
    const cached = await time(() => patientsInCareOf(db, practitioner, now));
    out[practitioner] = { patients, enrolmentsQueryMs: enrolments, cachedMs: cached };
  }
  console.log(JSON.stringify(out));
} finally {
  await db.destroy();
  await scratch.drop();
}
