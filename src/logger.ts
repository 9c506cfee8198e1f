import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * Root logger: JSON lines on stdout with constant messages and data fields.
 * Never log a reading's value, a patient's name, a secret or a token: the
 * redaction below is the safety net, not the policy.
 */
export function createLogger(
  level: string,
  destination?: pino.DestinationStream,
  /** Fields of every line: `serve` gives its instance id (README, "Running several instances"). */
  fields: { readonly instance?: string } = {},
): Logger {
  return pino(
    {
      level,
      base: { service: 'vitalink', ...fields },
      timestamp: pino.stdTimeFunctions.isoTime,
      // "level":"warn", not 40: what a reader and a log pipeline expect (README, "Operations", "Logs").
      formatters: { level: (label) => ({ level: label }) },
      redact: {
        paths: [
          'password',
          'secret',
          'token',
          'databaseUrl',
          '*.password',
          '*.secret',
          '*.token',
          'req.headers.authorization',
          'headers.authorization',
        ],
        censor: '[redacted]',
      },
      serializers: { err: serializeError, error: serializeError },
    },
    destination,
  );
}

/**
 * Errors through an allow-list: `pg` errors carry offending values in `detail`,
 * `where` and sometimes `message`, and pino's default serializer copies them all.
 */
export function serializeError(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { message: String(err) };
  const e = err as Error & Record<string, unknown>;
  const isDatabaseError = typeof e.severity === 'string' && typeof e.code === 'string';
  if (isDatabaseError) {
    return {
      type: 'DatabaseError',
      code: e.code,
      severity: e.severity,
      table: e.table,
      constraint: e.constraint,
      routine: e.routine,
    };
  }
  return {
    type: e.name,
    message: e.message,
    code: typeof e.code === 'string' ? e.code : undefined,
    stack: e.stack,
  };
}
