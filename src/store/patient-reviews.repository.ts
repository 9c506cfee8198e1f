import { sql } from 'kysely';
import type { Db } from './database.ts';

/** A patient's data marked reviewed for a patient-local day (migration 2026-12-07T1760). */
export interface PatientReview {
  id: string;
  patientId: string;
  /** The patient-local day reviewed, YYYY-MM-DD. */
  day: string;
  reviewedAt: Date;
  /** actorName of the reviewer (src/domain/alerts/acknowledgement.ts). */
  reviewedBy: string;
  practitionerId: string | null;
}

type Row = {
  id: string;
  patient_id: string;
  day: string;
  reviewed_at: Date;
  reviewed_by: string;
  practitioner_id: string | null;
};

const toReview = (r: Row): PatientReview => ({
  id: r.id,
  patientId: r.patient_id,
  day: r.day,
  reviewedAt: r.reviewed_at,
  reviewedBy: r.reviewed_by,
  practitionerId: r.practitioner_id,
});

/**
 * Marks the day reviewed by this reviewer; marking it again keeps the first mark
 * (one row per patient, day and reviewer) and returns it, with `created` false.
 */
export async function insertReview(
  db: Db,
  review: Omit<PatientReview, 'id'>,
): Promise<{ review: PatientReview; created: boolean }> {
  const { rows } = await sql<Row>`
    INSERT INTO patient_reviews (patient_id, day, reviewed_at, reviewed_by, practitioner_id)
    VALUES (${review.patientId}, ${review.day}, ${review.reviewedAt}, ${review.reviewedBy}, ${review.practitionerId})
    ON CONFLICT (patient_id, day, reviewed_by) DO NOTHING
    RETURNING id::text, patient_id, day, reviewed_at, reviewed_by, practitioner_id`.execute(db);
  if (rows[0]) return { review: toReview(rows[0]), created: true };
  const { rows: existing } = await sql<Row>`
    SELECT id::text, patient_id, day, reviewed_at, reviewed_by, practitioner_id FROM patient_reviews
    WHERE patient_id = ${review.patientId} AND day = ${review.day} AND reviewed_by = ${review.reviewedBy}`.execute(db);
  return { review: toReview(existing[0]), created: false };
}

/**
 * A patient's reviews, newest day first (ties: newest mark first), days in
 * [from, to] when given, after a keyset position; up to `limit`. Cost: the
 * (patient_id, day, id) index, the rows of the page.
 */
export async function listReviews(
  db: Db,
  options: { patientId: string; from?: string; to?: string; after?: { day: string; id: string }; limit: number },
): Promise<PatientReview[]> {
  const { rows } = await sql<Row>`
    SELECT id::text, patient_id, day, reviewed_at, reviewed_by, practitioner_id FROM patient_reviews
    WHERE patient_id = ${options.patientId}
      ${options.from !== undefined ? sql`AND day >= ${options.from}` : sql``}
      ${options.to !== undefined ? sql`AND day <= ${options.to}` : sql``}
      ${options.after !== undefined ? sql`AND (day, id) < (${options.after.day}::date, ${options.after.id}::bigint)` : sql``}
    ORDER BY day DESC, id DESC
    LIMIT ${options.limit}`.execute(db);
  return rows.map(toReview);
}

/** The latest review (latest day, then latest mark) of each of some patients: one index probe each. */
export async function latestReviews(db: Db, patientIds: readonly string[]): Promise<Map<string, PatientReview>> {
  const out = new Map<string, PatientReview>();
  if (patientIds.length === 0) return out;
  const { rows } = await sql<Row>`
    SELECT x.* FROM unnest(${[...patientIds]}::text[]) AS p(id)
    CROSS JOIN LATERAL (
      SELECT id::text, patient_id, day, reviewed_at, reviewed_by, practitioner_id FROM patient_reviews
      WHERE patient_id = p.id ORDER BY day DESC, id DESC LIMIT 1
    ) x`.execute(db);
  for (const r of rows) out.set(r.patient_id, toReview(r));
  return out;
}
