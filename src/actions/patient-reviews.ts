import { actorName } from '../domain/alerts/index.ts';
import { localDate } from '../domain/indicators/index.ts';
import { AppError } from '../errors.ts';
import type { Db } from '../store/database.ts';
import { insertReview, type PatientReview } from '../store/patient-reviews.repository.ts';
import { findPatient } from '../store/patients.repository.ts';
import type { Principal } from './tokens.ts';

const DAY = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;

/**
 * A clinician marks a patient's data reviewed for a patient-local day (today in the
 * patient's time zone when `day` is not given). A day after the patient's today is
 * refused. The reviewer is the practitioner the caller acts as, else its token.
 */
export async function markReviewed(
  db: Db,
  patientId: string,
  day: string | undefined,
  principal: Pick<Principal, 'tokenId' | 'practitionerId'>,
  now: Date,
): Promise<{ review: PatientReview; created: boolean }> {
  const patient = await findPatient(db, patientId);
  if (!patient) throw new AppError('not_found', `patient ${patientId} does not exist`);
  const today = localDate(now.getTime(), patient.timeZone);
  const reviewed = day ?? today;
  if (!DAY.test(reviewed) || new Date(`${reviewed}T00:00:00Z`).toISOString().slice(0, 10) !== reviewed) {
    throw new AppError('invalid_input', 'day must be a date YYYY-MM-DD', { field: 'day' });
  }
  if (reviewed > today) {
    throw new AppError(
      'invalid_input',
      `day ${reviewed} is after the patient's today (${today}, ${patient.timeZone})`,
      {
        field: 'day',
      },
    );
  }
  return insertReview(db, {
    patientId,
    day: reviewed,
    reviewedAt: now,
    reviewedBy: actorName(principal),
    practitionerId: principal.practitionerId ?? null,
  });
}
