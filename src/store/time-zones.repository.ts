import { sql } from 'kysely';
import type { Db } from './database.ts';

/** Whether PostgreSQL knows a time zone by this name (pg_timezone_names reads the zone files: ~40 ms). */
export async function isTimeZoneKnown(db: Db, zone: string): Promise<boolean> {
  const { rows } = await sql<{ ok: number }>`SELECT 1 AS ok FROM pg_timezone_names WHERE name = ${zone}`.execute(db);
  return rows.length > 0;
}
