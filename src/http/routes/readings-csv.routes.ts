/**
 * GET /api/v1/patients/{id}/readings.csv (issue #15, item 5; README, "Data portability
 * (bulk export)"): every stored reading of a patient as CSV (RFC 4180, UTF-8, a header
 * line), newest first, for data portability. Clinician tokens, their patients only,
 * audited as `readings.export.csv`. Streamed a page at a time (keyset, as GET
 * …/readings): never the patient's history in memory.
 */
import { Readable } from 'node:stream';
import { z } from 'zod';
import type { Db } from '../../store/database.ts';
import { findPatient } from '../../store/patients.repository.ts';
import { type ReadingKey, readingsPage, type StoredReading } from '../../store/readings-page.ts';
import { assertPatientVisible, audit, patientNotFound, principalOf, requireRole } from '../auth.ts';
import { errorBody, idParam } from '../schemas.ts';
import type { RouteDeps, ZodApp } from './context.ts';

const PAGE = 1000;

export const READINGS_CSV_COLUMNS = [
  'measuredAt',
  'receivedAt',
  'deviceId',
  'readingId',
  'type',
  'value',
  'systolic',
  'diastolic',
  'pulse',
  'unit',
] as const;

function cell(v: string | number | null): string {
  if (v === null) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function readingCsvLine(r: StoredReading): string {
  return `${[
    r.measuredAt.toISOString(),
    r.receivedAt.toISOString(),
    r.deviceId,
    r.readingId,
    r.type,
    r.value,
    r.systolic,
    r.diastolic,
    r.pulse,
    r.unit,
  ]
    .map(cell)
    .join(',')}\r\n`;
}

async function* csvLines(db: Db, patientId: string): AsyncGenerator<string> {
  yield `${READINGS_CSV_COLUMNS.join(',')}\r\n`;
  let after: ReadingKey | undefined;
  for (;;) {
    const page = await readingsPage(db, { patientId }, after, PAGE);
    if (page.readings.length > 0) yield page.readings.map(readingCsvLine).join('');
    if (!page.next) return;
    after = page.next;
  }
}

export function readingsCsvRoutes(app: ZodApp, deps: RouteDeps): void {
  const { db } = deps;
  const readDb = deps.readDb ?? (() => db);
  app.get(
    '/patients/:id/readings.csv',
    {
      schema: {
        tags: ['readings'],
        summary: "Every reading of a patient as CSV, newest first (clinician): the patient's data, portable",
        params: z.object({ id: idParam }),
        response: {
          200: z.string().describe('text/csv: a header line, then one reading a line'),
          400: errorBody,
          401: errorBody,
          403: errorBody,
          404: errorBody,
        },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      requireRole(principal, ['clinician']);
      const { id } = request.params;
      assertPatientVisible(principal, id);
      const reads = readDb();
      const patient = await findPatient(reads, id);
      if (!patient) throw patientNotFound(id);
      await audit(db, request, principal, [patient.id], 'readings.export.csv');
      return reply
        .status(200)
        .header('content-type', 'text/csv; charset=utf-8; header=present')
        .header('content-disposition', `attachment; filename="${patient.id}-readings.csv"`)
        .send(Readable.from(csvLines(reads, patient.id), { objectMode: false }) as never); // a stream: sent as it is, not serialized
    },
  );
}
