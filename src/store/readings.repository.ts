import { sql } from 'kysely';
import type { ValidReading } from '../domain/reading.ts';
import { numberArrayLiteral, textArrayLiteral } from './array-literals.ts';
import type { Db } from './database.ts';
import { preparedStatement } from './prepared-statements.ts';
import { type ReadingFilter, readingFilterSql } from './reading-filter.ts';

export interface ReadingToStore {
  readonly deviceId: string;
  readonly receivedAt: number;
  readonly reading: ValidReading;
}

/** What became of one reading: stored, a duplicate of a stored one, or neither. */
export type StoreStatus =
  | { status: 'stored' }
  | { status: 'duplicate' }
  | { status: 'conflict' }
  | { status: 'unassigned' }
  /** The device is disabled: nothing stored, and the message must not be acknowledged. */
  | { status: 'disabled' };

interface KeyResult {
  readonly inserted: boolean;
  readonly assigned: boolean;
  readonly disabled: boolean;
  existingHash: string | null;
}

/** What a reading the statement did not return became. */
const STORED: KeyResult = Object.freeze({ inserted: true, assigned: true, disabled: false, existingHash: null });

/**
 * Inserts readings, batch-first, in the caller's transaction. One statement does
 * the work for the whole batch: attribute each reading to the patient its device
 * was assigned to at `at`, claim (device, reading id) in reading_keys, and insert
 * the readings whose key it claimed, and mark the days they fall in (and the hours
 * in those days) as dirty for aggregation. Readings whose key exists are duplicates
 * (same content) or conflicts; readings with no assignment at `at` are unassigned.
 * Readings of a disabled device are not stored (status `disabled`): the check is in
 * this statement, whose snapshot is taken after it locked `readings` (at parse), and
 * disabling a device takes a SHARE lock on `readings` before it commits
 * (src/store/devices.repository.ts, `disableDevice`): a batch either committed
 * before the disable did, or sees it.
 * Returns one status per input, in input order.
 */
export async function insertReadings(db: Db, rows: readonly ReadingToStore[]): Promise<StoreStatus[]> {
  const statuses: StoreStatus[] = new Array(rows.length);
  if (rows.length === 0) return statuses;

  // The same key twice in one batch: the first goes to the database, the others
  // are settled against it afterwards (device-protocol.md: duplicate or conflict).
  const positionOf = new Map<string, number>(); // key → position in `unique`
  const followers: number[] = [];
  const unique: number[] = [];
  for (let i = 0; i < rows.length; i++) {
    const key = `${rows[i].deviceId}\u0000${rows[i].reading.readingId}`;
    if (positionOf.has(key)) followers.push(i);
    else {
      positionOf.set(key, unique.length);
      unique.push(i);
    }
  }

  const n = unique.length;
  const batchDevices = new Set<string>();
  const deviceIds: string[] = new Array(n);
  const readingIds: string[] = new Array(n);
  const hashes: string[] = new Array(n);
  const types: string[] = new Array(n);
  const loincs: string[] = new Array(n);
  const units: string[] = new Array(n);
  const values: (number | null)[] = new Array(n);
  const systolics: (number | null)[] = new Array(n);
  const diastolics: (number | null)[] = new Array(n);
  const pulses: (number | null)[] = new Array(n);
  const sentUnits: string[] = new Array(n);
  const sentValues: (number | null)[] = new Array(n);
  const sentSystolics: (number | null)[] = new Array(n);
  const sentDiastolics: (number | null)[] = new Array(n);
  const contexts: (string | null)[] = new Array(n);
  const measuredAts: number[] = new Array(n);
  const receivedAts: number[] = new Array(n);
  for (let j = 0; j < n; j++) {
    const { deviceId, receivedAt, reading: r } = rows[unique[j]];
    deviceIds[j] = deviceId;
    batchDevices.add(deviceId);
    readingIds[j] = r.readingId;
    hashes[j] = r.contentHash;
    types[j] = r.type;
    loincs[j] = r.loinc;
    units[j] = r.unit;
    values[j] = r.value;
    systolics[j] = r.systolic;
    diastolics[j] = r.diastolic;
    pulses[j] = r.pulse;
    sentUnits[j] = r.sentUnit;
    sentValues[j] = r.sentValue;
    sentSystolics[j] = r.sentSystolic;
    sentDiastolics[j] = r.sentDiastolic;
    contexts[j] = r.context;
    measuredAts[j] = r.measuredAt;
    receivedAts[j] = receivedAt;
  }

  // Data-modifying CTEs run once, to completion, whether or not the final SELECT
  // reads them; the final SELECT sees reading_keys as it was before the statement,
  // so `existing_hash` is the hash of a key stored by an earlier transaction.
  // Arrays go as literals built here (src/store/array-literals.ts: pg's own builder is slower).
  const t = textArrayLiteral;
  const f = numberArrayLiteral;
  // A prepared statement: parsed once per connection, planned once (src/store/prepared-statements.ts).
  const result = await sql<{
    ord: string;
    assigned: boolean;
    disabled: boolean;
    existing_hash: string | null;
  }>`${sql.raw(preparedStatement('insert_readings'))}
    WITH input AS (
      SELECT * FROM unnest(
        ${t(deviceIds)}::text[], ${t(readingIds)}::text[], ${t(hashes)}::text[], ${t(types)}::text[],
        ${t(loincs)}::text[], ${t(units)}::text[], ${f(values)}::float8[], ${f(systolics)}::float8[],
        ${f(diastolics)}::float8[], ${f(pulses)}::float8[], ${t(sentUnits)}::text[], ${f(sentValues)}::float8[],
        ${f(sentSystolics)}::float8[], ${f(sentDiastolics)}::float8[], ${t(contexts)}::text[],
        ${f(measuredAts)}::int8[], ${f(receivedAts)}::int8[]
      ) WITH ORDINALITY AS t(device_id, reading_id, content_hash, type, loinc, unit, value, systolic, diastolic, pulse,
                             sent_unit, sent_value, sent_systolic, sent_diastolic, context, measured_ms, received_ms, ord)
    ),
    -- The assignments of the batch's devices, read once per device rather than once
    -- per reading (one index probe each). They never overlap for one device (an
    -- exclusion constraint), so a reading matches at most one of them.
    assignments AS (
      SELECT da.device_id, da.patient_id, da.valid_from, da.valid_to
      FROM device_assignments da
      WHERE da.device_id = ANY(${t([...batchDevices])}::text[])
    ),
    -- The batch's disabled devices (one probe per device): their readings are not
    -- stored (this function's comment says why the check cannot miss a disable
    -- that committed).
    disabled AS (
      SELECT dv.id AS device_id FROM devices dv
      WHERE dv.id = ANY(${t([...batchDevices])}::text[]) AND NOT dv.enabled
    ),
    resolved AS (
      SELECT i.*, a.patient_id, d.device_id IS NOT NULL AS disabled
      FROM (
        SELECT i.*,
               timestamptz 'epoch' + i.measured_ms * interval '1 millisecond' AS measured_at,
               timestamptz 'epoch' + i.received_ms * interval '1 millisecond' AS received_at
        FROM input i
      ) i
      LEFT JOIN assignments a
        ON a.device_id = i.device_id AND a.valid_from <= i.measured_at
       AND (a.valid_to IS NULL OR i.measured_at < a.valid_to)
      LEFT JOIN disabled d ON d.device_id = i.device_id
    ),
    claimed AS (
      INSERT INTO reading_keys (device_id, reading_id, content_hash)
      SELECT device_id, reading_id, content_hash FROM resolved
      WHERE patient_id IS NOT NULL AND NOT disabled
      ON CONFLICT DO NOTHING
      RETURNING device_id, reading_id
    ),
    stored AS (
      INSERT INTO readings (patient_id, device_id, reading_id, type, loinc, unit, value, systolic, diastolic, pulse,
                            sent_unit, sent_value, sent_systolic, sent_diastolic, context, measured_at, received_at)
      SELECT r.patient_id, r.device_id, r.reading_id, r.type, r.loinc, r.unit, r.value, r.systolic, r.diastolic, r.pulse,
             r.sent_unit, r.sent_value, r.sent_systolic, r.sent_diastolic, r.context, r.measured_at, r.received_at
      FROM resolved r JOIN claimed c USING (device_id, reading_id)
      RETURNING patient_id, type, measured_at
    ),
    -- What this commit touched, in the same transaction, for the aggregation jobs:
    -- (patient, type, patient-local day), and in it the hours: per reading, the start
    -- of the piece of time in both its UTC hour and its local hour (the later start).
    -- Bumping the version tells a job that is recomputing this day right now that its
    -- result misses these readings: it then leaves the mark for its next run
    -- (src/store/aggregation.repository.ts). A mark whose hours are unknown (NULL, or
    -- bumped by a writer that does not set them: hours_version behind version) stays
    -- a whole-day mark (migrations/2026-12-07T1200-hourly-dirty-marks.ts).
    marked AS (
      INSERT INTO aggregation_dirty (patient_id, type, day, hours, hours_version)
      SELECT s.patient_id, s.type, (s.measured_at AT TIME ZONE p.time_zone)::date,
             array_agg(DISTINCT greatest(date_trunc('hour', s.measured_at, 'UTC'),
                                         date_trunc('hour', s.measured_at, p.time_zone))), 0
      FROM stored s JOIN patients p ON p.id = s.patient_id
      GROUP BY 1, 2, 3
      ORDER BY 1, 2, 3
      ON CONFLICT (patient_id, type, day)
        DO UPDATE SET marked_at = now(), version = aggregation_dirty.version + 1,
          hours = CASE WHEN aggregation_dirty.hours IS NULL
                         OR aggregation_dirty.hours_version IS DISTINCT FROM aggregation_dirty.version THEN NULL
                       ELSE ARRAY(SELECT DISTINCT h FROM unnest(aggregation_dirty.hours || EXCLUDED.hours) AS h
                                  ORDER BY h) END,
          hours_version = aggregation_dirty.version + 1
      RETURNING 1
    )
    -- Only the readings this statement did not store come back (the common case is
    -- none), each with the hash of the key already stored, if any: one index probe
    -- each (a join here made PostgreSQL hash all of reading_keys). The counts come
    -- first: claimed is a subset of resolved (keys are unique in a batch), so equal
    -- counts mean every reading was stored, and the plan's one-time filter then skips
    -- the anti join and its two sorts of the whole batch.
    SELECT r.ord, r.patient_id IS NOT NULL AS assigned, r.disabled,
           (SELECT rk.content_hash FROM reading_keys rk
            WHERE rk.device_id = r.device_id AND rk.reading_id = r.reading_id) AS existing_hash
    FROM resolved r
    WHERE (SELECT count(*) FROM claimed) < (SELECT count(*) FROM resolved)
      AND NOT EXISTS (SELECT 1 FROM claimed c WHERE c.device_id = r.device_id AND c.reading_id = r.reading_id)
  `.execute(db);

  const keyResults: KeyResult[] = new Array(n);
  for (let j = 0; j < n; j++) keyResults[j] = STORED;
  for (const row of result.rows) {
    keyResults[Number(row.ord) - 1] = {
      inserted: false,
      assigned: row.assigned,
      disabled: row.disabled,
      existingHash: row.existing_hash,
    };
  }

  // A key claimed by a concurrent transaction that committed while this statement
  // waited on it: not inserted, yet not in this statement's snapshot. Look again.
  const unseen: number[] = [];
  for (let j = 0; j < n; j++) {
    const k = keyResults[j];
    if (!k.inserted && !k.disabled && k.assigned && k.existingHash === null) unseen.push(j);
  }
  if (unseen.length > 0) {
    const found = await sql<{ device_id: string; reading_id: string; content_hash: string }>`
      SELECT k.device_id, k.reading_id, k.content_hash
      FROM reading_keys k
      JOIN unnest(${unseen.map((j) => deviceIds[j])}::text[], ${unseen.map((j) => readingIds[j])}::text[])
        AS u(device_id, reading_id) USING (device_id, reading_id)
    `.execute(db);
    const byKey = new Map(found.rows.map((r) => [`${r.device_id}\u0000${r.reading_id}`, r.content_hash]));
    for (const j of unseen) {
      const hash = byKey.get(`${deviceIds[j]}\u0000${readingIds[j]}`);
      if (hash === undefined) {
        throw Object.assign(new Error('reading key neither inserted nor found; the batch will be retried'), {
          retryable: true,
        });
      }
      keyResults[j].existingHash = hash;
    }
  }

  for (let j = 0; j < n; j++) {
    const k = keyResults[j];
    statuses[unique[j]] = k.inserted
      ? { status: 'stored' }
      : k.disabled
        ? { status: 'disabled' }
        : k.existingHash !== null
          ? k.existingHash === hashes[j]
            ? { status: 'duplicate' }
            : { status: 'conflict' }
          : { status: 'unassigned' };
  }

  for (const i of followers) {
    const row = rows[i];
    const j = positionOf.get(`${row.deviceId}\u0000${row.reading.readingId}`) as number;
    const first = keyResults[j];
    if (first.disabled) {
      statuses[i] = { status: 'disabled' };
      continue;
    }
    const storedHash = first.inserted ? hashes[j] : first.existingHash;
    statuses[i] =
      storedHash === null
        ? { status: 'unassigned' }
        : storedHash === row.reading.contentHash
          ? { status: 'duplicate' }
          : { status: 'conflict' };
  }
  return statuses;
}

/**
 * How many readings of these devices are stored (`vitalink simulate`'s check that it
 * talked to this database's service). Cost: an index-only range of reading_keys'
 * primary key (device_id, reading_id) per device: the devices' own readings, however
 * large the table (a simulated fleet's: thousands to a few million).
 */
export async function countStoredReadingsOfDevices(db: Db, deviceIds: readonly string[]): Promise<number> {
  if (deviceIds.length === 0) return 0;
  const { rows } = await sql<{ n: string }>`
    SELECT count(*) AS n FROM reading_keys WHERE device_id = ANY(${[...deviceIds]}::text[])
  `.execute(db);
  return Number(rows[0]?.n ?? 0);
}

/** How many readings match (GET /fhir/Observation's Bundle.total, first page only). */
export async function countReadings(db: Db, filter: ReadingFilter): Promise<number> {
  const { rows } = await sql<{ n: string }>`SELECT count(*) AS n FROM readings ${readingFilterSql(filter)}`.execute(db);
  return Number(rows[0]?.n ?? 0);
}

/** Whether any reading matches (one index probe, where a count would scan them all). */
export async function hasReadings(db: Db, filter: ReadingFilter): Promise<boolean> {
  const { rows } = await sql<{ any: boolean }>`SELECT EXISTS (SELECT 1 FROM readings ${readingFilterSql(
    filter,
  )}) AS any`.execute(db);
  return rows[0]?.any ?? false;
}
