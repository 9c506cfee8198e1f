import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { AppError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics/metrics.ts';

export interface HttpDeps {
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly adminToken: string | undefined;
  /** Readiness: database reachable and broker listening. */
  readonly readiness: () => Promise<{ database: boolean; broker: boolean }>;
}

function errorBody(code: string, message: string) {
  return { error: { code, message } };
}

/** Constant-time comparison of a presented credential with the expected one. */
function sameSecret(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

function isLoopback(address: string | undefined): boolean {
  return (
    address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1' || !!address?.startsWith('127.')
  );
}

/**
 * The HTTP surface, built without listening so tests can use `inject()`.
 * Errors always have the shape of interfaces.md, `{ error: { code, message } }`,
 * and a 500 never shows an internal message.
 */
export function buildHttpServer(deps: HttpDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.log.child({ component: 'http' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    requestTimeout: 30_000,
    connectionTimeout: 30_000,
    bodyLimit: 1024 * 1024,
    return503OnClosing: true,
  });

  app.setErrorHandler((error: Error, request, reply) => {
    if (error instanceof AppError) {
      return reply.status(error.status).send(errorBody(error.code, error.message));
    }
    const status = (error as { statusCode?: number }).statusCode;
    if (status && status >= 400 && status < 500) {
      return reply.status(status).send(errorBody('bad_request', error.message));
    }
    request.log.error({ err: error, url: request.routeOptions.url }, 'request failed');
    return reply.status(500).send(errorBody('internal', 'internal error; the service log has the details'));
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send(errorBody('not_found', `no route for ${request.method} ${request.url.split('?')[0]}`)),
  );

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    const checks = await deps.readiness();
    const ready = checks.database && checks.broker;
    return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks });
  });

  // interfaces.md: no auth on loopback; a token otherwise.
  app.get('/metrics', async (request, reply) => {
    if (!isLoopback(request.socket.remoteAddress)) {
      if (!deps.adminToken || !sameSecret(request.headers.authorization ?? '', `Bearer ${deps.adminToken}`)) {
        return reply
          .status(401)
          .send(errorBody('unauthorized', 'metrics from outside this machine need an Authorization: Bearer token'));
      }
    }
    const text = await deps.metrics.registry.metrics();
    return reply.header('content-type', deps.metrics.registry.contentType).send(text);
  });

  return app;
}
