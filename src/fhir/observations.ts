/**
 * Vitalink readings and CGM indicators as FHIR R4 Observations.
 *
 * Readings follow the R4 vital-signs profiles where one applies
 * (https://hl7.org/fhir/R4/observation-vitalsigns.html): category vital-signs,
 * the LOINC code of device-protocol.md ("Types"), effectiveDateTime = the
 * measured time, valueQuantity in UCUM (code and unit = the stored unit). Blood
 * pressure is one Observation 85354-9 with the components 8480-6 and 8462-4 (and
 * 8867-4 when the cuff sent a pulse). SpO2 carries 2708-6, the code the oxygensat
 * profile requires, beside 59408-5 (pulse oximetry).
 *
 * On top of that, every reading type but steps is in its ANS "Mesures de santé"
 * profile (src/fhir/profiles.ts; README, "Mesures de santé profiles"):
 * `meta.profile` = the ANS profile (then the R4 one where there is one),
 * `meta.source` = urn:oid:<VITALINK_FHIR_OID> when set, category coding display
 * "vital-signs" (the profiles' pattern), glucose in the vital-signs category
 * (the ANS glucose profile derives from R4 vital signs) with its ANS code added after its own
 * (LOINC 2345-7 for the meter, TAASIP MED-969 for interstitial) and, for the
 * meter, the moment of measurement from the reading's context. Glucose is
 * stored in mg/dL, the unit the profile requires: mmol/L readings are converted
 * at ingestion (× 18.0156, MG_DL_PER_MMOL_L in src/domain/reading-types.ts).
 */
import { createHash } from 'node:crypto';
import {
  BLOOD_PRESSURE_COMPONENTS,
  isReadingType,
  type ObservationCategory,
  READING_TYPE_NAMES,
  READING_TYPES,
  type ReadingType,
  type ReadingTypeSpec,
} from '../domain/reading-types.ts';
import type { IndicatorKey } from '../domain/indicators/indicator-keys.ts';
import type { StoredIndicator } from '../store/indicators.repository.ts';
import type { StoredReading } from '../store/readings-page.ts';
import {
  DEFAULT_FHIR_PROFILES,
  EXTENSION_MOMENT,
  EXTENSION_NUMBER_OF_DAYS,
  type FhirProfileSettings,
  GLUCOSE_MOMENTS,
  MESURES_CGM_SUMMARIES,
  MESURES_PROFILES,
  mesuresProfileUrl,
  metaSource,
  NUMBER_OF_DAYS,
  PROFILE_GLUCOSE,
} from './profiles.ts';
import {
  CGM_SUMMARY_SYSTEM,
  type CodeableConcept,
  type Coding,
  LOINC_SYSTEM,
  type Observation,
  OBSERVATION_CATEGORY_SYSTEM,
  type Quantity,
  UCUM_SYSTEM,
} from './types.ts';

const CATEGORY_TEXT: Record<ObservationCategory, string> = {
  'vital-signs': 'Vital Signs',
  laboratory: 'Laboratory',
  activity: 'Activity',
};

/** The coding's display: the ANS profiles fix "vital-signs" (their VSCat slice's pattern). */
const CATEGORY_DISPLAY: Record<ObservationCategory, string> = { ...CATEGORY_TEXT, 'vital-signs': 'vital-signs' };

function category(c: ObservationCategory): CodeableConcept[] {
  return [
    {
      coding: [{ system: OBSERVATION_CATEGORY_SYSTEM, code: c, display: CATEGORY_DISPLAY[c] }],
      text: CATEGORY_TEXT[c],
    },
  ];
}

const loinc = (code: string, display?: string): Coding => ({
  system: LOINC_SYSTEM,
  code,
  ...(display ? { display } : {}),
});

interface TypeCoding {
  readonly coding: Coding[];
  readonly text: string;
  readonly category: ObservationCategory;
  /** The R4 vital-signs profile, where one applies. */
  readonly profile?: string;
}

const VS = 'http://hl7.org/fhir/StructureDefinition/';

/** The catalogue's codes, then the one the ANS profile adds; vital-signs for every ANS-profiled type. */
function typeCoding(spec: ReadingTypeSpec): TypeCoding {
  const { codings, text, category, profile } = spec.observation;
  const mesures = MESURES_PROFILES[spec.type];
  return {
    coding: [...codings.map((c) => loinc(c.code, c.display)), ...(mesures?.also ? [mesures.also] : [])],
    text,
    category: mesures ? 'vital-signs' : category,
    ...(profile ? { profile: `${VS}${profile}` } : {}),
  };
}

/**
 * By reading type: the codes of device-protocol.md, "Types", from the catalogue of
 * reading types, and the ANS ones (what a search by code matches).
 */
export const READING_CODES: Readonly<Record<ReadingType, TypeCoding>> = Object.fromEntries(
  READING_TYPES.map((spec) => [spec.type, typeCoding(spec)]),
) as Record<ReadingType, TypeCoding>;

/** A stable, opaque FHIR id ([A-Za-z0-9-.]{1,64}) from the parts that identify a resource. */
export function opaqueId(prefix: string, ...parts: string[]): string {
  return `${prefix}-${createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 40)}`;
}

export const ucum = (value: number, unit: string): Quantity => ({ value, unit, system: UCUM_SYSTEM, code: unit });

/**
 * A reading as an Observation, in its ANS profile where one applies (MESURES_PROFILES),
 * `settings` giving the profiles' base and the deployment's OID.
 */
export function observationForReading(
  patientId: string,
  r: StoredReading,
  settings: FhirProfileSettings = DEFAULT_FHIR_PROFILES,
): Observation {
  const coded: TypeCoding = isReadingType(r.type)
    ? READING_CODES[r.type]
    : { coding: [], text: r.type, category: 'vital-signs' };
  const mesures = isReadingType(r.type) ? MESURES_PROFILES[r.type] : undefined;
  const profiles = [
    ...(mesures ? [mesuresProfileUrl(settings, mesures.profile)] : []),
    ...(coded.profile ? [coded.profile] : []),
  ];
  const moment = mesures && r.type === 'blood_glucose' && r.context ? GLUCOSE_MOMENTS[r.context] : undefined;
  const base: Observation = {
    resourceType: 'Observation',
    id: opaqueId('r', r.deviceId, r.readingId),
    ...(profiles.length > 0 ? { meta: { profile: profiles, ...metaSource(settings) } } : {}),
    ...(moment
      ? {
          extension: [
            {
              url: mesuresProfileUrl(settings, EXTENSION_MOMENT),
              valueCodeableConcept: { coding: [moment], ...(moment.code === 'LA46-8' ? { text: r.context! } : {}) },
            },
          ],
        }
      : {}),
    identifier: [{ system: `urn:vitalink:device:${r.deviceId}`, value: r.readingId }],
    status: 'final',
    category: category(coded.category),
    code: { coding: coded.coding, text: coded.text },
    subject: { reference: `Patient/${patientId}` },
    effectiveDateTime: r.measuredAt.toISOString(),
    issued: r.receivedAt.toISOString(),
    device: { reference: `Device/${r.deviceId}` },
  };
  if (r.type === 'blood_pressure') {
    const { systolic, diastolic, pulse } = BLOOD_PRESSURE_COMPONENTS;
    base.component = [
      {
        code: { coding: [loinc(systolic.code, systolic.display)], text: systolic.text },
        valueQuantity: ucum(r.systolic as number, r.unit),
      },
      {
        code: { coding: [loinc(diastolic.code, diastolic.display)], text: diastolic.text },
        valueQuantity: ucum(r.diastolic as number, r.unit),
      },
    ];
    if (r.pulse !== null) {
      base.component.push({
        code: { coding: [loinc(pulse.code, pulse.display)], text: pulse.text },
        valueQuantity: ucum(r.pulse, pulse.unit),
      });
    }
  } else {
    base.valueQuantity = ucum(r.value as number, r.unit);
  }
  return base;
}

/** observationForReading, the name GET /fhir/Observation has used since #12. */
export const readingObservation = observationForReading;

/** The reading types whose Observation.code has a coding that `matches`. */
export function readingTypesMatching(matches: (codings: readonly Coding[]) => boolean): ReadingType[] {
  return READING_TYPE_NAMES.filter((type) => matches(READING_CODES[type].coding));
}

// ---------------------------------------------------------------------------
// CGM summary indicators (indicators.md) as the summary Observations of the HL7
// CGM IG (http://hl7.org/fhir/uv/cgm), coded with its temporary code system and,
// beside it, the LOINC code that its ConceptMap CGMSummaryToLoinc marks as
// published (97507-8, 97510-2, 97506-0, 104638-2). The other LOINC codes of that
// map were "expected" at the time and the IG itself leaves them out, so do we.
//
// The IG's ranges are those of the international consensus (Battelino 2019):
// very low < 54, low 54–69, target 70–180, high 181–250, very high > 250 mg/dL.
// Vitalink's tbr_70 is % < 70 *including* < 54 (level 1+2) and tar_180 is % > 180
// including > 250, so neither is the IG's time-in-low / time-in-high:
//   time-in-very-low  = tbr_54                (same meaning)
//   time-in-low       = tbr_70 − tbr_54       (derived; same readings and window)
//   time-in-target    = tir_70_180            (same meaning, 70 and 180 included)
//   time-in-high      = tar_180 − tar_250     (derived; same readings and window)
//   time-in-very-high = tar_250               (same meaning)
// tbr_70 and tar_180 themselves are not emitted: there is no code for them.
// cgm_mean → mean-glucose-mass-per-volume (mg/dL), gmi → gmi (%), glucose_cv →
// cv (%), sensor_active → sensor-active-percentage (%). Indicators whose value is
// null (no data) are not emitted. Category laboratory, as the IG's profiles
// (derived from US Core laboratory result observations).
// ---------------------------------------------------------------------------

interface CgmSummary {
  readonly code: string;
  readonly display: string;
  readonly loinc?: string;
  readonly unit: '%' | 'mg/dL';
  /** The indicator giving the window, n and sufficiency. */
  readonly source: IndicatorKey;
  /** Subtracted from the source's value. */
  readonly minus?: IndicatorKey;
}

const DAY_MS = 86_400_000;

export const CGM_SUMMARIES: readonly CgmSummary[] = [
  {
    code: 'mean-glucose-mass-per-volume',
    display: 'Mean Glucose (Mass per Volume)',
    loinc: '97507-8',
    unit: 'mg/dL',
    source: 'cgm_mean',
  },
  { code: 'time-in-very-low', display: 'Time in Very Low Range (%)', unit: '%', source: 'tbr_54' },
  { code: 'time-in-low', display: 'Time in Low Range (%)', unit: '%', source: 'tbr_70', minus: 'tbr_54' },
  { code: 'time-in-target', display: 'Time in Target Range (%)', loinc: '97510-2', unit: '%', source: 'tir_70_180' },
  { code: 'time-in-high', display: 'Time in High Range (%)', unit: '%', source: 'tar_180', minus: 'tar_250' },
  { code: 'time-in-very-high', display: 'Time in Very High Range (%)', unit: '%', source: 'tar_250' },
  { code: 'gmi', display: 'Glucose Management Indicator (GMI)', loinc: '97506-0', unit: '%', source: 'gmi' },
  { code: 'cv', display: 'Coefficient of Variation (CV)', loinc: '104638-2', unit: '%', source: 'glucose_cv' },
  { code: 'sensor-active-percentage', display: 'Sensor Active Percentage', unit: '%', source: 'sensor_active' },
];

export function cgmSummaryCodings(s: CgmSummary): Coding[] {
  return [{ system: CGM_SUMMARY_SYSTEM, code: s.code, display: s.display }, ...(s.loinc ? [loinc(s.loinc)] : [])];
}

/** A CGM summary Observation with its position in CGM_SUMMARIES (the order of the search results). */
export interface CgmObservation {
  readonly index: number;
  readonly code: string;
  readonly from: number;
  readonly to: number;
  readonly observation: Observation;
}

/**
 * The CGM summary Observations. The interstitial mean and the GMI are also in the
 * ANS glucose profile: their TAASIP code added last, category vital-signs, the number of
 * days of the window (JDV-J164, when it is 7, 14, 30 or 90 days), and
 * effectiveDateTime = the window's end (the profile allows no Period).
 */
export function cgmObservations(
  patientId: string,
  indicators: readonly StoredIndicator[],
  settings: FhirProfileSettings = DEFAULT_FHIR_PROFILES,
): CgmObservation[] {
  const byKey = new Map(indicators.map((r) => [r.key, r]));
  const out: CgmObservation[] = [];
  CGM_SUMMARIES.forEach((s, index) => {
    const source = byKey.get(s.source);
    if (!source || source.value === null) return;
    let value = source.value;
    if (s.minus !== undefined) {
      const minus = byKey.get(s.minus);
      if (!minus || minus.value === null || minus.to.getTime() !== source.to.getTime()) return;
      value = Math.max(0, value - minus.value);
    }
    const mesures = MESURES_CGM_SUMMARIES[s.code];
    const days = NUMBER_OF_DAYS[Math.round((source.to.getTime() - source.from.getTime()) / DAY_MS)];
    const observation: Observation = {
      resourceType: 'Observation',
      id: opaqueId('cgm', patientId, s.code),
      ...(mesures
        ? { meta: { profile: [mesuresProfileUrl(settings, PROFILE_GLUCOSE)], ...metaSource(settings) } }
        : {}),
      ...(mesures && days
        ? {
            extension: [
              { url: mesuresProfileUrl(settings, EXTENSION_NUMBER_OF_DAYS), valueCodeableConcept: { coding: [days] } },
            ],
          }
        : {}),
      status: 'final',
      category: category(mesures ? 'vital-signs' : 'laboratory'),
      code: { coding: mesures ? [...cgmSummaryCodings(s), mesures] : cgmSummaryCodings(s), text: s.display },
      subject: { reference: `Patient/${patientId}` },
      ...(mesures
        ? { effectiveDateTime: source.to.toISOString() }
        : { effectivePeriod: { start: source.from.toISOString(), end: source.to.toISOString() } }),
      issued: source.computedAt.toISOString(),
      valueQuantity: ucum(value, s.unit),
      ...(source.sufficient
        ? {}
        : {
            note: [
              {
                text: `Insufficient CGM data in this period (${source.n} readings; sensor active below 70 %): interpret with caution.`,
              },
            ],
          }),
    };
    out.push({ index, code: s.code, from: source.from.getTime(), to: source.to.getTime(), observation });
  });
  return out;
}

/** The indicator keys that the CGM summaries read. */
export const CGM_INDICATOR_KEYS: readonly IndicatorKey[] = [
  ...new Set(CGM_SUMMARIES.flatMap((s) => (s.minus ? [s.source, s.minus] : [s.source]))),
];
