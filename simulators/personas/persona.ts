/**
 * Patient personas: a set of devices, each carrying one or more reading models with
 * their physiology, the per-patient alert thresholds a clinician would set, and the
 * alert rules the persona is expected to raise over its stated period.
 */
import type { RuleKey, Thresholds } from '../../src/domain/alerts/index.ts';
import type { ReadingType } from '../../src/domain/reading-types.ts';
import { bloodPressureReadings, type BloodPressureParams } from '../models/blood-pressure.ts';
import { cgmReadings, type CgmParams } from '../models/cgm.ts';
import type { GenerateOptions, ProtocolReading } from '../models/common.ts';
import { heartRateReadings, type HeartRateParams } from '../models/heart-rate.ts';
import { meterGlucoseReadings, type MeterGlucoseParams } from '../models/meter-glucose.ts';
import { deriveSeed, type Seed } from '../models/random.ts';
import { respiratoryRateReadings, type RespiratoryRateParams } from '../models/respiratory-rate.ts';
import { spo2Readings, type Spo2Params } from '../models/spo2.ts';
import { stepsReadings, type StepsParams } from '../models/steps.ts';
import { temperatureReadings, type TemperatureParams } from '../models/temperature.ts';
import { weightReadings, type WeightParams } from '../models/weight.ts';

export type ModelSpec =
  | { type: 'heart_rate'; params: HeartRateParams }
  | { type: 'steps'; params: StepsParams }
  | { type: 'blood_pressure'; params: BloodPressureParams }
  | { type: 'cgm_glucose'; params: CgmParams }
  | { type: 'blood_glucose'; params: MeterGlucoseParams }
  | { type: 'body_weight'; params: WeightParams }
  | { type: 'spo2'; params: Spo2Params }
  | { type: 'body_temperature'; params: TemperatureParams }
  | { type: 'respiratory_rate'; params: RespiratoryRateParams };

export interface DeviceSpec {
  /** The device id is `${patientId}-${suffix}`. */
  suffix: string;
  /** What the device is, for people (e.g. "wrist wearable"). */
  kind: string;
  /** The reading types it sends, at most one model per type. */
  models: readonly ModelSpec[];
}

export type PersonaKey = 'type1_diabetes' | 'heart_failure' | 'copd' | 'hypertension' | 'healthy';

export interface Persona {
  key: PersonaKey;
  description: string;
  /** The period, from the origin, over which `expectedAlerts` are raised (and no others). */
  periodDays: number;
  /** Per-patient threshold overrides (indicators.md, "Alerts"). */
  thresholds: Thresholds;
  devices: readonly DeviceSpec[];
  /** The alert rules the persona raises over its period, `no_data` aside (the devices leave no gaps). */
  expectedAlerts: readonly RuleKey[];
}

export interface PersonaOptions {
  seed: Seed;
  patientId: string;
  timeZone: string;
  /** Readings with start ≤ at < end (epoch ms). */
  start: number;
  end: number;
  /** Day 0 of the persona's episodes (default `start`); keep it fixed across chunks. */
  origin?: number;
}

export interface DeviceReadings {
  deviceId: string;
  device: DeviceSpec;
  /** All readings of the device, in time order. */
  readings: ProtocolReading[];
}

function generate(spec: ModelSpec, options: GenerateOptions, patientSeed: string): ProtocolReading[] {
  const activitySeed = deriveSeed(patientSeed, 'activity');
  const glucoseSeed = deriveSeed(patientSeed, 'glucose');
  switch (spec.type) {
    case 'heart_rate':
      return heartRateReadings(options, { activitySeed, ...spec.params });
    case 'steps':
      return stepsReadings(options, { activitySeed, ...spec.params });
    case 'blood_pressure':
      return bloodPressureReadings(options, spec.params);
    case 'cgm_glucose':
      return cgmReadings(options, { glucoseSeed, ...spec.params });
    case 'blood_glucose':
      return meterGlucoseReadings(options, { glucoseSeed, ...spec.params });
    case 'body_weight':
      return weightReadings(options, spec.params);
    case 'spo2':
      return spo2Readings(options, spec.params);
    case 'body_temperature':
      return temperatureReadings(options, spec.params);
    case 'respiratory_rate':
      return respiratoryRateReadings(options, spec.params);
  }
}

/**
 * All readings of a persona's devices in [start, end), by device. The same seed and
 * patient give the same readings; the heart rate and steps of a patient share one
 * activity, the CGM and meter one glucose.
 */
export function personaReadings(persona: Persona, options: PersonaOptions): DeviceReadings[] {
  const patientSeed = deriveSeed(options.seed, options.patientId);
  return persona.devices.map((device) => {
    const seen = new Set<ReadingType>();
    const readings: ProtocolReading[] = [];
    for (const spec of device.models) {
      if (seen.has(spec.type)) throw new RangeError(`device ${device.suffix} has two models of type ${spec.type}`);
      seen.add(spec.type);
      const generateOptions: GenerateOptions = {
        seed: deriveSeed(patientSeed, device.suffix, spec.type),
        timeZone: options.timeZone,
        start: options.start,
        end: options.end,
        origin: options.origin ?? options.start,
      };
      readings.push(...generate(spec, generateOptions, patientSeed));
    }
    readings.sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return { deviceId: `${options.patientId}-${device.suffix}`, device, readings };
  });
}
