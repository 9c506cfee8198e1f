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
  /**
   * When the reading was stored: any of these half-open ranges [lo, hi) (null:
   * unbounded). No index orders received_at: this filters the rows that the
   * measured-time bounds select, so a caller bounds measured_at as well.
   */
  readonly receivedAt?: readonly { readonly lo: Date | null; readonly hi: Date | null }[];
}

/** The WHERE clause of a ReadingFilter (shared by the page, the count and the existence check). */
export function readingFilterSql(filter: ReadingFilter): RawBuilder<unknown> {
  const { patientId, type, measuredAt = [], receivedAt } = filter;
  const typeCondition =
    type === undefined
      ? sql``
      : typeof type === 'string'
        ? sql`AND type = ${type}`
        : sql`AND type = ANY(${type}::text[])`;
  const bounds = measuredAt.map((b) =>
    b.op === '>=' ? sql`AND measured_at >= ${b.at}` : sql`AND measured_at < ${b.at}`,
  );
  const received =
    receivedAt === undefined
      ? sql``
      : receivedAt.length === 0
        ? sql`AND false`
        : sql`AND (${sql.join(
            receivedAt.map(
              (r) =>
                sql`(${r.lo === null ? sql`true` : sql`received_at >= ${r.lo}`} AND ${r.hi === null ? sql`true` : sql`received_at < ${r.hi}`})`,
            ),
            sql` OR `,
          )})`;
  return sql`WHERE patient_id = ${patientId} ${typeCondition} ${sql.join(bounds, sql` `)} ${received}`;
}
