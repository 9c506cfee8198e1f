import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { CloseReason } from '../domain/close-reasons.ts';
import type { RefusalReason } from '../domain/refusal-reasons.ts';
import { ALERT_SEVERITIES } from '../domain/alerts/rules.ts';
import { REJECTION_REASONS } from '../domain/rejection-reasons.ts';
import { IngestionStats } from './ingestion-stats.ts';

/**
 * A counter whose one label takes only the members of a catalogue (reasons of
 * the pure domain): a reason outside the catalogue does not compile.
 */
export type ReasonCounter<R extends string> = Omit<Counter<'reason'>, 'labels'> & {
  labels(reason: R): Counter.Internal;
};

function byReason<R extends string>(counter: Counter<'reason'>): ReasonCounter<R> {
  return counter;
}

/** Every metric of the service, defined in one place. One registry per service instance. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'vitalink_process_' });

  // README, "Running several instances", "Read replica".
  const readReplicaLagSeconds = new Gauge({
    name: 'vitalink_read_replica_lag_seconds',
    help: 'How far DATABASE_READ_URL is behind the primary, measured every second (-1: unreachable)',
    registers: [registry],
  });
  const readReplicaInUse = new Gauge({
    name: 'vitalink_read_replica_in_use',
    help: '1 while clinician reads go to DATABASE_READ_URL, 0 while they go to the primary (lag past the bound, or unreachable)',
    registers: [registry],
  });

  // README, "Running several instances": Prometheus labels every series with the
  // scrape target (`instance`); this series joins that target to VITALINK_INSTANCE_ID.
  const instanceInfo = new Gauge({
    name: 'vitalink_instance_info',
    help: 'Always 1; instance_id is this instance name (VITALINK_INSTANCE_ID), as in its log lines and the ops view',
    labelNames: ['instance_id'] as const,
    registers: [registry],
  });

  const readingsReceived = new Counter({
    name: 'vitalink_readings_received_total',
    help: 'Readings received from devices (valid or not), counted when their message is decoded',
    registers: [registry],
  });
  const messagesReceived = new Counter({
    name: 'vitalink_messages_received_total',
    help: 'MQTT messages received on readings topics',
    registers: [registry],
  });
  const readingsStored = new Counter({
    name: 'vitalink_readings_stored_total',
    help: 'Readings committed to the readings table',
    registers: [registry],
  });
  const readingsDuplicate = new Counter({
    name: 'vitalink_readings_duplicate_total',
    help: 'Readings recognised as duplicates of stored ones (acknowledged, not stored again)',
    registers: [registry],
  });
  const readingsRejected = new Counter({
    name: 'vitalink_readings_rejected_total',
    help: 'Readings (or whole messages) rejected, by reason of the device protocol',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  for (const reason of REJECTION_REASONS) readingsRejected.labels(reason).inc(0);

  const batchSize = new Histogram({
    name: 'vitalink_batch_rows',
    help: 'Rows (readings and rejections) per committed batch',
    buckets: [1, 10, 50, 100, 250, 500, 1000, 2000, 5000],
    registers: [registry],
  });
  const commitSeconds = new Histogram({
    name: 'vitalink_batch_commit_seconds',
    help: 'Time to write and commit one batch',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const ackSeconds = new Histogram({
    name: 'vitalink_publish_to_ack_seconds',
    help: 'From the arrival of a publish to its acknowledgement (PUBACK or PUBREC) being sent',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const batchWriteErrors = new Counter({
    name: 'vitalink_batch_write_errors_total',
    help: 'Failed batch writes, by whether they are retried',
    labelNames: ['retryable'] as const,
    registers: [registry],
  });
  const queueRows = new Gauge({
    name: 'vitalink_queue_rows',
    help: 'Readings and rejections admitted to the batcher and not yet committed',
    registers: [registry],
  });
  const queueBytes = new Gauge({
    name: 'vitalink_queue_bytes',
    help: 'Payload bytes admitted to the batcher and not yet committed',
    registers: [registry],
  });
  const queueWaiting = new Gauge({
    name: 'vitalink_queue_waiting_messages',
    help: 'Messages held outside the full queue (their devices are being pushed back on)',
    registers: [registry],
  });
  const connectedDevices = new Gauge({
    name: 'vitalink_connected_devices',
    help: 'Devices connected to the embedded broker',
    registers: [registry],
  });
  const connectionsRefused = byReason<RefusalReason>(
    new Counter({
      name: 'vitalink_connections_refused_total',
      help: 'CONNECTs refused, by reason',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
  );
  const connectionsClosed = byReason<CloseReason>(
    new Counter({
      name: 'vitalink_connections_closed_total',
      help: 'Connections closed by the service, by reason',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
  );

  const listenerRefusals = new Counter({
    name: 'vitalink_listener_refusals_total',
    help: 'Sockets a listener (MQTT, or https) refused or closed before a session or request began (caps, handshake and CONNECT timeouts, device certificates, CONNECT too large), by listener and reason',
    labelNames: ['listener', 'reason'] as const,
    registers: [registry],
  });
  const listenerOpenSockets = new Gauge({
    name: 'vitalink_listener_open_sockets',
    help: 'Sockets each listener (MQTT, or https) holds open now (handshaking, waiting for CONNECT, in a session or a request)',
    labelNames: ['listener'] as const,
    registers: [registry],
  });

  const tlsReloads = new Counter({
    name: 'vitalink_tls_reloads_total',
    help: 'Changes of the TLS files seen without a restart: loaded (new connections use them) or failed (the previous ones kept)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });

  const rejectionMessagesDropped = new Counter({
    name: 'vitalink_rejection_messages_dropped_total',
    help: 'Rejection messages not published to a device because too many were waiting (all are in the database)',
    registers: [registry],
  });
  const rejectionsRawDropped = new Counter({
    name: 'vitalink_rejections_raw_dropped_total',
    help: "Rejections recorded without their raw bytes: over the device's daily quota (VITALINK_REJECTIONS_RAW_BYTES_PER_DEVICE_DAY)",
    registers: [registry],
  });
  const rejectionsRawDroppedBytes = new Counter({
    name: 'vitalink_rejections_raw_dropped_bytes_total',
    help: 'Raw bytes of rejections not stored because the device was over its daily quota',
    registers: [registry],
  });
  const aggregationLagSeconds = new Gauge({
    name: 'vitalink_aggregation_lag_seconds',
    help: 'Age of the oldest dirty mark waiting for the aggregation job (0 when none)',
    registers: [registry],
  });
  const aggregationLastRun = new Gauge({
    name: 'vitalink_aggregation_last_run_timestamp_seconds',
    help: 'When the aggregation job last ran (Unix time)',
    registers: [registry],
  });
  const aggregationRunSeconds = new Histogram({
    name: 'vitalink_aggregation_run_seconds',
    help: 'Duration of one aggregation run that had work',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });

  const retentionRemoved = new Counter({
    name: 'vitalink_retention_removed_total',
    help: 'Rows (and reading partitions) removed by scheduled retention runs, by kind',
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  const retentionRuns = new Counter({
    name: 'vitalink_retention_runs_total',
    help: 'Scheduled retention runs, by outcome (applied, skipped: another instance was running it, failed)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  for (const outcome of ['applied', 'skipped', 'failed']) retentionRuns.labels(outcome).inc(0);
  const retentionLastRun = new Gauge({
    name: 'vitalink_retention_last_run_timestamp_seconds',
    help: 'When this instance last applied the retention policy (Unix time)',
    registers: [registry],
  });

  const httpRateLimited = new Counter({
    name: 'vitalink_http_rate_limited_total',
    help: 'HTTP requests answered 429, by limit (principal: one token; auth_failure, not_found: one source address)',
    labelNames: ['limit'] as const,
    registers: [registry],
  });
  for (const limit of HTTP_LIMITS) httpRateLimited.labels(limit).inc(0);
  const httpAuthFailures = new Counter({
    name: 'vitalink_http_auth_failures_total',
    help: 'HTTP requests refused 401 (no, unknown, revoked or expired token)',
    registers: [registry],
  });

  // README, "Notifications".
  const notifications = new Counter({
    name: 'vitalink_notifications_total',
    help: 'Notification delivery attempts by channel (webhook, email) and outcome (sent, retry, dead, cancelled)',
    labelNames: ['channel', 'outcome'] as const,
    registers: [registry],
  });
  for (const channel of ['webhook', 'email'])
    for (const outcome of ['sent', 'retry', 'dead', 'cancelled']) notifications.labels(channel, outcome).inc(0);
  const notificationsPending = new Gauge({
    name: 'vitalink_notifications_pending',
    help: 'Notifications waiting in the outbox (due now, later at a team opening, or retrying)',
    registers: [registry],
  });
  const notificationsDead = new Gauge({
    name: 'vitalink_notifications_dead',
    help: 'Dead letters: notifications that failed for good, to replay (`vitalink notifications dead-letters`)',
    registers: [registry],
  });

  // README, "Operations", "Metrics": HTTP requests, the build, the database, open alerts.
  const httpRequestSeconds = new Histogram({
    name: 'vitalink_http_request_duration_seconds',
    help: "HTTP requests by method, route pattern (never the URL: paths hold patient ids; 'unmatched' for no route) and status class (2xx, 4xx...), from arrival to the response sent",
    labelNames: ['method', 'route', 'status_class'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const buildInfo = new Gauge({
    name: 'vitalink_build_info',
    help: "Always 1; version is Vitalink's (package.json), node the Node.js version running it",
    labelNames: ['version', 'node'] as const,
    registers: [registry],
  });
  const databaseUp = new Gauge({
    name: 'vitalink_database_up',
    help: 'Whether the database (DATABASE_URL) answered the latest connection or query: 1 yes, 0 a connection lost or refused since',
    registers: [registry],
  });
  databaseUp.set(1);
  const alertsOpen = new Gauge({
    name: 'vitalink_alerts_open',
    help: 'Alerts open and not yet acknowledged, of every patient, by the severity of their rule (read from the database, at most every 15 s)',
    labelNames: ['severity'] as const,
    registers: [registry],
  });
  const alertsAcknowledged = new Gauge({
    name: 'vitalink_alerts_acknowledged',
    help: 'Alerts acknowledged and not yet resolved, of every patient, by the severity of their rule (read with vitalink_alerts_open)',
    labelNames: ['severity'] as const,
    registers: [registry],
  });
  for (const severity of ALERT_SEVERITIES) {
    alertsOpen.labels(severity).set(0);
    alertsAcknowledged.labels(severity).set(0);
  }

  return {
    registry,
    httpRequestSeconds,
    buildInfo,
    databaseUp,
    alertsOpen,
    alertsAcknowledged,
    notifications,
    notificationsPending,
    notificationsDead,
    httpRateLimited,
    httpAuthFailures,
    retentionRemoved,
    retentionRuns,
    retentionLastRun,
    instanceInfo,
    readReplicaLagSeconds,
    readReplicaInUse,
    /** Live figures for GET /api/v1/ops/ingestion. */
    ingestion: new IngestionStats(),
    rejectionMessagesDropped,
    rejectionsRawDropped,
    rejectionsRawDroppedBytes,
    aggregationLagSeconds,
    aggregationLastRun,
    aggregationRunSeconds,
    messagesReceived,
    readingsReceived,
    readingsStored,
    readingsDuplicate,
    readingsRejected,
    batchSize,
    commitSeconds,
    ackSeconds,
    batchWriteErrors,
    queueRows,
    queueBytes,
    queueWaiting,
    connectedDevices,
    connectionsRefused,
    connectionsClosed,
    listenerRefusals,
    listenerOpenSockets,
    tlsReloads,
  };
}

/** The HTTP rate limits of README, "Security" (label `limit` of vitalink_http_rate_limited_total). */
export const HTTP_LIMITS = ['principal', 'auth_failure', 'not_found'] as const;
export type HttpLimit = (typeof HTTP_LIMITS)[number];

export type Metrics = ReturnType<typeof createMetrics>;
