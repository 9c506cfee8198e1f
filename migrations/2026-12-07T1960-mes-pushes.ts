import { type Kysely, sql } from 'kysely';

/**
 * Feeding Mon espace santé (README, "France", "Feeding Mon espace santé"): one row
 * per reading to send as a MesBundleFluxAlimentation transaction, written by the
 * aggregation job in the transaction that takes the reading's dirty mark (an
 * outbox fed at aggregation, so that the push costs the new readings, never the
 * history), and the record of what became of it.
 *
 * - UNIQUE (device_id, reading_id): a reading is queued once, whatever the number
 *   of instances or runs that see its day; the row's id is the idempotency key sent
 *   with it and the uuid of the bundle's Observation entry.
 * - state: pending (due at due_at) → sending (leased until due_at) → sent, pending
 *   again (a 5xx or a network error, after a backoff), refused (the receiver
 *   refused it: 422, 403, 409; not retried unless replayed) or dead (attempts used
 *   up, or the instance stopped while sending: never sent again on its own).
 * - bundle: the bundle as sent (the last attempt); last_status, last_answer: the
 *   receiver's HTTP status and what it said; location: where it stored the
 *   Observation (and device_location the Device).
 *
 * Cost: the worker's poll reads mes_pushes_due for state = 'pending' (and
 * 'sending' past its lease) and due_at ≤ now: the rows due, not the rows ever sent;
 * the record of a patient reads mes_pushes_patient.
 *
 * Upgrade cost: a new empty table.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE mes_pushes (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      patient_id text NOT NULL REFERENCES patients (id) ON DELETE CASCADE,
      device_id text NOT NULL,
      reading_id text NOT NULL,
      type text NOT NULL,
      measured_at timestamptz NOT NULL,
      state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sending', 'sent', 'refused', 'dead')),
      due_at timestamptz NOT NULL,
      attempts integer NOT NULL DEFAULT 0,
      created_at timestamptz NOT NULL DEFAULT now(),
      attempted_at timestamptz,
      sent_at timestamptz,
      bundle jsonb,
      last_status integer,
      last_answer text,
      location text,
      device_location text,
      UNIQUE (device_id, reading_id)
    )`.execute(db);
  await sql`CREATE INDEX mes_pushes_due ON mes_pushes (state, due_at)`.execute(db);
  await sql`CREATE INDEX mes_pushes_patient ON mes_pushes (patient_id, created_at)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS mes_pushes`.execute(db);
}
