import type { FastifyInstance } from 'fastify';
import { Aggregator } from './aggregation/aggregator.ts';
import { createIngest, type Ingest } from './ingest/ingest.ts';
import { Broker, type ListeningPorts } from './broker/broker.ts';
import { createAuthenticator } from './broker/authenticate.ts';
import { VerifiedCredentials } from './http/verified-credentials.ts';
import { type Config, ConfigError, configExposureProblems } from './config.ts';
import { buildHttpServer } from './http/server.ts';
import type { Logger } from './logger.ts';
import { createMetrics, type Metrics } from './metrics/metrics.ts';
import { createReadingSink } from './store/reading-sink.ts';
import { isDatabaseUnreachable, isRetryableDatabaseError } from './store/database.ts';
import {
  findDeviceCredentials,
  findDevicesCredentials,
  rehashDeviceSecret,
  recordDeviceActivity,
} from './store/devices.repository.ts';
import { CredentialListener, notifySessionsStarted } from './store/credential-events.ts';
import { DeviceActivityRecorder } from './broker/device-activity.ts';
import { migrateDatabase } from './database-server/migrate-database.ts';
import { type OpenDatabase, openDatabase } from './database-server/open-database.ts';
import { PartitionMaintenance, Partitions } from './store/partitions.ts';
import { pingDatabase } from './store/database-ping.ts';
import { buildOpsReport } from './metrics/ops-report.ts';
import { refreshQueueGauges } from './metrics/queue-gauges.ts';
import { AlertGauges } from './metrics/alert-gauges.ts';
import { buildInfo } from './metrics/build-info.ts';
import { countUnresolvedAlerts } from './store/alerts.repository.ts';
import { RetentionJob } from './actions/retention-job.ts';
import { InstanceReporter } from './actions/instance-reports.ts';
import { prunedKeysHorizon } from './store/retention.repository.ts';
import { ConnectionLimits } from './broker/connection-limits.ts';
import { trustedProxies } from './broker/proxy-protocol.ts';
import type net from 'node:net';
import { type HttpsListener, listenHttps } from './http/https-listener.ts';
import { assertPortsAvailable, configuredPorts, listenFailure } from './listening-ports.ts';
import { TlsMaterial, TlsMaterialError } from './tls/tls-material.ts';
import { announceKeys, resolveKeyRing } from './actions/secret-keys.ts';
import { createDeviceTokenCheck } from './actions/device-tokens.ts';
import { RehashOnce } from './domain/secret-keys.ts';
import { createDatabase } from './store/database.ts';
import { ReadReplica } from './store/read-replica.ts';
import { DeliveryWorker } from './notifications/delivery-worker.ts';
import { MesPushWorker } from './mes/push-worker.ts';
import { notificationBacklog } from './store/notifications.repository.ts';
import { mesBacklog } from './store/mes-pushes.repository.ts';

/** How often what the broker saw of devices is written (device_activity). */
const DEVICE_ACTIVITY_FLUSH_MS = 10_000;

export interface RunningPorts extends ListeningPorts {
  /** Absent with HTTP_PORT=off. */
  http?: number;
  https?: number;
}

export interface App {
  start(): Promise<RunningPorts>;
  /** Graceful stop: broker (stop accepting) → drain the batcher → connections → HTTP → jobs → database. */
  stop(): Promise<{ drained: boolean }>;
  readonly metrics: Metrics;
}

/** Wiring only: each part is built and tested on its own. */
export function createApp(config: Config, log: Logger): App {
  const metrics = createMetrics();
  metrics.instanceInfo.labels(config.instanceId).set(1);
  const build = buildInfo();
  metrics.buildInfo.labels(build.version, build.node).set(1);
  let database: OpenDatabase | undefined;
  let ingest: Ingest | undefined;
  let broker: Broker | undefined;
  let http: FastifyInstance | undefined;
  let maintenance: PartitionMaintenance | undefined;
  let aggregator: Aggregator | undefined;
  let notifier: DeliveryWorker | undefined;
  let mesPusher: MesPushWorker | undefined;
  let retention: RetentionJob | undefined;
  let activity: DeviceActivityRecorder | undefined;
  let credentialListener: CredentialListener | undefined;
  let tlsMaterial: TlsMaterial | undefined;
  let httpsListener: HttpsListener | undefined;
  let instances: InstanceReporter | undefined;
  let readReplica: { readonly routing: ReadReplica; close(): Promise<void> } | undefined;

  async function start(): Promise<RunningPorts> {
    // README, "Security", "Listening on a network": loadConfig checks it for `serve`; this holds for every caller.
    const exposure = configExposureProblems(config);
    if (exposure.length > 0) throw new ConfigError(exposure);
    // README, "First device in one minute": a port taken stops the start at once, naming its setting.
    await assertPortsAvailable(config);
    const fixedPorts = configuredPorts(config);
    const listening = <T>(opening: Promise<T>): Promise<T> =>
      opening.catch((error: unknown) => {
        throw listenFailure(error, fixedPorts, config.host);
      });
    tlsMaterial = await loadTlsMaterial();
    const startedAt = new Date();
    database = await openDatabase(config, log, config.dbPoolSize);
    const { db } = database;
    database.reachability.onChange((up) => metrics.databaseUp.set(up ? 1 : 0));
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
      isUnreachable: isDatabaseUnreachable,
      batch: config.batch,
      readingMaxAgeMs: config.readingMaxAgeMs,
      keysHorizon: () => keysHorizon,
      metrics,
      log,
      onRejections: (deviceId, rejections) => broker?.publishRejections(deviceId, rejections),
      onStored: (deviceId, receivedAt) => seen.readingStored(deviceId, receivedAt),
    });
    const queue = ingest;

    // README, "Rotating the key": the same keys for CONNECT, API tokens and what the API provisions.
    const keys = await resolveKeyRing(db, config.secretKeys);
    await announceKeys(db, config.secretKeys, keys, log.child({ component: 'secret-keys' }));
    const credentials = {
      find: (id: string) => findDeviceCredentials(db, id),
      findMany: (ids: readonly string[]) => findDevicesCredentials(db, ids),
      keys: async () => keys,
      rehash: (id: string, slot: 'current' | 'previous', from: Buffer, to: { hash: Buffer; keyId: string }) =>
        rehashDeviceSecret(db, id, slot, from, to),
    };
    const deviceHttpsLog = log.child({ component: 'device-https' });
    const deviceAuthenticator = createAuthenticator(credentials, deviceHttpsLog, metrics);
    // README, "Over HTTPS": secrets verified lately, forgotten as live sessions are closed.
    const verified = new VerifiedCredentials(config.sessionRecheckMs);
    broker = new Broker({
      config,
      log,
      metrics,
      ingest,
      now: Date.now,
      credentials,
      activity: seen,
      revocationCheckMs: config.sessionRecheckMs,
      tlsMaterial,
      // README, "Running several instances": a device that connects elsewhere leaves no session here.
      announceSessions: (deviceIds) => notifySessionsStarted(db, config.instanceId, deviceIds),
    });
    const ports = await listening(broker.start());
    const mqtt = broker;
    // README, "Security": a disabled or re-keyed device's live session is closed on every instance.
    credentialListener = new CredentialListener({
      connection: database.pool.options,
      log: log.child({ component: 'credential-events' }),
      onDevice: (deviceId) => {
        verified.forget(deviceId);
        void mqtt.recheckSessions([deviceId]);
      },
      onListening: () => {
        verified.forget();
        mqtt.sessionsAnnouncementsReset();
        void mqtt.recheckSessions();
      },
      onSessionsStarted: ({ instance, devices }) => mqtt.sessionsAnnounced(instance, devices),
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
      escalationDelays: config.notifications.escalationDelays,
      // README, "Feeding Mon espace santé": new readings are queued only while a push endpoint is set.
      mesTypes: config.mes.push ? config.mes.types : undefined,
    });
    aggregator.start();

    if (config.mes.push) {
      mesPusher = new MesPushWorker({
        db,
        log: log.child({ component: 'mes' }),
        settings: config.mes,
        push: config.mes.push,
        now: Date.now,
      });
      mesPusher.start();
    }

    // README, "Notifications": the outbox's delivery worker (every instance runs one; SKIP LOCKED shares the rows).
    notifier = new DeliveryWorker({
      db,
      log: log.child({ component: 'notifications' }),
      metrics,
      keys,
      smtp: config.notifications.smtp,
      retry: config.notifications.retry,
      timeoutMs: config.notifications.timeoutMs,
      intervalMs: config.notifications.pollMs,
      publicUrl: config.publicUrl,
      now: Date.now,
    });
    notifier.start();

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

    // README, "Running several instances", "Read replica": clinician reads go to DATABASE_READ_URL while it keeps up.
    if (config.readReplica) {
      const replica = createDatabase(
        config.readReplica.url,
        config.dbPoolSize,
        log,
        `vitalink:${config.instanceId}:reads`,
        config.dbSession,
      );
      const routing = new ReadReplica({
        primary: db,
        replica: replica.db,
        maxLagMs: config.readReplica.maxLagMs,
        log: log.child({ component: 'read-replica' }),
        observed: (lagSeconds, inUse) => {
          metrics.readReplicaLagSeconds.set(lagSeconds ?? -1);
          metrics.readReplicaInUse.set(inUse ? 1 : 0);
        },
      });
      await routing.start();
      readReplica = { routing, close: () => replica.db.destroy() };
    }
    const reads = readReplica?.routing;

    // README, "Running several instances": every instance's figures, where every instance can read them.
    const reporter = new InstanceReporter({
      db,
      instanceId: config.instanceId,
      startedAt,
      report: () => buildOpsReport({ metrics, queue, broker: mqtt, listeners: listeningPorts }),
      log: log.child({ component: 'instances' }),
    });
    instances = reporter;

    http = await buildHttpServer({
      log,
      metrics,
      adminToken: config.adminToken,
      db,
      keys,
      readDb: reads ? () => reads.db() : undefined,
      trustedProxies: config.trustedProxies,
      now: () => new Date(),
      // README, "Notifications": the dead letters in the ops view.
      ingestion: async () => ({
        ...(await reporter.view()),
        notifications: await notificationBacklog(db),
        // README, "Feeding Mon espace santé": the push's backlog, when it is configured.
        ...(config.mes.push ? { mesPushes: await mesBacklog(db) } : {}),
      }),
      readiness: async () => ({ database: await pingDatabase(db), broker: mqtt.listening }),
      isDeviceConnected: (deviceId) => mqtt.isConnected(deviceId),
      tokenTtlDays: config.tokenTtlDays,
      mes: config.mes,
      publicUrl: config.publicUrl,
      fhirProfiles: config.fhirProfiles,
      rateLimits: config.httpRateLimits,
      hstsMaxAgeS: config.https?.hstsMaxAgeS,
      oidc: config.oidc,
      readingMaxAgeMs: config.readingMaxAgeMs,
      // device-protocol.md, "Over HTTPS": the broker's credential check and throttle, the same ingest path.
      deviceReadings: {
        ingest: queue,
        authenticate: deviceAuthenticator,
        verified,
        throttle: mqtt.throttle,
        banSeconds: Math.ceil(config.listenerLimits.throttle.authBanMs / 1000),
        metrics,
        now: Date.now,
        activity: seen,
        holdMaxMs: config.holdMaxMs,
        isDraining: () => mqtt.draining,
        // README, "Over HTTPS": device tokens, and client certificates on HTTPS_PORT.
        checkToken: createDeviceTokenCheck(db, keys, {
          once: new RehashOnce(),
          onRehashed: (tokenId, fromKeyId, toKeyId) =>
            deviceHttpsLog.info({ tokenId, fromKeyId, toKeyId }, 'device token re-hashed under the current key'),
          onError: (err) => deviceHttpsLog.warn({ err }, 'device token bookkeeping failed; its next use tries again'),
        }),
        certificates: config.deviceCerts
          ? { mode: config.deviceCerts.mode, find: (deviceId: string) => findDeviceCredentials(db, deviceId) }
          : undefined,
      },
    });
    // README, "Operations", "Metrics": open alerts of every patient, counted at most every 15 s.
    const alertGauges = new AlertGauges({
      count: () => countUnresolvedAlerts(db),
      metrics,
      log: log.child({ component: 'metrics' }),
    });
    http.addHook('onRequest', async (request) => {
      if (request.url !== '/metrics') return;
      refreshQueueGauges(metrics, queue.depth);
      await alertGauges.refresh();
    });
    /** The caps of an HTTP listener, counted in the listener metrics under its name (README, "Security"). */
    const httpListenerLimits = (
      listener: 'http' | 'https',
      settings: { readonly maxConnections: number; readonly maxConnectionsPerAddress: number },
    ) => {
      metrics.listenerOpenSockets.labels(listener).set(0);
      return new ConnectionLimits(
        { maxConnections: settings.maxConnections, maxPerAddress: settings.maxConnectionsPerAddress },
        {
          refused: (name, reason) => metrics.listenerRefusals.labels(name, reason).inc(),
          counted: (name, open) => metrics.listenerOpenSockets.labels(name).set(open),
        },
      );
    };
    let httpPort: number | undefined;
    if (config.httpPort !== undefined) {
      // Caps of its own, as HTTPS's (README, "Security", "HTTP limits"). A trusted load
      // balancer's sockets count in all, not against its one address.
      const httpLimits = httpListenerLimits('http', config.httpLimits);
      const fromProxy = trustedProxies(config.trustedProxies);
      http.server.on('connection', (socket: net.Socket) => {
        const address = socket.remoteAddress ?? '';
        httpLimits.admit('http', socket, fromProxy(address) ? `${address}:${socket.remotePort}` : address);
      });
      await listening(http.listen({ port: config.httpPort, host: config.host }));
      const address = http.server.address();
      httpPort = typeof address === 'object' && address ? address.port : config.httpPort;
      log.info({ listener: 'http', host: config.host, port: httpPort }, 'listening');
    }
    if (config.https && tlsMaterial) {
      // Caps of its own (README, "Security", "HTTPS"): browsers keep connections open, devices do not.
      const httpsLimits = httpListenerLimits('https', config.httpsLimits);
      httpsListener = await listening(
        listenHttps(http, {
          port: config.https.port,
          host: config.host,
          material: tlsMaterial,
          handshakeTimeoutMs: config.listenerLimits.tlsHandshakeTimeoutMs,
          deviceCerts: config.deviceCerts ? { mode: config.deviceCerts.mode } : undefined,
          admit: (raw) => httpsLimits.admit('https', raw),
          refused: (reason) => metrics.listenerRefusals.labels('https', reason).inc(),
          log: log.child({ component: 'https' }),
        }),
      );
    }
    // Both TLS listeners use the material now: changes on disk reach them from here on.
    tlsMaterial?.watch(config.tlsReloadIntervalMs);

    const running: RunningPorts = {
      ...ports,
      ...(httpPort !== undefined ? { http: httpPort } : {}),
      ...(httpsListener ? { https: httpsListener.port } : {}),
    };
    Object.assign(listeningPorts, running);
    reporter.start();
    log.info({ ports: running }, 'vitalink started');
    return running;
  }

  async function stop(): Promise<{ drained: boolean }> {
    // conventions.md, "Shape of a module": shutdown is the mirror of start-up.
    // A start refused before it opened anything (a port taken, ...) has nothing to stop.
    if (!database) return { drained: true };
    log.info('stopping: no new connections or publishes');
    maintenance?.stop();
    tlsMaterial?.stop();
    // The device side drains first: HTTP (and /healthz, which a load balancer may
    // watch to cut a server's connections) stays up until the PUBACKs of what was
    // accepted are out; /readyz answers 503 from now on (README, "Operations", "Stopping").
    await broker?.stopAccepting();
    const { drained } = (await ingest?.stop(config.shutdownTimeoutMs)) ?? { drained: true };
    await credentialListener?.stop();
    await broker?.close();
    await instances?.stop();
    await httpsListener?.close();
    await http?.close().catch((err: unknown) => log.warn({ err }, 'http close failed'));
    await activity?.stop();
    await notifier?.stop();
    await mesPusher?.stop();
    await aggregator?.stop();
    await retention?.stop();
    await readReplica?.routing.stop();
    await readReplica?.close().catch((err: unknown) => log.warn({ err }, 'read replica close failed'));
    // A drain that timed out may have left queries hanging on a dead connection:
    // do not wait for them forever.
    const closing = database?.close().catch((err: unknown) => log.warn({ err }, 'database close failed'));
    await Promise.race([closing, new Promise((r) => setTimeout(r, drained ? 30_000 : 5_000).unref())]);
    log.info({ drained }, 'vitalink stopped');
    return { drained };
  }

  /** The TLS files of MQTT_TLS_PORT and HTTPS_PORT (and the device CA and CRL), read once here. */
  async function loadTlsMaterial(): Promise<TlsMaterial | undefined> {
    const files = config.tls ?? config.https;
    if (!files) return undefined;
    const material = new TlsMaterial(
      {
        TLS_CERT_FILE: files.certFile,
        TLS_KEY_FILE: files.keyFile,
        ...(config.deviceCerts ? { VITALINK_DEVICE_CA_FILE: config.deviceCerts.caFile } : {}),
        ...(config.deviceCerts?.crlFile ? { VITALINK_DEVICE_CRL_FILE: config.deviceCerts.crlFile } : {}),
      },
      log.child({ component: 'tls' }),
      (outcome) => metrics.tlsReloads.labels(outcome).inc(),
    );
    try {
      await material.load();
      material.assertUsable((files) => ({
        cert: files.TLS_CERT_FILE,
        key: files.TLS_KEY_FILE,
        ca: files.VITALINK_DEVICE_CA_FILE,
        crl: files.VITALINK_DEVICE_CRL_FILE,
      }));
    } catch (err) {
      if (err instanceof TlsMaterialError) throw new ConfigError([err.message]);
      throw err;
    }
    return material;
  }

  return { start, stop, metrics };
}
