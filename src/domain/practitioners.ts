/** Health professionals of a care team (README, "Care teams"). */
export const PRACTITIONER_ROLES = ['physician', 'nurse', 'coordinator'] as const;
export type PractitionerRole = (typeof PRACTITIONER_ROLES)[number];

/** RPPS: the national directory number of a health professional, 11 digits (FR Core `fr-core-practitioner`). */
export const RPPS_PATTERN = /^[0-9]{11}$/;
