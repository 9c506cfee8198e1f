/**
 * Monitoring programmes a patient is enrolled in with a care team (README, "Care
 * teams"). The vocabulary is that of French remote monitoring in the common law
 * since 1 July 2023 (télésurveillance, ../shared/design/french-interop.md): the five
 * activities of the arrêté listing them (LFSS 2022, art. 36; HAS frameworks of
 * January 2022), plus hypertension, which the issue names and which is monitored
 * outside that list (commonLaw false: not reimbursed as télésurveillance today).
 */
export const PROGRAMMES = [
  'heart_failure',
  'chronic_kidney_failure',
  'chronic_respiratory_failure',
  'diabetes',
  'cardiac_implantable_device',
  'hypertension',
] as const;

export type Programme = (typeof PROGRAMMES)[number];

export interface ProgrammeInfo {
  readonly key: Programme;
  /** One of the common-law télésurveillance activities. */
  readonly commonLaw: boolean;
}

export const PROGRAMME_INFO: Readonly<Record<Programme, ProgrammeInfo>> = {
  heart_failure: { key: 'heart_failure', commonLaw: true },
  chronic_kidney_failure: { key: 'chronic_kidney_failure', commonLaw: true },
  chronic_respiratory_failure: { key: 'chronic_respiratory_failure', commonLaw: true },
  diabetes: { key: 'diabetes', commonLaw: true },
  cardiac_implantable_device: { key: 'cardiac_implantable_device', commonLaw: true },
  hypertension: { key: 'hypertension', commonLaw: false },
};

export function isProgramme(value: string): value is Programme {
  return (PROGRAMMES as readonly string[]).includes(value);
}

/** The refusal of an unknown programme: says which ones exist. */
export function unknownProgrammeMessage(value: string): string {
  return `programme "${value}" is not one Vitalink knows; use one of ${PROGRAMMES.join(', ')} (README, "Care teams")`;
}
