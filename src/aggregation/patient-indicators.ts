import {
  adherenceIndicators,
  bpIndicators,
  cgmIndicators,
  heartRateIndicators,
  type Indicator,
  medianSamplingIntervalMs,
  type Point,
  spo2Indicators,
  temperatureIndicators,
  weightIndicators,
} from '../domain/indicators/index.ts';
import type { PatientReading } from '../store/aggregation.repository.ts';

/** How far back a patient's readings are loaded: the longest window (adherence, 30 days) and a day. */
export const INDICATOR_LOOKBACK_MS = 31 * 86_400_000;

const CGM_WINDOW_MS = 14 * 86_400_000;

function points(readings: PatientReading[], type: string): Point[] {
  const out: Point[] = [];
  for (const r of readings) if (r.type === type && r.value !== null) out.push({ at: r.at, value: r.value });
  return out;
}

/**
 * Every indicator of indicators.md for one patient, from their readings of the
 * last 31 days, computed at `to`. The maths is in src/domain/indicators (pure);
 * this only sorts readings into series.
 */
export function computePatientIndicators(readings: PatientReading[], timeZone: string, to: number): Indicator[] {
  const cgm = points(readings, 'cgm_glucose');
  // indicators.md: expected readings = window ÷ the device's median sampling interval.
  const recentCgmByDevice = new Map<string, Point[]>();
  for (const r of readings) {
    if (r.type !== 'cgm_glucose' || r.value === null || r.at <= to - CGM_WINDOW_MS) continue;
    const list = recentCgmByDevice.get(r.deviceId) ?? [];
    list.push({ at: r.at, value: r.value });
    recentCgmByDevice.set(r.deviceId, list);
  }
  let busiest: Point[] = [];
  for (const list of recentCgmByDevice.values()) if (list.length > busiest.length) busiest = list;
  const interval = medianSamplingIntervalMs(busiest);

  const bp = readings
    .filter((r) => r.type === 'blood_pressure' && r.systolic !== null && r.diastolic !== null)
    .map((r) => ({ at: r.at, systolic: r.systolic as number, diastolic: r.diastolic as number }));
  const types = [...new Set(readings.map((r) => r.type))].sort();

  return [
    ...cgmIndicators(cgm, to, interval),
    ...bpIndicators(bp, to, timeZone),
    ...weightIndicators(points(readings, 'body_weight'), to),
    ...spo2Indicators(points(readings, 'spo2'), to),
    ...heartRateIndicators(points(readings, 'heart_rate'), to),
    ...temperatureIndicators(points(readings, 'body_temperature'), to),
    ...adherenceIndicators(
      readings.map((r) => ({ type: r.type, at: r.at })),
      to,
      timeZone,
      types,
    ),
  ];
}
