import { sql } from 'kysely';
import type { Db } from './database.ts';

/** One instance's row in service_instances (README, "Running several instances"). */
export interface InstanceRow {
  readonly instanceId: string;
  readonly startedAt: Date;
  readonly reportedAt: Date;
  /** What the instance reported: its ops report (src/metrics/ops-report.ts), as JSON. */
  readonly report: unknown;
}

/** Writes this instance's latest report, reported now by the database's clock. */
export async function upsertInstanceReport(
  db: Db,
  instanceId: string,
  startedAt: Date,
  report: unknown,
): Promise<void> {
  await db
    .insertInto('service_instances')
    .values({
      instance_id: instanceId,
      started_at: startedAt,
      reported_at: sql<Date>`now()`,
      report: JSON.stringify(report),
    })
    .onConflict((oc) =>
      oc.column('instance_id').doUpdateSet({
        started_at: startedAt,
        reported_at: sql<Date>`now()`,
        report: sql`excluded.report`,
      }),
    )
    .execute();
}

/** Every instance that reported within `withinMs` of the database's now, by id, with the age of its report. */
export async function listInstanceReports(db: Db, withinMs: number): Promise<Array<InstanceRow & { ageMs: number }>> {
  const rows = await db
    .selectFrom('service_instances')
    .select([
      'instance_id',
      'started_at',
      'reported_at',
      'report',
      sql<number>`(extract(epoch FROM now() - reported_at) * 1000)::float8`.as('age_ms'),
    ])
    .where('reported_at', '>', sql<Date>`now() - make_interval(secs => ${withinMs / 1000})`)
    .orderBy('instance_id')
    .execute();
  return rows.map((r) => ({
    instanceId: r.instance_id,
    startedAt: r.started_at,
    reportedAt: r.reported_at,
    report: r.report,
    ageMs: Math.max(0, r.age_ms),
  }));
}

/** Removes this instance's row (it is stopping) and those of instances silent for longer than `silentMs`. */
export async function removeInstanceReports(db: Db, instanceId: string | null, silentMs: number): Promise<void> {
  await db
    .deleteFrom('service_instances')
    .where((eb) =>
      eb.or([
        ...(instanceId === null ? [] : [eb('instance_id', '=', instanceId)]),
        eb('reported_at', '<', sql<Date>`now() - make_interval(secs => ${silentMs / 1000})`),
      ]),
    )
    .execute();
}
