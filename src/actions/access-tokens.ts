import { errors, jwtVerify } from 'jose';
import { practitionerKeyOf } from '../domain/practitioner-identity.ts';
import { AppError } from '../errors.ts';
import type { Db } from '../store/database.ts';
import type { OidcIssuer } from './oidc-issuer.ts';
import { findPractitioner, practitionerPrincipal } from './sign-in.ts';
import type { Principal } from './tokens.ts';

/** A JWS in compact form: three base64url parts (a vlk_ token never has dots). */
export function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token) && token.length <= 16_384;
}

/** Why a bearer JWT was refused (for the log only; the caller sees one answer). */
export type AccessTokenRefusal =
  | 'not_accepted'
  | 'expired'
  | 'bad_signature'
  | 'bad_claims'
  | 'id_token'
  | 'claim_missing'
  | 'claim_malformed'
  | 'unknown_practitioner';

/**
 * A bearer access token issued by the OpenID provider (README, "Sign-in", "API"):
 * a JWT whose signature is checked against the issuer's keys (jwks_uri, cached:
 * src/actions/oidc-issuer.ts), with `iss` the issuer, `aud` holding
 * VITALINK_OIDC_API_AUDIENCE, `exp` present and future, `nbf` (when present)
 * past, and the algorithm among VITALINK_OIDC_JWT_ALGORITHMS (never `none` nor
 * HMAC). An ID token (it carries a `nonce`) is no access token. The practitioner
 * is found from the claim of VITALINK_OIDC_PRACTITIONER_CLAIM as at sign-in.
 *
 * Cost per request: no HTTP call in the steady state (keys cached), the
 * signature check, the practitioner by unique index, their patients by index.
 */
export async function principalOfAccessToken(
  db: Db,
  issuer: OidcIssuer,
  token: string,
  now: Date,
): Promise<{ principal: Principal } | { refused: AccessTokenRefusal }> {
  const s = issuer.settings;
  if (!s.apiAudience) return { refused: 'not_accepted' };
  let payload: Record<string, unknown>;
  try {
    const verified = await jwtVerify(token, await issuer.keys(), {
      issuer: (await issuer.configuration()).serverMetadata().issuer,
      audience: s.apiAudience,
      algorithms: [...s.jwtAlgorithms],
      requiredClaims: ['exp'],
      currentDate: now,
      clockTolerance: 30,
    });
    payload = verified.payload;
  } catch (error) {
    if (error instanceof errors.JWKSTimeout || (error instanceof TypeError && !(error instanceof errors.JOSEError))) {
      throw new AppError('unavailable', "the sign-in provider's keys (jwks_uri) could not be read; try again later");
    }
    if (error instanceof errors.JWTExpired) return { refused: 'expired' };
    if (error instanceof errors.JWTClaimValidationFailed) return { refused: 'bad_claims' };
    if (error instanceof errors.JOSEError) return { refused: 'bad_signature' };
    throw error;
  }
  if ('nonce' in payload) return { refused: 'id_token' };
  const found = practitionerKeyOf(payload, s.practitionerClaims, s.practitionerMatch);
  if ('problem' in found) return { refused: found.problem };
  const practitioner = await findPractitioner(db, found.key);
  if (!practitioner) return { refused: 'unknown_practitioner' };
  return { principal: await practitionerPrincipal(db, practitioner.id, now) };
}
