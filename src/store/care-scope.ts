import { sql } from 'kysely';
import type { Db } from './database.ts';

/**
 * The patients in a practitioner's care, kept in memory per database (README,
 * "Care teams", "Cost"). An entry holds while `care_scope_version` has not moved
 * (any change of enrolments or team memberships, on any instance, bumps it in its
 * own transaction) and until the next start or end of one of the practitioner's
 * teams' enrolments after it was computed. Each request then costs one read of
 * that one row; the enrolments are read again only when something changed. A
 * clock that goes back (a test's, or `at` before the entry) reads them again too.
 */

interface Entry {
  version: string;
  /** The entry answers for instants in [from, until). */
  from: number;
  until: number;
  patientIds: ReadonlySet<string>;
}

/** Practitioners kept per database; the oldest is dropped beyond it. */
const MAX_ENTRIES = 2_000;

const caches = new WeakMap<Db, Map<string, Entry>>();

/**
 * The practitioner's patients at `at`: enrolled with one of their teams, starts_at ≤
 * at < ends_at. Cost: one primary-key read; on a change, the practitioner's
 * memberships and their teams' enrolments by index (past ones included), never readings.
 */
export async function patientsInCareOf(db: Db, practitionerId: string, at: Date): Promise<ReadonlySet<string>> {
  let cache = caches.get(db);
  if (!cache) {
    cache = new Map();
    caches.set(db, cache);
  }
  const now = at.getTime();
  const { rows } = await sql<{ version: string }>`SELECT version FROM care_scope_version WHERE id = 1`.execute(db);
  const version = rows[0]?.version ?? '';
  const kept = cache.get(practitionerId);
  if (kept && kept.version === version && kept.from <= now && now < kept.until) return kept.patientIds;

  const { rows: scope } = await sql<{ patient_id: string | null; next_change: Date | null }>`
    WITH mine AS (
      SELECT e.patient_id, e.starts_at, e.ends_at
      FROM team_members m JOIN enrolments e ON e.team_id = m.team_id
      WHERE m.practitioner_id = ${practitionerId}
    )
    SELECT DISTINCT patient_id, NULL::timestamptz AS next_change FROM mine
    WHERE starts_at <= ${at} AND (ends_at IS NULL OR ends_at > ${at})
    UNION ALL
    SELECT NULL, least(min(starts_at) FILTER (WHERE starts_at > ${at}), min(ends_at) FILTER (WHERE ends_at > ${at}))
    FROM mine`.execute(db);
  const patientIds = new Set<string>();
  let until = Number.POSITIVE_INFINITY;
  for (const r of scope) {
    if (r.patient_id !== null) patientIds.add(r.patient_id);
    else if (r.next_change !== null) until = r.next_change.getTime();
  }
  cache.delete(practitionerId);
  cache.set(practitionerId, { version, from: now, until, patientIds });
  if (cache.size > MAX_ENTRIES) cache.delete(cache.keys().next().value as string);
  return patientIds;
}
