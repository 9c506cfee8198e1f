/**
 * What a clinician says when acknowledging an alert (issue #14, item 6): the action
 * taken, one of a fixed list, and an optional free-text note. The note is clinical
 * data: bounded, stored, shown to the patient's clinicians, never logged.
 */

export const ACKNOWLEDGE_ACTIONS = [
  'called_patient',
  'adjusted_treatment',
  'sent_to_consultation',
  'no_action',
] as const;

export type AcknowledgeAction = (typeof ACKNOWLEDGE_ACTIONS)[number];

/** The longest note, in characters (the database checks it too: migration 2026-12-07T1760). */
export const ACKNOWLEDGE_NOTE_MAX = 2000;

/**
 * Who did something to an alert or a patient's data, as recorded: the practitioner
 * when the caller acts as one (a practitioner's token or session), else the token;
 * `admin-token` for the bootstrap admin token.
 */
export function actorName(caller: { practitionerId?: string | null; tokenId: string | null }): string {
  if (caller.practitionerId) return `practitioner:${caller.practitionerId}`;
  return caller.tokenId === null ? 'admin-token' : `token:${caller.tokenId}`;
}
