import { sql } from 'kysely';
import type { Db } from './database.ts';
import { type ReadingFilter, readingFilterSql } from './reading-filter.ts';

/** A stored reading as the read APIs need it. */
export interface StoredReading {
  readonly readingId: string;
  readonly deviceId: string;
  readonly type: string;
  readonly unit: string;
  readonly value: number | null;
  readonly systolic: number | null;
  readonly diastolic: number | null;
  readonly pulse: number | null;
  readonly measuredAt: Date;
  readonly receivedAt: Date;
}

interface ReadingPageRow {
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

export function toStoredReading(r: ReadingPageRow): StoredReading {
  return {
    readingId: r.reading_id,
    deviceId: r.device_id,
    type: r.type,
    unit: r.unit,
    value: r.value,
    systolic: r.systolic,
    diastolic: r.diastolic,
    pulse: r.pulse,
    measuredAt: r.measured_at,
    receivedAt: r.received_at,
  };
}

/** Where a page ended: measured time in microseconds (PostgreSQL's precision), device, reading id. */
export type ReadingKey = [atMicros: number, deviceId: string, readingId: string];

/**
 * One page of readings, newest first, keyset-paginated on (measured time, device,
 * reading id): a reading stored between two pages never makes one appear twice or
 * vanish. Shared by GET /api/v1/patients/{id}/readings and GET /fhir/Observation.
 */
export async function readingsPage(
  db: Db,
  filter: ReadingFilter,
  after: ReadingKey | undefined,
  limit: number,
): Promise<{ readings: StoredReading[]; next: ReadingKey | null }> {
  const { rows } = await sql<ReadingPageRow & { at_us: string }>`
    SELECT reading_id, device_id, type, unit, value, systolic, diastolic, pulse, measured_at, received_at,
           (extract(epoch FROM measured_at) * 1000000)::int8 AS at_us
    FROM readings
    ${readingFilterSql(filter)}
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
    readings: page.map(toStoredReading),
    next: rows.length > limit ? [Number(last.at_us), last.device_id, last.reading_id] : null,
  };
}
