/**
 * Bulk export (issue #15, item 5; README, "Data portability (bulk export)"), after the
 * FHIR Bulk Data Access IG (https://hl7.org/fhir/uv/bulkdata/export.html):
 *
 * - Kick-off (`Patient/{id}/$export`, `Group/{team}/$export`) records a job: the
 *   patients, `_type`, `_since`, who asked and the transaction time. Nothing is
 *   generated then: the job is complete at once, and its status answers 200 with
 *   the manifest on the first poll (the IG allows it; there is no 202 phase, since
 *   there is no work in progress to report).
 * - Each file of the manifest (one per resource type: Patient, Device, Observation)
 *   is generated while it is downloaded,
 *   streamed patient after patient, page after page (keyset, EXPORT_PAGE readings):
 *   never a patient's history in memory, never a copy of it on disk or in the
 *   database. A reading is in the file when it was received before the transaction
 *   time (and at or after `_since`), so a file downloaded later holds the same
 *   readings (unless retention dropped their month meanwhile). The CGM summaries are
 *   those current when the file is downloaded (they are recomputed, not kept).
 * - Jobs expire EXPORT_TTL_MS after kick-off (then the status and files are 404);
 *   every kick-off deletes the expired ones, and DELETE on the status URL at once.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { AppError } from '../errors.ts';
import type { Db } from '../store/database.ts';
import { listDeviceIdsOfPatient, listAssignments } from '../store/assignments.repository.ts';
import { deviceReadingTypes } from '../store/device-reading-types.ts';
import { findDevice } from '../store/devices.repository.ts';
import { findPatientIdentity } from '../store/patient-identities.repository.ts';
import { findPatient } from '../store/patients.repository.ts';
import { phdDevice } from './device.ts';
import { patientResource } from './patient.ts';
import { matchingCgmSummaries, matchingReadingsPage, readingFilters, withLastUpdated } from './observation-query.ts';
import { readingObservation } from './observations.ts';
import type { FhirProfileSettings } from './profiles.ts';
import type { DateBound } from './search-params.ts';

export const EXPORT_TTL_MS = 24 * 3_600_000;
/** Readings per database round trip while a file streams. */
export const EXPORT_PAGE = 1000;
/** The resource types an export may hold (`_type`). */
export const EXPORT_TYPES = ['Patient', 'Device', 'Observation'] as const;
export type ExportType = (typeof EXPORT_TYPES)[number];
/** `_outputFormat` values meaning NDJSON (the IG's abbreviations included). */
const NDJSON_FORMATS = new Set(['application/fhir+ndjson', 'application/ndjson', 'ndjson']);

export interface ExportJob {
  readonly id: string;
  readonly principal: string;
  readonly kind: 'patient' | 'group';
  readonly subjectId: string;
  readonly patientIds: readonly string[];
  readonly types: readonly ExportType[];
  readonly since: Date | null;
  readonly transactionTime: Date;
  readonly requestUrl: string;
  readonly expiresAt: Date;
}

/** The kick-off's parameters: `_type`, `_since`, `_outputFormat`; any other is a 400. */
export function parseExportParams(query: Record<string, string | string[] | undefined>): {
  types: ExportType[];
  since: Date | null;
} {
  const unknown = Object.keys(query).filter((k) => !['_type', '_since', '_outputFormat'].includes(k));
  if (unknown.length > 0) {
    throw new AppError(
      'bad_request',
      `export parameters not supported: ${unknown.join(', ')} (supported: _type, _since, _outputFormat)`,
    );
  }
  const one = (name: string): string | undefined => {
    const v = query[name];
    if (Array.isArray(v)) throw new AppError('bad_request', `${name} is given ${v.length} times; give it once`);
    return v;
  };
  const format = one('_outputFormat');
  if (format !== undefined && !NDJSON_FORMATS.has(format)) {
    throw new AppError('bad_request', `_outputFormat: "${format}" is not supported (application/fhir+ndjson is)`);
  }
  const typeParam = one('_type');
  const types =
    typeParam === undefined
      ? [...EXPORT_TYPES]
      : [...new Set(typeParam.split(',').map((t) => t.trim()))].map((t) => {
          if (!(EXPORT_TYPES as readonly string[]).includes(t)) {
            throw new AppError(
              'bad_request',
              `_type: ${t} cannot be exported here (exportable: ${EXPORT_TYPES.join(', ')})`,
            );
          }
          return t as ExportType;
        });
  const sinceParam = one('_since');
  let since: Date | null = null;
  if (sinceParam !== undefined) {
    // An instant: a date-time with seconds and a zone (an unencoded "+" arrives as a space).
    const value = sinceParam.replace(/ (\d{2}:\d{2})$/, '+$1');
    const ok = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(value);
    since = ok ? new Date(value) : null;
    if (since === null || Number.isNaN(since.getTime())) {
      throw new AppError('bad_request', `_since: "${sinceParam}" is not an instant such as 2026-12-01T00:00:00Z`);
    }
  }
  return { types, since };
}

interface ExportRow {
  id: string;
  principal: string;
  kind: 'patient' | 'group';
  subject_id: string;
  patient_ids: string[];
  types: string[];
  since: Date | null;
  transaction_time: Date;
  request_url: string;
  expires_at: Date;
}

function toJob(r: ExportRow): ExportJob {
  return {
    id: r.id,
    principal: r.principal,
    kind: r.kind,
    subjectId: r.subject_id,
    patientIds: r.patient_ids,
    types: r.types as ExportType[],
    since: r.since,
    transactionTime: r.transaction_time,
    requestUrl: r.request_url,
    expiresAt: r.expires_at,
  };
}

/** Records a job (after deleting the expired ones: an index range on expires_at). */
export async function createExportJob(db: Db, job: Omit<ExportJob, 'id' | 'expiresAt'>): Promise<ExportJob> {
  await sql`DELETE FROM fhir_exports WHERE expires_at <= ${job.transactionTime}`.execute(db);
  const id = randomUUID();
  const expiresAt = new Date(job.transactionTime.getTime() + EXPORT_TTL_MS);
  await sql`
    INSERT INTO fhir_exports (id, principal, kind, subject_id, patient_ids, types, since, transaction_time, request_url, expires_at)
    VALUES (${id}, ${job.principal}, ${job.kind}, ${job.subjectId}, ${[...job.patientIds]}::text[], ${[...job.types]}::text[],
            ${job.since}, ${job.transactionTime}, ${job.requestUrl}, ${expiresAt})`.execute(db);
  return { ...job, id, expiresAt };
}

/** A job that has not expired, asked by `principal`; anyone else's is as if it did not exist. */
export async function findExportJob(db: Db, id: string, principal: string, now: Date): Promise<ExportJob | undefined> {
  if (!/^[0-9a-f-]{36}$/.test(id)) return undefined;
  const { rows } = await sql<ExportRow>`
    SELECT * FROM fhir_exports WHERE id = ${id}::uuid AND principal = ${principal} AND expires_at > ${now}`.execute(db);
  return rows[0] ? toJob(rows[0]) : undefined;
}

export async function deleteExportJob(db: Db, id: string): Promise<void> {
  await sql`DELETE FROM fhir_exports WHERE id = ${id}::uuid`.execute(db);
}

/**
 * The NDJSON lines of one patient's Observations in a job: the CGM summaries (for a
 * patient with CGM data), then the readings newest first, EXPORT_PAGE at a time.
 */
export async function* observationLines(
  db: Db,
  job: ExportJob,
  patientId: string,
  readingMaxAgeMs: number,
  settings: FhirProfileSettings | undefined,
): AsyncGenerator<string> {
  const lastUpdated: DateBound[] = [
    ...(job.since ? [{ prefix: 'ge' as const, lo: job.since.getTime(), hi: job.since.getTime() }] : []),
    { prefix: 'lt', lo: job.transactionTime.getTime(), hi: job.transactionTime.getTime() },
  ];
  const criteria = { patientId, lastUpdated: job.since ? lastUpdated.slice(0, 1) : [], readingMaxAgeMs };
  for (const s of await matchingCgmSummaries(db, criteria, settings)) {
    yield `${JSON.stringify(withLastUpdated(s.observation))}\n`;
  }
  const filters = readingFilters({ ...criteria, lastUpdated });
  let after: Parameters<typeof matchingReadingsPage>[2];
  for (;;) {
    const page = await matchingReadingsPage(db, filters, after, EXPORT_PAGE);
    if (page.readings.length > 0) {
      yield page.readings
        .map((r) => `${JSON.stringify(withLastUpdated(readingObservation(patientId, r, settings)))}\n`)
        .join('');
    }
    if (!page.next) return;
    after = page.next;
  }
}

/**
 * The NDJSON lines of the job's patients as FR Core Patients (GET /fhir/Patient/{id}:
 * the INS only for a qualified identity). They are the current resources, whatever
 * `_since` says (no patient change is dated).
 */
export async function* patientLines(db: Db, patientIds: readonly string[]): AsyncGenerator<string> {
  for (const id of patientIds) {
    if (!(await findPatient(db, id))) continue;
    yield `${JSON.stringify(patientResource(id, (await findPatientIdentity(db, id)) ?? null))}\n`;
  }
}

/**
 * The NDJSON lines of the devices ever assigned to the job's patients, once each, as
 * PHD Devices (GET /fhir/Device/{id}); their types told by their readings of those
 * patients (src/store/device-reading-types.ts). Current resources, whatever `_since` says.
 */
export async function* deviceLines(
  db: Db,
  patientIds: readonly string[],
  now: Date,
  settings: FhirProfileSettings | undefined,
): AsyncGenerator<string> {
  const seen = new Set<string>();
  for (const patientId of patientIds) {
    for (const deviceId of await listDeviceIdsOfPatient(db, patientId)) {
      if (seen.has(deviceId)) continue;
      seen.add(deviceId);
      const device = await findDevice(db, deviceId);
      if (!device) continue;
      const theirs = new Set((await listAssignments(db, deviceId)).map((a) => a.patientId));
      const types = await deviceReadingTypes(
        db,
        deviceId,
        patientIds.filter((p) => theirs.has(p)),
        now,
      );
      yield `${JSON.stringify(phdDevice({ id: deviceId, model: device.model, types }, settings))}\n`;
    }
  }
}
