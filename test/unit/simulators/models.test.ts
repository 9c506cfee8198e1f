import { describe, expect, it } from 'vitest';
import { decodeReading } from '../../../src/ingest/decode.ts';
import { bloodPressureReadings, type BloodPressureParams } from '../../../simulators/models/blood-pressure.ts';
import { cgmReadings, type CgmParams } from '../../../simulators/models/cgm.ts';
import type { GenerateOptions, ProtocolReading } from '../../../simulators/models/common.ts';
import { heartRateReadings, type HeartRateParams } from '../../../simulators/models/heart-rate.ts';
import { meterGlucoseReadings, type MeterGlucoseParams } from '../../../simulators/models/meter-glucose.ts';
import { respiratoryRateReadings } from '../../../simulators/models/respiratory-rate.ts';
import { spo2Readings, type Spo2Params } from '../../../simulators/models/spo2.ts';
import { stepsReadings, type StepsParams } from '../../../simulators/models/steps.ts';
import { temperatureReadings, type TemperatureParams } from '../../../simulators/models/temperature.ts';
import { DAY, HOUR, localDay, localHour, MINUTE, resolveMoment } from '../../../simulators/models/time.ts';
import { weightReadings, type WeightParams } from '../../../simulators/models/weight.ts';

const TZ = 'Europe/Paris';
const START = Date.UTC(2026, 2, 23, 11, 17); // a Monday, not on a sampling grid; DST change on day 6
const END = START + 10 * DAY;
const OPTS: GenerateOptions = { seed: 'model-test', timeZone: TZ, start: START, end: END };

const ACTIVITY = { wakeHour: 7, sleepHour: 23, boutsPerDay: 3, boutMinutes: 30 };
const HR: HeartRateParams = {
  mean: 70,
  circadianAmplitude: 5,
  sleepDip: 8,
  activityBoost: 30,
  driftSd: 2,
  noiseSd: 2,
  activity: ACTIVITY,
};
const BP: BloodPressureParams = { systolic: 130, diastolic: 80, morningSurge: 12, dailySd: 4, readingSd: 5, pulse: 70 };
const GLUCOSE: CgmParams = {
  basal: 150,
  dawnRise: 20,
  meals: [
    { hour: 7.5, carbs: 45 },
    { hour: 12.5, carbs: 70 },
    { hour: 19.5, carbs: 80 },
  ],
  mealJitterMin: 30,
  carbsSd: 0.2,
  mgdlPerGram: 3,
  insulinCoverage: 0.8,
  coverageSd: 0.2,
  driftSd: 15,
  glucoseSeed: 'shared-glucose',
};
const METER: MeterGlucoseParams = {
  ...GLUCOSE,
  checks: [
    { context: 'fasting', hour: 7 },
    { context: 'before_meal', meal: 1 },
    { context: 'after_meal', meal: 2 },
    { context: 'bedtime', hour: 22.5 },
  ],
};
const WEIGHT: WeightParams = {
  baselineKg: 80,
  driftKgPerWeek: 0,
  dailySdKg: 0.15,
  decompensation: { at: { day: 3, hour: 6 }, days: 3, gainKg: 2.5, holdDays: 1, recoveryDays: 2 },
};
const SPO2: Spo2Params = {
  baseline: 95,
  sleepDip: 1,
  noiseSd: 0.7,
  sampling: { kind: 'interval', intervalMin: 5 },
  desaturations: [{ at: { day: 2, hour: 14 }, durationMin: 60, nadir: 85 }],
};
const TEMP: TemperatureParams = {
  baseline: 36.6,
  circadianAmplitude: 0.25,
  noiseSd: 0.1,
  sampling: { kind: 'daily', hours: [8, 13, 20], jitterMin: 30 },
  fever: { at: { day: 4, hour: 10 }, days: 3, peak: 39.2 },
};
const STEPS: StepsParams = { dailySteps: 8000, activity: ACTIVITY };

const MODELS: Record<string, (o: GenerateOptions) => ProtocolReading[]> = {
  heart_rate: (o) => heartRateReadings(o, HR),
  blood_pressure: (o) => bloodPressureReadings(o, BP),
  cgm_glucose: (o) => cgmReadings(o, GLUCOSE),
  blood_glucose: (o) => meterGlucoseReadings(o, METER),
  body_weight: (o) => weightReadings(o, WEIGHT),
  spo2: (o) => spo2Readings(o, SPO2),
  body_temperature: (o) => temperatureReadings(o, TEMP),
  steps: (o) => stepsReadings(o, STEPS),
  respiratory_rate: (o) =>
    respiratoryRateReadings(o, {
      mean: 16,
      sleepDip: 2,
      driftSd: 1,
      noiseSd: 1,
      sampling: { kind: 'interval', intervalMin: 15 },
      exacerbation: { at: { day: 5, hour: 0 }, days: 3, rise: 6 },
    }),
};

const cache = new Map<string, ProtocolReading[]>();
function readings(type: string): ProtocolReading[] {
  if (!cache.has(type)) cache.set(type, MODELS[type](OPTS));
  return cache.get(type)!;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const gaps = (rs: ProtocolReading[]) => rs.slice(1).map((r, i) => r.at - rs[i].at);
const decimals = (v: number) => (String(v).split('.')[1] ?? '').length;

describe.each(Object.keys(MODELS))('the %s model', (type) => {
  it('gives the same readings for the same seed and others for another seed', () => {
    const a = readings(type);
    expect(MODELS[type]({ ...OPTS })).toEqual(a);
    expect(MODELS[type]({ ...OPTS, seed: 'another' })).not.toEqual(a);
    expect(a.length).toBeGreaterThan(5);
  });

  it('makes readings the service decodes, of its type, in time order, with unique ids, inside [start, end)', () => {
    const rs = readings(type);
    for (const r of rs) {
      const outcome = decodeReading(r, { now: END + 1, maxAgeMs: 365 * DAY, maxFutureMs: 300_000 });
      expect(outcome.ok ? 'ok' : outcome.rejection).toBe('ok');
      expect(r.type).toBe(type);
      expect(r.at).toBeGreaterThanOrEqual(START);
      expect(r.at).toBeLessThan(END);
      expect(r.at % 1000).toBe(0);
    }
    expect(gaps(rs).every((g) => g > 0)).toBe(true);
    expect(new Set(rs.map((r) => r.id)).size).toBe(rs.length);
  });

  it('gives the same readings when generated in consecutive chunks', () => {
    const cut = START + 4 * DAY + 7 * HOUR + 3 * MINUTE;
    const chunks = [
      ...MODELS[type]({ ...OPTS, end: cut, origin: START }),
      ...MODELS[type]({ ...OPTS, start: cut, origin: START }),
    ];
    expect(chunks).toEqual(readings(type));
  });
});

describe('sampling as a real device', () => {
  it('CGM and wearable heart rate every 5 minutes, steps every 15, without gaps', () => {
    expect(new Set(gaps(readings('cgm_glucose')))).toEqual(new Set([5 * MINUTE]));
    expect(new Set(gaps(readings('heart_rate')))).toEqual(new Set([5 * MINUTE]));
    expect(new Set(gaps(readings('steps')))).toEqual(new Set([15 * MINUTE]));
    expect(readings('cgm_glucose')).toHaveLength((10 * DAY) / (5 * MINUTE));
  });

  it('cuff twice a day (morning, evening), scale each morning, thermometer at its hours', () => {
    const perDay = (rs: ProtocolReading[]) => {
      const days = new Map<number, number[]>();
      for (const r of rs) days.set(localDay(r.at, TZ), [...(days.get(localDay(r.at, TZ)) ?? []), r.at]);
      return [...days.values()].slice(1, -1); // whole days only
    };
    for (const day of perDay(readings('blood_pressure'))) {
      expect(day).toHaveLength(2);
      expect(Math.abs(localHour(day[0], TZ) - 7.5)).toBeLessThanOrEqual(1 / 3);
      expect(Math.abs(localHour(day[1], TZ) - 21)).toBeLessThanOrEqual(1 / 3);
    }
    for (const day of perDay(readings('body_weight'))) {
      expect(day).toHaveLength(1);
      expect(Math.abs(localHour(day[0], TZ) - 7)).toBeLessThanOrEqual(1 / 3);
    }
    for (const day of perDay(readings('body_temperature'))) expect(day).toHaveLength(3);
  });

  it('meter 4 times a day with its contexts, before and after the meals', () => {
    const rs = readings('blood_glucose');
    const days = new Map<number, ProtocolReading[]>();
    for (const r of rs) days.set(localDay(r.at, TZ), [...(days.get(localDay(r.at, TZ)) ?? []), r]);
    const whole = [...days.values()].slice(1, -1);
    expect(whole.length).toBeGreaterThanOrEqual(8);
    for (const day of whole) {
      expect(day.map((r) => r.context)).toEqual(['fasting', 'before_meal', 'after_meal', 'bedtime']);
      expect(localHour(day[1].at, TZ)).toBeGreaterThan(11.5);
      expect(localHour(day[1].at, TZ)).toBeLessThan(13.5);
      expect(localHour(day[2].at, TZ)).toBeGreaterThan(20.5);
      expect(localHour(day[2].at, TZ)).toBeLessThan(22.5);
    }
  });

  it('rounds as devices report: integers, 0.1 kg, 0.1 °C, integer mm[Hg] with diastolic below systolic', () => {
    for (const t of ['heart_rate', 'cgm_glucose', 'blood_glucose', 'spo2', 'steps', 'respiratory_rate']) {
      expect(readings(t).every((r) => Number.isInteger(r.value))).toBe(true);
    }
    expect(readings('body_weight').every((r) => decimals(r.value!) <= 1)).toBe(true);
    expect(readings('body_temperature').every((r) => decimals(r.value!) <= 1)).toBe(true);
    for (const r of readings('blood_pressure')) {
      expect(Number.isInteger(r.systolic) && Number.isInteger(r.diastolic) && Number.isInteger(r.pulse)).toBe(true);
      expect(r.diastolic!).toBeLessThan(r.systolic!);
    }
  });
});

describe('physiology', () => {
  it('heart rate is lower at night than in the afternoon', () => {
    const rs = readings('heart_rate');
    const night = mean(rs.filter((r) => localHour(r.at, TZ) < 5).map((r) => r.value!));
    const afternoon = mean(
      rs.filter((r) => localHour(r.at, TZ) >= 13 && localHour(r.at, TZ) < 18).map((r) => r.value!),
    );
    expect(afternoon - night).toBeGreaterThan(8);
  });

  it('heart rate rises with the steps (shared activity)', () => {
    const steps = new Map(
      stepsReadings({ ...OPTS, seed: 's' }, { ...STEPS, activitySeed: 'act' }).map((r) => [r.at, r]),
    );
    const hr = heartRateReadings({ ...OPTS, seed: 'h' }, { ...HR, activitySeed: 'act' });
    const stepsAround = (at: number) => {
      for (const [t, r] of steps) if (at <= t && at > t - 15 * MINUTE) return r.value!;
      return 0;
    };
    const day = hr.filter((r) => localHour(r.at, TZ) >= 9 && localHour(r.at, TZ) < 20).slice(0, 288);
    const busy = day.filter((r) => stepsAround(r.at) > 1000).map((r) => r.value!);
    const quiet = day.filter((r) => stepsAround(r.at) < 300).map((r) => r.value!);
    expect(busy.length).toBeGreaterThan(0);
    expect(mean(busy) - mean(quiet)).toBeGreaterThan(10);
  });

  it('blood pressure is higher in the morning than in the evening', () => {
    const rs = readings('blood_pressure');
    const morning = rs.filter((r) => localHour(r.at, TZ) < 12).map((r) => r.systolic!);
    const evening = rs.filter((r) => localHour(r.at, TZ) >= 12).map((r) => r.systolic!);
    expect(mean(morning) - mean(evening)).toBeGreaterThan(6);
  });

  it('the meter agrees with the CGM on the shared glucose', () => {
    const cgm = readings('cgm_glucose');
    for (const m of readings('blood_glucose')) {
      const near = cgm.find((c) => Math.abs(c.at - m.at) <= 150_000)!;
      expect(Math.abs(near.value! - m.value!)).toBeLessThan(0.2 * m.value! + 15);
    }
  });

  it('weight gains 2.5 kg over the 3 days of the decompensation, then comes back', () => {
    const rs = readings('body_weight');
    const from = resolveMoment({ day: 3, hour: 6 }, START, TZ);
    const before = mean(rs.filter((r) => r.at < from).map((r) => r.value!));
    const held = mean(rs.filter((r) => r.at > from + 3 * DAY && r.at < from + 4 * DAY).map((r) => r.value!));
    expect(held - before).toBeGreaterThan(2.1);
    expect(held - before).toBeLessThan(2.9);
    expect(rs.at(-1)!.value!).toBeLessThan(before + 0.6);
  });

  it('SpO2 falls to the nadir during a desaturation and stays near baseline otherwise', () => {
    const rs = readings('spo2');
    const from = resolveMoment({ day: 2, hour: 14 }, START, TZ);
    const during = rs.filter((r) => r.at > from && r.at < from + HOUR).map((r) => r.value!);
    const outside = rs.filter((r) => r.at < from || r.at > from + HOUR).map((r) => r.value!);
    expect(Math.min(...during)).toBeLessThanOrEqual(86);
    expect(Math.min(...outside)).toBeGreaterThanOrEqual(92);
    expect(Math.max(...outside)).toBeLessThanOrEqual(97);
  });

  it('temperature reaches fever during the episode only', () => {
    const rs = readings('body_temperature');
    const from = resolveMoment({ day: 4, hour: 10 }, START, TZ);
    const inside = rs.filter((r) => r.at > from + 6 * HOUR && r.at < from + 3 * DAY - 12 * HOUR);
    const outside = rs.filter((r) => r.at < from || r.at > from + 3 * DAY);
    expect(inside.length).toBeGreaterThan(3);
    expect(inside.every((r) => r.value! >= 38.5)).toBe(true);
    expect(outside.every((r) => r.value! >= 36 && r.value! < 37.5)).toBe(true);
  });

  it('steps: none asleep, a plausible daily total', () => {
    const rs = readings('steps');
    expect(rs.filter((r) => localHour(r.at, TZ) >= 1 && localHour(r.at, TZ) < 6).every((r) => r.value === 0)).toBe(
      true,
    );
    const perDay = rs.reduce((a, r) => a + r.value!, 0) / 10;
    expect(perDay).toBeGreaterThan(5000);
    expect(perDay).toBeLessThan(12_000);
  });

  it('respiratory rate rises during an exacerbation', () => {
    const rs = readings('respiratory_rate');
    const from = resolveMoment({ day: 5, hour: 0 }, START, TZ);
    const peak = rs.filter((r) => r.at > from + DAY && r.at < from + 2 * DAY).map((r) => r.value!);
    const before = rs.filter((r) => r.at < from).map((r) => r.value!);
    expect(mean(peak) - mean(before)).toBeGreaterThan(4);
  });
});
