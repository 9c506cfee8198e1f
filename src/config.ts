import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import type { SessionBounds } from './store/database.ts';
import { GENERATE_KEY_HINT, parseKeyText, SecretKey } from './domain/secret-keys.ts';
import {
  KEY_MARGIN_DAYS,
  MINIMUM_READINGS_DAYS,
  minimumReadingsDays,
  type RetentionSettings,
} from './domain/retention.ts';
import { DEFAULT_TOKEN_TTL_DAYS, type TokenRoleName } from './domain/token-expiry.ts';
import { DEFAULT_FHIR_PROFILE_BASE, type FhirProfileSettings } from './fhir/profiles.ts';
import {
  DEFAULT_ESCALATION_DELAYS,
  DEFAULT_RETRY,
  type EscalationDelays,
  type RetrySettings,
} from './domain/notifications.ts';
import { ALERT_SEVERITIES } from './domain/alerts/rules.ts';
import type { SmtpSettings } from './notifications/email.ts';
import { PRACTITIONER_MATCHES, type PractitionerMatch } from './domain/practitioner-identity.ts';
import { MES_DEFAULT_TYPES, MES_FEEDABLE_TYPES, MES_NOT_FEEDABLE, OID_PATTERN, oidUnder } from './domain/mes-feed.ts';
import { isReadingType, type ReadingType } from './domain/reading-types.ts';

/**
 * Configuration from the environment (interfaces.md, "Environment"), parsed once
 * with zod, every problem reported at once, then frozen and passed down.
 */

const emptyAsUndefined = (v: unknown) => (v === '' ? undefined : v);
const portNumber = () =>
  z.coerce.number().int().min(0, 'must be a port from 0 to 65535').max(65535, 'must be a port from 0 to 65535');
// Empty counts as unset everywhere: `z.coerce.number()` would read '' as 0 (MQTT_PORT= would pick a random port).
const optionalPort = () => z.preprocess(emptyAsUndefined, portNumber().optional());
// Retention in days: 0 means forever (unset too, for readings).
const retentionDays = (fallback: number) =>
  z.preprocess(
    emptyAsUndefined,
    z.coerce
      .number()
      .int('must be a whole number of days')
      .min(0, 'must be 0 (keep forever) or a number of days')
      .default(fallback),
  );
const tokenTtlDays = (fallback: number) =>
  z.preprocess(
    emptyAsUndefined,
    z.coerce
      .number()
      .int('must be a whole number of days')
      .min(1, 'must be 1 to 3650 days (a token that never expires is asked for with --expires never)')
      .max(3650, 'must be 1 to 3650 days')
      .default(fallback),
  );
// A limit per minute: 0 switches it off (README, "Security").
const perMinute = (fallback: number) =>
  z.preprocess(
    emptyAsUndefined,
    z.coerce
      .number()
      .int('must be a whole number of requests per minute')
      .min(0, 'must be 0 (no limit) or a number of requests per minute')
      .default(fallback),
  );
/**
 * The audit trail's shortest retention: vitalink_delete_audit_before (migration
 * 2026-12-07T1400) refuses to delete entries younger than this.
 */
export const MINIMUM_AUDIT_DAYS = 365;
/** README, "Security", "Rejection storage quota": why 4 MiB. */
export const DEFAULT_REJECTIONS_RAW_BYTES_PER_DEVICE_DAY = 4 * 1024 * 1024;
const PUBLIC_URL_EXAMPLE = 'e.g. https://vitalink.example.org or https://example.org/vitalink';
/** An absolute http(s) URL, a path allowed, without query, fragment or credentials. */
function isBaseUrl(v: string): boolean {
  try {
    const u = new URL(v);
    return (
      (u.protocol === 'https:' || u.protocol === 'http:') &&
      u.username === '' &&
      u.password === '' &&
      u.search === '' &&
      u.hash === '' &&
      /^https?:\/\//i.test(v)
    );
  } catch {
    return false;
  }
}
const publicUrl = () =>
  z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .refine(
        isBaseUrl,
        `must be an absolute http:// or https:// URL without query, fragment or credentials, the base of every link the service builds (${PUBLIC_URL_EXAMPLE})`,
      )
      .optional(),
  );
const milliseconds = (fallback: number) =>
  z.preprocess(
    emptyAsUndefined,
    z.coerce
      .number()
      .int('must be a whole number of milliseconds')
      .min(0, 'must be 0 (no bound) or milliseconds')
      .max(2_147_483_647, 'must be at most 2147483647 milliseconds')
      .default(fallback),
  );
const positiveInt = (fallback: number) =>
  z.preprocess(emptyAsUndefined, z.coerce.number().int().positive().default(fallback));

const envSchema = z
  .object({
    DATABASE_URL: z.preprocess(
      emptyAsUndefined,
      z
        .string()
        .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// connection string')
        .optional(),
    ),
    DATABASE_READ_URL: z.preprocess(
      emptyAsUndefined,
      z
        .string()
        .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// connection string (a read replica)')
        .optional(),
    ),
    VITALINK_READ_REPLICA_MAX_LAG_MS: positiveInt(5_000),
    // README, "Security", "Database roles": the owner's connection, for the migrations only.
    DATABASE_MIGRATION_URL: z.preprocess(
      emptyAsUndefined,
      z
        .string()
        .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// connection string')
        .optional(),
    ),
    VITALINK_DATA_DIR: z.preprocess(emptyAsUndefined, z.string().default('./.vitalink')),
    VITALINK_SYSTEM_DIR: z.preprocess(emptyAsUndefined, z.string().optional()),
    // README, "Configuration": `off` closes the plaintext MQTT listener (MQTT_TLS_PORT or MQTT_WS_PORT must then be set).
    MQTT_PORT: z.preprocess(
      emptyAsUndefined,
      z
        .union([z.literal('off'), portNumber()], {
          message: 'must be a port from 0 to 65535, or off (no plaintext MQTT listener; needs MQTT_TLS_PORT)',
        })
        .default(1883),
    ),
    MQTT_TLS_PORT: optionalPort(),
    TLS_CERT_FILE: z.preprocess(emptyAsUndefined, z.string().optional()),
    TLS_KEY_FILE: z.preprocess(emptyAsUndefined, z.string().optional()),
    MQTT_WS_PORT: optionalPort(),
    // README, "Configuration": `off` closes the plaintext HTTP listener (HTTPS_PORT must then be set).
    HTTP_PORT: z.preprocess(
      emptyAsUndefined,
      z
        .union([z.literal('off'), portNumber()], {
          message: 'must be a port from 0 to 65535, or off (no plaintext HTTP listener; needs HTTPS_PORT)',
        })
        .default(8080),
    ),
    HTTPS_PORT: optionalPort(),
    // README, "Security", "HTTPS": Strict-Transport-Security on HTTPS responses; 0 sends none.
    VITALINK_HSTS_MAX_AGE_S: z.preprocess(
      emptyAsUndefined,
      z.coerce
        .number()
        .int('must be a whole number of seconds')
        .min(0, 'must be 0 (no Strict-Transport-Security header) or a number of seconds')
        .default(31_536_000),
    ),
    VITALINK_TLS_RELOAD_INTERVAL_MS: positiveInt(60_000),
    VITALINK_HTTPS_MAX_CONNECTIONS: positiveInt(2_000),
    // README, "Security", "HTTP limits": the plaintext HTTP listener's caps, as HTTPS's.
    VITALINK_HTTP_MAX_CONNECTIONS: positiveInt(2_000),
    VITALINK_HTTP_MAX_CONNECTIONS_PER_ADDRESS: positiveInt(200),
    VITALINK_HTTPS_MAX_CONNECTIONS_PER_ADDRESS: positiveInt(200),
    // README, "Security", "Device certificates".
    VITALINK_DEVICE_CERTS: z.preprocess(
      emptyAsUndefined,
      z
        .enum(['off', 'optional', 'required'], {
          message:
            'must be off (devices authenticate with their secret only), optional (a device may present a certificate) or required (every device on MQTT_TLS_PORT presents one)',
        })
        .default('off'),
    ),
    VITALINK_DEVICE_CA_FILE: z.preprocess(emptyAsUndefined, z.string().optional()),
    VITALINK_DEVICE_CRL_FILE: z.preprocess(emptyAsUndefined, z.string().optional()),
    HOST: z.preprocess(emptyAsUndefined, z.string().optional()),
    // README, "Security", "Listening on a network": the operator's statement that plaintext listeners may listen on a non-loopback HOST.
    VITALINK_ALLOW_PLAINTEXT_PUBLIC: z.preprocess(
      emptyAsUndefined,
      z
        .enum(['0', '1'], {
          message: 'must be 1 (plaintext listeners may listen on a non-loopback HOST) or 0 (they may not)',
        })
        .default('0'),
    ),
    VITALINK_ADMIN_TOKEN: z.preprocess(
      emptyAsUndefined,
      z.string().min(16, 'must be at least 16 characters long').optional(),
    ),
    VITALINK_PUBLIC_URL: publicUrl(),
    // README, "Mesures de santé profiles": the ANS IG's canonical, base of meta.profile.
    VITALINK_FHIR_PROFILE_BASE: z.preprocess(
      emptyAsUndefined,
      z
        .string()
        .refine(
          isBaseUrl,
          `must be an absolute http:// or https:// URL without query, fragment or credentials, the IG's canonical (default ${DEFAULT_FHIR_PROFILE_BASE})`,
        )
        .default(DEFAULT_FHIR_PROFILE_BASE),
    ),
    // README, "Mesures de santé profiles": this deployment's OID (meta.source, device identifiers).
    VITALINK_FHIR_OID: z.preprocess(
      emptyAsUndefined,
      z
        .string()
        .regex(
          /^[0-2](\.(0|[1-9][0-9]*))+$/,
          'must be an OID, digits separated by dots without leading zeros (e.g. 1.2.250.1.999.1), the one the agency gave your organisation',
        )
        .optional(),
    ),
    // README, "Running several instances", "Source addresses": load balancers whose PROXY headers and X-Forwarded-For are believed.
    VITALINK_TRUSTED_PROXIES: z.preprocess(
      emptyAsUndefined,
      z
        .string()
        .transform((v) =>
          v
            .split(',')
            .map((e) => e.trim())
            .filter(Boolean),
        )
        .refine(
          (entries) => entries.every(isAddressOrBlock),
          'must be addresses or CIDR blocks, comma-separated, of the load balancers in front (e.g. 10.0.0.5,10.0.1.0/24)',
        )
        .default([]),
    ),
    // README, "Running several instances": this instance's name in logs, metrics and the ops view.
    VITALINK_INSTANCE_ID: z.preprocess(
      emptyAsUndefined,
      z
        .string()
        .regex(
          /^[A-Za-z0-9][A-Za-z0-9._:-]{0,62}$/,
          'must be 1 to 63 letters, digits, dots, colons, hyphens or underscores, starting with a letter or digit (e.g. vitalink-a)',
        )
        .optional(),
    ),
    LOG_LEVEL: z.preprocess(
      emptyAsUndefined,
      z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    ),
    // Beyond interfaces.md: tuning, each with its default.
    VITALINK_BATCH_MAX_ROWS: positiveInt(2000),
    VITALINK_BATCH_MAX_WAIT_MS: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(0).default(5)),
    VITALINK_BATCH_MAX_INFLIGHT: positiveInt(2),
    VITALINK_QUEUE_MAX_READINGS: positiveInt(50_000),
    VITALINK_QUEUE_MAX_BYTES: positiveInt(64 * 1024 * 1024),
    VITALINK_HOLD_MAX_MS: positiveInt(30_000),
    VITALINK_READING_MAX_AGE_DAYS: positiveInt(90),
    VITALINK_DB_POOL_SIZE: positiveInt(6),
    // README, "Running several instances", "Database sessions": 0 is no bound.
    VITALINK_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: milliseconds(5_000),
    VITALINK_DB_LOCK_TIMEOUT_MS: milliseconds(10_000),
    VITALINK_DB_STATEMENT_TIMEOUT_MS: milliseconds(120_000),
    VITALINK_MQTT_CONNECT_TIMEOUT_MS: positiveInt(10_000),
    // README, "Security", "Limits on the MQTT listeners".
    VITALINK_TLS_HANDSHAKE_TIMEOUT_MS: positiveInt(10_000),
    VITALINK_WS_HANDSHAKE_TIMEOUT_MS: positiveInt(10_000),
    VITALINK_MQTT_CONNECT_MAX_BYTES: z.preprocess(
      emptyAsUndefined,
      z.coerce
        .number()
        .int()
        .min(256, 'must be at least 256 bytes (a CONNECT with a 64-character id and a secret)')
        .default(8192),
    ),
    VITALINK_MQTT_MAX_CONNECTIONS: positiveInt(10_000),
    VITALINK_MQTT_MAX_CONNECTIONS_PER_ADDRESS: positiveInt(100),
    VITALINK_MQTT_AUTH_FAILURES_PER_ADDRESS: positiveInt(20),
    VITALINK_MQTT_AUTH_FAILURES_PER_CLIENT: positiveInt(5),
    VITALINK_MQTT_AUTH_FAILURE_WINDOW_S: positiveInt(60),
    VITALINK_MQTT_AUTH_BAN_S: positiveInt(60),
    VITALINK_MQTT_FLAPPING_MAX_CONNECTS: positiveInt(15),
    VITALINK_MQTT_FLAPPING_WINDOW_S: positiveInt(60),
    VITALINK_MQTT_FLAPPING_BAN_S: positiveInt(300),
    VITALINK_MQTT_MAX_KEEPALIVE_S: z.preprocess(
      emptyAsUndefined,
      z.coerce
        .number()
        .int()
        .min(1, 'must be 1 to 65535 seconds')
        .max(65535, 'must be 1 to 65535 seconds')
        .default(1200),
    ),
    VITALINK_SHUTDOWN_TIMEOUT_MS: positiveInt(30_000),
    VITALINK_AGGREGATION_INTERVAL_MS: positiveInt(1_000),
    VITALINK_AGGREGATION_MAX_BUSY_PCT: z.preprocess(
      emptyAsUndefined,
      z.coerce.number().int().min(1).max(100).default(25),
    ),
    // README, "Retention". Readings are medical facts: deleting them is an explicit choice.
    VITALINK_RETENTION_READINGS_DAYS: retentionDays(0),
    VITALINK_RETENTION_REJECTIONS_DAYS: retentionDays(180),
    VITALINK_RETENTION_AUDIT_DAYS: retentionDays(3650),
    // README, "Security", "Rejection storage quota": 0 switches it off.
    VITALINK_REJECTIONS_RAW_BYTES_PER_DEVICE_DAY: z.preprocess(
      emptyAsUndefined,
      z.coerce
        .number()
        .int('must be a whole number of bytes')
        .min(0, 'must be 0 (no quota) or a number of bytes')
        .default(DEFAULT_REJECTIONS_RAW_BYTES_PER_DEVICE_DAY),
    ),
    VITALINK_SESSION_RECHECK_MS: positiveInt(10_000),
    VITALINK_TOKEN_TTL_ADMIN_DAYS: tokenTtlDays(DEFAULT_TOKEN_TTL_DAYS.admin),
    VITALINK_TOKEN_TTL_OPERATOR_DAYS: tokenTtlDays(DEFAULT_TOKEN_TTL_DAYS.operator),
    VITALINK_TOKEN_TTL_CLINICIAN_DAYS: tokenTtlDays(DEFAULT_TOKEN_TTL_DAYS.clinician),
    VITALINK_HTTP_RATE_LIMIT_PER_MIN: perMinute(600),
    VITALINK_HTTP_AUTH_FAILURES_PER_MIN: perMinute(20),
    VITALINK_HTTP_NOT_FOUND_PER_MIN: perMinute(60),
    VITALINK_RETENTION_INTERVAL_MS: z.preprocess(
      emptyAsUndefined,
      z.coerce.number().int().min(0, 'must be 0 (no scheduled run) or milliseconds').default(86_400_000),
    ),
  })
  .superRefine(
    (env, ctx) => {
      const problem = (variable: string, message: string) =>
        ctx.addIssue({ code: 'custom', path: [variable], message });
      const hasCert = env.TLS_CERT_FILE !== undefined;
      const hasKey = env.TLS_KEY_FILE !== undefined;
      const tlsPorts = [
        ...(env.MQTT_TLS_PORT !== undefined ? ['MQTT_TLS_PORT'] : []),
        ...(env.HTTPS_PORT !== undefined ? ['HTTPS_PORT'] : []),
      ];
      if (hasCert !== hasKey) {
        const [set, unset] = hasCert ? ['TLS_CERT_FILE', 'TLS_KEY_FILE'] : ['TLS_KEY_FILE', 'TLS_CERT_FILE'];
        problem(
          unset,
          `TLS_CERT_FILE and TLS_KEY_FILE go together (the certificate of MQTT_TLS_PORT and HTTPS_PORT and its key): set ${unset} too, or unset ${set}`,
        );
      } else if (tlsPorts.length > 0 && !hasCert) {
        problem(
          tlsPorts[0]!,
          `${tlsPorts.join(' and ')} need${tlsPorts.length === 1 ? 's' : ''} a certificate: set TLS_CERT_FILE and TLS_KEY_FILE too, or unset ${tlsPorts.join(' and ')}`,
        );
      } else if (tlsPorts.length === 0 && hasCert) {
        problem(
          'MQTT_TLS_PORT',
          'TLS_CERT_FILE and TLS_KEY_FILE are set but no listener uses them: set MQTT_TLS_PORT (MQTT over TLS) and/or HTTPS_PORT (the API over HTTPS), or unset them',
        );
      }
      if (env.MQTT_PORT === 'off' && env.MQTT_TLS_PORT === undefined && env.MQTT_WS_PORT === undefined) {
        problem(
          'MQTT_PORT',
          'off needs another MQTT listener, or no device could connect: set MQTT_TLS_PORT (with TLS_CERT_FILE and TLS_KEY_FILE), or give MQTT_PORT a port',
        );
      }
      if (env.HTTP_PORT === 'off' && env.HTTPS_PORT === undefined) {
        problem(
          'HTTP_PORT',
          'off needs HTTPS_PORT: without either the API, health checks and /metrics are unreachable; set HTTPS_PORT (with TLS_CERT_FILE and TLS_KEY_FILE) or give HTTP_PORT a port',
        );
      }
      const deviceCerts = env.VITALINK_DEVICE_CERTS;
      if (deviceCerts === 'optional' || deviceCerts === 'required') {
        if (env.VITALINK_DEVICE_CA_FILE === undefined) {
          problem(
            'VITALINK_DEVICE_CA_FILE',
            `VITALINK_DEVICE_CERTS=${deviceCerts} needs the CA bundle that issues device certificates: set VITALINK_DEVICE_CA_FILE (PEM), or set VITALINK_DEVICE_CERTS=off`,
          );
        }
        if (env.MQTT_TLS_PORT === undefined && env.HTTPS_PORT === undefined) {
          problem(
            'VITALINK_DEVICE_CERTS',
            `${deviceCerts} needs a TLS listener, where devices present their certificates: set MQTT_TLS_PORT and/or HTTPS_PORT (with TLS_CERT_FILE and TLS_KEY_FILE), or set VITALINK_DEVICE_CERTS=off`,
          );
        }
      } else if (deviceCerts === 'off') {
        for (const name of ['VITALINK_DEVICE_CA_FILE', 'VITALINK_DEVICE_CRL_FILE'] as const) {
          if (env[name] !== undefined) {
            problem(
              name,
              'is set but VITALINK_DEVICE_CERTS is off, so no device certificate is asked for: set VITALINK_DEVICE_CERTS=optional or required, or unset it',
            );
          }
        }
      }
      if (env.DATABASE_READ_URL && !env.DATABASE_URL) {
        ctx.addIssue({
          code: 'custom',
          path: ['DATABASE_READ_URL'],
          message:
            'a read replica needs its primary: set DATABASE_URL to the primary PostgreSQL too, or unset DATABASE_READ_URL (the embedded database has no replica)',
        });
      }
      if (env.DATABASE_MIGRATION_URL !== undefined && env.DATABASE_URL === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['DATABASE_MIGRATION_URL'],
          message:
            'is the owner connection of the database that DATABASE_URL names: set DATABASE_URL to the service role of the same database, or unset DATABASE_MIGRATION_URL to use the embedded database',
        });
      }
      const auditDays = env.VITALINK_RETENTION_AUDIT_DAYS;
      if (typeof auditDays === 'number' && auditDays > 0 && auditDays < MINIMUM_AUDIT_DAYS) {
        ctx.addIssue({
          code: 'custom',
          path: ['VITALINK_RETENTION_AUDIT_DAYS'],
          message: `must be 0 (keep forever) or at least ${MINIMUM_AUDIT_DAYS} days: the database refuses to delete audit entries less than a year old (README, "Database roles")`,
        });
      }
      const readingsDays = env.VITALINK_RETENTION_READINGS_DAYS;
      const maxAge = env.VITALINK_READING_MAX_AGE_DAYS;
      if (typeof readingsDays === 'number' && typeof maxAge === 'number' && readingsDays > 0) {
        const minimum = minimumReadingsDays(maxAge);
        if (readingsDays < minimum) {
          ctx.addIssue({
            code: 'custom',
            path: ['VITALINK_RETENTION_READINGS_DAYS'],
            message:
              minimum > maxAge + KEY_MARGIN_DAYS
                ? `must be 0 (keep forever) or at least ${minimum} days: the database never drops a month of readings that ended less than ${MINIMUM_READINGS_DAYS} days ago (README, "Database roles")`
                : `must be 0 (keep forever) or at least ${minimum} days: readings up to VITALINK_READING_MAX_AGE_DAYS (${maxAge}) days old are accepted, and their duplicate keys are kept 7 days longer`,
          });
        }
      }
    },
    // Run even when a variable is invalid, so that every problem is reported at once.
    { when: () => true },
  );

/** Where the embedded PostgreSQL may go when it runs as root (src/database-server/embedded-postgres.ts). */
export interface EmbeddedPlacement {
  /** True when VITALINK_DATA_DIR is unset: what the postgres user cannot reach may move to `systemDir`. */
  readonly relocatable: boolean;
  /** VITALINK_SYSTEM_DIR, default /var/lib/vitalink. */
  readonly systemDir: string;
}

/** The placement of the environment: VITALINK_DATA_DIR set or not, VITALINK_SYSTEM_DIR. */
export function embeddedPlacementOf(env: NodeJS.ProcessEnv): EmbeddedPlacement {
  return {
    relocatable: !env.VITALINK_DATA_DIR,
    systemDir: path.resolve(env.VITALINK_SYSTEM_DIR || '/var/lib/vitalink'),
  };
}

export interface Config {
  /** README, "Notifications": SMTP, retries, timeouts, escalation delays. */
  readonly notifications: NotificationSettings;
  /** README, "Feeding Mon espace santé": the bundles' OIDs and the push (off without VITALINK_MES_URL). */
  readonly mes: MesSettings;
  /**
   * The secret keys from outside the database (README, "Rotating the key"): the
   * current one, which makes every new hash (none: the database's key, as before
   * VITALINK_SECRET_KEY), and previous ones that still verify.
   */
  readonly secretKeys: ConfiguredKeys;
  /** Sign-in with OpenID Connect (README, "Sign-in"); undefined when VITALINK_OIDC_ISSUER is unset. */
  readonly oidc: OidcSettings | undefined;
  /** Unset: the embedded PostgreSQL in `dataDir`. */
  readonly databaseUrl: string | undefined;
  /** DATABASE_READ_URL: a replica for clinician reads, used while it lags less than `maxLagMs` (README, "Operations"). */
  readonly readReplica: { readonly url: string; readonly maxLagMs: number } | undefined;
  /** The owner's connection for the migrations (README, "Database roles"); unset: `databaseUrl`'s. */
  readonly databaseMigrationUrl: string | undefined;
  readonly dataDir: string;
  /**
   * Where the embedded PostgreSQL may be placed when it runs as root (README,
   * "Running as root"): `dataDirChosen` false (VITALINK_DATA_DIR unset) lets it move
   * to `systemDir` what the postgres user cannot reach in the project's folder.
   */
  readonly embeddedPlacement: EmbeddedPlacement;
  readonly host: string;
  /** VITALINK_ALLOW_PLAINTEXT_PUBLIC=1: plaintext listeners may listen on a non-loopback `host`. */
  readonly allowPlaintextPublic: boolean;
  /** The plaintext MQTT listener; undefined: MQTT_PORT=off. */
  readonly mqttPort: number | undefined;
  /** MQTT over TLS (MQTT_TLS_PORT) with the service's certificate. */
  readonly tls: { readonly port: number; readonly certFile: string; readonly keyFile: string } | undefined;
  readonly wsPort: number | undefined;
  /** The plaintext HTTP listener; undefined: HTTP_PORT=off. */
  readonly httpPort: number | undefined;
  /** The same routes over TLS (HTTPS_PORT) with the service's certificate; `hstsMaxAgeS` 0 sends no HSTS. */
  readonly https:
    | { readonly port: number; readonly certFile: string; readonly keyFile: string; readonly hstsMaxAgeS: number }
    | undefined;
  /** How often the TLS files (certificate, key, device CA, CRL) are checked for a change (src/tls/tls-material.ts). */
  readonly tlsReloadIntervalMs: number;
  /** Caps of the HTTPS listener's sockets (README, "Security", "HTTPS"). */
  readonly httpsLimits: { readonly maxConnections: number; readonly maxConnectionsPerAddress: number };
  /** Open sockets of the plaintext HTTP listener, in all and per source address. */
  readonly httpLimits: { readonly maxConnections: number; readonly maxConnectionsPerAddress: number };
  /** Device certificates on MQTT_TLS_PORT (README, "Security", "Device certificates"); undefined: off. */
  readonly deviceCerts:
    | { readonly mode: 'optional' | 'required'; readonly caFile: string; readonly crlFile: string | undefined }
    | undefined;
  readonly adminToken: string | undefined;
  /** VITALINK_PUBLIC_URL without a trailing slash: the base of every link the service builds; unset: the listener's address. */
  readonly publicUrl: string | undefined;
  /** VITALINK_FHIR_PROFILE_BASE (no trailing slash) and VITALINK_FHIR_OID (src/fhir/profiles.ts). */
  readonly fhirProfiles: FhirProfileSettings;
  /** VITALINK_TRUSTED_PROXIES: load balancers whose PROXY protocol headers (MQTT) and X-Forwarded-For (HTTP) are believed. */
  readonly trustedProxies: readonly string[];
  /** VITALINK_INSTANCE_ID, or the host name and process id: this instance's name in logs, metrics and the ops view. */
  readonly instanceId: string;
  /** README, "Security": HTTP requests per minute; 0 is no limit. */
  readonly httpRateLimits: HttpRateLimits;
  readonly logLevel: string;
  readonly batch: {
    readonly maxRows: number;
    readonly maxWaitMs: number;
    readonly maxInflight: number;
    readonly queueMaxReadings: number;
    readonly queueMaxBytes: number;
  };
  /** Longest a publish may wait for its PUBACK before the connection is closed. */
  readonly holdMaxMs: number;
  readonly readingMaxAgeMs: number;
  readonly dbPoolSize: number;
  /** Bounds on each connection of the service (README, "Database sessions"). */
  readonly dbSession: SessionBounds;
  readonly mqttConnectTimeoutMs: number;
  /** Bounds on the MQTT listeners (README, "Security", "Limits on the MQTT listeners"). */
  readonly listenerLimits: {
    readonly tlsHandshakeTimeoutMs: number;
    readonly wsHandshakeTimeoutMs: number;
    /** Largest remaining length of a packet before the session is authenticated (the CONNECT). */
    readonly connectMaxBytes: number;
    /** Open sockets of every MQTT listener together. */
    readonly maxConnections: number;
    readonly maxConnectionsPerAddress: number;
    /** Keepalive 0 or above this is served as this: a connection silent for 1.5 times as long is closed. */
    readonly maxKeepaliveS: number;
    /** Failed authentications and reconnect storms (src/broker/connect-throttle.ts). */
    readonly throttle: {
      readonly authFailuresPerAddress: number;
      readonly authFailuresPerClient: number;
      readonly authFailureWindowMs: number;
      readonly authBanMs: number;
      readonly flappingMaxConnects: number;
      readonly flappingWindowMs: number;
      readonly flappingBanMs: number;
    };
  };
  readonly shutdownTimeoutMs: number;
  /** Pause of the aggregation job between runs when it has nothing to do. */
  readonly aggregationIntervalMs: number;
  /** Fraction of wall time the aggregation job may spend running (it pauses in proportion to its last run). */
  readonly aggregationMaxBusyShare: number;
  /** Raw bytes of rejections kept per device and UTC day; beyond, rejections are recorded without them (null: no quota). */
  readonly rejectionRawBytesPerDeviceDay: number | null;
  /** Period of the re-check of every live MQTT session's credentials (the fallback of NOTIFY). */
  readonly sessionRecheckMs: number;
  /** Lifetime of a new API token of each role when `--expires` is not given (README, "Security"). */
  readonly tokenTtlDays: Readonly<Record<TokenRoleName, number>>;
  /** README, "Retention": days per kind (null: forever), the window, and the schedule in `serve`. */
  readonly retention: RetentionSettings & {
    /** Pause between two scheduled runs in `serve`; 0: no scheduled run. */
    readonly intervalMs: number;
  };
}

export interface HttpRateLimits {
  /** Requests of one API token (or of VITALINK_ADMIN_TOKEN) per minute. */
  readonly perPrincipalPerMin: number;
  /** Refused tokens (401) from one source address per minute; beyond, the address is answered 429 until the minute ends. */
  readonly authFailuresPerMin: number;
  /** Requests for routes that do not exist (404) from one source address per minute. */
  readonly notFoundPerMin: number;
}

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export interface LoadConfigOptions {
  /**
   * `serve`: the listeners will open, so a plaintext listener on a non-loopback
   * HOST without VITALINK_ALLOW_PLAINTEXT_PUBLIC=1 is a problem too (reported with
   * the others). The other commands open no listener and are not refused.
   */
  readonly listening?: boolean;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, options: LoadConfigOptions = {}): Config {
  const parsed = envSchema.safeParse(env);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((issue) => {
        const name = String(issue.path[0] ?? 'environment');
        const value = env[name];
        const shown = value === undefined || /TOKEN|DATABASE_|SECRET/.test(name) ? '' : ` (got "${value}")`;
        return `${name}: ${issue.message}${shown}`;
      });
  const secretKeys = readSecretKeys(env);
  problems.push(...secretKeys.problems);
  const notifications = readNotificationSettings(env);
  problems.push(...notifications.problems);
  const oidc = readOidcSettings(env);
  problems.push(...oidc.problems);
  const mes = readMesSettings(env);
  problems.push(...mes.problems);
  if (options.listening) problems.push(...plaintextExposureProblems(exposureFromEnv(env)));
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const e = parsed.data;
  const config: Config = {
    secretKeys: secretKeys.keys,
    notifications: notifications.settings,
    mes: mes.settings,
    oidc: oidc.oidc,
    databaseUrl: e.DATABASE_URL,
    readReplica: e.DATABASE_READ_URL
      ? { url: e.DATABASE_READ_URL, maxLagMs: e.VITALINK_READ_REPLICA_MAX_LAG_MS }
      : undefined,
    databaseMigrationUrl: e.DATABASE_MIGRATION_URL,
    dataDir: path.resolve(e.VITALINK_DATA_DIR),
    embeddedPlacement: embeddedPlacementOf(env),
    host: e.HOST ?? DEFAULT_HOST,
    allowPlaintextPublic: e.VITALINK_ALLOW_PLAINTEXT_PUBLIC === '1',
    mqttPort: e.MQTT_PORT === 'off' ? undefined : e.MQTT_PORT,
    tls:
      e.MQTT_TLS_PORT !== undefined && e.TLS_CERT_FILE && e.TLS_KEY_FILE
        ? { port: e.MQTT_TLS_PORT, certFile: e.TLS_CERT_FILE, keyFile: e.TLS_KEY_FILE }
        : undefined,
    wsPort: e.MQTT_WS_PORT,
    httpPort: e.HTTP_PORT === 'off' ? undefined : e.HTTP_PORT,
    https:
      e.HTTPS_PORT !== undefined && e.TLS_CERT_FILE && e.TLS_KEY_FILE
        ? {
            port: e.HTTPS_PORT,
            certFile: e.TLS_CERT_FILE,
            keyFile: e.TLS_KEY_FILE,
            hstsMaxAgeS: e.VITALINK_HSTS_MAX_AGE_S,
          }
        : undefined,
    tlsReloadIntervalMs: e.VITALINK_TLS_RELOAD_INTERVAL_MS,
    httpsLimits: {
      maxConnections: e.VITALINK_HTTPS_MAX_CONNECTIONS,
      maxConnectionsPerAddress: e.VITALINK_HTTPS_MAX_CONNECTIONS_PER_ADDRESS,
    },
    httpLimits: {
      maxConnections: e.VITALINK_HTTP_MAX_CONNECTIONS,
      maxConnectionsPerAddress: e.VITALINK_HTTP_MAX_CONNECTIONS_PER_ADDRESS,
    },
    deviceCerts:
      e.VITALINK_DEVICE_CERTS !== 'off' && e.VITALINK_DEVICE_CA_FILE
        ? { mode: e.VITALINK_DEVICE_CERTS, caFile: e.VITALINK_DEVICE_CA_FILE, crlFile: e.VITALINK_DEVICE_CRL_FILE }
        : undefined,
    adminToken: e.VITALINK_ADMIN_TOKEN,
    publicUrl: e.VITALINK_PUBLIC_URL?.replace(/\/+$/, ''),
    fhirProfiles: {
      profileBase: e.VITALINK_FHIR_PROFILE_BASE.replace(/\/+$/, ''),
      ...(e.VITALINK_FHIR_OID ? { oid: e.VITALINK_FHIR_OID } : {}),
    },
    instanceId: e.VITALINK_INSTANCE_ID ?? defaultInstanceId(),
    trustedProxies: e.VITALINK_TRUSTED_PROXIES,
    httpRateLimits: {
      perPrincipalPerMin: e.VITALINK_HTTP_RATE_LIMIT_PER_MIN,
      authFailuresPerMin: e.VITALINK_HTTP_AUTH_FAILURES_PER_MIN,
      notFoundPerMin: e.VITALINK_HTTP_NOT_FOUND_PER_MIN,
    },
    logLevel: e.LOG_LEVEL,
    batch: {
      maxRows: e.VITALINK_BATCH_MAX_ROWS,
      maxWaitMs: e.VITALINK_BATCH_MAX_WAIT_MS,
      maxInflight: e.VITALINK_BATCH_MAX_INFLIGHT,
      queueMaxReadings: e.VITALINK_QUEUE_MAX_READINGS,
      queueMaxBytes: e.VITALINK_QUEUE_MAX_BYTES,
    },
    holdMaxMs: e.VITALINK_HOLD_MAX_MS,
    readingMaxAgeMs: e.VITALINK_READING_MAX_AGE_DAYS * 86_400_000,
    dbPoolSize: e.VITALINK_DB_POOL_SIZE,
    dbSession: {
      idleInTransactionTimeoutMs: e.VITALINK_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS,
      lockTimeoutMs: e.VITALINK_DB_LOCK_TIMEOUT_MS,
      statementTimeoutMs: e.VITALINK_DB_STATEMENT_TIMEOUT_MS,
    },
    mqttConnectTimeoutMs: e.VITALINK_MQTT_CONNECT_TIMEOUT_MS,
    listenerLimits: {
      tlsHandshakeTimeoutMs: e.VITALINK_TLS_HANDSHAKE_TIMEOUT_MS,
      wsHandshakeTimeoutMs: e.VITALINK_WS_HANDSHAKE_TIMEOUT_MS,
      connectMaxBytes: e.VITALINK_MQTT_CONNECT_MAX_BYTES,
      maxConnections: e.VITALINK_MQTT_MAX_CONNECTIONS,
      maxConnectionsPerAddress: e.VITALINK_MQTT_MAX_CONNECTIONS_PER_ADDRESS,
      maxKeepaliveS: e.VITALINK_MQTT_MAX_KEEPALIVE_S,
      throttle: {
        authFailuresPerAddress: e.VITALINK_MQTT_AUTH_FAILURES_PER_ADDRESS,
        authFailuresPerClient: e.VITALINK_MQTT_AUTH_FAILURES_PER_CLIENT,
        authFailureWindowMs: e.VITALINK_MQTT_AUTH_FAILURE_WINDOW_S * 1000,
        authBanMs: e.VITALINK_MQTT_AUTH_BAN_S * 1000,
        flappingMaxConnects: e.VITALINK_MQTT_FLAPPING_MAX_CONNECTS,
        flappingWindowMs: e.VITALINK_MQTT_FLAPPING_WINDOW_S * 1000,
        flappingBanMs: e.VITALINK_MQTT_FLAPPING_BAN_S * 1000,
      },
    },
    shutdownTimeoutMs: e.VITALINK_SHUTDOWN_TIMEOUT_MS,
    aggregationIntervalMs: e.VITALINK_AGGREGATION_INTERVAL_MS,
    aggregationMaxBusyShare: e.VITALINK_AGGREGATION_MAX_BUSY_PCT / 100,
    rejectionRawBytesPerDeviceDay: e.VITALINK_REJECTIONS_RAW_BYTES_PER_DEVICE_DAY || null,
    sessionRecheckMs: e.VITALINK_SESSION_RECHECK_MS,
    tokenTtlDays: {
      admin: e.VITALINK_TOKEN_TTL_ADMIN_DAYS,
      operator: e.VITALINK_TOKEN_TTL_OPERATOR_DAYS,
      clinician: e.VITALINK_TOKEN_TTL_CLINICIAN_DAYS,
    },
    retention: {
      readingsDays: e.VITALINK_RETENTION_READINGS_DAYS || null,
      rejectionsDays: e.VITALINK_RETENTION_REJECTIONS_DAYS || null,
      auditDays: e.VITALINK_RETENTION_AUDIT_DAYS || null,
      readingMaxAgeMs: e.VITALINK_READING_MAX_AGE_DAYS * 86_400_000,
      intervalMs: e.VITALINK_RETENTION_INTERVAL_MS,
    },
  };
  return deepFreeze(config);
}

// ---- Notifications (README, "Notifications") ----

export interface NotificationSettings {
  /** Unset without VITALINK_SMTP_HOST: e-mail notifications wait until it is set. */
  readonly smtp: SmtpSettings | undefined;
  readonly retry: RetrySettings;
  readonly timeoutMs: number;
  readonly pollMs: number;
  readonly escalationDelays: EscalationDelays;
}

const ESCALATION_DELAY_UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** An escalation delay: a duration (30m, 2h, 1d, 90s) or `off`; undefined when not understood. */
export function parseEscalationDelay(text: string): number | null | undefined {
  const v = text.trim();
  if (v === 'off') return null;
  const m = /^(\d{1,6})([smhd])$/.exec(v);
  if (!m || Number(m[1]) === 0) return undefined;
  return Number(m[1]) * ESCALATION_DELAY_UNITS[m[2]]!;
}

const notificationSchema = z.object({
  VITALINK_SMTP_HOST: z.preprocess(emptyAsUndefined, z.string().optional()),
  VITALINK_SMTP_PORT: z.preprocess(emptyAsUndefined, portNumber().default(587)),
  VITALINK_SMTP_TLS: z.preprocess(
    emptyAsUndefined,
    z
      .enum(['required', 'opportunistic', 'implicit'], {
        message:
          'must be required (STARTTLS or fail), opportunistic (STARTTLS when offered) or implicit (TLS from the start, port 465)',
      })
      .default('required'),
  ),
  VITALINK_SMTP_CLIENT_CERT_FILE: z.preprocess(emptyAsUndefined, z.string().optional()),
  VITALINK_SMTP_CLIENT_KEY_FILE: z.preprocess(emptyAsUndefined, z.string().optional()),
  VITALINK_SMTP_CA_FILE: z.preprocess(emptyAsUndefined, z.string().optional()),
  VITALINK_SMTP_FROM: z.preprocess(emptyAsUndefined, z.string().optional()),
  VITALINK_SMTP_USER: z.preprocess(emptyAsUndefined, z.string().optional()),
  VITALINK_SMTP_PASSWORD: z.preprocess(emptyAsUndefined, z.string().optional()),
  VITALINK_NOTIFY_TIMEOUT_MS: positiveInt(10_000),
  VITALINK_NOTIFY_POLL_MS: positiveInt(1_000),
  VITALINK_NOTIFY_MAX_ATTEMPTS: z.preprocess(
    emptyAsUndefined,
    z.coerce
      .number()
      .int()
      .min(1, 'must be 1 or more attempts')
      .max(100, 'must be at most 100 attempts')
      .default(DEFAULT_RETRY.maxAttempts),
  ),
  VITALINK_NOTIFY_RETRY_BASE_MS: positiveInt(DEFAULT_RETRY.baseDelayMs),
  VITALINK_NOTIFY_RETRY_MAX_MS: positiveInt(DEFAULT_RETRY.maxDelayMs),
});

/**
 * The notification settings, read apart from the others (their block of the README's
 * configuration table); problems name the setting and never quote the password.
 */
export function readNotificationSettings(env: NodeJS.ProcessEnv): {
  settings: NotificationSettings;
  problems: string[];
} {
  const problems: string[] = [];
  const parsed = notificationSchema.safeParse(env);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0] ?? 'environment');
      const shown = /PASSWORD/.test(name) || env[name] === undefined ? '' : ` (got "${env[name]}")`;
      problems.push(`${name}: ${issue.message}${shown}`);
    }
  }
  const delays: Record<string, number | null> = { ...DEFAULT_ESCALATION_DELAYS };
  for (const severity of ALERT_SEVERITIES) {
    const name = `VITALINK_ESCALATION_${severity.toUpperCase()}`;
    const text = env[name];
    if (text === undefined || text.trim() === '') continue;
    const delay = parseEscalationDelay(text);
    if (delay === undefined) {
      problems.push(`${name}: must be a duration (30m, 2h, 1d, 90s) or off (got "${text}")`);
    } else delays[severity] = delay;
  }
  const e = parsed.success ? parsed.data : undefined;
  // The relations between settings are checked on the raw values, so that they are reported with the others.
  const raw = (name: string) => (env[name] === undefined || env[name]!.trim() === '' ? undefined : env[name]!);
  if (raw('VITALINK_SMTP_HOST') !== undefined) {
    if (raw('VITALINK_SMTP_FROM') === undefined) {
      problems.push(
        'VITALINK_SMTP_FROM: set the address notifications are sent from (e.g. vitalink@hospital.example) along with VITALINK_SMTP_HOST',
      );
    }
    if (
      (raw('VITALINK_SMTP_CLIENT_CERT_FILE') === undefined) !==
      (raw('VITALINK_SMTP_CLIENT_KEY_FILE') === undefined)
    ) {
      problems.push(
        'VITALINK_SMTP_CLIENT_CERT_FILE and VITALINK_SMTP_CLIENT_KEY_FILE: set both (the client certificate and its key) or neither',
      );
    }
    for (const name of ['VITALINK_SMTP_CLIENT_CERT_FILE', 'VITALINK_SMTP_CLIENT_KEY_FILE', 'VITALINK_SMTP_CA_FILE']) {
      const file = raw(name);
      if (file !== undefined && !fs.existsSync(file)) problems.push(`${name}: ${file} does not exist; check the path`);
    }
    if (raw('VITALINK_SMTP_PASSWORD') !== undefined && raw('VITALINK_SMTP_USER') === undefined) {
      problems.push('VITALINK_SMTP_PASSWORD: set VITALINK_SMTP_USER too (the password is of that user)');
    }
  }
  let smtp: SmtpSettings | undefined;
  if (e?.VITALINK_SMTP_HOST !== undefined) {
    smtp = {
      host: e.VITALINK_SMTP_HOST,
      port: e.VITALINK_SMTP_PORT,
      tls: e.VITALINK_SMTP_TLS,
      clientCertFile: e.VITALINK_SMTP_CLIENT_CERT_FILE,
      clientKeyFile: e.VITALINK_SMTP_CLIENT_KEY_FILE,
      caFile: e.VITALINK_SMTP_CA_FILE,
      from: e.VITALINK_SMTP_FROM ?? '',
      user: e.VITALINK_SMTP_USER,
      password: e.VITALINK_SMTP_PASSWORD,
      timeoutMs: e.VITALINK_NOTIFY_TIMEOUT_MS,
    };
  }
  if (e && e.VITALINK_NOTIFY_RETRY_MAX_MS < e.VITALINK_NOTIFY_RETRY_BASE_MS) {
    problems.push('VITALINK_NOTIFY_RETRY_MAX_MS: must be at least VITALINK_NOTIFY_RETRY_BASE_MS');
  }
  return {
    settings: {
      smtp,
      retry: {
        maxAttempts: e?.VITALINK_NOTIFY_MAX_ATTEMPTS ?? DEFAULT_RETRY.maxAttempts,
        baseDelayMs: e?.VITALINK_NOTIFY_RETRY_BASE_MS ?? DEFAULT_RETRY.baseDelayMs,
        maxDelayMs: e?.VITALINK_NOTIFY_RETRY_MAX_MS ?? DEFAULT_RETRY.maxDelayMs,
      },
      timeoutMs: e?.VITALINK_NOTIFY_TIMEOUT_MS ?? 10_000,
      pollMs: e?.VITALINK_NOTIFY_POLL_MS ?? 1_000,
      escalationDelays: delays as EscalationDelays,
    },
    problems,
  };
}

/** README, "Feeding Mon espace santé". */
export interface MesSettings {
  /** VITALINK_MES_EDITOR_OID: the editor's OID (root of meta.source); unset: no bundle can be built. */
  readonly editorOid: string | undefined;
  /** VITALINK_MES_SOURCE_OID: meta.source of the Observations, under the editor's OID (default: it). */
  readonly sourceOid: string | undefined;
  /** VITALINK_MES_DEVICE_OID: the system of the Devices' identifiers (default: the editor's OID). */
  readonly deviceOid: string | undefined;
  /** VITALINK_MES_TYPES: the reading types fed. */
  readonly types: readonly ReadingType[];
  /** The ANS profiles' base (VITALINK_FHIR_PROFILE_BASE), as the FHIR API uses it. */
  readonly profiles: FhirProfileSettings;
  /** Unset without VITALINK_MES_URL: nothing is queued or pushed. */
  readonly push: MesPushSettings | undefined;
}

export interface MesPushSettings {
  readonly url: string;
  /** A file holding the access token, read again at every attempt (a renewal outside Vitalink is taken at once). */
  readonly tokenFile: string | undefined;
  /** The header carrying it: Authorization (as "Bearer <token>") or another name (the token as is). */
  readonly authHeader: string;
  readonly retry: RetrySettings;
  readonly timeoutMs: number;
  readonly pollMs: number;
}

const mesSchema = z.object({
  VITALINK_MES_URL: z.preprocess(emptyAsUndefined, z.string().optional()),
  VITALINK_MES_EDITOR_OID: z.preprocess(
    emptyAsUndefined,
    z.string().regex(OID_PATTERN, 'must be an OID (digits and dots, e.g. 1.2.250.1.999.1)').optional(),
  ),
  VITALINK_MES_SOURCE_OID: z.preprocess(
    emptyAsUndefined,
    z.string().regex(OID_PATTERN, 'must be an OID under VITALINK_MES_EDITOR_OID').optional(),
  ),
  VITALINK_MES_DEVICE_OID: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .regex(OID_PATTERN, "must be an OID (digits and dots), the system of the Devices' identifiers")
      .optional(),
  ),
  VITALINK_MES_TOKEN_FILE: z.preprocess(emptyAsUndefined, z.string().optional()),
  VITALINK_MES_AUTH_HEADER: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .regex(/^[A-Za-z0-9-]+$/, 'must be an HTTP header name (letters, digits, dashes)')
      .default('Authorization'),
  ),
  VITALINK_MES_TIMEOUT_MS: positiveInt(10_000),
  VITALINK_MES_POLL_MS: positiveInt(1_000),
  VITALINK_MES_MAX_ATTEMPTS: z.preprocess(
    emptyAsUndefined,
    z.coerce
      .number()
      .int()
      .min(1, 'must be 1 or more attempts')
      .max(100, 'must be at most 100 attempts')
      .default(DEFAULT_RETRY.maxAttempts),
  ),
  VITALINK_MES_RETRY_BASE_MS: positiveInt(DEFAULT_RETRY.baseDelayMs),
  VITALINK_MES_RETRY_MAX_MS: positiveInt(DEFAULT_RETRY.maxDelayMs),
});

/**
 * The Mon espace santé settings (README, "Feeding Mon espace santé"), read apart
 * from the others; problems name the setting and never quote the token.
 */
export function readMesSettings(env: NodeJS.ProcessEnv): { settings: MesSettings; problems: string[] } {
  const problems: string[] = [];
  const parsed = mesSchema.safeParse(env);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0] ?? 'environment');
      const shown = env[name] === undefined ? '' : ` (got "${env[name]}")`;
      problems.push(`${name}: ${issue.message}${shown}`);
    }
  }
  // The settings that parse are read all the same, so that every problem is reported at once.
  const bad = new Set(parsed.success ? [] : parsed.error.issues.map((issue) => String(issue.path[0])));
  const e = parsed.success
    ? parsed.data
    : mesSchema.safeParse(Object.fromEntries(Object.entries(env).filter(([k]) => !bad.has(k)))).data;
  // VITALINK_FHIR_OID (validated with the other settings): the editor's OID unless VITALINK_MES_EDITOR_OID says otherwise.
  const fhirOid = env.VITALINK_FHIR_OID?.trim();
  const deploymentOid = fhirOid && OID_PATTERN.test(fhirOid) ? fhirOid : undefined;
  let types: readonly ReadingType[] = MES_DEFAULT_TYPES;
  const typesText = env.VITALINK_MES_TYPES?.trim();
  if (typesText) {
    const list = typesText
      .split(',')
      .map((t) => t.trim())
      .filter((t) => t !== '');
    const chosen: ReadingType[] = [];
    for (const t of list) {
      if (!isReadingType(t)) {
        problems.push(`VITALINK_MES_TYPES: "${t}" is not a reading type; use some of ${MES_FEEDABLE_TYPES.join(', ')}`);
      } else if (!MES_FEEDABLE_TYPES.includes(t)) {
        problems.push(`VITALINK_MES_TYPES: ${t} cannot be fed (${MES_NOT_FEEDABLE[t] ?? 'no profile'}); remove it`);
      } else if (!chosen.includes(t)) chosen.push(t);
    }
    types = chosen;
  }
  if (e?.VITALINK_MES_SOURCE_OID !== undefined) {
    const root = e.VITALINK_MES_EDITOR_OID ?? deploymentOid;
    if (root === undefined) {
      problems.push('VITALINK_MES_SOURCE_OID: set VITALINK_MES_EDITOR_OID too (the source must be under it)');
    } else if (!oidUnder(e.VITALINK_MES_SOURCE_OID, root)) {
      problems.push(
        `VITALINK_MES_SOURCE_OID: ${e.VITALINK_MES_SOURCE_OID} is not under VITALINK_MES_EDITOR_OID ${root}; the receiver refuses such an Observation (422)`,
      );
    }
  }
  let push: MesPushSettings | undefined;
  if (e?.VITALINK_MES_URL !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(e.VITALINK_MES_URL);
    } catch {
      problems.push(`VITALINK_MES_URL: "${e.VITALINK_MES_URL}" is not a URL (e.g. https://mes.example/fhir)`);
    }
    if (url && !(url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname)))) {
      problems.push(
        'VITALINK_MES_URL: must be https:// (plain http:// only to this machine), since it carries health data',
      );
    }
    if (e.VITALINK_MES_EDITOR_OID === undefined && deploymentOid === undefined) {
      problems.push(
        "VITALINK_MES_EDITOR_OID: set the editor's OID (the one the national agency gave; VITALINK_FHIR_OID serves when it is the same) along with VITALINK_MES_URL",
      );
    }
    if (e.VITALINK_MES_TOKEN_FILE !== undefined && !fs.existsSync(e.VITALINK_MES_TOKEN_FILE)) {
      problems.push(`VITALINK_MES_TOKEN_FILE: ${e.VITALINK_MES_TOKEN_FILE} does not exist; check the path`);
    }
    if (e.VITALINK_MES_RETRY_MAX_MS < e.VITALINK_MES_RETRY_BASE_MS) {
      problems.push('VITALINK_MES_RETRY_MAX_MS: must be at least VITALINK_MES_RETRY_BASE_MS');
    }
    push = {
      url: e.VITALINK_MES_URL,
      tokenFile: e.VITALINK_MES_TOKEN_FILE,
      authHeader: e.VITALINK_MES_AUTH_HEADER,
      retry: {
        maxAttempts: e.VITALINK_MES_MAX_ATTEMPTS,
        baseDelayMs: e.VITALINK_MES_RETRY_BASE_MS,
        maxDelayMs: e.VITALINK_MES_RETRY_MAX_MS,
      },
      timeoutMs: e.VITALINK_MES_TIMEOUT_MS,
      pollMs: e.VITALINK_MES_POLL_MS,
    };
  }
  const editorOid = e?.VITALINK_MES_EDITOR_OID ?? deploymentOid;
  const sourceOid = e?.VITALINK_MES_SOURCE_OID ?? deploymentOid ?? editorOid;
  if (e?.VITALINK_MES_SOURCE_OID === undefined && sourceOid && editorOid && !oidUnder(sourceOid, editorOid)) {
    problems.push(
      `VITALINK_FHIR_OID: ${sourceOid} (meta.source) is not under VITALINK_MES_EDITOR_OID ${editorOid}; the receiver refuses such an Observation (422): set VITALINK_MES_SOURCE_OID or fix one of them`,
    );
  }
  return {
    settings: {
      editorOid,
      sourceOid,
      deviceOid: e?.VITALINK_MES_DEVICE_OID ?? deploymentOid ?? editorOid,
      types,
      profiles: {
        profileBase: (env.VITALINK_FHIR_PROFILE_BASE?.trim() || DEFAULT_FHIR_PROFILE_BASE).replace(/\/+$/, ''),
        ...(deploymentOid ? { oid: deploymentOid } : {}),
      },
      push,
    },
    problems,
  };
}

export interface ConfiguredKeys {
  readonly current: SecretKey | undefined;
  readonly previous: readonly SecretKey[];
}

/** No key from outside the database: the database's key is used (README, "Rotating the key"). */
export const NO_CONFIGURED_KEYS: ConfiguredKeys = Object.freeze({ current: undefined, previous: Object.freeze([]) });

/**
 * VITALINK_SECRET_KEY (one key) or VITALINK_SECRET_KEY_FILE (a file readable by
 * its owner only: the current key on its first line, previous keys on the next
 * ones; blank lines and lines starting with # are skipped), and
 * VITALINK_SECRET_KEY_PREVIOUS (previous keys, comma-separated). Problems name
 * the setting and never quote a key.
 */
export function readSecretKeys(env: NodeJS.ProcessEnv): { keys: ConfiguredKeys; problems: string[] } {
  const set = (name: string) => (env[name] === undefined || env[name]!.trim() === '' ? undefined : env[name]!);
  const problems: string[] = [];
  const parse = (text: string, name: string, where: string): SecretKey | undefined => {
    const parsed = parseKeyText(text);
    if (!parsed.ok) {
      problems.push(`${name}: ${where}${parsed.problem}`);
      return undefined;
    }
    return new SecretKey(parsed.bytes, name);
  };
  const inline = set('VITALINK_SECRET_KEY');
  const file = set('VITALINK_SECRET_KEY_FILE');
  let current: SecretKey | undefined;
  const previous: SecretKey[] = [];
  if (inline !== undefined && file !== undefined) {
    problems.push(
      'VITALINK_SECRET_KEY and VITALINK_SECRET_KEY_FILE are both set: set one of them (the file may also hold previous keys)',
    );
  } else if (inline !== undefined) {
    current = parse(inline, 'VITALINK_SECRET_KEY', '');
  } else if (file !== undefined) {
    const lines = readKeyFile(file, problems);
    if (lines?.length === 0) {
      problems.push(`VITALINK_SECRET_KEY_FILE: ${file} holds no key; ${GENERATE_KEY_HINT} and write it in the file`);
    }
    for (const [i, line] of (lines ?? []).entries()) {
      const key = parse(line.text, 'VITALINK_SECRET_KEY_FILE', `line ${line.number} of ${file} `);
      if (key && i === 0) current = key;
      else if (key) previous.push(key);
    }
  }
  const previousText = set('VITALINK_SECRET_KEY_PREVIOUS');
  if (previousText !== undefined) {
    for (const [i, part] of previousText.split(',').entries()) {
      if (part.trim() === '') continue;
      const key = parse(part, 'VITALINK_SECRET_KEY_PREVIOUS', `key ${i + 1} `);
      if (key) previous.push(key);
    }
    if (inline === undefined && file === undefined) {
      problems.push(
        'VITALINK_SECRET_KEY_PREVIOUS: previous keys need a current key: set VITALINK_SECRET_KEY or VITALINK_SECRET_KEY_FILE too',
      );
    }
  }
  const seen = new Set(current ? [current.id] : []);
  for (const key of previous) {
    if (seen.has(key.id)) {
      problems.push(
        `${key.source}: key ${key.id} is given twice (as the current key or as another previous key); remove the repetition`,
      );
    }
    seen.add(key.id);
  }
  return { keys: { current, previous }, problems };
}

/** The key lines of a key file, refused (as ssh refuses a private key) when group or others may access it. */
function readKeyFile(file: string, problems: string[]): { text: string; number: number }[] | undefined {
  let text: string;
  try {
    const stat = fs.statSync(file);
    if (!stat.isFile()) {
      problems.push(`VITALINK_SECRET_KEY_FILE: ${file} is not a file; point it at the file that holds the key`);
      return undefined;
    }
    if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) {
      const mode = (stat.mode & 0o777).toString(8).padStart(4, '0');
      problems.push(
        `VITALINK_SECRET_KEY_FILE: ${file} is accessible by other users (mode ${mode}); a key file must be private to the user that runs vitalink: chmod 600 ${file}`,
      );
      return undefined;
    }
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as { code?: string }).code ?? 'error';
    problems.push(
      `VITALINK_SECRET_KEY_FILE: cannot read ${file} (${code}); check the path and that the user that runs vitalink owns the file`,
    );
    return undefined;
  }
  return text
    .split(/\r?\n/)
    .map((line, i) => ({ text: line.trim(), number: i + 1 }))
    .filter((line) => line.text !== '' && !line.text.startsWith('#'));
}

/**
 * Every listener binds to loopback unless HOST says otherwise (issue #13: plaintext
 * listeners reach the network only when the operator says so). interfaces.md 1.1
 * gave 0.0.0.0 with DATABASE_URL; clients on this machine see no difference.
 */
const DEFAULT_HOST = '127.0.0.1';

/** What decides whether the service may start its plaintext listeners. */
export interface ListenerExposure {
  readonly host: string;
  readonly allowPlaintextPublic: boolean;
  /** The plaintext listeners that will open: variable and port. */
  readonly plaintext: ReadonlyArray<readonly [name: string, port: string]>;
}

/** A host name or address that only this machine reaches: 127.0.0.0/8, ::1 (and its IPv4-mapped form), localhost. */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (net.isIPv4(h)) return h.startsWith('127.');
  if (net.isIPv6(h)) {
    const mapped = /^(?:0{0,4}:){0,5}:?ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
    if (mapped) return mapped[1]!.startsWith('127.');
    const list = new net.BlockList();
    list.addAddress('::1', 'ipv6');
    return list.check(h, 'ipv6');
  }
  return false;
}

/**
 * README, "Security", "Listening on a network": plaintext listeners (MQTT_PORT,
 * unless `off`, MQTT_WS_PORT, HTTP_PORT unless `off`) open on a non-loopback address only when
 * the operator says so with VITALINK_ALLOW_PLAINTEXT_PUBLIC=1. The TLS ones
 * (MQTT_TLS_PORT, HTTPS_PORT) need no statement.
 */
export function plaintextExposureProblems(x: ListenerExposure): string[] {
  if (x.allowPlaintextPublic || isLoopbackHost(x.host) || x.plaintext.length === 0) return [];
  const listeners = x.plaintext.map(([name, port]) => `${name} (${port})`).join(', ');
  return [
    `HOST: the plaintext listeners ${listeners} would listen on ${x.host}, which is not a loopback address, ` +
      'so anyone who reaches it could read device secrets, API tokens and patient data in transit. ' +
      'Set HOST=127.0.0.1 and put a TLS-terminating proxy in front, or serve TLS only (MQTT_TLS_PORT with MQTT_PORT=off, HTTPS_PORT with HTTP_PORT=off, TLS_CERT_FILE and TLS_KEY_FILE), ' +
      'or, if the network in front is trusted or TLS is terminated before it (e.g. ports published on 127.0.0.1 by docker compose), ' +
      'say so with VITALINK_ALLOW_PLAINTEXT_PUBLIC=1',
  ];
}

/** The exposure from the raw environment, so that it is checked even when another variable is invalid. */
function exposureFromEnv(env: NodeJS.ProcessEnv): ListenerExposure {
  const set = (name: string) => (env[name] === undefined || env[name] === '' ? undefined : env[name]);
  const host = set('HOST');
  const plaintext: [string, string][] = [
    ...(set('MQTT_PORT') !== 'off' ? [['MQTT_PORT', set('MQTT_PORT') ?? '1883'] as [string, string]] : []),
    ...(set('MQTT_WS_PORT') !== undefined ? [['MQTT_WS_PORT', set('MQTT_WS_PORT')!] as [string, string]] : []),
    ...(set('HTTP_PORT') !== 'off' ? [['HTTP_PORT', set('HTTP_PORT') ?? '8080'] as [string, string]] : []),
  ];
  return {
    host: host ?? DEFAULT_HOST,
    allowPlaintextPublic: env.VITALINK_ALLOW_PLAINTEXT_PUBLIC === '1',
    plaintext,
  };
}

/** The same check on a loaded configuration (createApp refuses to start without it). */
export function configExposureProblems(config: Config): string[] {
  return plaintextExposureProblems({
    host: config.host,
    allowPlaintextPublic: config.allowPlaintextPublic,
    plaintext: [
      ...(config.mqttPort !== undefined ? [['MQTT_PORT', String(config.mqttPort)] as const] : []),
      ...(config.wsPort !== undefined ? [['MQTT_WS_PORT', String(config.wsPort)] as const] : []),
      ...(config.httpPort !== undefined ? [['HTTP_PORT', String(config.httpPort)] as const] : []),
    ],
  });
}

/** An IPv4 or IPv6 address, or a CIDR block of one (`10.0.0.0/8`, `fd00::/8`). */
function isAddressOrBlock(entry: string): boolean {
  const [address, bits, extra] = entry.split('/');
  if (extra !== undefined || !address) return false;
  const family = net.isIP(address);
  if (family === 0) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}

/** The host name (its first label, in the instance id's alphabet) and the process id, e.g. `web-1-4242`. */
export function defaultInstanceId(hostname = os.hostname(), pid = process.pid): string {
  const host = hostname
    .split('.')[0]!
    .replace(/[^A-Za-z0-9_-]/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 48);
  return `${host || 'vitalink'}-${pid}`;
}

function deepFreeze<T extends object>(o: T): T {
  for (const v of Object.values(o)) if (v && typeof v === 'object') deepFreeze(v);
  return Object.freeze(o);
}

// ---- Sign-in with OpenID Connect (README, "Sign-in") -------------------------------------

/** Pro Santé Connect's defaults (../shared/design/french-interop.md, "Pro Santé Connect"). */
export const OIDC_DEFAULTS = {
  label: 'Pro Santé Connect',
  scopes: 'openid scope_all',
  acrValues: 'eidas1',
  practitionerClaims: ['SubjectNameID', 'preferred_username'],
  practitionerMatch: 'idnat-rpps' as PractitionerMatch,
  jwtAlgorithms: ['RS256', 'PS256', 'ES256'],
  sessionMaxHours: 12,
  sessionIdleMinutes: 30,
} as const;

const JWT_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

export type OidcClientAuth =
  | { readonly method: 'client_secret_basic'; readonly secret: string }
  | {
      readonly method: 'private_key_jwt';
      /** PKCS#8 PEM. */
      readonly keyPem: string;
      readonly alg: 'RS256' | 'ES256';
      /** VITALINK_OIDC_CLIENT_KEY_ID: the `kid` of the assertions, as registered at the issuer. */
      readonly keyId: string | null;
    };

export interface OidcSettings {
  /** VITALINK_OIDC_ISSUER: the issuer, whose /.well-known/openid-configuration is read. */
  readonly issuer: string;
  readonly clientId: string;
  /**
   * How the service authenticates at the token endpoint: client_secret_basic with
   * VITALINK_OIDC_CLIENT_SECRET (or the first line of VITALINK_OIDC_CLIENT_SECRET_FILE), or
   * private_key_jwt with the PEM private key of VITALINK_OIDC_CLIENT_KEY_FILE.
   */
  readonly clientAuth: OidcClientAuth;
  /** VITALINK_OIDC_REDIRECT_URL, default VITALINK_PUBLIC_URL + /auth/callback. */
  readonly redirectUrl: string;
  /** Where the issuer sends the browser back after sign-out at the issuer: the dashboard. */
  readonly postLogoutRedirectUrl: string;
  readonly scopes: string;
  /** null: no acr_values sent. */
  readonly acrValues: string | null;
  readonly label: string;
  /** The claims that name the practitioner, the first present wins (ID token, then userinfo). */
  readonly practitionerClaims: readonly string[];
  readonly practitionerMatch: PractitionerMatch;
  /** null: the API accepts no bearer JWT (only vlk_ tokens). */
  readonly apiAudience: string | null;
  readonly jwtAlgorithms: readonly string[];
  readonly sessionMaxMs: number;
  readonly sessionIdleMs: number;
  /** Cookies carry Secure (and the session cookie the __Host- prefix): the redirect URL is https. */
  readonly secureCookies: boolean;
}

function isLoopbackUrl(url: URL): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

/**
 * The VITALINK_OIDC_* and VITALINK_SESSION_* settings: undefined when
 * VITALINK_OIDC_ISSUER is unset (no sign-in with OpenID Connect); every problem
 * names its setting, never quotes a secret.
 */
export function readOidcSettings(env: NodeJS.ProcessEnv): { oidc: OidcSettings | undefined; problems: string[] } {
  const set = (name: string) => (env[name] === undefined || env[name]!.trim() === '' ? undefined : env[name]!.trim());
  const problems: string[] = [];
  const issuer = set('VITALINK_OIDC_ISSUER');
  if (issuer === undefined) {
    const stray = Object.keys(env).filter((k) => k.startsWith('VITALINK_OIDC_') && set(k) !== undefined);
    if (stray.length > 0) {
      problems.push(
        `${stray.join(', ')} set without VITALINK_OIDC_ISSUER: set VITALINK_OIDC_ISSUER (e.g. the Pro Santé Connect issuer, README "Sign-in") or unset them`,
      );
    }
    return { oidc: undefined, problems };
  }
  const url = (name: string, value: string, what: string): URL | undefined => {
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      problems.push(`${name}: must be an absolute https:// URL, ${what} (got "${value}")`);
      return undefined;
    }
    if (parsed.username || parsed.password || parsed.hash) {
      problems.push(`${name}: must be a URL without credentials or fragment, ${what}`);
      return undefined;
    }
    // Plain http only towards this machine (a local provider in tests and development).
    if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && isLoopbackUrl(parsed))) {
      problems.push(
        `${name}: must be an https:// URL (http:// only for localhost or 127.0.0.1), ${what} (got "${value}")`,
      );
      return undefined;
    }
    return parsed;
  };
  url('VITALINK_OIDC_ISSUER', issuer, 'the issuer whose /.well-known/openid-configuration is read');
  const clientId = set('VITALINK_OIDC_CLIENT_ID');
  if (clientId === undefined) {
    problems.push(
      'VITALINK_OIDC_CLIENT_ID: required with VITALINK_OIDC_ISSUER: the client id the issuer gave this service',
    );
  }
  let clientAuth: OidcClientAuth | undefined;
  const inlineSecret = set('VITALINK_OIDC_CLIENT_SECRET');
  const secretFile = set('VITALINK_OIDC_CLIENT_SECRET_FILE');
  const keyFile = set('VITALINK_OIDC_CLIENT_KEY_FILE');
  const given = [
    ['VITALINK_OIDC_CLIENT_SECRET', inlineSecret],
    ['VITALINK_OIDC_CLIENT_SECRET_FILE', secretFile],
    ['VITALINK_OIDC_CLIENT_KEY_FILE', keyFile],
  ].filter(([, v]) => v !== undefined);
  if (given.length > 1) {
    problems.push(
      `${given.map(([n]) => n).join(' and ')} are all set: set one of them (a client secret, or a private key)`,
    );
  } else if (inlineSecret !== undefined) {
    clientAuth = { method: 'client_secret_basic', secret: inlineSecret };
  } else if (secretFile !== undefined) {
    const secret = readSecretFile('VITALINK_OIDC_CLIENT_SECRET_FILE', secretFile, problems);
    if (secret) clientAuth = { method: 'client_secret_basic', secret };
  } else if (keyFile !== undefined) {
    const pem = readSecretFile('VITALINK_OIDC_CLIENT_KEY_FILE', keyFile, problems, { wholeFile: true });
    const alg = pem ? clientKeyAlgorithm(pem) : undefined;
    if (pem && !alg) {
      problems.push(
        `VITALINK_OIDC_CLIENT_KEY_FILE: ${keyFile} holds no RSA (2048 bits or more) or P-256 private key in PEM; make one with \`openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ${keyFile}\``,
      );
    }
    if (pem && alg)
      clientAuth = { method: 'private_key_jwt', keyPem: pem, alg, keyId: set('VITALINK_OIDC_CLIENT_KEY_ID') ?? null };
  } else {
    problems.push(
      'VITALINK_OIDC_CLIENT_SECRET (or VITALINK_OIDC_CLIENT_SECRET_FILE, or VITALINK_OIDC_CLIENT_KEY_FILE for private_key_jwt): required with VITALINK_OIDC_ISSUER: the client credential the issuer gave this service',
    );
  }
  const publicUrl = set('VITALINK_PUBLIC_URL')?.replace(/\/+$/, '');
  const redirectText = set('VITALINK_OIDC_REDIRECT_URL') ?? (publicUrl ? `${publicUrl}/auth/callback` : undefined);
  let redirect: URL | undefined;
  if (redirectText === undefined) {
    problems.push(
      'VITALINK_OIDC_REDIRECT_URL: needed with VITALINK_OIDC_ISSUER: set VITALINK_PUBLIC_URL (the redirect URL is then its /auth/callback) or VITALINK_OIDC_REDIRECT_URL (https://.../auth/callback, as registered at the issuer)',
    );
  } else {
    redirect = url(
      set('VITALINK_OIDC_REDIRECT_URL') ? 'VITALINK_OIDC_REDIRECT_URL' : 'VITALINK_PUBLIC_URL',
      redirectText,
      'the redirect URL registered at the issuer, ending in /auth/callback',
    );
    if (redirect && !redirect.pathname.endsWith('/auth/callback')) {
      problems.push(`VITALINK_OIDC_REDIRECT_URL: must end in /auth/callback, the route that takes the issuer's answer`);
    }
  }
  const scopes = set('VITALINK_OIDC_SCOPES') ?? OIDC_DEFAULTS.scopes;
  if (!scopes.split(/\s+/).includes('openid')) {
    problems.push(`VITALINK_OIDC_SCOPES: must include openid (got "${scopes}")`);
  }
  const acr = set('VITALINK_OIDC_ACR_VALUES') ?? OIDC_DEFAULTS.acrValues;
  const claims = (set('VITALINK_OIDC_PRACTITIONER_CLAIM')?.split(',') ?? OIDC_DEFAULTS.practitionerClaims)
    .map((c) => c.trim())
    .filter(Boolean);
  if (claims.length === 0 || claims.some((c) => !/^[A-Za-z0-9_.:-]{1,100}$/.test(c))) {
    problems.push(
      'VITALINK_OIDC_PRACTITIONER_CLAIM: must be claim names separated by commas (e.g. SubjectNameID,preferred_username)',
    );
  }
  const match = set('VITALINK_OIDC_PRACTITIONER_MATCH') ?? OIDC_DEFAULTS.practitionerMatch;
  if (!(PRACTITIONER_MATCHES as readonly string[]).includes(match)) {
    problems.push(
      `VITALINK_OIDC_PRACTITIONER_MATCH: must be one of ${PRACTITIONER_MATCHES.join(', ')} (idnat-rpps: "8" + RPPS as Pro Santé Connect's SubjectNameID; rpps: the 11 digits; id: the practitioner's id) (got "${match}")`,
    );
  }
  const audience = set('VITALINK_OIDC_API_AUDIENCE');
  const algorithms = (set('VITALINK_OIDC_JWT_ALGORITHMS')?.split(',') ?? [...OIDC_DEFAULTS.jwtAlgorithms]).map((a) =>
    a.trim(),
  );
  const badAlgorithms = algorithms.filter((a) => !JWT_ALGORITHMS.includes(a));
  if (badAlgorithms.length > 0 || algorithms.length === 0) {
    problems.push(
      `VITALINK_OIDC_JWT_ALGORITHMS: must be signature algorithms among ${JWT_ALGORITHMS.join(', ')}, separated by commas (none and HMAC ones are never accepted)`,
    );
  }
  const whole = (name: string, fallback: number, max: number): number => {
    const text = set(name);
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1 || n > max) {
      problems.push(`${name}: must be a whole number from 1 to ${max} (got "${text}")`);
      return fallback;
    }
    return n;
  };
  const maxHours = whole('VITALINK_SESSION_MAX_HOURS', OIDC_DEFAULTS.sessionMaxHours, 24 * 30);
  const idleMinutes = whole('VITALINK_SESSION_IDLE_MINUTES', OIDC_DEFAULTS.sessionIdleMinutes, 24 * 60);
  if (problems.length > 0 || !clientId || !clientAuth || !redirect) return { oidc: undefined, problems };
  const dashboard = new URL(redirect);
  dashboard.pathname = dashboard.pathname.replace(/auth\/callback$/, '');
  dashboard.search = '';
  return {
    oidc: {
      issuer,
      clientId,
      clientAuth,
      redirectUrl: redirect.href,
      postLogoutRedirectUrl: dashboard.href,
      scopes,
      acrValues: acr === 'none' ? null : acr,
      label: set('VITALINK_OIDC_LABEL') ?? OIDC_DEFAULTS.label,
      practitionerClaims: claims,
      practitionerMatch: match as PractitionerMatch,
      apiAudience: audience ?? null,
      jwtAlgorithms: algorithms,
      sessionMaxMs: maxHours * 3_600_000,
      sessionIdleMs: idleMinutes * 60_000,
      secureCookies: redirect.protocol === 'https:',
    },
    problems,
  };
}

/** The signature algorithm of a client private key (PEM): RS256 for RSA of 2048+ bits, ES256 for P-256. */
function clientKeyAlgorithm(pem: string): 'RS256' | 'ES256' | undefined {
  try {
    const key = crypto.createPrivateKey(pem);
    const details = key.asymmetricKeyDetails;
    if (key.asymmetricKeyType === 'rsa' && (details?.modulusLength ?? 0) >= 2048) return 'RS256';
    if (key.asymmetricKeyType === 'ec' && details?.namedCurve === 'prime256v1') return 'ES256';
    return undefined;
  } catch {
    return undefined;
  }
}

/** The first line of a secret file (or all of it), refused when group or others may access it (as the key file). */
function readSecretFile(
  name: string,
  file: string,
  problems: string[],
  options: { wholeFile?: boolean } = {},
): string | undefined {
  try {
    const stat = fs.statSync(file);
    if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) {
      const mode = (stat.mode & 0o777).toString(8).padStart(4, '0');
      problems.push(`${name}: ${file} is accessible by other users (mode ${mode}); chmod 600 ${file}`);
      return undefined;
    }
    const text = fs.readFileSync(file, 'utf8');
    const line = options.wholeFile ? text.trim() : text.split(/\r?\n/)[0]?.trim();
    if (!line) problems.push(`${name}: ${file} is empty; write the client credential in it`);
    return line || undefined;
  } catch (error) {
    const code = (error as { code?: string }).code ?? 'error';
    problems.push(
      `${name}: cannot read ${file} (${code}); check the path and that the user that runs vitalink owns it`,
    );
    return undefined;
  }
}
