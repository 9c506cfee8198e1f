import type { FastifyRequest } from 'fastify';
import { normalizeIP } from '@fastify/rate-limit';
import { z } from 'zod';
import { findNightscoutUploader } from '../../actions/nightscout.ts';
import { direction, entryAsReading, entryTime } from '../../domain/nightscout.ts';
import { MAX_READINGS_PER_MESSAGE } from '../../domain/protocol.ts';
import type { KeyRing } from '../../domain/secret-keys.ts';
import { AppError } from '../../errors.ts';
import { insertAuditEntries } from '../../store/audit.repository.ts';
import type { Db } from '../../store/database.ts';
import { type NightscoutUploader } from '../../store/nightscout.repository.ts';
import { recentGlucose } from '../../store/nightscout.repository.ts';
import { submitAndWait, unavailable } from '../commit-wait.ts';
import { DATABASE_RETRY_AFTER_S } from '../device-auth.ts';
import { errorBody } from '../schemas.ts';
import type { ZodApp } from './context.ts';
import { MAX_HOLD_MS, type DeviceReadingsDeps } from './device-readings.routes.ts';

export interface NightscoutDeps extends DeviceReadingsDeps {
  readonly db: Db;
  readonly keys: KeyRing;
}

/** An upload may hold more entries than a protocol message: it is sent in messages of this many. */
const ENTRIES_PER_MESSAGE = MAX_READINGS_PER_MESSAGE;
/** Body limit of an upload (xDrip+ backfills send a few hundred entries at once). */
const MAX_UPLOAD_BYTES = 1024 * 1024;
const MAX_COUNT = 1000;

const entry = z.object({
  _id: z.string().describe("the reading's id: ns:<date>"),
  type: z.literal('sgv'),
  sgv: z.number().describe('mg/dL'),
  date: z.number().int().describe('epoch milliseconds'),
  dateString: z.string(),
  direction: z.string().optional(),
  device: z.string().optional(),
});

const errors = { 401: errorBody, 403: errorBody, 413: errorBody, 429: errorBody, 503: errorBody };

const listQuery = z.object({
  count: z.coerce.number().int().min(1).max(MAX_COUNT).default(10).describe('entries to return, newest first'),
  token: z.string().max(200).optional().describe('the upload secret, instead of the api-secret header'),
  'find[date][$gte]': z.coerce.number().int().optional(),
  'find[date][$gt]': z.coerce.number().int().optional(),
  'find[date][$lte]': z.coerce.number().int().optional(),
  'find[date][$lt]': z.coerce.number().int().optional(),
});

/**
 * The Nightscout API v1 subset (README, "Nightscout uploads"): `POST /entries`
 * and `GET /entries.json`, `GET /entries/sgv.json`, for the CGM apps people
 * already run (xDrip+, AndroidAPS, Loop through Nightscout). Authenticated by the
 * `api-secret` header (SHA-1 hex of the upload secret of
 * `vitalink nightscout enable`) or a `token` query parameter (the secret), mapped
 * to the device that secret was made for. Uploaded `sgv` entries become protocol
 * readings (src/domain/nightscout.ts) and go through the same validation and
 * batches as MQTT publishes, answered after commit.
 */
export function nightscoutRoutes(app: ZodApp, deps: NightscoutDeps): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_UPLOAD_BYTES }, (_request, body, done) =>
    done(null, body),
  );
  const uploaders = new WeakMap<FastifyRequest, NightscoutUploader>();
  const holdMs = Math.min(deps.holdMaxMs, MAX_HOLD_MS);

  // Who is uploading comes first: a refused request's body is not read.
  app.addHook('onRequest', async (request) => {
    uploaders.set(request, await authenticateUploader(deps, request));
  });
  const uploaderOf = (request: FastifyRequest): NightscoutUploader => {
    const found = uploaders.get(request);
    if (!found) throw new AppError('unauthorized', 'send the api-secret header');
    return found;
  };

  app.post(
    '/entries',
    {
      bodyLimit: MAX_UPLOAD_BYTES,
      schema: {
        tags: ['nightscout'],
        summary: 'Upload CGM entries (Nightscout API v1), answered after commit',
        description:
          'api-secret: SHA-1 hex of the upload secret (or ?token=secret). The body is one entry or an array of entries ' +
          '({type: "sgv", sgv, date, dateString, direction, device}). The answer lists the entries stored or already stored; ' +
          'the others are recorded as rejections (GET /api/v1/rejections?device=...).',
        security: [{ nightscoutSecret: [] }],
        querystring: z.object({ token: z.string().max(200).optional() }),
        response: { 200: z.array(entry), ...errors },
      },
    },
    async (request) => {
      const uploader = uploaderOf(request);
      if (deps.isDraining()) throw unavailable('the service is stopping');
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch {
        parsed = undefined;
      }
      const entries = Array.isArray(parsed) ? parsed : typeof parsed === 'object' && parsed !== null ? [parsed] : null;
      if (!entries || entries.length === 0) {
        // Not entries: recorded as the protocol's invalid_json or invalid_shape, as an MQTT payload would be.
        await submitAndWait(deps, uploader.deviceId, body, holdMs);
        return [];
      }
      const messages: unknown[][] = [];
      for (let i = 0; i < entries.length; i += ENTRIES_PER_MESSAGE)
        messages.push(entries.slice(i, i + ENTRIES_PER_MESSAGE));
      const results = await Promise.all(
        messages.map((chunk) =>
          submitAndWait(
            deps,
            uploader.deviceId,
            Buffer.from(JSON.stringify({ readings: chunk.map(entryAsReading) })),
            holdMs,
          ),
        ),
      );
      const accepted: z.infer<typeof entry>[] = [];
      results.flat().forEach((result, i) => {
        if (result.outcome === 'rejected' || result.id === null) return;
        const sent = entries[i] as Record<string, unknown>;
        const at = entryTime(sent) as number;
        accepted.push({
          _id: result.id,
          type: 'sgv',
          sgv: sent.sgv as number,
          date: at,
          dateString: new Date(at).toISOString(),
          ...(typeof sent.direction === 'string' ? { direction: sent.direction } : {}),
          ...(typeof sent.device === 'string' ? { device: sent.device } : {}),
        });
      });
      return accepted;
    },
  );

  const list = async (request: FastifyRequest<{ Querystring: z.infer<typeof listQuery> }>) => {
    const uploader = uploaderOf(request);
    const q = request.query;
    const from = maxDefined(q['find[date][$gte]'], plusOne(q['find[date][$gt]']));
    const to = minDefined(q['find[date][$lte]'], minusOne(q['find[date][$lt]']));
    // One reading more than asked: the trend of the oldest one returned.
    const rows = await recentGlucose(deps.db, uploader.patientId, { from, to, limit: q.count + 1 });
    // A read of the patient's data, audited like any other (README, "Security", "Audit").
    await insertAuditEntries(deps.db, [
      {
        tokenId: null,
        role: 'nightscout',
        principal: `nightscout:${uploader.deviceId}`,
        patientId: uploader.patientId,
        action: `GET ${request.routeOptions.url}`,
        outcome: 'allowed',
        requestId: request.id,
        sourceAddress: request.ip ?? null,
        detail: { count: Math.min(rows.length, q.count) },
      },
    ]);
    return rows.slice(0, q.count).map((r, i) => ({
      _id: r.readingId,
      type: 'sgv' as const,
      sgv: r.mgdl,
      date: r.at,
      dateString: new Date(r.at).toISOString(),
      direction: direction(rows[i + 1] && { mgdl: rows[i + 1].mgdl, at: rows[i + 1].at }, { mgdl: r.mgdl, at: r.at }),
      device: r.deviceId,
    }));
  };
  const listSchema = (summary: string) => ({
    tags: ['nightscout'],
    summary,
    description:
      "The patient's CGM readings in mg/dL, newest first (count, default 10, at most 1000; find[date][$gte|$gt|$lte|$lt] " +
      'in epoch ms). direction is computed from the reading before (xDrip+ thresholds), not the one an app sent.',
    security: [{ nightscoutSecret: [] }],
    querystring: listQuery,
    response: { 200: z.array(entry), ...errors },
  });
  app.get('/entries.json', { schema: listSchema('CGM entries of the patient (Nightscout API v1)') }, list);
  app.get('/entries/sgv.json', { schema: listSchema('sgv entries of the patient (Nightscout API v1)') }, list);
}

const plusOne = (v: number | undefined) => (v === undefined ? undefined : v + 1);
const minusOne = (v: number | undefined) => (v === undefined ? undefined : v - 1);
function maxDefined(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.max(a, b);
}
function minDefined(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.min(a, b);
}

/**
 * The uploader of a request: `api-secret` header, else `token` query parameter.
 * Refused: 401 (none, or unknown), 403 (its device disabled), 429 once the source
 * address has failed too often (the throttle of device credentials, keyed as
 * "nightscout"), 503 when the lookup fails.
 */
async function authenticateUploader(deps: NightscoutDeps, request: FastifyRequest): Promise<NightscoutUploader> {
  const header = request.headers['api-secret'];
  const query = request.query as { token?: unknown } | undefined;
  const presented = typeof header === 'string' ? header : typeof query?.token === 'string' ? query.token : undefined;
  if (!presented) {
    throw new AppError(
      'unauthorized',
      'send the api-secret header (SHA-1 hex of the upload secret printed by `vitalink nightscout enable`) or ?token=',
    );
  }
  const address = normalizeIP(request.ip);
  const throttled = deps.throttle.check(address, 'nightscout', deps.now());
  if (throttled) {
    deps.metrics.connectionsRefused.labels(throttled).inc();
    throw new AppError(
      'rate_limited',
      `too many refused upload secrets from this address lately; try again in ${deps.banSeconds} s`,
      {
        retryAfterSeconds: deps.banSeconds,
      },
    );
  }
  let uploader: NightscoutUploader | undefined;
  try {
    uploader = await findNightscoutUploader(deps.db, deps.keys, presented);
  } catch (error) {
    request.log.warn({ err: error }, 'upload secret lookup failed');
    throw new AppError(
      'unavailable',
      `the service cannot reach its database now; upload again in ${DATABASE_RETRY_AFTER_S} s`,
      {
        retryAfterSeconds: DATABASE_RETRY_AFTER_S,
      },
    );
  }
  if (!uploader) {
    deps.throttle.failed(address, 'nightscout', deps.now());
    deps.metrics.connectionsRefused.labels('wrong_secret').inc();
    throw new AppError(
      'unauthorized',
      'this upload secret is not accepted; make a new one with `vitalink nightscout enable --patient ID` and enter it in the app',
    );
  }
  if (!uploader.enabled) {
    throw new AppError('forbidden', `device ${uploader.deviceId} is disabled; an administrator can enable it again`);
  }
  deps.activity?.seen(uploader.deviceId, deps.now(), 'nightscout');
  return uploader;
}
