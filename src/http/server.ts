import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { AppError } from '../errors.ts';
import { auditRefusal, authenticateRequest, sameSecret } from './auth.ts';
import { dashboardRoutes } from './dashboard.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { type Db, isDatabaseUnreachable } from '../store/database.ts';
import { alertsRoutes } from './routes/alerts.routes.ts';
import { careTeamsRoutes } from './routes/care-teams.routes.ts';
import { devicesRoutes } from './routes/devices.routes.ts';
import { deviceTokensRoutes } from './routes/device-tokens.routes.ts';
import { fhirRoutes } from './routes/fhir.routes.ts';
import { meRoutes } from './routes/me.routes.ts';
import { patientsRoutes } from './routes/patients.routes.ts';
import { readingsRoutes } from './routes/readings.routes.ts';
import { readingsCsvRoutes } from './routes/readings-csv.routes.ts';
import { glucoseReportRoutes } from './routes/glucose-report.routes.ts';
import { type IngestionReport, opsRoutes } from './routes/ops.routes.ts';
import { rejectionsRoutes } from './routes/rejections.routes.ts';
import { reportsRoutes } from './routes/reports.routes.ts';
import { reviewsRoutes } from './routes/reviews.routes.ts';
import { tokensRoutes } from './routes/tokens.routes.ts';
import { notificationsRoutes } from './routes/notifications.routes.ts';
import { authRoutes } from './routes/auth.routes.ts';
import { type DeviceReadingsDeps, deviceReadingsRoutes } from './routes/device-readings.routes.ts';
import { nightscoutRoutes } from './routes/nightscout.routes.ts';
import { mesRoutes } from './routes/mes.routes.ts';
import { OidcIssuer } from '../actions/oidc-issuer.ts';
import { cookieNames } from './session-cookies.ts';
import { createTokenUsage, type Role } from '../actions/tokens.ts';
import type { HttpRateLimits, MesSettings, OidcSettings } from '../config.ts';
import { MES_DEFAULT_TYPES } from '../domain/mes-feed.ts';
import { DEFAULT_FHIR_PROFILES } from '../fhir/profiles.ts';

const NO_MES: MesSettings = {
  editorOid: undefined,
  sourceOid: undefined,
  deviceOid: undefined,
  types: MES_DEFAULT_TYPES,
  profiles: DEFAULT_FHIR_PROFILES,
  push: undefined,
};
import { type KeyRing, RehashOnce } from '../domain/secret-keys.ts';
import { DEFAULT_HTTP_RATE_LIMITS, registerRateLimits } from './rate-limits.ts';
import { errorBody as errorBodySchema } from './schemas.ts';
import { securityHeaders } from './security-headers.ts';
import { strictBodies } from './strict-bodies.ts';
import type { FhirProfileSettings } from '../fhir/profiles.ts';

export interface HttpDeps {
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly adminToken: string | undefined;
  /** Readiness: database reachable and broker listening. */
  readonly readiness: () => Promise<{ database: boolean; broker: boolean }>;
  readonly db: Db;
  /** The keys of device secrets and API tokens (src/actions/secret-keys.ts, resolveKeyRing). */
  readonly keys: KeyRing;
  /** VITALINK_TRUSTED_PROXIES: whose X-Forwarded-For gives the client's address. */
  readonly trustedProxies?: readonly string[];
  /** Where clinician reads go now: the read replica while it keeps up (src/store/read-replica.ts); the primary by default. */
  readonly readDb?: () => Db;
  readonly now: () => Date;
  /** The figures of GET /api/v1/ops/ingestion. */
  readonly ingestion: () => Promise<IngestionReport>;
  /** Whether a device has a live MQTT session on this instance (GET /api/v1/devices). */
  readonly isDeviceConnected?: (deviceId: string) => boolean;
  /** Default lifetime of a new API token per role (POST /api/v1/tokens). */
  readonly tokenTtlDays?: Readonly<Record<Role, number>>;
  /** VITALINK_PUBLIC_URL (no trailing slash): the base of every link built; unset: the listener's address. */
  readonly publicUrl?: string;
  /** VITALINK_FHIR_PROFILE_BASE and VITALINK_FHIR_OID (src/fhir/profiles.ts); absent: the defaults. */
  readonly fhirProfiles?: FhirProfileSettings;
  /** README, "Security"; DEFAULT_HTTP_RATE_LIMITS when not given. */
  readonly rateLimits?: HttpRateLimits;
  /** Strict-Transport-Security max-age on HTTPS responses (src/http/https-listener.ts); 0 or absent: none. */
  readonly hstsMaxAgeS?: number;
  /** Sign-in with OpenID Connect (README, "Sign-in"); absent: tokens only. */
  readonly oidc?: OidcSettings;
  /** VITALINK_READING_MAX_AGE_DAYS in ms: bounds the measured times of a FHIR `_lastUpdated` or `_since` (src/fhir/observation-query.ts). */
  readonly readingMaxAgeMs?: number;
  /** Readings over HTTPS (device-protocol.md, "Over HTTPS"); absent: the route does not exist. */
  readonly deviceReadings?: DeviceReadingsDeps;
  /** README, "Feeding Mon espace santé"; absent: nothing configured (the bundles answer 503). */
  readonly mes?: MesSettings;
}

function errorBody(code: string, message: string, issues?: { path: string; message: string }[]) {
  return { error: { code, message, ...(issues ? { issues } : {}) } };
}

function isLoopback(address: string | undefined): boolean {
  return address === '::1' || address === '::ffff:127.0.0.1' || !!address?.startsWith('127.');
}

/**
 * The HTTP surface, built without listening so tests can use `inject()`.
 * Requests and responses go through zod schemas (responses are serialised
 * through theirs, so nothing outside them can leak), and the OpenAPI document is
 * generated from the same schemas. Errors always have the shape of
 * interfaces.md, `{ error: { code, message } }`; a 500 never shows an internal
 * message.
 */
export async function buildHttpServer(deps: HttpDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.log.child({ component: 'http' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    requestTimeout: 30_000,
    connectionTimeout: 30_000,
    bodyLimit: 1024 * 1024,
    return503OnClosing: true,
    // README, "Running several instances", "Source addresses": request.ip from X-Forwarded-For
    // only when the peer is a trusted load balancer (the rate limits and the audit use it).
    trustProxy: deps.trustedProxies && deps.trustedProxies.length > 0 ? [...deps.trustedProxies] : false,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // Before any route and before the OpenAPI generator sees them.
  strictBodies(app);
  securityHeaders(app, { hstsMaxAgeS: deps.hstsMaxAgeS });
  // Every API route may answer 429 (src/http/rate-limits.ts): the OpenAPI document says so.
  app.addHook('onRoute', (route) => {
    const response = route.schema?.response as Record<string, unknown> | undefined;
    if (route.url.startsWith('/api/v1/') && response && !('429' in response)) {
      route.schema = { ...route.schema, response: { ...response, 429: errorBodySchema } };
    }
  });
  const limits = await registerRateLimits(app, deps.rateLimits ?? DEFAULT_HTTP_RATE_LIMITS, deps.metrics);

  // The request id (fastify's, `reqId` in every log line of the request) goes back to
  // the caller and into the access log line and the audit rows, so the three can be joined.
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  // The access log, one line a request, and the request metrics: the route's pattern,
  // never its URL (ids in paths are patient data), and no query string, body or token.
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? null;
    const status = reply.statusCode;
    const ms = reply.elapsedTime;
    deps.metrics.httpRequestSeconds
      .labels(request.method, route ?? 'unmatched', `${Math.floor(status / 100)}xx`)
      .observe(ms / 1000);
    // A load balancer asks /healthz or /readyz every second (deploy/haproxy.cfg): their 200s at debug.
    const probe = status === 200 && (route === '/healthz' || route === '/readyz');
    request.log[probe ? 'debug' : 'info'](
      { method: request.method, route, status, ms: Math.round(ms * 10) / 10 },
      'request done',
    );
  });

  app.setErrorHandler(async (error: Error & { statusCode?: number; code?: string }, request, reply) => {
    // A denied or missing patient is written down; the caller sees the same 404 either way.
    if (!(await auditRefusal(deps.db, request, error))) {
      return reply.status(500).send(errorBody('internal', 'internal error; the service log has the details'));
    }
    if (error instanceof AppError) {
      if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
      const issues = error.field ? [{ path: `body.${error.field}`, message: error.message }] : undefined;
      return reply.status(error.status).send(errorBody(error.code, error.message, issues));
    }
    if (hasZodFastifySchemaValidationErrors(error)) {
      const issues = error.validation.flatMap((v) => {
        const at = [error.validationContext, ...String(v.instancePath).split('/').filter(Boolean)];
        // Strict bodies (src/http/strict-bodies.ts): each unknown key is an issue of its own, at its path.
        const unknown = v.keyword === 'unrecognized_keys' ? (v.params as { keys?: unknown }).keys : undefined;
        if (Array.isArray(unknown)) {
          return unknown.map((key) => ({
            path: [...at, String(key)].join('.'),
            message: 'unknown key: this request does not take it',
          }));
        }
        return [{ path: at.join('.'), message: v.message ?? 'invalid' }];
      });
      return reply
        .status(422)
        .send(
          errorBody(
            'invalid_input',
            `invalid ${error.validationContext}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
            issues,
          ),
        );
    }
    if (error.statusCode === 413) return reply.status(413).send(errorBody('payload_too_large', error.message));
    if (error.statusCode === 415) return reply.status(415).send(errorBody('unsupported_media_type', error.message));
    if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
      return reply.status(400).send(errorBody('bad_request', error.message));
    }
    // The database away is said once by its pool (`database unreachable`); each request's 500 is in the access log.
    request.log[isDatabaseUnreachable(error) ? 'debug' : 'error'](
      { err: error, url: request.routeOptions.url },
      'request failed',
    );
    return reply.status(500).send(errorBody('internal', 'internal error; the service log has the details'));
  });
  app.setNotFoundHandler(async (request, reply) => {
    await limits.unknownRoute(request);
    return reply
      .status(404)
      .send(errorBody('not_found', `no route for ${request.method} ${request.url.split('?')[0]}`));
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Vitalink API',
        version: '1',
        description:
          'Clinician and operator API of Vitalink. Authorization: Bearer <token> (see `vitalink tokens create`).',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          deviceBasic: { type: 'http', scheme: 'basic', description: 'device id and secret (device-protocol.md)' },
          deviceToken: {
            type: 'http',
            scheme: 'bearer',
            description: 'a device token of `vitalink devices token create` (README, "Device tokens")',
          },
          nightscoutSecret: {
            type: 'apiKey',
            in: 'header',
            name: 'api-secret',
            description: 'SHA-1 hex of the upload secret of `vitalink nightscout enable`',
          },
        },
      },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
    const checks = await deps.readiness();
    const ready = checks.database && checks.broker;
    return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks });
  });

  // interfaces.md: no auth on loopback; a token otherwise.
  app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
    // request.ip: a request relayed by a trusted load balancer on this machine is not a local one.
    if (!isLoopback(request.ip)) {
      // Under the failed-authentication limit of the address, as every token check.
      await limits.authenticate(request, async () => {
        const presented = request.headers.authorization ?? '';
        if (!deps.adminToken || !sameSecret(presented, `Bearer ${deps.adminToken}`)) {
          throw new AppError('unauthorized', 'metrics from outside this machine need an Authorization: Bearer token');
        }
        return { role: 'admin', tokenId: null, patientIds: null };
      });
    }
    const text = await deps.metrics.registry.metrics();
    return reply.header('content-type', deps.metrics.registry.contentType).send(text);
  });

  // Sign-in with OpenID Connect: one issuer (discovery and keys cached) for the routes and the API's hook.
  const signIn = deps.oidc
    ? { issuer: new OidcIssuer(deps.oidc), cookies: cookieNames(deps.oidc.secureCookies), now: deps.now }
    : undefined;
  const routeDeps = {
    signIn,
    db: deps.db,
    keys: deps.keys,
    rehash: new RehashOnce(),
    readDb: deps.readDb,
    adminToken: deps.adminToken,
    now: deps.now,
    publicUrl: deps.publicUrl,
    fhirProfiles: deps.fhirProfiles,
    limits,
    tokenUsed: createTokenUsage(deps.db, (err) => deps.log.warn({ err }, 'token last use not recorded')),
  };
  await app.register(
    async (api) => {
      // Who is calling comes first: a request without a valid token is a 401 before its input is looked at.
      api.addHook('onRequest', async (request) => {
        request.principal = await authenticateRequest(routeDeps, request);
      });
      meRoutes(api, routeDeps);
      patientsRoutes(api, routeDeps);
      devicesRoutes(api, { ...routeDeps, isDeviceConnected: deps.isDeviceConnected });
      deviceTokensRoutes(api, routeDeps);
      tokensRoutes(api, { ...routeDeps, tokenTtlDays: deps.tokenTtlDays });
      readingsRoutes(api, routeDeps);
      // Issue #15, item 5: a patient's readings as CSV.
      readingsCsvRoutes(api, routeDeps);
      // Issue #16, item 6: the glucose report (AGP), JSON and PDF.
      glucoseReportRoutes(api, routeDeps);
      alertsRoutes(api, routeDeps);
      // Issue #14, item 6-7: reviewed marks and the monthly activity report.
      reviewsRoutes(api, routeDeps);
      reportsRoutes(api, routeDeps);
      rejectionsRoutes(api, routeDeps);
      opsRoutes(api, { ...routeDeps, ingestion: deps.ingestion, isDeviceConnected: deps.isDeviceConnected });
      careTeamsRoutes(api, routeDeps);
      notificationsRoutes(api, routeDeps);
      mesRoutes(api, { ...routeDeps, mes: deps.mes ?? NO_MES });
    },
    { prefix: '/api/v1' },
  );
  // Devices authenticate as devices (HTTP Basic), not with API tokens: a scope of their own.
  const deviceReadings = deps.deviceReadings;
  if (deviceReadings) {
    await app.register(
      async (devices) => deviceReadingsRoutes(devices.withTypeProvider<ZodTypeProvider>(), deviceReadings),
      {
        prefix: '/api/v1',
      },
    );
    // Nightscout-style uploaders (README, "Nightscout uploads"): their own secret, their own scope.
    await app.register(
      async (uploads) =>
        nightscoutRoutes(uploads.withTypeProvider<ZodTypeProvider>(), {
          ...deviceReadings,
          db: deps.db,
          keys: deps.keys,
        }),
      { prefix: '/api/v1' },
    );
  }
  await app.register(fhirRoutes({ ...routeDeps, readingMaxAgeMs: deps.readingMaxAgeMs }), { prefix: '/fhir' });
  await app.register(async (auth) =>
    authRoutes(auth.withTypeProvider<ZodTypeProvider>(), { db: deps.db, now: deps.now, signIn, limits }),
  );
  await app.register(dashboardRoutes());

  return app;
}
