import { randomBytes } from 'node:crypto';
import type { KeyRing, RehashOnce } from '../domain/secret-keys.ts';
import { DEFAULT_TOKEN_TTL_DAYS, defaultTokenExpiry, parseTokenExpiry, tokenState } from '../domain/token-expiry.ts';
import { AppError } from '../errors.ts';
import type { Db } from '../store/database.ts';
import { findPractitioner } from '../store/care-teams.repository.ts';
import { existingPatientIds } from '../store/patients.repository.ts';
import {
  findApiToken,
  findToken,
  insertApiToken,
  type ListedToken,
  listApiTokens,
  rehashToken,
  revokeApiToken,
  touchToken,
  type HashedTokenTable,
} from '../store/tokens.repository.ts';

export const ROLES = ['admin', 'operator', 'clinician'] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling the API. */
export interface Principal {
  role: Role;
  /** null for the bootstrap token of VITALINK_ADMIN_TOKEN. */
  tokenId: string | null;
  /** Clinician tokens: the patients they may read (for a practitioner, those of their teams now). */
  patientIds: ReadonlySet<string> | null;
  /** The practitioner a clinician token or a signed-in session acts as (src/store/care-teams.repository.ts). */
  practitionerId?: string | null;
}

/** Tokens are 256 random bits; like device secrets they are stored as an HMAC under the current secret key. */
export function generateApiToken(): string {
  return `vlk_${randomBytes(32).toString('base64url')}`;
}

export interface NewToken {
  role: string;
  patientIds?: string[];
  /** A clinician token acting as this practitioner: its patients are those of their teams (README, "Care teams"). */
  practitionerId?: string;
  label?: string;
  /**
   * `--expires`: a duration, a time or `never` (src/domain/token-expiry.ts).
   * Undefined: the role's default lifetime, `ttlDays`.
   */
  expires?: string;
  ttlDays?: Readonly<Record<Role, number>>;
}

export async function createApiToken(
  db: Db,
  keys: KeyRing,
  input: NewToken,
  now: Date = new Date(),
): Promise<{ token: string; role: Role; id: string; expiresAt: Date | null }> {
  if (!(ROLES as readonly string[]).includes(input.role)) {
    throw new AppError('invalid_input', `role must be one of ${ROLES.join(', ')}`);
  }
  const role = input.role as Role;
  const patientIds = input.patientIds ?? [];
  const practitionerId = input.practitionerId;
  if (practitionerId !== undefined && patientIds.length > 0) {
    throw new AppError(
      'invalid_input',
      'a clinician token has either --practitioner (the patients of their teams) or --patients (a fixed list), not both',
    );
  }
  if (role === 'clinician' && patientIds.length === 0 && practitionerId === undefined) {
    throw new AppError(
      'invalid_input',
      'a clinician token needs --practitioner with the practitioner it acts as, or --patients with the ids of the patients it may read',
    );
  }
  if (role !== 'clinician' && (patientIds.length > 0 || practitionerId !== undefined)) {
    throw new AppError('invalid_input', '--patients and --practitioner are only for clinician tokens');
  }
  if (practitionerId !== undefined && !(await findPractitioner(db, practitionerId))) {
    throw new AppError(
      'not_found',
      `practitioner ${practitionerId} does not exist; add them with \`vitalink practitioners add\` first`,
    );
  }
  let expiresAt: Date | null;
  if (input.expires === undefined) {
    expiresAt = defaultTokenExpiry(role, input.ttlDays ?? DEFAULT_TOKEN_TTL_DAYS, now);
  } else {
    const parsed = parseTokenExpiry(input.expires, now);
    if (!parsed.ok) throw new AppError('invalid_input', parsed.message, { field: 'expires' });
    expiresAt = parsed.expiresAt;
  }
  if (patientIds.length > 0) {
    const found = await existingPatientIds(db, patientIds);
    const missing = patientIds.filter((id) => !found.includes(id));
    if (missing.length > 0) {
      throw new AppError(
        'not_found',
        `patient ${missing.join(', ')} does not exist; add it with \`vitalink patients add\``,
      );
    }
  }
  const token = generateApiToken();
  const id = await insertApiToken(db, {
    tokenHash: keys.current.hmac(token),
    secretKeyId: keys.current.id,
    role,
    patientIds: role === 'clinician' && practitionerId === undefined ? [...new Set(patientIds)] : null,
    practitionerId: practitionerId ?? null,
    label: input.label ?? null,
    expiresAt,
  });
  return { token, role, id, expiresAt };
}

/**
 * Why a presented token was refused: for the log only, never for the caller. A
 * token under a key that is no longer configured cannot be found (its hash is
 * under that key): it is `unknown`, and `vitalink keys status` counts such tokens.
 */
export type TokenRefusal = 'malformed' | 'unknown' | 'revoked' | 'expired';

/**
 * The principal of a presented token, or why it is refused. Looked up in the
 * database on every request (no cache): a revocation or an expiry holds on the
 * next request, on every instance. The token's HMAC under each key in use is
 * looked up; a token found under a key other than the current one is stored
 * again under the current key (once: `rehash`), before this resolves.
 */
export async function findPrincipal(
  db: Db,
  keys: KeyRing,
  token: string,
  rehash?: {
    once: RehashOnce;
    onRehashed: (tokenId: string, fromKeyId: string, toKeyId: string) => void;
    onError: (err: unknown) => void;
  },
): Promise<{ principal: Principal } | { refused: TokenRefusal; tokenId: string | null }> {
  if (token.length < 16 || token.length > 200) return { refused: 'malformed', tokenId: null };
  const hashes = keys.keys.map((key) => ({ key, hash: key.hmac(token) }));
  const row = await findToken(
    db,
    hashes.map((h) => h.hash),
  );
  // The hash found must be the one made under the key the row names.
  const under = row && hashes.find((h) => h.hash.equals(row.tokenHash));
  if (!row || !under || under.key.id !== row.secretKeyId) return { refused: 'unknown', tokenId: null };
  if (row.revoked) return { refused: 'revoked', tokenId: row.id };
  if (row.expired) return { refused: 'expired', tokenId: row.id };
  if (rehash && !keys.isCurrent(row.secretKeyId)) {
    const current = { hash: keys.current.hmac(token), keyId: keys.current.id };
    await rehash.once
      .run(`token:${row.id}`, async () => {
        const changed = await rehashToken(db, 'api_tokens', row.id, row.tokenHash, current);
        if (changed) rehash.onRehashed(row.id, row.secretKeyId, current.keyId);
        return changed;
      })
      .catch((err: unknown) => rehash.onError(err));
  }
  return {
    principal: {
      role: row.role,
      tokenId: row.id,
      patientIds: row.role === 'clinician' ? new Set(row.patientIds ?? []) : null,
      practitionerId: row.practitionerId,
    },
  };
}

/** How often, at most, a token's last use is written, per instance (and by the database, for all of them). */
export const TOKEN_TOUCH_INTERVAL_MS = 60_000;

/**
 * Notes that a token was used: at most once a minute per token and instance, in
 * the background (the request does not wait for it), and the statement itself
 * skips the write when another instance did it less than a minute ago.
 */
export function createTokenUsage(
  db: Db,
  onError: (err: unknown) => void,
  table: HashedTokenTable = 'api_tokens',
): (tokenId: string) => void {
  const lastWritten = new Map<string, number>();
  return (tokenId) => {
    const now = Date.now();
    const last = lastWritten.get(tokenId);
    if (last !== undefined && now - last < TOKEN_TOUCH_INTERVAL_MS) return;
    if (lastWritten.size > 100_000) lastWritten.clear();
    lastWritten.set(tokenId, now);
    touchToken(db, table, tokenId).catch(onError);
  };
}

/** A token as `tokens list` and GET /api/v1/tokens show it. */
export interface TokenView {
  id: string;
  role: Role;
  label: string | null;
  patientIds: string[] | null;
  /** The practitioner a clinician token acts as (null: none). */
  practitionerId: string | null;
  state: 'active' | 'revoked' | 'expired';
  createdAt: string;
  /** null: never expires. */
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export function tokenView(t: ListedToken, now: Date): TokenView {
  return {
    id: t.id,
    role: t.role,
    label: t.label,
    patientIds: t.patientIds,
    practitionerId: t.practitionerId,
    state: tokenState(t, now),
    createdAt: t.createdAt.toISOString(),
    expiresAt: t.expiresAt?.toISOString() ?? null,
    lastUsedAt: t.lastUsedAt?.toISOString() ?? null,
    revokedAt: t.revokedAt?.toISOString() ?? null,
  };
}

/** Most tokens in one page of `tokens list` and GET /api/v1/tokens. */
export const MAX_TOKENS_PAGE = 1000;

/** Tokens by id, a page at a time: `next` is the id to ask after for the next page (null: the last page). */
export async function listTokens(
  db: Db,
  now: Date,
  page: { afterId?: string; limit?: number } = {},
): Promise<{ items: TokenView[]; next: string | null }> {
  const limit = page.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_TOKENS_PAGE) {
    throw new AppError('invalid_input', `limit must be a whole number from 1 to ${MAX_TOKENS_PAGE}`, {
      field: 'limit',
    });
  }
  if (page.afterId !== undefined && !/^\d{1,18}$/.test(page.afterId)) {
    throw new AppError('invalid_input', `after must be a token id as \`tokens list\` shows it, not "${page.afterId}"`, {
      field: 'after',
    });
  }
  const rows = await listApiTokens(db, { afterId: page.afterId, limit: limit + 1 });
  const items = rows.slice(0, limit).map((t) => tokenView(t, now));
  return { items, next: rows.length > limit ? items[items.length - 1]!.id : null };
}

function unknownToken(id: string): AppError {
  return new AppError(
    'not_found',
    `token ${id} does not exist; \`vitalink tokens list\` (or GET /api/v1/tokens) shows the tokens and their ids`,
  );
}

/** Revokes a token by its id: refused on its next request, on every instance. */
export async function revokeToken(db: Db, id: string, now: Date): Promise<TokenView> {
  if (!/^\d{1,18}$/.test(id)) throw unknownToken(id);
  if (!(await revokeApiToken(db, id))) throw unknownToken(id);
  const found = await findApiToken(db, id);
  if (!found) throw unknownToken(id);
  return tokenView(found, now);
}
