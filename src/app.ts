import type { FastifyInstance } from 'fastify';
import { Aggregator } from './aggregation/aggregator.ts';
import { createIngest, type Ingest } from './ingest/ingest.ts';
import { Broker, type ListeningPorts } from './broker/broker.ts';
import { type Config, ConfigError, configExposureProblems } from './config.ts';
import { buildHttpServer } from './http/server.ts';
import type { Logger } from './logger.ts';
import { createMetrics, type Metrics } from './metrics/metrics.ts';
import { createReadingSink } from './store/reading-sink.ts';
import { isRetryableDatabaseError } from './store/database.ts';
import {
  findDeviceCredentials,
  findDevicesCredentials,
  loadInstallationKey,
  recordDeviceActivity,
} from './store/devices.repository.ts';
import { CredentialListener } from './store/credential-events.ts';
import { DeviceActivityRecorder } from './broker/device-activity.ts';
import { migrateDatabase } from './database-server/migrate-database.ts';
import { type OpenDatabase, openDatabase } from './database-server/open-database.ts';
import { PartitionMaintenance, Partitions } from './store/partitions.ts';
import { pingDatabase } from './store/database-ping.ts';
import { buildOpsReport } from './metrics/ops-report.ts';
import { refreshQueueGauges } from './metrics/queue-gauges.ts';
import { RetentionJob } from './actions/retention-job.ts';
import { prunedKeysHorizon } from './store/retention.repository.ts';

/** How often what the broker saw of devices is written (device_activity). */
const DEVICE_ACTIVITY_FLUSH_MS = 10_000;

export interface RunningPorts extends ListeningPorts {
  http: number;
}

export interface App {
  start(): Promise<RunningPorts>;
  /** Graceful stop: HTTP → broker (stop accepting) → drain the batcher → connections → jobs → database. */
  stop(): Promise<{ drained: boolean }>;
  readonly metrics: Metrics;
}

/** Wiring only: each part is built and tested on its own. */
export function createApp(config: Config, log: Logger): App {
  const metrics = createMetrics();
  let database: OpenDatabase | undefined;
  let ingest: Ingest | undefined;
  let broker: Broker | undefined;
  let http: FastifyInstance | undefined;
  let maintenance: PartitionMaintenance | undefined;
  let aggregator: Aggregator | undefined;
  let retention: RetentionJob | undefined;
  let activity: DeviceActivityRecorder | undefined;
  let credentialListener: CredentialListener | undefined;

  async function start(): Promise<RunningPorts> {
    // README, "Security", "Listening on a network": loadConfig checks it for `serve`; this holds for every caller.
    const exposure = configExposureProblems(config);
    if (exposure.length > 0) throw new ConfigError(exposure);
    database = await openDatabase(config, log, config.dbPoolSize);
    const { db } = database;
    const { roles } = await migrateDatabase(database, log);
    // README, "Security", "Database roles".
    // (Not `service`: every line carries service: "vitalink".)
    const fields = { serviceRole: roles.service, ownerRole: roles.owner };
    if (roles.split) log.info(fields, 'database roles split');
    else
      log.warn(
        fields,
        'the service role owns the tables: audit_log is append-only against mistakes only; set DATABASE_MIGRATION_URL to an owner role (README, "Database roles")',
      );

    const partitions = new Partitions(db);
    maintenance = new PartitionMaintenance(partitions, { maxAgeMs: config.readingMaxAgeMs, log });
    await maintenance.start();
    // Readings before the newest month whose keys retention removed are too_old (README, "Retention").
    let keysHorizon = (await prunedKeysHorizon(db)) ?? undefined;

    activity = new DeviceActivityRecorder({
      write: (rows) => recordDeviceActivity(db, rows),
      intervalMs: DEVICE_ACTIVITY_FLUSH_MS,
      log: log.child({ component: 'device-activity' }),
    });
    activity.start();
    const seen = activity;

    const store = createReadingSink(db, partitions, {
      rejectionRawBytesPerDeviceDay: config.rejectionRawBytesPerDeviceDay,
    });
    ingest = createIngest({
      // After each committed batch the aggregation job is told, so that it need not wait out its idle interval.
      sink: {
        write: async (messages) => {
          const outcomes = await store.write(messages);
          aggregator?.nudge();
          return outcomes;
        },
      },
      isRetryable: isRetryableDatabaseError,
      batch: config.batch,
      readingMaxAgeMs: config.readingMaxAgeMs,
      keysHorizon: () => keysHorizon,
      metrics,
      log,
      onRejections: (deviceId, rejections) => broker?.publishRejections(deviceId, rejections),
      onStored: (deviceId, receivedAt) => seen.readingStored(deviceId, receivedAt),
    });
    const queue = ingest;

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
        findMany: (ids) => findDevicesCredentials(db, ids),
        key: installationKeyOnce,
      },
      activity: seen,
      revocationCheckMs: config.sessionRecheckMs,
    });
    const ports = await broker.start();
    const mqtt = broker;
    // README, "Security": a disabled or re-keyed device's live session is closed on every instance.
    credentialListener = new CredentialListener({
      connection: database.pool.options,
      log: log.child({ component: 'credential-events' }),
      onDevice: (deviceId) => void mqtt.recheckSessions([deviceId]),
      onListening: () => void mqtt.recheckSessions(),
    });
    await credentialListener.start();
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

    if (config.retention.intervalMs > 0) {
      retention = new RetentionJob({
        db,
        settings: config.retention,
        intervalMs: config.retention.intervalMs,
        log: log.child({ component: 'retention' }),
        metrics,
        now: Date.now,
        onKeysHorizon: (horizon) => {
          keysHorizon = horizon ?? undefined;
        },
      });
      retention.start();
    }

    http = await buildHttpServer({
      log,
      metrics,
      adminToken: config.adminToken,
      db,
      installationKey: installationKeyOnce,
      now: () => new Date(),
      ingestion: () => buildOpsReport({ metrics, queue, broker: mqtt, listeners: listeningPorts }),
      readiness: async () => ({ database: await pingDatabase(db), broker: mqtt.listening }),
      isDeviceConnected: (deviceId) => mqtt.isConnected(deviceId),
      tokenTtlDays: config.tokenTtlDays,
      publicUrl: config.publicUrl,
      rateLimits: config.httpRateLimits,
    });
    http.addHook('onRequest', async (request) => {
      if (request.url === '/metrics') refreshQueueGauges(metrics, queue.depth);
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
    // conventions.md, "Shape of a module": shutdown is the mirror of start-up.
    log.info('stopping: no new connections or publishes');
    maintenance?.stop();
    await http?.close().catch((err: unknown) => log.warn({ err }, 'http close failed'));
    await broker?.stopAccepting();
    const { drained } = (await ingest?.stop(config.shutdownTimeoutMs)) ?? { drained: true };
    await credentialListener?.stop();
    await broker?.close();
    await activity?.stop();
    await aggregator?.stop();
    await retention?.stop();
    // A drain that timed out may have left queries hanging on a dead connection:
    // do not wait for them forever.
    const closing = database?.close().catch((err: unknown) => log.warn({ err }, 'database close failed'));
    await Promise.race([closing, new Promise((r) => setTimeout(r, drained ? 30_000 : 5_000).unref())]);
    log.info({ drained }, 'vitalink stopped');
    return { drained };
  }

  return { start, stop, metrics };
}
