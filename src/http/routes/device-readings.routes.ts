import { z } from 'zod';
import { MAX_PAYLOAD_BYTES } from '../../domain/protocol.ts';
import { REJECTION_REASONS } from '../../domain/rejection-reasons.ts';
import type { DeviceTransport } from '../../domain/device-transports.ts';
import { AppError } from '../../errors.ts';
import type { Ingest } from '../../ingest/ingest.ts';
import { submitAndWait, unavailable } from '../commit-wait.ts';
import { authenticateDevice, DEVICE_REALM, type DeviceAuthDeps } from '../device-auth.ts';
import { errorBody } from '../schemas.ts';
import type { ZodApp } from './context.ts';

export interface DeviceReadingsDeps extends DeviceAuthDeps {
  /** The ingest path of MQTT publishes (src/ingest/ingest.ts): the same validation, the same batches. */
  readonly ingest: Pick<Ingest, 'submit'>;
  /** Told of every authenticated request (device_activity, with its transport). */
  readonly activity?: { seen(deviceId: string, at: number, transport: DeviceTransport): void };
  /**
   * How long a request waits for the commit of its readings before it is answered
   * 503 (the database is unreachable, or the queue full): VITALINK_HOLD_MAX_MS,
   * capped below the HTTP request timeout.
   */
  readonly holdMaxMs: number;
  /** True once the service stops taking readings in (graceful stop): 503, the device sends again later. */
  readonly isDraining: () => boolean;
}

/** Below fastify's request timeout (30 s, src/http/server.ts), so the 503 goes out before the socket is cut. */
export const MAX_HOLD_MS = 25_000;

export const readingResult = z.object({
  id: z.string().nullable().describe("the reading's id; null when the whole body was refused"),
  outcome: z.enum(['stored', 'duplicate', 'rejected']),
  reason: z.enum(REJECTION_REASONS).nullable().describe('for a rejected reading: the reason of device-protocol.md'),
  detail: z.string().nullable().describe('for a rejected reading: what is wrong, for people'),
});

const errors = { 401: errorBody, 403: errorBody, 413: errorBody, 429: errorBody, 503: errorBody };

/**
 * `POST /api/v1/devices/{deviceId}/readings` (device-protocol.md, "Over HTTPS"):
 * readings over HTTPS with the promise of a PUBACK. The device authenticates as
 * at CONNECT (src/http/device-auth.ts) before its body is read; the body, taken
 * as bytes whatever its Content-Type, is exactly an MQTT payload and goes through
 * the same decoding, validation and group commit as MQTT publishes
 * (`ingest.submit`); the answer comes only after the commit that holds it, with
 * one result per reading. While the commit does not come (database unreachable,
 * queue full) past `holdMaxMs`, the answer is 503 with Retry-After: nothing was
 * acknowledged, and a resend of what was committed in the meantime is a duplicate.
 *
 * Registered in a scope of its own: no bearer token, and a body parser that keeps
 * the bytes (the protocol's `invalid_json` keeps them as sent).
 */
export function deviceReadingsRoutes(app: ZodApp, deps: DeviceReadingsDeps): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_PAYLOAD_BYTES }, (_request, body, done) =>
    done(null, body),
  );
  const holdMs = Math.min(deps.holdMaxMs, MAX_HOLD_MS);

  app.post(
    '/devices/:id/readings',
    {
      bodyLimit: MAX_PAYLOAD_BYTES,
      schema: {
        tags: ['device protocol'],
        summary: 'Readings of a device over HTTPS, answered after commit (device-protocol.md, "Over HTTPS")',
        description:
          'Authorization: Basic base64(deviceId:secret), or Authorization: Bearer <device token> (`vitalink devices token create`), ' +
          'or on HTTPS_PORT a client certificate whose CN is the device id (VITALINK_DEVICE_CERTS); ' +
          'for device makers: docs/device-protocol.md in the repository. The body is exactly an MQTT payload of the device protocol: ' +
          'one reading object or {"readings": [...]} of 1 to 1000, at most 256 KiB. 200 once every reading is committed ' +
          '(stored, duplicate, or rejected and recorded); 503 with Retry-After while the database is unreachable.',
        security: [{ deviceBasic: [] }, { deviceToken: [] }],
        params: z.object({ id: z.string().max(200).describe("the device's id, the user name of the credentials") }),
        response: { 200: z.object({ results: z.array(readingResult) }), ...errors },
      },
      // Who is sending comes first: the body of a refused request is not read.
      onRequest: async (request, reply) => {
        try {
          const { id: pathId } = request.params as { id: string };
          const deviceId = await authenticateDevice(deps, request, pathId);
          if (pathId !== deviceId) {
            request.log.info({ reason: 'publish_not_authorized' }, 'device request refused');
            throw new AppError(
              'forbidden',
              `these credentials (secret, device token or certificate) are those of device ${deviceId}: send its readings to /api/v1/devices/${deviceId}/readings`,
            );
          }
          deps.activity?.seen(deviceId, deps.now(), 'https');
        } catch (error) {
          if (error instanceof AppError && error.code === 'unauthorized')
            reply.header('www-authenticate', DEVICE_REALM);
          throw error;
        }
      },
    },
    async (request) => {
      const { id: deviceId } = request.params;
      if (deps.isDraining()) throw unavailable('the service is stopping');
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const results = await submitAndWait(deps, deviceId, body, holdMs);
      return { results };
    },
  );
}
