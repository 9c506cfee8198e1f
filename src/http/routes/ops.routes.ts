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

export const ingestionReport = z.object({
  readingsPerSecond: z.object({ last1s: z.number(), last1m: z.number(), last15m: z.number() }),
  recent: z
    .object({ from: z.string(), perSecond: z.array(z.number()) })
    .describe('readings stored in each of the last 120 complete seconds, oldest first, the first starting at `from`'),
  ackLatencyMs: latency.describe('publish → PUBACK, the latest 4096 messages'),
  batchRows: latency.describe('rows per committed batch, the latest 512 batches'),
  commitMs: latency.describe('time to write and commit a batch, the latest 512 batches'),
  queue: z.object({ rows: z.number().int(), bytes: z.number().int(), waitingMessages: z.number().int() }),
  connectedDevices: z.number().int(),
  rejectionsByReason: z.record(z.string(), z.number()).describe('since the service started'),
  aggregation: z.object({ lagSeconds: z.number(), lastRunAt: z.string().nullable() }),
  listeners: z.object({
    mqtt: z.number().int().optional(),
    mqtts: z.number().int().optional(),
    mqttWs: z.number().int().optional(),
    http: z.number().int().optional(),
    https: z.number().int().optional(),
  }),
});

export type IngestionReport = z.infer<typeof ingestionReport>;

/** What operators watch: throughput, queue, latencies, rejections, devices, aggregation lag. Not audited. */
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
