/**
 * When an API token expires (README, "Security"): `--expires` of `vitalink tokens
 * create` and `expires` of POST /api/v1/tokens. A duration from now (`90d`,
 * `12h`, `30m`, `3600s`), a time (RFC 3339 with an offset, or a date
 * `YYYY-MM-DD`, midnight UTC), or `never`, which must be asked for explicitly.
 */

export type TokenRoleName = 'admin' | 'operator' | 'clinician';

/** Default lifetime per role, in days, when no expiry is given (VITALINK_TOKEN_TTL_*_DAYS). */
export const DEFAULT_TOKEN_TTL_DAYS: Readonly<Record<TokenRoleName, number>> = Object.freeze({
  admin: 30,
  operator: 90,
  clinician: 90,
});

/** Longest lifetime a token may be given other than `never`: ten years. */
export const MAX_TOKEN_TTL_MS = 3650 * 86_400_000;

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export type ExpiryParse = { ok: true; expiresAt: Date | null } | { ok: false; message: string };

export function parseTokenExpiry(text: string, now: Date): ExpiryParse {
  const value = text.trim();
  if (value === 'never') return { ok: true, expiresAt: null };
  const duration = /^(\d{1,7})([smhd])$/.exec(value);
  let at: number;
  if (duration) {
    at = now.getTime() + Number(duration[1]) * UNIT_MS[duration[2]];
  } else if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    at = Date.parse(`${value}T00:00:00Z`);
  } else if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value)) {
    at = Date.parse(value);
  } else {
    at = Number.NaN;
  }
  if (!Number.isFinite(at)) {
    return {
      ok: false,
      message: `expiry "${text}" is not understood: use a duration (90d, 12h, 30m, 3600s), a date (2027-03-01), a time with an offset (2027-03-01T08:00:00+01:00), or never`,
    };
  }
  if (at <= now.getTime()) return { ok: false, message: `expiry "${text}" is not in the future` };
  if (at - now.getTime() > MAX_TOKEN_TTL_MS) {
    return { ok: false, message: `expiry "${text}" is more than ten years away; use never if that is what you mean` };
  }
  return { ok: true, expiresAt: new Date(at) };
}

export function defaultTokenExpiry(
  role: TokenRoleName,
  ttlDays: Readonly<Record<TokenRoleName, number>>,
  now: Date,
): Date {
  return new Date(now.getTime() + ttlDays[role] * 86_400_000);
}

/** A token's state at `now`. */
export function tokenState(
  token: { revokedAt: Date | null; expiresAt: Date | null },
  now: Date,
): 'active' | 'revoked' | 'expired' {
  if (token.revokedAt) return 'revoked';
  if (token.expiresAt && token.expiresAt.getTime() <= now.getTime()) return 'expired';
  return 'active';
}
