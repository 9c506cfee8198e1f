import { sql } from 'kysely';
import type { MesPushState } from '../domain/mes-feed.ts';
import type { Db } from './database.ts';
import { feedablePatientSql } from './mes-identity.ts';
import { type ReadingPageRow, type StoredReading, toStoredReading } from './readings-page.ts';

/**
 * The Mon espace santé outbox and its record (mes_pushes, migration
 * 2026-12-07T1960-mes-pushes; README, "Feeding Mon espace santé"), after the
 * notifications outbox (src/store/notifications.repository.ts): rows taken with FOR
 * UPDATE SKIP LOCKED and leased, outcomes recorded only by the attempt that holds
 * the row.
 */

/** The readings of a patient and type measured in [from, to), as the aggregation job's dirty marks give them. */
export interface MesRange {
  readonly patientId: string;
  readonly type: string;
  readonly from: Date;
  readonly to: Date;
}

/**
 * Queues the readings of the ranges (the hours or days new readings fell in, read by
 * the aggregation job in the same transaction) of the patients that can be fed:
 * one row per reading, never two (UNIQUE (device_id, reading_id), ON CONFLICT DO
 * NOTHING), whatever the instances and runs that see the same day.
 *
 * Cost: the readings of those ranges through readings (patient_id, type,
 * measured_at), and one unique-index probe each: the new readings' hours (their
 * days for a mark without hours), never the history.
 */
export async function queueMesPushes(trx: Db, ranges: readonly MesRange[], at: Date): Promise<number> {
  if (ranges.length === 0) return 0;
  const result = await sql`
    INSERT INTO mes_pushes (patient_id, device_id, reading_id, type, measured_at, due_at)
    SELECT r.patient_id, r.device_id, r.reading_id, r.type, r.measured_at, ${at}::timestamptz
    FROM unnest(${ranges.map((r) => r.patientId)}::text[], ${ranges.map((r) => r.type)}::text[],
                ${ranges.map((r) => r.from.toISOString())}::timestamptz[],
                ${ranges.map((r) => r.to.toISOString())}::timestamptz[]) AS m(patient_id, type, from_at, to_at)
    JOIN readings r ON r.patient_id = m.patient_id AND r.type = m.type
                   AND r.measured_at >= m.from_at AND r.measured_at < m.to_at
    WHERE ${feedablePatientSql(sql.ref('m.patient_id'))}
    ON CONFLICT (device_id, reading_id) DO NOTHING
  `.execute(trx);
  return Number(result.numAffectedRows ?? 0);
}

/** A push taken for delivery. */
export interface ClaimedMesPush {
  id: string;
  patientId: string;
  deviceId: string;
  readingId: string;
  type: string;
  measuredAt: Date;
  /** Attempts so far, this one included. */
  attempts: number;
}

/**
 * Takes up to `limit` pushes due at `now`, oldest due first, and leases them until
 * `leaseUntil` (state sending, attempt counted) in one statement, FOR UPDATE SKIP
 * LOCKED: several instances never take the same row. Cost: mes_pushes_due's pending
 * range up to now.
 */
export async function claimDueMesPushes(db: Db, now: Date, limit: number, leaseUntil: Date): Promise<ClaimedMesPush[]> {
  const { rows } = await sql<{
    id: string;
    patient_id: string;
    device_id: string;
    reading_id: string;
    type: string;
    measured_at: Date;
    attempts: number;
  }>`
    WITH due AS (
      SELECT id FROM mes_pushes
      WHERE state = 'pending' AND due_at <= ${now}
      ORDER BY due_at LIMIT ${limit}
      FOR UPDATE SKIP LOCKED
    )
    UPDATE mes_pushes p SET state = 'sending', due_at = ${leaseUntil}, attempts = p.attempts + 1, attempted_at = ${now}
    FROM due WHERE p.id = due.id
    RETURNING p.id, p.patient_id, p.device_id, p.reading_id, p.type, p.measured_at, p.attempts
  `.execute(db);
  return rows.map((r) => ({
    id: r.id,
    patientId: r.patient_id,
    deviceId: r.device_id,
    readingId: r.reading_id,
    type: r.type,
    measuredAt: r.measured_at,
    attempts: r.attempts,
  }));
}

export const STOPPED_WHILE_SENDING =
  "the instance stopped while sending it: whether Mon espace santé stored it is unknown, so it is not sent again on its own (check the patient's record, then replay it or leave it)";

/**
 * Pushes whose lease ran out while sending (the instance that took them stopped
 * between sending and recording): dead, never sent again on their own, so that an
 * observation is never sent twice. Cost: mes_pushes_due's sending range up to now.
 */
export async function abandonStaleSends(db: Db, now: Date): Promise<number> {
  const result = await db
    .updateTable('mes_pushes')
    .set({ state: 'dead', last_answer: STOPPED_WHILE_SENDING })
    .where('state', '=', 'sending')
    .where('due_at', '<=', now)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

export type MesOutcome =
  | { state: 'sent'; at: Date; status: number; answer: string; location: string | null; deviceLocation: string | null }
  | { state: 'pending'; dueAt: Date; status: number | null; answer: string }
  | { state: 'refused' | 'dead'; status: number | null; answer: string };

/**
 * Records an attempt's outcome and the bundle it sent, only while the row is still
 * this attempt's (sending, same attempt count). Returns whether it did.
 */
export async function recordMesOutcome(
  db: Db,
  id: string,
  attempts: number,
  bundle: unknown,
  outcome: MesOutcome,
): Promise<boolean> {
  const common = {
    last_status: outcome.status,
    last_answer: outcome.answer,
    ...(bundle === undefined ? {} : { bundle: JSON.stringify(bundle) }),
  };
  const set =
    outcome.state === 'sent'
      ? {
          ...common,
          state: 'sent' as const,
          sent_at: outcome.at,
          location: outcome.location,
          device_location: outcome.deviceLocation,
        }
      : outcome.state === 'pending'
        ? { ...common, state: 'pending' as const, due_at: outcome.dueAt }
        : { ...common, state: outcome.state };
  const result = await db
    .updateTable('mes_pushes')
    .set(set)
    .where('id', '=', id)
    .where('state', '=', 'sending')
    .where('attempts', '=', attempts)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** One push as the record shows it (CLI and API). */
export interface MesPushRecord {
  id: string;
  patientId: string;
  deviceId: string;
  readingId: string;
  type: string;
  measuredAt: Date;
  state: MesPushState;
  attempts: number;
  createdAt: Date;
  attemptedAt: Date | null;
  sentAt: Date | null;
  status: number | null;
  answer: string | null;
  location: string | null;
  deviceLocation: string | null;
}

/**
 * A patient's pushes, newest queued first, up to `limit`, optionally of one state;
 * `bundle`: with the bundle as sent. Cost: mes_pushes_patient, the rows returned.
 */
export async function listMesPushes(
  db: Db,
  patientId: string,
  options: { limit: number; state?: MesPushState; withBundle?: boolean },
): Promise<(MesPushRecord & { bundle?: unknown })[]> {
  let q = db
    .selectFrom('mes_pushes')
    .select([
      'id',
      'patient_id',
      'device_id',
      'reading_id',
      'type',
      'measured_at',
      'state',
      'attempts',
      'created_at',
      'attempted_at',
      'sent_at',
      'last_status',
      'last_answer',
      'location',
      'device_location',
      'bundle',
    ])
    .where('patient_id', '=', patientId)
    .orderBy('created_at', 'desc')
    .orderBy('measured_at', 'desc')
    .limit(options.limit);
  if (options.state) q = q.where('state', '=', options.state);
  return (await q.execute()).map((r) => ({
    id: r.id,
    patientId: r.patient_id,
    deviceId: r.device_id,
    readingId: r.reading_id,
    type: r.type,
    measuredAt: r.measured_at,
    state: r.state,
    attempts: r.attempts,
    createdAt: r.created_at,
    attemptedAt: r.attempted_at,
    sentAt: r.sent_at,
    status: r.last_status,
    answer: r.last_answer,
    location: r.location,
    deviceLocation: r.device_location,
    ...(options.withBundle ? { bundle: r.bundle } : {}),
  }));
}

/**
 * Puts refused or dead pushes back in the outbox, due at `now`, attempts counted
 * afresh: one by id, or all of a patient's. Returns the ids. Cost: the rows replayed
 * (a patient's through mes_pushes_patient).
 */
export async function replayMesPushes(
  db: Db,
  which: { id: string } | { patientId: string },
  now: Date,
): Promise<string[]> {
  let q = db
    .updateTable('mes_pushes')
    .set({ state: 'pending', due_at: now, attempts: 0 })
    .where('state', 'in', ['refused', 'dead']);
  if ('id' in which) {
    if (!/^[0-9a-f-]{36}$/i.test(which.id)) return [];
    q = q.where('id', '=', which.id);
  } else q = q.where('patient_id', '=', which.patientId);
  return (await q.returning('id').execute()).map((r) => r.id);
}

/** Pushes waiting (pending or sending), refused and dead, for the gauges and the ops view. */
export async function mesBacklog(db: Db): Promise<{ pending: number; refused: number; dead: number }> {
  const { rows } = await sql<{ pending: string; refused: string; dead: string }>`
    SELECT (SELECT count(*) FROM mes_pushes WHERE state IN ('pending', 'sending')) AS pending,
           (SELECT count(*) FROM mes_pushes WHERE state = 'refused') AS refused,
           (SELECT count(*) FROM mes_pushes WHERE state = 'dead') AS dead
  `.execute(db);
  const r = rows[0];
  return { pending: Number(r?.pending ?? 0), refused: Number(r?.refused ?? 0), dead: Number(r?.dead ?? 0) };
}

/** A reading as a feeding bundle needs it: a stored reading, its patient and its device's model. */
export interface MesReading extends StoredReading {
  readonly patientId: string;
  readonly deviceModel: string | null;
  /** measured_at in microseconds since the epoch (the page's key). */
  readonly atMicros: string;
}

const READING_COLUMNS = sql`r.patient_id, r.device_id, r.reading_id, r.type, r.unit, r.value, r.systolic, r.diastolic,
  r.pulse, r.context, r.measured_at, r.received_at, d.model,
  ((extract(epoch FROM r.measured_at) * 1000000)::numeric(20, 0))::text AS at_micros`;

interface ReadingRow extends ReadingPageRow {
  patient_id: string;
  model: string | null;
  at_micros: string;
}

const toReading = (r: ReadingRow): MesReading => ({
  ...toStoredReading(r),
  patientId: r.patient_id,
  deviceModel: r.model,
  atMicros: r.at_micros,
});

/** The reading of a push. Cost: one probe of readings (patient_id, type, measured_at). */
export async function readingOfPush(db: Db, p: ClaimedMesPush): Promise<MesReading | undefined> {
  const { rows } = await sql<ReadingRow>`
    SELECT ${READING_COLUMNS} FROM readings r LEFT JOIN devices d ON d.id = r.device_id
    WHERE r.patient_id = ${p.patientId} AND r.type = ${p.type} AND r.measured_at = ${p.measuredAt}
      AND r.device_id = ${p.deviceId} AND r.reading_id = ${p.readingId}
  `.execute(db);
  return rows[0] ? toReading(rows[0]) : undefined;
}

/** Where a page of readings ended: measured time in microseconds since the epoch (PostgreSQL's precision), device, reading id. */
export type MesReadingKey = [atMicros: string, deviceId: string, readingId: string];

/**
 * A page of a patient's readings of `types` measured at or after `since`, oldest
 * first, keyset-paginated after `after`. Cost: per type, the index range from the
 * cursor (readings (patient_id, type, measured_at)), `limit` rows each at most.
 */
export async function mesReadingsPage(
  db: Db,
  o: { patientId: string; types: readonly string[]; since: Date | undefined; after?: MesReadingKey; limit: number },
): Promise<MesReading[]> {
  if (o.types.length === 0) return [];
  const since = o.since ?? new Date(0);
  const after = o.after ?? ['0', '', ''];
  const { rows } = await sql<ReadingRow>`
    SELECT ${READING_COLUMNS}
    FROM unnest(${o.types}::text[]) AS t(type)
    CROSS JOIN LATERAL (
      SELECT * FROM readings x
      WHERE x.patient_id = ${o.patientId} AND x.type = t.type AND x.measured_at >= ${since}
        AND (x.measured_at, x.device_id, x.reading_id) >
            (timestamptz 'epoch' + ${after[0]}::int8 * interval '1 microsecond', ${after[1]}, ${after[2]})
      ORDER BY x.measured_at, x.device_id, x.reading_id
      LIMIT ${o.limit}
    ) r
    LEFT JOIN devices d ON d.id = r.device_id
    ORDER BY r.measured_at, r.device_id, r.reading_id
    LIMIT ${o.limit}
  `.execute(db);
  return rows.map(toReading);
}
