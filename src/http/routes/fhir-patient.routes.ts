/**
 * GET /fhir/Patient/{id}: a patient as an FR Core Patient (src/fhir/patient.ts), with
 * the INS only when the identity is qualified. Clinician tokens only, for their
 * patients: any other patient is a 404 OperationOutcome, audited as `denied` (or
 * `not_found` when there is no such patient), like /fhir/Observation. Registered
 * inside the /fhir scope of fhir.routes.ts, which authenticates and answers errors
 * as OperationOutcomes. Cost: two primary-key reads (patients, patient_identities).
 */
import { z } from 'zod';
import { patientResource } from '../../fhir/patient.ts';
import { findPatientIdentity } from '../../store/patient-identities.repository.ts';
import { findPatient } from '../../store/patients.repository.ts';
import { assertPatientVisible, audit, patientNotFound, requireRole } from '../auth.ts';
import { idParam } from '../schemas.ts';
import type { RouteDeps, ZodApp } from './context.ts';
import type { FhirSend } from './fhir.routes.ts';
import { AppError } from '../../errors.ts';

export function fhirPatientRoutes(scope: ZodApp, deps: RouteDeps, send: FhirSend): void {
  const { db } = deps;
  const readDb = deps.readDb ?? (() => db);

  scope.route({
    method: 'GET',
    url: '/Patient/:id',
    schema: {
      tags: ['fhir'],
      summary: 'FHIR R4 read of a Patient: FR Core patient, with the INS when the identity is qualified (clinician)',
      params: z.object({ id: z.string() }),
    },
    handler: async (request, reply) => {
      const principal = request.principal!;
      requireRole(principal, ['clinician']);
      const { id } = request.params;
      // Not a patient id at all: no such resource (nothing to audit, no patient named).
      if (!idParam.safeParse(id).success) throw new AppError('not_found', `Patient/${id} does not exist`);
      assertPatientVisible(principal, id);
      const reads = readDb();
      if (!(await findPatient(reads, id))) throw patientNotFound(id);
      const resource = patientResource(id, (await findPatientIdentity(reads, id)) ?? null);
      await audit(db, request, principal, [id], 'fhir.patient.read');
      return send(reply, 200, resource);
    },
  });
}
