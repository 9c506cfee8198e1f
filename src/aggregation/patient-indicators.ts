import {
  type AdherenceDay,
  adherenceIndicators,
  adherenceIndicatorsFromDays,
  bpIndicators,
  type CgmPartial,
  type CgmReading,
  cgmIndicatorsFromPartials,
  cgmIndicatorsFromReadings,
  heartRateIndicators,
  type Indicator,
  type Point,
  spo2Indicators,
  temperatureIndicators,
  WINDOW_24H_MS,
  WINDOW_72H_MS,
  WINDOW_7D_MS,
  weightIndicators,
} from '../domain/indicators/index.ts';
import type { PatientReading } from '../store/aggregation.repository.ts';

/**
 * The types whose indicators are computed from raw readings, and how far back before
 * `to` their windows reach: blood pressure 7 days; weight 7 days plus the 72 h that
 * may precede its latest reading; SpO2, heart rate, temperature 24 h. CGM comes from
 * hourly partials and adherence from daily rollups instead.
 */
export const RAW_INDICATOR_WINDOWS: readonly { type: string; lookbackMs: number }[] = [
  { type: 'blood_pressure', lookbackMs: WINDOW_7D_MS },
  { type: 'body_weight', lookbackMs: WINDOW_7D_MS + WINDOW_72H_MS },
  { type: 'spo2', lookbackMs: WINDOW_24H_MS },
  { type: 'heart_rate', lookbackMs: WINDOW_24H_MS },
  { type: 'body_temperature', lookbackMs: WINDOW_24H_MS },
];

/** What the job reads for one patient's indicators (src/store/indicator-inputs.repository.ts). */
export interface PatientIndicatorInputs {
  /** Stored CGM partials of the whole hours of the 14-day window and the raw readings of its edge hours. */
  cgm: { partials: CgmPartial[]; edges: CgmReading[] };
  /** Readings covering at least RAW_INDICATOR_WINDOWS (more is fine: each indicator keeps its window). */
  readings: PatientReading[];
  /** Daily counts of the 30 adherence days, and the types with a reading in the last 31 days. */
  adherence: { days: AdherenceDay[]; types: string[] };
}

function points(readings: readonly PatientReading[], type: string): Point[] {
  const out: Point[] = [];
  for (const r of readings) if (r.type === type && r.value !== null) out.push({ at: r.at, value: r.value });
  return out;
}

function bpPoints(readings: readonly PatientReading[]) {
  return readings
    .filter((r) => r.type === 'blood_pressure' && r.systolic !== null && r.diastolic !== null)
    .map((r) => ({ at: r.at, systolic: r.systolic as number, diastolic: r.diastolic as number }));
}

/** The indicators computed from raw readings, in the order of the API. */
function rawIndicators(readings: readonly PatientReading[], timeZone: string, to: number): Indicator[][] {
  return [
    bpIndicators(bpPoints(readings), to, timeZone),
    weightIndicators(points(readings, 'body_weight'), to),
    spo2Indicators(points(readings, 'spo2'), to),
    heartRateIndicators(points(readings, 'heart_rate'), to),
    temperatureIndicators(points(readings, 'body_temperature'), to),
  ];
}

/**
 * Every indicator of indicators.md for one patient at `to`, from partial aggregates,
 * daily rollups and the raw readings of the short windows. The maths is in
 * src/domain/indicators (pure); this only sorts the inputs.
 */
export function computePatientIndicators(inputs: PatientIndicatorInputs, timeZone: string, to: number): Indicator[] {
  return [
    ...cgmIndicatorsFromPartials(inputs.cgm.partials, inputs.cgm.edges, to),
    ...rawIndicators(inputs.readings, timeZone, to).flat(),
    ...adherenceIndicatorsFromDays(inputs.adherence.days, to, timeZone, inputs.adherence.types),
  ];
}

/**
 * The definition: the same indicators from all the patient's readings of the last
 * 31 days (what the job computed before partials). The job's result must equal it
 * (the mean and SD to floating-point rounding); the tests compare the two.
 */
export function indicatorsFromReadings(readings: readonly PatientReading[], timeZone: string, to: number): Indicator[] {
  const recent = readings.filter((r) => r.at > to - 31 * 86_400_000 && r.at <= to);
  const cgm = recent
    .filter((r) => r.type === 'cgm_glucose' && r.value !== null)
    .map((r) => ({ deviceId: r.deviceId, at: r.at, value: r.value as number }));
  return [
    ...cgmIndicatorsFromReadings(cgm, to),
    ...rawIndicators(recent, timeZone, to).flat(),
    ...adherenceIndicators(
      recent.map((r) => ({ type: r.type, at: r.at })),
      to,
      timeZone,
      [...new Set(recent.map((r) => r.type))].sort(),
    ),
  ];
}
