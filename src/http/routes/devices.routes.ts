import { z } from 'zod';
import { addDevice, assignDevice, parseTimeArgument } from '../../actions/provisioning.ts';
import { AppError } from '../../errors.ts';
import { type AssignmentRow, listAssignments } from '../../store/assignments.repository.ts';
import { findDevice } from '../../store/devices.repository.ts';
import { principalOf, requireRole } from '../auth.ts';
import { assignment, device, errorBody, idParam, iso, text } from '../schemas.ts';
import type { RouteDeps, ZodApp } from './context.ts';

const toAssignment = (a: AssignmentRow) => ({
  id: a.id,
  deviceId: a.deviceId,
  patientId: a.patientId,
  from: iso(a.validFrom),
  to: a.validTo ? iso(a.validTo) : null,
});

const errors = { 400: errorBody, 401: errorBody, 403: errorBody, 404: errorBody, 409: errorBody, 422: errorBody };
const timeText = z.union([z.string(), z.number().int()]).describe('RFC 3339 with an offset, or epoch milliseconds');

/** Provisioning over HTTP mirrors the CLI (`vitalink devices add`, `devices assign`). Admin only. */
export function devicesRoutes(app: ZodApp, deps: RouteDeps): void {
  const { db } = deps;

  app.post(
    '/devices',
    {
      schema: {
        tags: ['devices'],
        summary: 'Provision a device; the secret is in this response only (admin)',
        body: z.object({ id: idParam, model: text(200).optional(), patientId: idParam.optional() }),
        response: { 201: z.object({ id: z.string(), secret: z.string() }), ...errors },
      },
    },
    async (request, reply) => {
      requireRole(principalOf(request), ['admin']);
      const { device: created, secret } = await addDevice(db, request.body, deps.now());
      return reply.status(201).send({ id: created.id, secret });
    },
  );

  app.get(
    '/devices/:id',
    {
      schema: {
        tags: ['devices'],
        summary: 'A device and its assignments (admin)',
        params: z.object({ id: idParam }),
        response: { 200: device, ...errors },
      },
    },
    async (request) => {
      requireRole(principalOf(request), ['admin']);
      const found = await findDevice(db, request.params.id);
      if (!found) throw new AppError('not_found', `device ${request.params.id} does not exist`);
      return {
        id: found.id,
        model: found.model,
        enabled: found.enabled,
        createdAt: iso(found.createdAt),
        assignments: (await listAssignments(db, found.id)).map(toAssignment),
      };
    },
  );

  app.post(
    '/devices/:id/assignments',
    {
      schema: {
        tags: ['devices'],
        summary: 'Assign a device to a patient over [from, to); intervals never overlap (admin)',
        params: z.object({ id: idParam }),
        body: z.object({ patientId: idParam, from: timeText.optional(), to: timeText.nullable().optional() }),
        response: { 201: z.object({ assignment, ended: assignment.nullable() }), ...errors },
      },
    },
    async (request, reply) => {
      requireRole(principalOf(request), ['admin']);
      const { patientId, from, to } = request.body;
      const result = await assignDevice(db, {
        deviceId: request.params.id,
        patientId,
        from: from === undefined ? deps.now() : parseTimeArgument('from', String(from)),
        to: to === undefined || to === null ? null : parseTimeArgument('to', String(to)),
      });
      return reply.status(201).send({
        assignment: toAssignment(result.assignment),
        ended: result.ended ? toAssignment(result.ended) : null,
      });
    },
  );
}
