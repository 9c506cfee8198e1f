import { z } from 'zod';
import {
  deviceView,
  disableDevice,
  enableDevice,
  listDevices,
  MAX_GRACE_SECONDS,
  MAX_PAGE,
  rotateDeviceSecret,
  showDevice,
} from '../../actions/device-lifecycle.ts';
import { addDevice, assignDevice, parseTimeArgument } from '../../actions/provisioning.ts';
import { type AssignmentRow, listAssignments } from '../../store/assignments.repository.ts';
import { audit, principalOf, requireRole } from '../auth.ts';
import { assignment, device, deviceState, errorBody, idParam, page, text } from '../schemas.ts';
import { decodeCursor, encodeCursor, type RouteDeps, type ZodApp } from './context.ts';

const toAssignment = (a: AssignmentRow) => ({
  id: a.id,
  deviceId: a.deviceId,
  patientId: a.patientId,
  from: a.validFrom.toISOString(),
  to: a.validTo ? a.validTo.toISOString() : null,
});

const errors = { 400: errorBody, 401: errorBody, 403: errorBody, 404: errorBody, 409: errorBody, 422: errorBody };
const timeText = z.union([z.string(), z.number().int()]).describe('RFC 3339 with an offset, or epoch milliseconds');

export interface DevicesRouteDeps extends RouteDeps {
  /** Whether the device has a live MQTT session on this instance. */
  readonly isDeviceConnected?: (deviceId: string) => boolean;
}

/**
 * Provisioning and lifecycle over HTTP mirror the CLI (`vitalink devices add|assign|list|show|disable|enable|rotate-secret`).
 * Admin only.
 */
export function devicesRoutes(app: ZodApp, deps: DevicesRouteDeps): void {
  const { db } = deps;
  const connected = (id: string) => deps.isDeviceConnected?.(id) ?? null;

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
      const { device: created, secret } = await addDevice(db, deps.keys, request.body, deps.now());
      return reply.status(201).send({ id: created.id, secret });
    },
  );

  app.get(
    '/devices',
    {
      schema: {
        tags: ['devices'],
        summary: 'Devices with their state, by id, a page at a time (admin)',
        querystring: z.object({
          enabled: z.enum(['true', 'false']).optional(),
          patient: idParam.optional().describe('only the devices assigned to this patient now'),
          limit: z.coerce.number().int().min(1).max(MAX_PAGE).default(100),
          cursor: z.string().max(200).optional(),
        }),
        response: { 200: page(deviceState), ...errors },
      },
    },
    async (request) => {
      requireRole(principalOf(request), ['admin']);
      const { enabled, patient, limit, cursor } = request.query;
      const result = await listDevices(db, {
        enabled: enabled === undefined ? undefined : enabled === 'true',
        patientId: patient,
        afterId: decodeCursor(cursor),
        limit,
      });
      return {
        items: result.items.map((d) => deviceView(d, connected(d.id))),
        nextCursor: result.next ? encodeCursor(result.next) : null,
      };
    },
  );

  app.get(
    '/devices/:id',
    {
      schema: {
        tags: ['devices'],
        summary: 'A device, its state and its assignments (admin)',
        params: z.object({ id: idParam }),
        response: { 200: device, ...errors },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      requireRole(principal, ['admin']);
      const found = await showDevice(db, request.params.id);
      const assignments = (await listAssignments(db, found.id)).map(toAssignment);
      const view = deviceView(found, connected(found.id));
      // Which patients wore this device identifies them: audited like a patient read.
      const patients = new Set(assignments.map((a) => a.patientId));
      if (view.patientId) patients.add(view.patientId);
      await audit(db, request, principal, [...patients], 'devices.read', { deviceId: found.id });
      return { ...view, assignments };
    },
  );

  app.post(
    '/devices/:id/disable',
    {
      schema: {
        tags: ['devices'],
        summary:
          'Disable a device: CONNECT refused, nothing it sends stored from now on, its live session closed on every instance within a second (admin)',
        params: z.object({ id: idParam }),
        response: { 200: deviceState, ...errors, 503: errorBody },
      },
    },
    async (request) => {
      requireRole(principalOf(request), ['admin']);
      const state = await disableDevice(db, request.params.id);
      return deviceView(state, connected(state.id));
    },
  );

  app.post(
    '/devices/:id/enable',
    {
      schema: {
        tags: ['devices'],
        summary: 'Enable a disabled device again (admin)',
        params: z.object({ id: idParam }),
        response: { 200: deviceState, ...errors },
      },
    },
    async (request) => {
      requireRole(principalOf(request), ['admin']);
      const state = await enableDevice(db, request.params.id);
      return deviceView(state, connected(state.id));
    },
  );

  app.post(
    '/devices/:id/rotate-secret',
    {
      schema: {
        tags: ['devices'],
        summary:
          'Give a device a new secret, in this response only; the old one stops working (after graceSeconds, if given) and its live session is closed (admin)',
        params: z.object({ id: idParam }),
        body: z
          .object({ graceSeconds: z.number().int().min(0).max(MAX_GRACE_SECONDS).optional() })
          .optional()
          .describe('graceSeconds: how long the old secret keeps working (default 0)'),
        response: {
          200: z.object({ id: z.string(), secret: z.string(), previousSecretValidUntil: z.string().nullable() }),
          ...errors,
        },
      },
    },
    async (request) => {
      requireRole(principalOf(request), ['admin']);
      const rotated = await rotateDeviceSecret(db, deps.keys, request.params.id, request.body?.graceSeconds ?? 0);
      return {
        id: rotated.device.id,
        secret: rotated.secret,
        previousSecretValidUntil: rotated.graceUntil?.toISOString() ?? null,
      };
    },
  );

  app.post(
    '/devices/:id/assignments',
    {
      schema: {
        tags: ['devices'],
        summary:
          'Assign a device to a patient over [from, to); intervals never overlap, those of the same patient that overlap or touch merge (admin)',
        params: z.object({ id: idParam }),
        body: z.object({ patientId: idParam, from: timeText.optional(), to: timeText.nullable().optional() }),
        response: {
          201: z.object({ assignment, ended: assignment.nullable(), merged: z.array(assignment) }),
          ...errors,
        },
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
        merged: result.merged.map(toAssignment),
      });
    },
  );
}
