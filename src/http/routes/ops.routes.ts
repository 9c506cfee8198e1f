import { z } from 'zod';
import { principalOf, requireRole } from '../auth.ts';
import { errorBody } from '../schemas.ts';
import type { RouteDeps, ZodApp } from './context.ts';

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
  ackLatencyMs: latency.describe('publish → PUBACK, the latest 4096 messages'),
  batchRows: latency.describe('rows per committed batch, the latest 512 batches'),
  commitMs: latency.describe('time to write and commit a batch, the latest 512 batches'),
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

/** What operators watch: throughput, queue, latencies, rejections, devices, aggregation lag, per instance and summed. Not audited. */
export function opsRoutes(app: ZodApp, deps: RouteDeps & { ingestion: () => Promise<IngestionReport> }): void {
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
}
