import { type RawBuilder, sql } from 'kysely';

/** One bound on a reading's measured time: `measured_at >= at` or `measured_at < at`. */
export interface MeasuredAtBound {
  readonly op: '>=' | '<';
  readonly at: Date;
}

/**
 * Which readings of one patient a read API asks for. `type` is one type
 * (`type = $1`) or a list (`type = ANY($1)`), both served by the
 * (patient_id, type, measured_at) index; `measuredAt` bounds are ANDed.
 */
export interface ReadingFilter {
  readonly patientId: string;
  readonly type?: string | readonly string[];
  readonly measuredAt?: readonly MeasuredAtBound[];
}

/** The WHERE clause of a ReadingFilter (shared by the page, the count and the existence check). */
export function readingFilterSql(filter: ReadingFilter): RawBuilder<unknown> {
  const { patientId, type, measuredAt = [] } = filter;
  const typeCondition =
    type === undefined
      ? sql``
      : typeof type === 'string'
        ? sql`AND type = ${type}`
        : sql`AND type = ANY(${type}::text[])`;
  const bounds = measuredAt.map((b) =>
    b.op === '>=' ? sql`AND measured_at >= ${b.at}` : sql`AND measured_at < ${b.at}`,
  );
  return sql`WHERE patient_id = ${patientId} ${typeCondition} ${sql.join(bounds, sql` `)}`;
}
