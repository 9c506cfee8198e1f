import { describe, expect, it } from 'vitest';
import { ALERT_RULES, effectiveThreshold, evaluateRule, type RuleKey } from '../../../src/domain/alerts/index.ts';
import { decodeReading } from '../../../src/ingest/decode.ts';
import { READING_ID_PATTERN } from '../../../src/domain/protocol.ts';
import type { ProtocolReading } from '../../../simulators/models/common.ts';
import { DAY, MINUTE } from '../../../simulators/models/time.ts';
import {
  HEALTHY,
  PERSONAS,
  TYPE1_DIABETES,
  personaReadings,
  type Persona,
} from '../../../simulators/personas/index.ts';

const TZ = 'Europe/Paris';
const START = Date.UTC(2026, 9, 12, 8, 0); // the period crosses the end of summer time (25 October)
const SEEDS = [1, 2, 3];

const cache = new Map<string, ProtocolReading[]>();
function allReadings(persona: Persona, seed: number): ProtocolReading[] {
  const key = `${persona.key}/${seed}`;
  if (!cache.has(key)) {
    const end = START + persona.periodDays * DAY;
    const devices = personaReadings(persona, { seed, patientId: 'patient-1', start: START, end, timeZone: TZ });
    cache.set(
      key,
      devices.flatMap((d) => d.readings),
    );
  }
  return cache.get(key)!;
}

/** The rules that trigger over the whole period, with the persona's thresholds (no_data aside). */
function triggered(persona: Persona, readings: readonly ProtocolReading[]): RuleKey[] {
  const now = START + persona.periodDays * DAY;
  return ALERT_RULES.filter((r) => r.key !== 'no_data')
    .filter((r) => evaluateRule(r, { readings }, effectiveThreshold(r, persona.thresholds), now).triggered)
    .map((r) => r.key);
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe.each(PERSONAS.map((p) => [p.key, p] as const))('the %s persona', (_key, persona) => {
  it.each(SEEDS)('raises exactly its expected alerts over its period (seed %i)', (seed) => {
    expect(triggered(persona, allReadings(persona, seed)).sort()).toEqual([...persona.expectedAlerts].sort());
  });

  it('gives the same readings for the same seed and patient, others for another seed', () => {
    const end = START + 2 * DAY;
    const opts = { seed: 1, patientId: 'patient-1', start: START, end, timeZone: TZ };
    const a = personaReadings(persona, opts);
    expect(personaReadings(persona, { ...opts })).toEqual(a);
    expect(personaReadings(persona, { ...opts, seed: 2 })).not.toEqual(a);
    expect(personaReadings(persona, { ...opts, patientId: 'patient-2' }).map((d) => d.readings)).not.toEqual(
      a.map((d) => d.readings),
    );
  });

  it('makes only readings the service decodes, with ids unique per device and valid device ids', () => {
    const end = START + persona.periodDays * DAY;
    const devices = personaReadings(persona, { seed: 1, patientId: 'patient-1', start: START, end, timeZone: TZ });
    expect(devices.map((d) => d.deviceId)).toEqual(persona.devices.map((d) => `patient-1-${d.suffix}`));
    for (const d of devices) {
      expect(d.deviceId).toMatch(/^[A-Za-z0-9._-]{1,64}$/);
      expect(d.readings.length).toBeGreaterThan(0);
      expect(new Set(d.readings.map((r) => r.id)).size).toBe(d.readings.length);
      for (const r of d.readings) {
        expect(r.id).toMatch(READING_ID_PATTERN);
        const outcome = decodeReading(r, { now: end + 1, maxAgeMs: 365 * DAY, maxFutureMs: 300_000 });
        expect(outcome.ok ? 'ok' : outcome.rejection).toBe('ok');
      }
    }
  });

  it('leaves no gap of a day in any type, so no_data does not trigger either', () => {
    const readings = allReadings(persona, 1);
    const end = START + persona.periodDays * DAY;
    const types = [...new Set(readings.map((r) => r.type))];
    const lastReadingAt: Record<string, number> = {};
    for (const type of types) {
      const times = readings.filter((r) => r.type === type).map((r) => r.at);
      const gaps = [times[0] - START, ...times.slice(1).map((t, i) => t - times[i]), end - times.at(-1)!];
      expect(Math.max(...gaps)).toBeLessThan(DAY + 2 * 60 * MINUTE);
      lastReadingAt[type] = times.at(-1)!;
    }
    const noData = evaluateRule('no_data', { expectedTypes: types, lastReadingAt }, 24, end);
    expect(noData.triggered).toBe(false);
  });
});

describe('persona physiology', () => {
  it('type 1 diabetes: CGM mean 140-190 mg/dL, with both low and high excursions', () => {
    for (const seed of SEEDS) {
      const cgm = allReadings(TYPE1_DIABETES, seed)
        .filter((r) => r.type === 'cgm_glucose')
        .map((r) => r.value!);
      expect(mean(cgm)).toBeGreaterThan(140);
      expect(mean(cgm)).toBeLessThan(190);
      const tir = cgm.filter((v) => v >= 70 && v <= 180).length / cgm.length;
      expect(tir).toBeGreaterThan(0.5);
      expect(tir).toBeLessThan(0.9);
    }
  });

  it('healthy: CGM time in range above 90 %, every reading of every type in its normal range', () => {
    for (const seed of SEEDS) {
      const readings = allReadings(HEALTHY, seed);
      const cgm = readings.filter((r) => r.type === 'cgm_glucose').map((r) => r.value!);
      expect(cgm.filter((v) => v >= 70 && v <= 180).length / cgm.length).toBeGreaterThan(0.9);
      const values = (type: string) => readings.filter((r) => r.type === type).map((r) => r.value!);
      expect(Math.min(...values('spo2'))).toBeGreaterThanOrEqual(94);
      expect(Math.max(...values('body_temperature'))).toBeLessThan(37.5);
      expect(Math.min(...values('heart_rate'))).toBeGreaterThan(40);
    }
  });

  it('persona ids stay within the protocol with a long patient id', () => {
    const devices = personaReadings(HEALTHY, {
      seed: 1,
      patientId: 'p'.repeat(50),
      start: START,
      end: START + DAY,
      timeZone: TZ,
    });
    for (const d of devices) for (const r of d.readings) expect(r.id.length).toBeLessThanOrEqual(64);
  });
});
