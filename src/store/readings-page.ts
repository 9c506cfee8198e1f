import { type RawBuilder, sql } from 'kysely';
import type { Db } from './database.ts';

/** A reading as the read APIs need it. */
export interface ReadingPageRow {
  reading_id: string;
  device_id: string;
  type: string;
  unit: string;
  value: number | null;
  systolic: number | null;
  diastolic: number | null;
  pulse: number | null;
  measured_at: Date;
  received_at: Date;
}

/** Where a page ended: measured time in microseconds (PostgreSQL's precision), device, reading id. */
export type ReadingKey = [atMicros: number, deviceId: string, readingId: string];

/**
 * One page of readings, newest first, keyset-paginated on (measured time, device,
 * reading id): a reading stored between two pages never makes one appear twice or
 * vanish. `where` is the filter (a WHERE clause naming the patient at least).
 * Shared by GET /api/v1/patients/{id}/readings and GET /fhir/Observation.
 */
export async function readingsPage(
  db: Db,
  where: RawBuilder<unknown>,
  after: ReadingKey | undefined,
  limit: number,
): Promise<{ rows: ReadingPageRow[]; next: ReadingKey | null }> {
  const { rows } = await sql<ReadingPageRow & { at_us: string }>`
    SELECT reading_id, device_id, type, unit, value, systolic, diastolic, pulse, measured_at, received_at,
           (extract(epoch FROM measured_at) * 1000000)::int8 AS at_us
    FROM readings
    ${where}
    ${
      after
        ? sql`AND (measured_at, device_id, reading_id) < (timestamptz 'epoch' + ${after[0]} * interval '1 microsecond', ${after[1]}, ${after[2]})`
        : sql``
    }
    ORDER BY measured_at DESC, device_id DESC, reading_id DESC
    LIMIT ${limit + 1}
  `.execute(db);
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    rows: page,
    next: rows.length > limit ? [Number(last.at_us), last.device_id, last.reading_id] : null,
  };
}
