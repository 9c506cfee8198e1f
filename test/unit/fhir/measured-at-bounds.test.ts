/**
 * A FHIR `date` bound as conditions on a reading's measured time: the readings
 * selected in SQL are those whose instant periodMatches (start = end).
 */
import { describe, expect, it } from 'vitest';
import { measuredAtBounds, parseDate, periodMatches } from '../../../src/fhir/search-params.ts';

const lo = Date.parse('2026-11-01T10:00:00Z');
const hi = lo + 1000; // second precision: [10:00:00, 10:00:01)

function selects(raw: string, at: number): boolean {
  return measuredAtBounds(parseDate(raw)).every((b) => (b.op === '>=' ? at >= b.at.getTime() : at < b.at.getTime()));
}

describe('measuredAtBounds', () => {
  it('gives the bounds of each prefix', () => {
    expect(measuredAtBounds(parseDate('eq2026-11-01T10:00:00Z'))).toEqual([
      { op: '>=', at: new Date(lo) },
      { op: '<', at: new Date(hi) },
    ]);
    expect(measuredAtBounds(parseDate('ge2026-11-01T10:00:00Z'))).toEqual([{ op: '>=', at: new Date(lo) }]);
    expect(measuredAtBounds(parseDate('gt2026-11-01T10:00:00Z'))).toEqual([{ op: '>=', at: new Date(hi) }]);
    expect(measuredAtBounds(parseDate('le2026-11-01T10:00:00Z'))).toEqual([{ op: '<', at: new Date(hi) }]);
    expect(measuredAtBounds(parseDate('lt2026-11-01T10:00:00Z'))).toEqual([{ op: '<', at: new Date(lo) }]);
  });

  it('selects exactly the instants that periodMatches accepts', () => {
    for (const prefix of ['eq', 'ge', 'gt', 'le', 'lt']) {
      const raw = `${prefix}2026-11-01T10:00:00Z`;
      for (const at of [lo - 1, lo, lo + 500, hi - 1, hi, hi + 1]) {
        expect(selects(raw, at), `${raw} at ${at - lo} ms`).toBe(periodMatches(parseDate(raw), at, at));
      }
    }
  });
});
