/**
 * GET /fhir/Device/{id}: a device as an HL7 PHD Device (src/fhir/device.ts), the
 * device every Observation's `device` points at. Clinician tokens only: a clinician
 * sees a device that is or was assigned to one of their patients; any other device,
 * or one that does not exist, is a 404 (a refused read is audited as `denied` against
 * the device's first patient; a read, as `fhir.device.read` against the caller's
 * patients among the device's). Registered inside the /fhir scope of fhir.routes.ts,
 * which answers errors as OperationOutcomes.
 * Cost: the device's row, its assignments (device_assignments_device_from), and at
 * most DEVICE_TYPE_SAMPLE of its readings per partition (src/store/device-reading-types.ts).
 */
import { z } from 'zod';
import { AppError } from '../../errors.ts';
import { phdDevice } from '../../fhir/device.ts';
import { listAssignments } from '../../store/assignments.repository.ts';
import { deviceReadingTypes } from '../../store/device-reading-types.ts';
import { findDevice } from '../../store/devices.repository.ts';
import { AuditedNotFound, audit, requireRole } from '../auth.ts';
import { idParam } from '../schemas.ts';
import type { RouteDeps, ZodApp } from './context.ts';
import type { FhirSend } from './fhir.routes.ts';

export function fhirDeviceRoutes(scope: ZodApp, deps: RouteDeps, send: FhirSend): void {
  const { db } = deps;
  const readDb = deps.readDb ?? (() => db);

  scope.route({
    method: 'GET',
    url: '/Device/:id',
    schema: {
      tags: ['fhir'],
      summary: 'FHIR R4 read of a Device: the PHD Device of a device assigned to one of your patients (clinician)',
      description:
        'A Device (application/fhir+json) in the HL7 PHD profile PhdDevice; 404 (OperationOutcome) for a device that does not exist or was never assigned to one of your patients.',
      params: z.object({ id: idParam }),
    },
    handler: async (request, reply) => {
      const principal = request.principal!;
      requireRole(principal, ['clinician']);
      const { id } = request.params;
      const missing = `device ${id} does not exist`;
      const device = await findDevice(db, id);
      const patients = device ? [...new Set((await listAssignments(db, id)).map((a) => a.patientId))] : [];
      if (patients.length === 0) throw new AppError('not_found', missing);
      const mine = patients.filter((p) => principal.patientIds?.has(p));
      if (mine.length === 0) throw new AuditedNotFound(patients[0], 'denied', missing);
      const types = await deviceReadingTypes(readDb(), id, patients, deps.now());
      await audit(db, request, principal, mine, 'fhir.device.read', { deviceId: id });
      return send(reply, 200, phdDevice({ id, model: device!.model, types }, deps.fhirProfiles));
    },
  });
}
