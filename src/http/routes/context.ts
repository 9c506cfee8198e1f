import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import { AppError } from '../../errors.ts';
import type { FhirProfileSettings } from '../../fhir/profiles.ts';
import type { Db } from '../../store/database.ts';
import type { AuthDeps } from '../auth.ts';

export type ZodApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  ZodTypeProvider
>;

export interface RouteDeps extends AuthDeps {
  /** The primary: every write (audit rows included) and the reads that must see them. */
  readonly db: Db;
  /**
   * Where clinician reads of readings, series, indicators, patients and FHIR go:
   * the read replica while it keeps up, else the primary (src/store/read-replica.ts).
   * Called once per request, so that one request reads one database.
   */
  readonly readDb?: () => Db;
  readonly now: () => Date;
  /** VITALINK_PUBLIC_URL: the base of the links the service builds (src/http/links.ts). */
  readonly publicUrl?: string;
  /** VITALINK_FHIR_PROFILE_BASE and VITALINK_FHIR_OID (src/fhir/profiles.ts); absent: the defaults. */
  readonly fhirProfiles?: FhirProfileSettings;
}

/** Opaque cursors over a sort key. */
export function encodeCursor(key: string): string {
  return Buffer.from(key, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  return Buffer.from(cursor, 'base64url').toString('utf8');
}

/** A structured cursor (JSON inside the opaque string); 400 when it is not one this API issued. */
export function decodeJsonCursor<T>(
  cursor: string | undefined,
  schema: z.ZodType<T>,
  refusal = 'cursor is not one this API returned',
): T | undefined {
  const decoded = decodeCursor(cursor);
  if (decoded === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(decoded);
  } catch {
    json = undefined;
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new AppError('bad_request', refusal);
  return parsed.data;
}
