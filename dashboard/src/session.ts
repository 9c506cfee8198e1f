/**
 * Two ways to be signed in. With OpenID Connect (README, "Sign-in"): the
 * service's HttpOnly session cookie, which no script here can read; what the
 * dashboard knows of it comes from GET /auth/session (the practitioner's name,
 * the CSRF token sent as X-CSRF-Token with every request that changes
 * something). Or with an API token:
 *
 * The API token of this browser tab: typed once at the login, kept in
 * sessionStorage (gone when the tab closes, never shared with other tabs), sent
 * as `Authorization: Bearer`.
 */
const KEY = 'vitalink.token';

export function readToken(): string | null {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function storeToken(token: string): void {
  sessionStorage.setItem(KEY, token);
}

export function clearToken(): void {
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    // storage unavailable: nothing was kept
  }
}

let role: string | null = null;

/** The role of the signed-in token, from GET /api/v1/me (for messages such as 403s). */
export function currentRole(): string | null {
  return role;
}

export function setCurrentRole(value: string | null): void {
  role = value;
}

/** The sign-in session of the cookie, as GET /auth/session describes it. */
export interface CookieSession {
  practitionerId: string;
  name: string;
  expiresAt: string;
  idleEndsAt: string;
  csrfToken: string;
}

let cookieSession: CookieSession | null = null;

export function currentCookieSession(): CookieSession | null {
  return cookieSession;
}

export function setCookieSession(value: CookieSession | null): void {
  cookieSession = value;
}
