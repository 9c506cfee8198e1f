import { type Kysely, sql } from 'kysely';

/**
 * Alerts carry their event; acknowledgements say what was done; patients' data can
 * be marked reviewed for a day (README, "Indicators and alerts").
 *
 * - alerts.event_readings: the reading(s) of the alert's most recent occurrence with
 *   their values, written by the aggregation job when it opens or updates the alert
 *   (it has the readings in hand), so that showing an alert never reads `readings`.
 *   JSON array of {deviceId, readingId, type, at, unit, value | systolic, diastolic};
 *   [] for `no_data`; NULL when not known (see the backfill below).
 * - alerts.acknowledged_action / acknowledged_note: what the clinician did, and a
 *   free-text note (clinical data: bounded, never logged). NULL action: acknowledged
 *   by a client that sent no body (before this version, or an old client).
 * - alert_events.action / note / readings: the same in the alert's history.
 * - patient_reviews: a clinician marked a patient's data reviewed for a patient-local
 *   day; one row per (patient, day, reviewer).
 * - alerts_patient_opened: the monthly activity report reads a team's alerts by
 *   patient and opening time.
 *
 * Backfill of existing alerts (cost): only what one index probe per alert finds.
 * The reading(s) of the single-reading rules (spo2_low, bp_high, fever, hypoglycemia)
 * were measured exactly at alerts.occurred_at, so each is found with the
 * (patient_id, type, measured_at) index, in the one monthly partition of that time:
 * O(alerts × log) whatever the number of readings. Alerts of the other rules (their
 * first reading is at an unknown earlier time), alerts whose readings retention has
 * removed, and `no_data` alerts from before this version keep NULL: the API shows
 * their event time and reading ids without values.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE alerts ADD COLUMN event_readings jsonb`.execute(db);
  await sql`
    ALTER TABLE alerts
      ADD COLUMN acknowledged_action text
        CHECK (acknowledged_action IN ('called_patient', 'adjusted_treatment', 'sent_to_consultation', 'no_action')),
      ADD COLUMN acknowledged_note text CHECK (char_length(acknowledged_note) <= 2000)`.execute(db);
  await sql`
    ALTER TABLE alert_events
      ADD COLUMN action text,
      ADD COLUMN note text,
      ADD COLUMN readings jsonb`.execute(db);
  await sql`CREATE INDEX alerts_patient_opened ON alerts (patient_id, opened_at)`.execute(db);

  await sql`
    CREATE TABLE patient_reviews (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      patient_id text NOT NULL REFERENCES patients (id),
      day date NOT NULL,
      reviewed_at timestamptz NOT NULL,
      reviewed_by text NOT NULL,
      practitioner_id text REFERENCES practitioners (id),
      UNIQUE (patient_id, day, reviewed_by)
    )`.execute(db);
  await sql`CREATE INDEX patient_reviews_patient_day ON patient_reviews (patient_id, day DESC, id DESC)`.execute(db);

  // Backfill: single-reading rules, one index probe per alert (see above). LATERAL with
  // LIMIT 1 keeps it a probe per alert: the planner cannot turn it into a scan of readings.
  await sql`
    UPDATE alerts a SET event_readings = jsonb_build_array(jsonb_strip_nulls(jsonb_build_object(
        'deviceId', r.device_id, 'readingId', r.reading_id, 'type', r.type,
        'at', to_char(r.measured_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        'unit', r.unit, 'value', r.value, 'systolic', r.systolic, 'diastolic', r.diastolic)))
    FROM alerts a2
    JOIN (VALUES ('spo2_low', ARRAY['spo2']), ('bp_high', ARRAY['blood_pressure']),
                 ('fever', ARRAY['body_temperature']), ('hypoglycemia', ARRAY['blood_glucose', 'cgm_glucose']))
      AS t(rule, types) ON t.rule = a2.rule
    CROSS JOIN LATERAL (
      SELECT x.* FROM readings x
      WHERE x.patient_id = a2.patient_id AND x.type = ANY (t.types) AND x.measured_at = a2.occurred_at
        AND x.device_id || '/' || x.reading_id = a2.reading_ids[1]
      LIMIT 1
    ) r
    WHERE a.id = a2.id AND a2.occurred_at IS NOT NULL AND cardinality(a2.reading_ids) = 1`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS patient_reviews`.execute(db);
  await sql`DROP INDEX IF EXISTS alerts_patient_opened`.execute(db);
  await sql`ALTER TABLE alert_events DROP COLUMN IF EXISTS action, DROP COLUMN IF EXISTS note, DROP COLUMN IF EXISTS readings`.execute(
    db,
  );
  await sql`
    ALTER TABLE alerts DROP COLUMN IF EXISTS event_readings, DROP COLUMN IF EXISTS acknowledged_action,
      DROP COLUMN IF EXISTS acknowledged_note`.execute(db);
}
