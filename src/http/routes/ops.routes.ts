import { z } from 'zod';
import { deviceView, listDevices } from '../../actions/device-lifecycle.ts';
import { countRecentRejections, readStorageStats } from '../../store/storage-stats.repository.ts';
import { principalOf, requireRole } from '../auth.ts';
import { errorBody } from '../schemas.ts';
import { decodeCursor, encodeCursor, type RouteDeps, type ZodApp } from './context.ts';

const latency = z.object({
  samples: z.number().int(),
  p50: z.number().nullable(),
  p95: z.number().nullable(),
  p99: z.number().nullable(),
  max: z.number().nullable(),
});

const rates = z.object({ last1s: z.number(), last1m: z.number(), last15m: z.number() });
const queue = z.object({ rows: z.number().int(), bytes: z.number().int(), waitingMessages: z.number().int() });
const aggregation = z.object({ lagSeconds: z.number(), lastRunAt: z.string().nullable() });

const instanceSummary = z.object({
  instanceId: z.string(),
  startedAt: z.string(),
  reportedAt: z.string(),
  live: z.boolean().describe('reported within the last 15 s (instances report every 5 s)'),
  self: z.boolean().describe('the instance that answered this request'),
  readingsPerSecond: rates,
  ackLatencyMs: latency,
  commitMs: latency,
  queue,
  connectedDevices: z.number().int(),
  rejections: z.number().int().describe('since that instance started'),
  aggregation,
});

export const ingestionReport = z.object({
  readingsPerSecond: rates,
  recent: z
    .object({ from: z.string(), perSecond: z.array(z.number()) })
    .describe('readings stored in each of the last 120 complete seconds, oldest first, the first starting at `from`'),
  ackLatencyMs: latency.describe('publish → PUBACK over the last 5 minutes (null figures: no message in that time)'),
  batchRows: latency.describe('rows per committed batch over the last 5 minutes'),
  commitMs: latency.describe('time to write and commit a batch over the last 5 minutes'),
  latencyWindows: z
    .array(z.object({ seconds: z.number().int(), ackMs: latency, commitMs: latency, batchRows: latency }))
    .describe(
      'the same over the last 60 and 300 seconds, the current one included; percentiles within 7.5 % (histogram bins), max exact',
    ),
  history: z
    .object({
      minutes: z.array(
        z.object({
          from: z.string(),
          partial: z.boolean().describe('the current minute, still running'),
          stored: z.number().int(),
          ackMs: latency,
          commitMs: latency,
        }),
      ),
    })
    .describe("this instance's last 15 complete clock minutes and the current one, oldest first (kept in its memory)"),
  queue,
  connectedDevices: z.number().int(),
  rejectionsByReason: z.record(z.string(), z.number()).describe('since the service started'),
  aggregation,
  listeners: z.object({
    mqtt: z.number().int().optional(),
    mqtts: z.number().int().optional(),
    mqttWs: z.number().int().optional(),
    http: z.number().int().optional(),
    https: z.number().int().optional(),
  }),
  instance: z.string().describe('the instance that answered (VITALINK_INSTANCE_ID); the figures above are its own'),
  instances: z
    .array(instanceSummary)
    .describe('every instance on this database that reported within the hour, by id, this one included'),
  total: z
    .object({
      live: z.number().int(),
      readingsPerSecond: rates,
      connectedDevices: z.number().int(),
      queue,
      rejectionsByReason: z.record(z.string(), z.number()),
      ackLatencyP99Ms: z.number().nullable().describe('the largest p99 among the live instances'),
      aggregation: aggregation.describe('the largest lag and the latest run among the live instances'),
    })
    .describe('the sum over the live instances'),
  notifications: z
    .object({ pending: z.number().int(), dead: z.number().int() })
    .optional()
    .describe('the notification outbox, all instances: waiting, and dead letters to replay (README, "Notifications")'),
  mesPushes: z
    .object({ pending: z.number().int(), refused: z.number().int(), dead: z.number().int() })
    .optional()
    .describe(
      'the Mon espace santé outbox, all instances: waiting or being sent, refused and dead (README, "Feeding Mon espace santé")',
    ),
  instancesUnavailable: z
    .boolean()
    .describe('the other instances could not be read (database unreachable): instances and total are this one only'),
});

export type IngestionReport = z.infer<typeof ingestionReport>;

const storage = z.object({
  databaseBytes: z.number().int(),
  readingPartitions: z.array(
    z.object({
      name: z.string(),
      from: z.string().nullable(),
      to: z.string().nullable(),
      bytes: z.number().int(),
      estimatedRows: z.number().int().nullable().describe("the planner's estimate; null before the first ANALYZE"),
    }),
  ),
  largestTables: z.array(
    z.object({ name: z.string(), bytes: z.number().int(), estimatedRows: z.number().int().nullable() }),
  ),
});

const opsDevice = z.object({
  id: z.string(),
  model: z.string().nullable(),
  enabled: z.boolean(),
  connected: z.boolean().nullable().describe('connected to the instance that answered'),
  lastSeenAt: z.string().nullable(),
  lastTransport: z.string().nullable(),
  lastReadingAt: z.string().nullable(),
  lastRejection: z.object({ at: z.string(), reason: z.string() }).nullable(),
  rejectionsLast24h: z.number().int(),
});

const DAY_MS = 86_400_000;

/** What operators watch: throughput, queue, latencies, rejections, devices, aggregation lag, storage, per instance and summed. Not audited. */
export function opsRoutes(
  app: ZodApp,
  deps: RouteDeps & {
    ingestion: () => Promise<IngestionReport>;
    isDeviceConnected?: (deviceId: string) => boolean;
  },
): void {
  app.get(
    '/ops/ingestion',
    {
      schema: {
        tags: ['operations'],
        summary: 'Live ingestion figures (operator)',
        response: { 200: ingestionReport, 401: errorBody, 403: errorBody },
      },
    },
    async (request) => {
      requireRole(principalOf(request), ['operator', 'admin']);
      return deps.ingestion();
    },
  );

  app.get(
    '/ops/storage',
    {
      schema: {
        tags: ['operations'],
        summary:
          "The database's size, the partitions of readings and the largest tables, from PostgreSQL's catalog (operator)",
        response: { 200: storage, 401: errorBody, 403: errorBody },
      },
    },
    async (request) => {
      requireRole(principalOf(request), ['operator', 'admin']);
      return readStorageStats(deps.db);
    },
  );

  app.get(
    '/ops/devices',
    {
      schema: {
        tags: ['operations'],
        summary:
          'Devices by id with how they reach the service and their rejections of the last 24 hours, a page at a time; no patient (operator)',
        querystring: z.object({
          limit: z.coerce.number().int().min(1).max(1000).default(100),
          cursor: z.string().max(200).optional(),
        }),
        response: {
          200: z.object({ items: z.array(opsDevice), nextCursor: z.string().nullable() }),
          400: errorBody,
          401: errorBody,
          403: errorBody,
          422: errorBody,
        },
      },
    },
    async (request) => {
      requireRole(principalOf(request), ['operator', 'admin']);
      const { limit, cursor } = request.query;
      const page = await listDevices(deps.db, { afterId: decodeCursor(cursor), limit });
      const rejections = await countRecentRejections(
        deps.db,
        page.items.map((d) => d.id),
        new Date(deps.now().getTime() - DAY_MS),
      );
      return {
        items: page.items.map((d) => {
          const v = deviceView(d, deps.isDeviceConnected?.(d.id) ?? null);
          return {
            id: v.id,
            model: v.model,
            enabled: v.enabled,
            connected: v.connected,
            lastSeenAt: v.lastSeenAt,
            lastTransport: v.lastTransport,
            lastReadingAt: v.lastReadingAt,
            lastRejection: v.lastRejection,
            rejectionsLast24h: rejections.get(d.id) ?? 0,
          };
        }),
        nextCursor: page.next ? encodeCursor(page.next) : null,
      };
    },
  );
}
