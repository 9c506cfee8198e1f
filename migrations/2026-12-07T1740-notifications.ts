import { type Kysely, sql } from 'kysely';

/**
 * Notifications (README, "Notifications"): where a care team's alerts are sent,
 * and a transactional outbox of what is to be sent.
 *
 * - notification_channels: a team's webhook or e-mail address; `escalation` marks
 *   the second contact, told when nobody acknowledged an alert in time. A webhook's
 *   secret is stored sealed (AES-256-GCM under a key derived from the service's
 *   secret key, `secret_key_id` naming it: src/domain/sealed-secrets.ts). Removing
 *   a channel sets `removed_at`, so that the history of what was sent stays.
 * - notifications: one row per channel of each team the patient is enrolled with
 *   when the alert opens, written in the transaction that opens it. `due_at` is
 *   when it is to be sent (the team's next opening when it opened out of hours,
 *   later after a failed attempt); the delivery worker takes due rows with
 *   FOR UPDATE SKIP LOCKED. The row's id is the idempotency key sent with it.
 *
 * Cost: the worker's poll reads notifications_due for state = 'pending' and
 * due_at ≤ now, so it costs the rows due, not the rows ever sent; the monthly
 * report's counts read one team's rows of one month through
 * notifications_team_created.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE notification_channels (
      id bigserial PRIMARY KEY,
      team_id text NOT NULL REFERENCES care_teams (id) ON DELETE CASCADE,
      kind text NOT NULL CHECK (kind IN ('webhook', 'email')),
      target text NOT NULL,
      escalation boolean NOT NULL DEFAULT false,
      secret_sealed bytea,
      secret_key_id text,
      created_at timestamptz NOT NULL DEFAULT now(),
      removed_at timestamptz,
      CHECK ((kind = 'webhook') = (secret_sealed IS NOT NULL AND secret_key_id IS NOT NULL))
    )`.execute(db);
  await sql`
    CREATE UNIQUE INDEX notification_channels_active ON notification_channels (team_id, kind, target, escalation)
    WHERE removed_at IS NULL`.execute(db);
  await sql`
    CREATE TABLE notifications (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      alert_id bigint NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
      team_id text NOT NULL REFERENCES care_teams (id) ON DELETE CASCADE,
      channel_id bigint NOT NULL REFERENCES notification_channels (id) ON DELETE CASCADE,
      channel text NOT NULL CHECK (channel IN ('webhook', 'email')),
      purpose text NOT NULL CHECK (purpose IN ('alert', 'escalation')),
      state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'dead', 'cancelled')),
      due_at timestamptz NOT NULL,
      attempts integer NOT NULL DEFAULT 0,
      last_error text,
      created_at timestamptz NOT NULL,
      sent_at timestamptz,
      dead_at timestamptz,
      UNIQUE (alert_id, channel_id, purpose)
    )`.execute(db);
  await sql`CREATE INDEX notifications_due ON notifications (state, due_at)`.execute(db);
  await sql`CREATE INDEX notifications_team_created ON notifications (team_id, created_at)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS notifications`.execute(db);
  await sql`DROP TABLE IF EXISTS notification_channels`.execute(db);
}
