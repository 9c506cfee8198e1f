import { z } from 'zod';
import type { Principal } from '../../actions/tokens.ts';
import { READING_TYPE_NAMES, type ReadingType } from '../../domain/reading-types.ts';
import { READING_ID_PATTERN } from '../../domain/protocol.ts';
import { AppError } from '../../errors.ts';
import { findPatient } from '../../store/patients.repository.ts';
import { readingsPage } from '../../store/readings-page.ts';
import { listDailyRollups, listHourlyRollups } from '../../store/rollups.repository.ts';
import { assertPatientVisible, audit, patientNotFound, principalOf, requireRole } from '../auth.ts';
import { errorBody, idParam, iso, page } from '../schemas.ts';
import type { Db } from '../../store/database.ts';
import { decodeJsonCursor, encodeCursor, type RouteDeps, type ZodApp } from './context.ts';

const errors = { 400: errorBody, 401: errorBody, 403: errorBody, 404: errorBody, 422: errorBody };
const readingType = z.enum(READING_TYPE_NAMES as [ReadingType, ...ReadingType[]]);
const time = z.iso.datetime({ offset: true }).describe('RFC 3339');

const reading = z.object({
  id: z.string().describe("the device's reading id"),
  deviceId: z.string(),
  patientId: z.string(),
  type: z.string(),
  at: z.string(),
  receivedAt: z.string(),
  unit: z.string().describe('the stored unit'),
  value: z.number().optional(),
  systolic: z.number().optional(),
  diastolic: z.number().optional(),
  pulse: z.number().optional(),
});

const stats = z.object({ count: z.number().int(), min: z.number(), max: z.number(), mean: z.number() });
const bucket = z.object({
  start: z.string(),
  end: z.string(),
  count: z.number().int().optional(),
  min: z.number().optional(),
  max: z.number().optional(),
  mean: z.number().optional(),
  sum: z.number().optional().describe('steps: the total'),
  systolic: stats.optional(),
  diastolic: stats.optional(),
});

/**
 * bucket=auto gives hours up to this many days (336 buckets), days beyond: a long
 * range in hours is thousands of buckets (2160 for 90 days, 257 kB), whose query,
 * objects and JSON make the slowest read of the API.
 */
export const AUTO_HOURS_MAX_DAYS = 14;

/** The position of the last item of a page: readings sort by (at, device, id), newest first. */
const readingCursor = z.tuple([z.number().int(), idParam, z.string().regex(READING_ID_PATTERN)]);

async function visiblePatient(db: Db, principal: Principal, id: string) {
  assertPatientVisible(principal, id);
  const found = await findPatient(db, id);
  if (!found) throw patientNotFound(id);
  return found;
}

export function readingsRoutes(app: ZodApp, deps: RouteDeps): void {
  const { db } = deps;
  const readDb = deps.readDb ?? (() => db);

  app.get(
    '/patients/:id/readings',
    {
      schema: {
        tags: ['readings'],
        summary: 'Raw readings, newest first, in stored units (clinician)',
        description:
          'from ≤ at < to. Pages are keyset-paginated: a reading stored after the first page was read never makes another appear twice or vanish.',
        params: z.object({ id: idParam }),
        querystring: z.object({
          type: readingType.optional(),
          from: time.optional(),
          to: time.optional(),
          limit: z.coerce.number().int().min(1).max(1000).default(100),
          cursor: z.string().optional(),
        }),
        response: { 200: page(reading), ...errors },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      requireRole(principal, ['clinician']);
      const reads = readDb();
      const patient = await visiblePatient(reads, principal, request.params.id);
      const { type, from, to, limit, cursor } = request.query;
      const after = decodeJsonCursor(cursor, readingCursor);
      // The audit line's commit (a WAL flush) runs beside the query rather than after it.
      const [{ readings: items, next }] = await Promise.all([
        readingsPage(
          reads,
          {
            patientId: patient.id,
            type,
            measuredAt: [
              ...(from ? [{ op: '>=' as const, at: new Date(from) }] : []),
              ...(to ? [{ op: '<' as const, at: new Date(to) }] : []),
            ],
          },
          after,
          limit,
        ),
        audit(db, request, principal, [patient.id], 'readings.read', { type: type ?? null }),
      ]);
      return {
        items: items.map((r) => ({
          id: r.readingId,
          deviceId: r.deviceId,
          patientId: patient.id,
          type: r.type,
          at: iso(r.measuredAt),
          receivedAt: iso(r.receivedAt),
          unit: r.unit,
          ...(r.type === 'blood_pressure'
            ? {
                systolic: r.systolic as number,
                diastolic: r.diastolic as number,
                ...(r.pulse !== null ? { pulse: r.pulse } : {}),
              }
            : { value: r.value as number }),
        })),
        nextCursor: next ? encodeCursor(JSON.stringify(next)) : null,
      };
    },
  );

  app.get(
    '/patients/:id/series',
    {
      schema: {
        tags: ['readings'],
        summary: "Rollups per hour or per day of the patient's time zone (clinician)",
        description:
          'Buckets whose start is in [from, to), oldest first; days are local calendar days (23 or 25 h at DST). ' +
          `bucket=auto: hours for a range of at most ${AUTO_HOURS_MAX_DAYS} days, else days; the response's bucket says which.`,
        params: z.object({ id: idParam }),
        querystring: z.object({
          type: readingType,
          from: time.optional().describe('default: 7 days before to'),
          to: time.optional().describe('default: now'),
          bucket: z
            .enum(['hour', 'day', 'auto'])
            .default('day')
            .describe(`auto: hour up to ${AUTO_HOURS_MAX_DAYS} days, else day`),
        }),
        response: {
          200: z.object({
            patientId: z.string(),
            type: z.string(),
            bucket: z.string(),
            timeZone: z.string(),
            items: z.array(bucket),
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      requireRole(principal, ['clinician']);
      const reads = readDb();
      const patient = await visiblePatient(reads, principal, request.params.id);
      const { type } = request.query;
      const to = request.query.to ? new Date(request.query.to) : deps.now();
      const from = request.query.from ? new Date(request.query.from) : new Date(to.getTime() - 7 * 86_400_000);
      if (from >= to) throw new AppError('invalid_input', 'from must be earlier than to');
      const days = (to.getTime() - from.getTime()) / 86_400_000;
      const size =
        request.query.bucket === 'auto' ? (days <= AUTO_HOURS_MAX_DAYS ? 'hour' : 'day') : request.query.bucket;
      if (days > (size === 'hour' ? 93 : 3700)) {
        throw new AppError(
          'invalid_input',
          size === 'hour'
            ? 'at most 93 days of hours at once: ask for a shorter range, or bucket=day or bucket=auto'
            : 'at most ten years of days at once: ask for a shorter range',
        );
      }
      const [rows] = await Promise.all([
        size === 'day'
          ? listDailyRollups(reads, patient, type, from, to)
          : listHourlyRollups(reads, patient.id, type, from, to),
        audit(db, request, principal, [patient.id], 'series.read', { type, bucket: size }),
      ]);
      const buckets = new Map<number, z.infer<typeof bucket>>();
      // Consecutive buckets share an instant (one's end is the next one's start): formatted once.
      let lastEndMs = NaN;
      let lastEnd = '';
      for (const r of rows) {
        let b = buckets.get(r.startMs);
        if (!b) {
          const start = r.startMs === lastEndMs ? lastEnd : iso(r.startMs);
          lastEnd = iso(r.endMs);
          lastEndMs = r.endMs;
          b = { start, end: lastEnd };
        }
        const s = { count: r.count, min: r.min, max: r.max, mean: r.mean };
        if (r.component === 'systolic') b.systolic = s;
        else if (r.component === 'diastolic') b.diastolic = s;
        else Object.assign(b, s, type === 'steps' ? { sum: r.sum } : {});
        buckets.set(r.startMs, b);
      }
      return { patientId: patient.id, type, bucket: size, timeZone: patient.timeZone, items: [...buckets.values()] };
    },
  );
}
