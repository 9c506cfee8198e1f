import { describe, expect, it } from 'vitest';
import { adherenceIndicators } from '../../../../src/domain/indicators/adherence.ts';
import { byKey, DAY, HOUR, MIN, TO } from './helpers.ts';

const PARIS = 'Europe/Paris';

describe('adherenceIndicators', () => {
  it('with no data: 0 days, n 0, sufficient (a count of days is defined without readings)', () => {
    // TO is 2026-06-15 14:00 Paris: the 30 days are 2026-05-17 … 2026-06-15, from 05-17 00:00 CEST.
    expect(adherenceIndicators([], TO, PARIS, ['spo2'])).toEqual([
      { key: 'adherence_days', value: 0, unit: 'd', from: Date.UTC(2026, 4, 16, 22), to: TO, n: 0, sufficient: true },
      {
        key: 'adherence_days_spo2',
        value: 0,
        unit: 'd',
        from: Date.UTC(2026, 4, 16, 22),
        to: TO,
        n: 0,
        sufficient: true,
      },
    ]);
  });

  it('counts distinct days with any reading, and per type', () => {
    const readings = [
      { type: 'body_weight', at: TO - 2 * HOUR },
      { type: 'body_weight', at: TO - 3 * HOUR }, // same day
      { type: 'body_weight', at: TO - 3 * DAY },
      { type: 'blood_pressure', at: TO - 3 * DAY - MIN },
      { type: 'blood_pressure', at: TO - 10 * DAY },
      { type: 'steps', at: TO - 20 * DAY },
    ];
    const result = adherenceIndicators(readings, TO, PARIS, ['body_weight', 'blood_pressure', 'spo2']);
    expect(result.map((i) => [i.key, i.value, i.n])).toEqual([
      ['adherence_days', 4, 6],
      ['adherence_days_body_weight', 2, 3],
      ['adherence_days_blood_pressure', 2, 2],
      ['adherence_days_spo2', 0, 0],
    ]);
  });

  it('is at most 30: hourly readings over 40 days cover the 30 days ending today', () => {
    const readings = Array.from({ length: 40 * 24 }, (_, i) => ({ type: 'heart_rate', at: TO - i * HOUR }));
    const result = adherenceIndicators(readings, TO, PARIS, ['heart_rate']);
    expect(result.map((i) => i.value)).toEqual([30, 30]);
    // TO is 14:00 in Paris: 15 readings today (00:00 … 14:00) and 24 on each of the 29 days before
    expect(result[0].n).toBe(15 + 29 * 24);
  });

  it('gives each type once, in the given order', () => {
    const result = adherenceIndicators([{ type: 'spo2', at: TO }], TO, PARIS, ['spo2', 'body_weight', 'spo2']);
    expect(result.map((i) => i.key)).toEqual(['adherence_days', 'adherence_days_spo2', 'adherence_days_body_weight']);
  });

  it('counts calendar days across the spring DST change (Europe/Paris 2026-03-29 is 23 h)', () => {
    const to = Date.UTC(2026, 3, 10, 10); // 2026-04-10 12:00 CEST; days 03-12 … 04-10
    const from = Date.UTC(2026, 2, 11, 23); // 2026-03-12 00:00 CET (24 h steps back from 04-10 00:00 CEST would give 22:00Z)
    const readings = [
      { type: 'body_weight', at: from - 30 * MIN }, // 03-11 23:30 CET: before the 30 days
      { type: 'body_weight', at: from }, // 03-12 00:00: the first instant of the first day
      { type: 'body_weight', at: Date.UTC(2026, 2, 28, 23, 30) }, // 03-29 00:30 CET
      { type: 'body_weight', at: Date.UTC(2026, 2, 29, 21, 30) }, // 03-29 23:30 CEST: same day
      { type: 'blood_pressure', at: Date.UTC(2026, 2, 29, 22, 30) }, // 03-30 00:30 CEST
      { type: 'blood_pressure', at: Date.UTC(2026, 3, 10, 9) }, // 04-10 11:00
      { type: 'blood_pressure', at: to }, // exactly at to: counted
      { type: 'body_weight', at: to + 1 }, // after to: not counted
    ];
    const result = adherenceIndicators(readings, to, PARIS, ['body_weight', 'blood_pressure']);
    for (const i of result) expect([i.from, i.to, i.unit, i.sufficient]).toEqual([from, to, 'd', true]);
    expect(result.map((i) => [i.key, i.value, i.n])).toEqual([
      // 03-12, 03-29, 03-30, 04-10
      ['adherence_days', 4, 6],
      // 03-12, 03-29
      ['adherence_days_body_weight', 2, 3],
      // 03-30, 04-10
      ['adherence_days_blood_pressure', 2, 3],
    ]);
  });

  it('counts calendar days across the autumn DST change (Europe/Paris 2026-10-25 is 25 h)', () => {
    const to = Date.UTC(2026, 10, 10, 12); // 2026-11-10 13:00 CET; days 10-12 … 11-10
    const from = Date.UTC(2026, 9, 11, 22); // 2026-10-12 00:00 CEST (24 h steps back would give 23:00Z)
    const readings = [
      { type: 'spo2', at: from - 1 }, // 10-11 23:59:59.999 CEST: outside
      { type: 'spo2', at: from + 30 * MIN }, // 10-12 00:30 CEST
      { type: 'spo2', at: Date.UTC(2026, 9, 25, 0, 30) }, // 10-25 02:30 CEST (first 02:30)
      { type: 'spo2', at: Date.UTC(2026, 9, 25, 1, 30) }, // 10-25 02:30 CET (second 02:30)
      { type: 'spo2', at: Date.UTC(2026, 9, 25, 22, 30) }, // 10-25 23:30 CET: still 10-25, 25 h after its start
      { type: 'spo2', at: Date.UTC(2026, 9, 25, 23, 30) }, // 10-26 00:30 CET
    ];
    const result = adherenceIndicators(readings, to, PARIS, ['spo2']);
    expect(result.map((i) => [i.key, i.value, i.n, i.from])).toEqual([
      // 10-12, 10-25, 10-26
      ['adherence_days', 3, 5, from],
      ['adherence_days_spo2', 3, 5, from],
    ]);
  });

  it('uses the patient zone: the same instants make different days in Paris and New York', () => {
    // 20:00Z and 23:00Z on 06-14: 22:00 and 01:00 (06-15) in Paris, 16:00 and 19:00 (06-14) in New York
    const readings = [
      { type: 'spo2', at: Date.UTC(2026, 5, 14, 20) },
      { type: 'spo2', at: Date.UTC(2026, 5, 14, 23) },
    ];
    const to = Date.UTC(2026, 5, 15, 3, 30);
    expect(adherenceIndicators(readings, to, PARIS, [])[0].value).toBe(2);
    expect(adherenceIndicators(readings, to, 'America/New_York', [])[0].value).toBe(1);
    expect(adherenceIndicators(readings, to, 'UTC', [])[0].value).toBe(1);
    // New York: to is 06-14 23:30, so its first day is 05-16 (04:00Z); Paris: to is 06-15, first day 05-17
    expect(byKey(adherenceIndicators([], to, 'America/New_York', []), 'adherence_days').from).toBe(
      Date.UTC(2026, 4, 16, 4),
    );
    expect(byKey(adherenceIndicators([], to, PARIS, []), 'adherence_days').from).toBe(Date.UTC(2026, 4, 16, 22));
  });
});
