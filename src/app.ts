import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { Aggregator } from './aggregation/aggregator.ts';
import { createIngest, type Ingest } from './ingest/ingest.ts';
import { Broker, type ListeningPorts } from './broker/broker.ts';
import type { Config } from './config.ts';
import { buildHttpServer } from './http/server.ts';
import type { Logger } from './logger.ts';
import { createMetrics, type Metrics } from './metrics/metrics.ts';
import { createReadingSink } from './store/reading-sink.ts';
import { isRetryableDatabaseError } from './store/database.ts';
import { findDeviceCredentials, loadInstallationKey } from './store/devices.repository.ts';
import { migrateToLatest } from './store/migrations.ts';
import { type OpenDatabase, openDatabase } from './database-server/open-database.ts';
import { Partitions } from './store/partitions.ts';

export interface RunningPorts extends ListeningPorts {
  http: number;
}

export interface App {
  start(): Promise<RunningPorts>;
  /** Graceful stop: HTTP → broker (stop accepting) → drain the batcher → connections → jobs → database. */
  stop(): Promise<{ drained: boolean }>;
  readonly metrics: Metrics;
}

/** Months of partitions kept ready ahead of the current one. */
const PARTITIONS_AHEAD_MS = 62 * 86_400_000;
const PARTITION_MAINTENANCE_MS = 6 * 3_600_000;

function lastRunIso(seconds: number | undefined): string | null {
  return seconds ? new Date(seconds * 1000).toISOString() : null;
}

/** Wiring only: each part is built and tested on its own. */
export function createApp(config: Config, log: Logger): App {
  const metrics = createMetrics();
  let database: OpenDatabase | undefined;
  let ingest: Ingest | undefined;
  let broker: Broker | undefined;
  let http: FastifyInstance | undefined;
  let maintenance: NodeJS.Timeout | undefined;
  let aggregator: Aggregator | undefined;

  async function start(): Promise<RunningPorts> {
    database = await openDatabase(config, log, config.dbPoolSize);
    const { db } = database;
    await migrateToLatest(db, log);

    const partitions = new Partitions(db);
    const ensurePartitions = async () => {
      const now = Date.now();
      const created = await partitions.ensureRange(now - config.readingMaxAgeMs, now + PARTITIONS_AHEAD_MS);
      if (created.length > 0) log.info({ partitions: created }, 'reading partitions created');
    };
    await ensurePartitions();
    maintenance = setInterval(() => {
      ensurePartitions().catch((err: unknown) => log.warn({ err }, 'partition maintenance failed, will retry'));
    }, PARTITION_MAINTENANCE_MS);
    maintenance.unref();

    ingest = createIngest({
      sink: createReadingSink(db, partitions),
      isRetryable: isRetryableDatabaseError,
      batch: config.batch,
      readingMaxAgeMs: config.readingMaxAgeMs,
      metrics,
      log,
      onRejections: (deviceId, rejections) => broker?.publishRejections(deviceId, rejections),
    });
    const queue = ingest;
    const refreshQueueGauges = () => {
      const depth = queue.depth;
      metrics.queueRows.set(depth.rows);
      metrics.queueBytes.set(depth.bytes);
      metrics.queueWaiting.set(depth.waiting);
    };

    let installationKey: Buffer | undefined;
    const installationKeyOnce = async () => {
      installationKey ??= await loadInstallationKey(db);
      return installationKey;
    };
    broker = new Broker({
      config,
      log,
      metrics,
      ingest,
      now: Date.now,
      credentials: {
        find: (id) => findDeviceCredentials(db, id),
        key: installationKeyOnce,
      },
    });
    const ports = await broker.start();
    const mqtt = broker;
    const listeningPorts: Partial<RunningPorts> = {};

    aggregator = new Aggregator({
      db,
      log: log.child({ component: 'aggregation' }),
      metrics,
      intervalMs: config.aggregationIntervalMs,
      maxBusyShare: config.aggregationMaxBusyShare,
      batchSize: 200,
      refreshEveryMs: 3_600_000,
      now: Date.now,
    });
    aggregator.start();

    http = await buildHttpServer({
      log,
      metrics,
      adminToken: config.adminToken,
      db,
      installationKey: installationKeyOnce,
      now: () => new Date(),
      ingestion: async () => {
        const rejected = await metrics.readingsRejected.get();
        const depth = queue.depth;
        return {
          ...metrics.ingestion.snapshot(),
          queue: { rows: depth.rows, bytes: depth.bytes, waitingMessages: depth.waiting },
          connectedDevices: mqtt.connectedDevices,
          rejectionsByReason: Object.fromEntries(rejected.values.map((v) => [String(v.labels.reason), v.value])),
          aggregation: {
            lagSeconds: (await metrics.aggregationLagSeconds.get()).values[0]?.value ?? 0,
            lastRunAt: lastRunIso((await metrics.aggregationLastRun.get()).values[0]?.value),
          },
          listeners: listeningPorts,
        };
      },
      readiness: async () => {
        const databaseUp = await Promise.race([
          sql`SELECT 1`.execute(db).then(
            () => true,
            () => false,
          ),
          new Promise<boolean>((r) => setTimeout(() => r(false), 2_000).unref()),
        ]);
        return { database: databaseUp, broker: mqtt.listening };
      },
    });
    http.addHook('onRequest', async (request) => {
      if (request.url === '/metrics') refreshQueueGauges();
    });
    await http.listen({ port: config.httpPort, host: config.host });
    const address = http.server.address();
    const httpPort = typeof address === 'object' && address ? address.port : config.httpPort;
    log.info({ listener: 'http', host: config.host, port: httpPort }, 'listening');

    const running: RunningPorts = { ...ports, http: httpPort };
    Object.assign(listeningPorts, running);
    log.info({ ports: running }, 'vitalink started');
    return running;
  }

  async function stop(): Promise<{ drained: boolean }> {
    log.info('stopping: no new connections or publishes');
    if (maintenance) clearInterval(maintenance);
    await http?.close().catch((err: unknown) => log.warn({ err }, 'http close failed'));
    await broker?.stopAccepting();
    let drained = true;
    if (ingest) {
      const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), config.shutdownTimeoutMs).unref());
      const result = await Promise.race([ingest.drain().then(() => 'drained' as const), timeout]);
      if (result === 'timeout') {
        drained = false;
        log.error({ queued: ingest.depth }, 'drain timed out; unacknowledged messages will be resent by devices');
        ingest.abort(new Error('the service stopped before the message was stored'));
      } else {
        log.info('batcher drained, every committed message acknowledged');
      }
    }
    await broker?.close();
    await aggregator?.stop();
    // A drain that timed out may have left queries hanging on a dead connection:
    // do not wait for them forever.
    const closing = database?.close().catch((err: unknown) => log.warn({ err }, 'database close failed'));
    await Promise.race([closing, new Promise((r) => setTimeout(r, drained ? 30_000 : 5_000).unref())]);
    log.info({ drained }, 'vitalink stopped');
    return { drained };
  }

  return { start, stop, metrics };
}
