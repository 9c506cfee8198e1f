/**
 * A patient's glucose report (README, "Glucose report (AGP)"): the numbers of the
 * indicators API and the AGP and daily profiles of the same readings.
 *
 * The period ends where the stored CGM indicators end (their `to`, the moment they
 * were computed), so that the 14-day report shows exactly what
 * GET /patients/{id}/indicators returns, and its AGP counts the readings the time in
 * ranges counts (`from` < at ≤ `to`). Another length ends there too, with the
 * statistics computed by the same definitions (src/domain/indicators) over its
 * readings. Without stored CGM indicators, the period ends now.
 *
 * Cost: the stored indicators (nine rows) and the CGM readings of the period, one
 * index range: bounded by `days`, not by the history.
 */
import { dailyProfiles, glucoseProfile } from '../domain/glucose-profile.ts';
import {
  type GlucoseReport,
  REPORT_DEFAULT_DAYS,
  REPORT_INDICATOR_KEYS,
  type ReportIndicatorKey,
  type ReportStatistic,
  timeInRanges,
} from '../domain/glucose-report.ts';
import { cgmIndicatorsFromReadings, DAY_MS, SENSOR_ACTIVE_SUFFICIENT_PERCENT } from '../domain/indicators/index.ts';
import { loadCgmReadings } from '../store/cgm-readings.repository.ts';
import type { Db } from '../store/database.ts';
import { findIndicators } from '../store/indicators.repository.ts';
import type { PatientRow } from '../store/patients.repository.ts';

export async function glucoseReport(db: Db, patient: PatientRow, days: number, now: number): Promise<GlucoseReport> {
  const stored = await findIndicators(db, patient.id, REPORT_INDICATOR_KEYS);
  const byKey = new Map(stored.map((i) => [i.key, i]));
  const complete = REPORT_INDICATOR_KEYS.every((k) => byKey.has(k));
  const to = complete ? byKey.get('tir_70_180')!.to.getTime() : now;
  const windowMs = days * DAY_MS;
  const from = to - windowMs;
  const readings = await loadCgmReadings(db, patient.id, from, to);

  const fromIndicators = complete && days === REPORT_DEFAULT_DAYS;
  const statistics: ReportStatistic[] = fromIndicators
    ? REPORT_INDICATOR_KEYS.map((key) => {
        const i = byKey.get(key)!;
        return { key, value: i.value, unit: i.unit, n: i.n, sufficient: i.sufficient };
      })
    : cgmIndicatorsFromReadings(readings, to, windowMs)
        .filter((i) => (REPORT_INDICATOR_KEYS as readonly string[]).includes(i.key))
        .map((i) => ({
          key: i.key as ReportIndicatorKey,
          value: i.value,
          unit: i.unit,
          n: i.n,
          sufficient: i.sufficient,
        }));
  const value = (key: ReportIndicatorKey) => statistics.find((s) => s.key === key)?.value ?? null;
  const points = readings.map((r) => ({ at: r.at, value: r.value }));
  return {
    patient: { id: patient.id, displayName: patient.displayName, timeZone: patient.timeZone },
    days,
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    source: fromIndicators ? 'indicators' : 'readings',
    computedAt: fromIndicators ? byKey.get('tir_70_180')!.computedAt.toISOString() : null,
    sufficient: (value('sensor_active') ?? 0) >= SENSOR_ACTIVE_SUFFICIENT_PERCENT,
    statistics,
    ranges: timeInRanges(value),
    agp: glucoseProfile(points, patient.timeZone, { from, to }),
    daily: dailyProfiles(points, patient.timeZone, to, windowMs, Math.min(days, 14)),
  };
}
