/**
 * The WHERE clause shared by the readings page, count and existence check: the
 * conditions of each filter, in the SQL the read APIs used before it moved to
 * the store (so that the (patient_id, type, measured_at) index keeps serving them).
 */
import { DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler, sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import type { Database } from '../../../src/store/database.ts';
import { type ReadingFilter, readingFilterSql } from '../../../src/store/reading-filter.ts';

// Compiles only: never connects.
const db = new Kysely<Database>({
  dialect: {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (k) => new PostgresIntrospector(k),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  },
});

function compile(filter: ReadingFilter) {
  const { sql: text, parameters } = sql`SELECT 1 FROM readings ${readingFilterSql(filter)}`.compile(db);
  return { text: text.replace(/\s+/g, ' ').trim(), parameters };
}

const lo = new Date('2026-11-01T00:00:00Z');
const hi = new Date('2026-11-02T00:00:00Z');

describe('readingFilterSql', () => {
  it('names the patient, always', () => {
    expect(compile({ patientId: 'p-1' })).toEqual({
      text: 'SELECT 1 FROM readings WHERE patient_id = $1',
      parameters: ['p-1'],
    });
  });

  it('compares one type with =, several with ANY', () => {
    expect(compile({ patientId: 'p-1', type: 'spo2' })).toEqual({
      text: 'SELECT 1 FROM readings WHERE patient_id = $1 AND type = $2',
      parameters: ['p-1', 'spo2'],
    });
    expect(compile({ patientId: 'p-1', type: ['spo2', 'heart_rate'] })).toEqual({
      text: 'SELECT 1 FROM readings WHERE patient_id = $1 AND type = ANY($2::text[])',
      parameters: ['p-1', ['spo2', 'heart_rate']],
    });
  });

  it('ANDs the bounds on measured_at, in their order', () => {
    expect(
      compile({
        patientId: 'p-1',
        type: 'spo2',
        measuredAt: [
          { op: '>=', at: lo },
          { op: '<', at: hi },
        ],
      }),
    ).toEqual({
      text: 'SELECT 1 FROM readings WHERE patient_id = $1 AND type = $2 AND measured_at >= $3 AND measured_at < $4',
      parameters: ['p-1', 'spo2', lo, hi],
    });
  });
});
