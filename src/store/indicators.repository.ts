import type { Selectable } from 'kysely';
import type { Database, Db } from './database.ts';

/** An indicator as stored for a patient: its latest value over its window. */
export interface StoredIndicator {
  readonly key: string;
  readonly value: number | null;
  readonly unit: string;
  readonly from: Date;
  readonly to: Date;
  readonly n: number;
  readonly sufficient: boolean;
  readonly computedAt: Date;
}

type IndicatorColumns = Pick<
  Selectable<Database['patient_indicators']>,
  'key' | 'value' | 'unit' | 'from_at' | 'to_at' | 'n' | 'sufficient' | 'computed_at'
>;

export function toStoredIndicator(r: IndicatorColumns): StoredIndicator {
  return {
    key: r.key,
    value: r.value,
    unit: r.unit,
    from: r.from_at,
    to: r.to_at,
    n: r.n,
    sufficient: r.sufficient,
    computedAt: r.computed_at,
  };
}

/** Every indicator of a patient, by key. */
export async function listIndicators(db: Db, patientId: string): Promise<StoredIndicator[]> {
  const rows = await db
    .selectFrom('patient_indicators')
    .selectAll()
    .where('patient_id', '=', patientId)
    .orderBy('key')
    .execute();
  return rows.map(toStoredIndicator);
}

/** Some indicators of a patient (those of `keys` that exist), in no particular order. */
export async function findIndicators(db: Db, patientId: string, keys: readonly string[]): Promise<StoredIndicator[]> {
  const rows = await db
    .selectFrom('patient_indicators')
    .select(['key', 'value', 'unit', 'from_at', 'to_at', 'n', 'sufficient', 'computed_at'])
    .where('patient_id', '=', patientId)
    .where('key', 'in', [...keys])
    .execute();
  return rows.map(toStoredIndicator);
}
