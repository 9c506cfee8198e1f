import { sql } from 'kysely';
import { type AlertSeverity, isRuleKey, worstRule } from '../domain/alerts/index.ts';
import { READING_TYPES } from '../domain/reading-types.ts';
import type { Db } from './database.ts';
import { latestReviews, type PatientReview } from './patient-reviews.repository.ts';

/** What a worklist shows of a patient next to their name. */
export interface PatientSummary {
  /** Alerts not yet acknowledged. */
  openAlerts: number;
  /** The most urgent of those. */
  worstAlert: { rule: string; severity: AlertSeverity } | null;
  lastReadingAt: Date | null;
  /** Days with at least one reading in the last 30 (the `adherence_days` indicator). */
  adherenceDays: number | null;
  /** The latest "reviewed" mark (latest day) on the patient's data. */
  lastReview: PatientReview | null;
  /**
   * The programmes the patient is enrolled in now, with any team (README "Care teams"),
   * distinct and sorted: the dashboard orders the patient's charts by them.
   */
  programmes: string[];
}

const EMPTY: PatientSummary = {
  openAlerts: 0,
  worstAlert: null,
  lastReadingAt: null,
  adherenceDays: null,
  lastReview: null,
  programmes: [],
};

/**
 * Summaries of some patients in five queries, whatever their number. The last
 * reading is found per reading type with the (patient, type, measured_at) index,
 * so its cost does not grow with the patient's history.
 */
export async function patientSummaries(
  db: Db,
  patientIds: readonly string[],
  now: Date = new Date(),
): Promise<Map<string, PatientSummary>> {
  const out = new Map<string, PatientSummary>();
  if (patientIds.length === 0) return out;
  const ids = [...patientIds];
  const [alerts, last, adherence, reviews, programmes] = await Promise.all([
    db
      .selectFrom('alerts')
      .select(['patient_id', 'rule'])
      .where('patient_id', 'in', ids)
      .where('status', '=', 'open')
      .execute(),
    sql<{ patient_id: string; at: Date | null }>`
      SELECT p.id AS patient_id, max(x.at) AS at
      FROM unnest(${ids}::text[]) AS p(id)
      CROSS JOIN unnest(${READING_TYPES.map((t) => t.type)}::text[]) AS t(type)
      CROSS JOIN LATERAL (
        SELECT r.measured_at AS at FROM readings r
        WHERE r.patient_id = p.id AND r.type = t.type
        ORDER BY r.measured_at DESC LIMIT 1
      ) x
      GROUP BY p.id`.execute(db),
    db
      .selectFrom('patient_indicators')
      .select(['patient_id', 'value'])
      .where('patient_id', 'in', ids)
      .where('key', '=', 'adherence_days')
      .execute(),
    latestReviews(db, ids),
    // The running enrolments, by the enrolments_patient index.
    db
      .selectFrom('enrolments')
      .select(['patient_id', 'programme'])
      .distinct()
      .where('patient_id', 'in', ids)
      .where('starts_at', '<=', now)
      .where((eb) => eb.or([eb('ends_at', 'is', null), eb('ends_at', '>', now)]))
      .orderBy('patient_id')
      .orderBy('programme')
      .execute(),
  ]);
  for (const id of ids) out.set(id, { ...EMPTY, programmes: [] });
  const rulesOf = new Map<string, string[]>();
  for (const a of alerts) {
    const rules = rulesOf.get(a.patient_id);
    if (rules) rules.push(a.rule);
    else rulesOf.set(a.patient_id, [a.rule]);
  }
  for (const [id, rules] of rulesOf) {
    const s = out.get(id)!;
    s.openAlerts = rules.length;
    s.worstAlert = worstRule(rules.filter(isRuleKey));
  }
  for (const row of last.rows) out.get(row.patient_id)!.lastReadingAt = row.at;
  for (const row of adherence) out.get(row.patient_id)!.adherenceDays = row.value;
  for (const [id, review] of reviews) out.get(id)!.lastReview = review;
  for (const row of programmes) out.get(row.patient_id)!.programmes.push(row.programme);
  return out;
}
