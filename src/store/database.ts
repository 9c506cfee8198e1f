import {
  type ColumnType,
  type Generated,
  Kysely,
  type PostgresCursor,
  PostgresDialect,
  type PostgresPool,
  type PostgresPoolClient,
} from 'kysely';
import pg from 'pg';
import type { Logger } from '../logger.ts';
import { DatabaseReachability } from './database-reachability.ts';
import { withPreparedStatements } from './prepared-statements.ts';
import type { DeviceTransport } from '../domain/device-transports.ts';

interface RollupColumns {
  patient_id: string;
  type: string;
  component: string;
  count: number;
  min: number;
  max: number;
  mean: number;
  sd: number | null;
  sum: number;
  first_at: Date;
  last_at: Date;
  computed_at: Generated<Date>;
}

/** Kysely's view of the schema (migrations/). snake_case as in SQL; rows are mapped explicitly. */
export interface Database {
  installation: { id: number; secret_key: Buffer | null; created_at: Generated<Date> };
  patients: {
    id: string;
    display_name: string | null;
    time_zone: string;
    created_at: Generated<Date>;
  };
  devices: {
    id: string;
    secret_hash: Buffer;
    /** The key the hash was made under (src/domain/secret-keys.ts). */
    secret_key_id: string;
    model: string | null;
    enabled: Generated<boolean>;
    created_at: Generated<Date>;
    disabled_at: Date | null;
    secret_rotated_at: Date | null;
    previous_secret_hash: Buffer | null;
    previous_secret_key_id: string | null;
    previous_secret_expires_at: Date | null;
  };
  /** 2026-12-07T1830-nightscout: Nightscout-style uploaders, one per device. */
  nightscout_uploaders: {
    device_id: string;
    patient_id: string;
    secret_hash: Buffer;
    secret_key_id: string;
    created_at: ColumnType<Date, Date | undefined, never>;
  };
  /** 2026-12-07T1900-patient-identity: a patient's identity (INS, RNIV status), one row at most. */
  patient_identities: {
    patient_id: string;
    birth_family_name: string;
    first_names: string[];
    /** YYYY-MM-DD (the DATE type parser keeps it a string). */
    birth_date: string;
    sex: 'male' | 'female' | 'unknown';
    birthplace_code: string | null;
    ins_value: string | null;
    ins_kind: 'nir' | 'nia' | 'nir-test' | 'nir-demo' | null;
    status: 'PROV' | 'RECUP' | 'VALI' | 'QUAL';
    status_method: 'SM' | 'CV' | 'INSI' | 'CB' | 'RFID' | 'AV' | null;
    status_set_at: Date;
    updated_at: Generated<Date>;
  };
  /** 2026-12-07T1920-device-tokens: bearer credentials of one device, stored hashed. */
  device_tokens: {
    id: Generated<string>;
    device_id: string;
    token_hash: Buffer;
    secret_key_id: string;
    label: string | null;
    created_at: Generated<Date>;
    expires_at: Date | null;
    revoked_at: Date | null;
    last_used_at: Date | null;
  };
  device_activity: {
    device_id: string;
    last_seen_at: Date | null;
    last_reading_at: Date | null;
    /** 2026-12-07T1820-https-ingest: the transport of last_seen_at. */
    last_transport: DeviceTransport | null;
  };
  device_assignments: {
    id: Generated<string>;
    device_id: string;
    patient_id: string;
    valid_from: Date;
    valid_to: Date | null;
    created_at: Generated<Date>;
  };
  reading_keys: { device_id: string; reading_id: string; content_hash: string };
  reading_keys_pruned: { month: Date; keys_removed: string; pruned_at: Generated<Date> };
  readings: {
    patient_id: string;
    device_id: string;
    reading_id: string;
    type: string;
    loinc: string;
    unit: string;
    value: number | null;
    systolic: number | null;
    diastolic: number | null;
    pulse: number | null;
    sent_unit: string;
    sent_value: number | null;
    sent_systolic: number | null;
    sent_diastolic: number | null;
    context: string | null;
    measured_at: Date;
    received_at: Date;
  };
  aggregation_dirty: {
    patient_id: string;
    type: string;
    day: string;
    first_marked_at: Generated<Date>;
    marked_at: Generated<Date>;
    version: Generated<string>;
    hours: Date[] | null;
    hours_version: string | null;
  };
  indicators_dirty: { patient_id: string; marked_at: Generated<Date> };
  rollups_daily: RollupColumns & { day: string; with_partials: boolean | null };
  cgm_hourly_partials: {
    patient_id: string;
    hour_start: Date;
    device_id: string;
    count: number;
    sum: number;
    m2: number;
    min: number;
    max: number;
    below_54: number;
    below_70: number;
    in_70_180: number;
    above_180: number;
    above_250: number;
    first_ms: string;
    last_ms: string;
    gap_values: number[];
    gap_counts: number[];
  };
  rollups_hourly: RollupColumns & { hour_start: Date };
  patient_indicators: {
    patient_id: string;
    key: string;
    value: number | null;
    unit: string;
    from_at: Date;
    to_at: Date;
    n: number;
    sufficient: boolean;
    computed_at: Date;
  };
  alert_thresholds: { patient_id: string; rule: string; threshold: unknown; updated_at: Generated<Date> };
  alerts: {
    id: Generated<string>;
    patient_id: string;
    rule: string;
    status: 'open' | 'acknowledged' | 'resolved';
    opened_at: Date;
    acknowledged_at: Date | null;
    acknowledged_by: string | null;
    resolved_at: Date | null;
    condition_cleared_at: Date | null;
    occurred_at: Date | null;
    threshold: unknown;
    reading_ids: string[];
    /** Migration 2026-12-07T1760: the occurrence's readings with their values (src/domain/alerts/alert-event.ts). */
    event_readings: Generated<unknown>;
    acknowledged_action: string | null;
    acknowledged_note: string | null;
  };
  alert_events: {
    id: Generated<string>;
    alert_id: string;
    at: Date;
    event: 'opened' | 'updated' | 'condition_cleared' | 'acknowledged' | 'resolved';
    actor: string | null;
    reading_ids: string[] | null;
    /** Migration 2026-12-07T1760: acknowledged with an action and a note; opened/updated with the readings. */
    action: Generated<string | null>;
    note: Generated<string | null>;
    readings: Generated<unknown>;
  };
  /** Migration 2026-12-07T1760: a patient's data marked reviewed for a patient-local day. */
  patient_reviews: {
    id: Generated<string>;
    patient_id: string;
    day: string;
    reviewed_at: Date;
    reviewed_by: string;
    practitioner_id: string | null;
  };
  api_tokens: {
    id: Generated<string>;
    token_hash: Buffer;
    secret_key_id: string;
    role: 'admin' | 'operator' | 'clinician';
    patient_ids: string[] | null;
    label: string | null;
    created_at: Generated<Date>;
    revoked_at: Date | null;
    expires_at: Date | null;
    last_used_at: Date | null;
    /** Clinician tokens acting as a practitioner: their patients are those of their teams. */
    practitioner_id: Generated<string | null>;
  };
  practitioners: {
    id: string;
    name: string;
    /** RPPS number, 11 digits. */
    rpps: string | null;
    role: 'physician' | 'nurse' | 'coordinator';
    created_at: Generated<Date>;
  };
  care_teams: {
    id: string;
    name: string | null;
    time_zone: Generated<string>;
    /** Service hours spec (src/domain/service-hours.ts); null: always on duty. */
    service_hours: string | null;
    created_at: Generated<Date>;
  };
  /** One row: bumped by every change of enrolments or team_members (src/store/care-scope.ts). */
  care_scope_version: { id: number; version: string };
  team_members: { team_id: string; practitioner_id: string; added_at: Generated<Date> };
  enrolments: {
    id: Generated<string>;
    patient_id: string;
    team_id: string;
    programme: string;
    starts_at: Date;
    /** Exclusive; null: open-ended. */
    ends_at: Date | null;
    created_at: Generated<Date>;
  };
  notification_channels: {
    id: Generated<string>;
    team_id: string;
    kind: 'webhook' | 'email';
    /** The webhook's URL or the e-mail address. */
    target: string;
    /** The second contact, told when an alert is not acknowledged in time. */
    escalation: Generated<boolean>;
    /** A webhook's secret, sealed (src/domain/sealed-secrets.ts); null for e-mail. */
    secret_sealed: Buffer | null;
    secret_key_id: string | null;
    created_at: Generated<Date>;
    removed_at: Date | null;
  };
  notifications: {
    /** Also the idempotency key sent with it (webhook Idempotency-Key, e-mail Message-ID). */
    id: Generated<string>;
    alert_id: string;
    team_id: string;
    channel_id: string;
    channel: 'webhook' | 'email';
    purpose: 'alert' | 'escalation';
    state: Generated<'pending' | 'sent' | 'dead' | 'cancelled'>;
    due_at: Date;
    attempts: Generated<number>;
    last_error: string | null;
    created_at: Date;
    sent_at: Date | null;
    dead_at: Date | null;
  };
  /** 2026-12-07T1960-mes-pushes: readings to feed to Mon espace santé and what became of them. */
  mes_pushes: {
    /** Also the idempotency key sent with it and the uuid of the bundle's Observation entry. */
    id: Generated<string>;
    patient_id: string;
    device_id: string;
    reading_id: string;
    type: string;
    measured_at: Date;
    state: Generated<'pending' | 'sending' | 'sent' | 'refused' | 'dead'>;
    due_at: Date;
    attempts: Generated<number>;
    created_at: Generated<Date>;
    attempted_at: Date | null;
    sent_at: Date | null;
    bundle: unknown;
    last_status: number | null;
    last_answer: string | null;
    location: string | null;
    device_location: string | null;
  };
  /** Dashboard sessions of signed-in practitioners (migrations/2026-12-07T1720-sign-in-sessions.ts). */
  sign_in_sessions: {
    /** SHA-256 of the session id the cookie holds. */
    id_hash: Buffer;
    practitioner_id: string;
    created_at: Generated<Date>;
    last_seen_at: Generated<Date>;
    /** The absolute end of the session. */
    expires_at: Date;
    revoked_at: Date | null;
    /** The issuer's ID token, the id_token_hint of RP-initiated logout. */
    id_token: string | null;
  };
  audit_log: {
    id: Generated<string>;
    at: Generated<Date>;
    token_id: string | null;
    role: string;
    patient_id: string;
    action: string;
    detail: unknown;
    request_id: string | null;
    source_address: string | null;
    principal: string | null;
    outcome: 'allowed' | 'denied' | 'not_found' | null;
  };
  rejections: {
    id: Generated<string>;
    device_id: string;
    reading_id: string | null;
    reason: string;
    detail: string;
    raw: Buffer | null;
    raw_size: number | null;
    raw_sha256: Buffer | null;
    raw_dropped: string | null;
    fingerprint: string;
    received_at: ColumnType<Date, Date | string, Date | string>;
    reprocessed_at: Date | null;
    outcome: string | null;
  };
  rejection_raw_quota: {
    device_id: string;
    day: ColumnType<Date, string, string>;
    raw_bytes: ColumnType<string, number | string, number | string>;
  };
  service_instances: {
    instance_id: string;
    started_at: Date;
    reported_at: Date;
    report: ColumnType<unknown, string, string>;
  };
}

export type Db = Kysely<Database>;

// Return float8 as number (the default); bigint (int8) as string is kept: ids are opaque.
pg.types.setTypeParser(pg.types.builtins.FLOAT8, Number);
// A calendar date stays 'YYYY-MM-DD': a Date would put it at midnight in this process' zone.
pg.types.setTypeParser(pg.types.builtins.DATE, (v: string) => v);

/**
 * A pool on `url`. `applicationName` is what pg_stat_activity shows for its
 * connections: `vitalink:<instance id>` for the service, so that a lock held by a
 * frozen instance names it.
 */
/**
 * Bounds on what one connection of the service may hold (README, "Running several
 * instances", "Database sessions"): a frozen or vanished instance's transaction,
 * and any wait on a lock or a statement. Given to the server at connection time;
 * 0 leaves PostgreSQL's default (no bound). The server side of TCP keepalive is set
 * with them: a vanished client is noticed within about 25 s, not two hours.
 */
export interface SessionBounds {
  readonly idleInTransactionTimeoutMs: number;
  readonly lockTimeoutMs: number;
  readonly statementTimeoutMs: number;
}

/** libpq's `options`: `-c name=value` for each setting, sent in the startup packet. */
export function sessionOptions(bounds: SessionBounds): string {
  return [
    `-c idle_in_transaction_session_timeout=${bounds.idleInTransactionTimeoutMs}`,
    `-c lock_timeout=${bounds.lockTimeoutMs}`,
    `-c statement_timeout=${bounds.statementTimeoutMs}`,
    '-c tcp_keepalives_idle=10',
    '-c tcp_keepalives_interval=5',
    '-c tcp_keepalives_count=3',
  ].join(' ');
}

export function createDatabase(
  url: string,
  poolSize: number,
  log: Logger,
  applicationName = 'vitalink',
  session?: SessionBounds,
): { db: Db; pool: pg.Pool; reachability: DatabaseReachability } {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    // A connection whose peer vanished without a reset (a network partition) is
    // found by TCP keepalive after ~10 s of silence plus the kernel's probes, and a
    // query that never answers fails after two minutes: either way the batch is
    // retried on a new connection instead of hanging for hours.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    query_timeout: 120_000,
    application_name: applicationName.slice(0, 63),
    ...(session ? { options: sessionOptions(session) } : {}),
  });
  // One line per change of state, not one per connection, query or retry.
  const reachability = new DatabaseReachability(log.child({ pool: applicationName }));
  // The epoch each connection was made in: one made before an outage ended fails afterwards
  // without saying anything of the database now (src/store/database-reachability.ts).
  const madeIn = new WeakMap<object, number>();
  // An idle client whose server went away emits here; without a listener the process would crash.
  pool.on('error', (err, client) => {
    log.debug({ err }, 'idle database connection lost');
    reachability.lost(err, madeIn.get(client));
  });
  // A checked-out client whose connection drops between two queries emits 'error'
  // too; unhandled, it would crash the process. The query in flight (or the next
  // one) fails and the batcher retries; the pool discards the broken client.
  pool.on('connect', (client) => {
    madeIn.set(client, reachability.epoch);
    client.on('error', (err) => {
      log.debug({ err }, 'database connection lost');
      reachability.lost(err, madeIn.get(client));
    });
  });
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({
      pool: observedPool(withPreparedStatements(pool), reachability),
    }),
  });
  return { db, pool, reachability };
}

/** The pool Kysely sees, telling `reachability` of each connection made or refused and each query's fate. */
function observedPool(pool: PostgresPool, reachability: DatabaseReachability): PostgresPool {
  // The epoch a connection was first handed out in, which is when the pool made it.
  const epochs = new WeakMap<object, number>();
  const epochOf = (client: object) => epochs.get(client);
  // `epoch`: the epoch the attempt belongs to (a connection's, or when a connect began): an
  // attempt begun before the database came back that fails afterwards is not a new outage.
  const observe = <T>(pending: Promise<T>, epoch: number | undefined): Promise<T> =>
    pending.then(
      (result) => {
        reachability.reached();
        return result;
      },
      (error: unknown) => {
        if (isDatabaseUnreachable(error)) reachability.lost(error, epoch);
        throw error;
      },
    );
  // One wrapper per connection, as the pool's own clients (Kysely keys its connections by client).
  const clients = new WeakMap<PostgresPoolClient, PostgresPoolClient>();
  return {
    async connect() {
      const client = await observe(pool.connect(), reachability.epoch);
      let wrapped = clients.get(client);
      if (!wrapped) {
        epochs.set(client, reachability.epoch);
        const query = ((sqlOrCursor: string | PostgresCursor<unknown>, parameters?: ReadonlyArray<unknown>) => {
          if (typeof sqlOrCursor !== 'string') return client.query(sqlOrCursor);
          return observe(client.query(sqlOrCursor, parameters ?? []), epochOf(client));
        }) as PostgresPoolClient['query'];
        wrapped = { query, release: () => client.release() };
        clients.set(client, wrapped);
      }
      return wrapped;
    },
    end: () => pool.end(),
  };
}

/** PostgreSQL error classes worth retrying (conventions.md, "Errors"). */
export function isRetryableDatabaseError(error: unknown): boolean {
  if (isDatabaseUnreachable(error)) return true;
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (code === '40001' || code === '40P01') return true; // serialization failure, deadlock
  // A lock or a statement past its bound (README, "Database sessions"): the holder may be gone by the retry.
  if (code === '55P03' || code === '57014') return true;
  if (code === '25P03') return true; // idle_in_transaction_session_timeout ended the session
  // pg's own flag on errors worth retrying
  return (error as { retryable?: unknown }).retryable === true;
}

/**
 * The errors of a database that cannot be reached or used now: a connection lost,
 * refused or timed out, a server shutting down or starting, no connection slot left.
 * The pool logs these once per outage (src/store/database-reachability.ts); the
 * jobs that meet them log at debug only.
 */
export function isDatabaseUnreachable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (code.startsWith('08')) return true; // connection exception
    if (code === '57P01' || code === '57P02' || code === '57P03') return true; // shutdown, cannot connect now
    if (code === '53300') return true; // too many connections
    // Node socket errors
    if (['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN'].includes(code)) {
      return true;
    }
  }
  // pg's own messages for a connection that dropped or could not be made in time
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|Connection is closed|not queryable/i.test(
    error.message,
  );
}
