/**
 * The dashboard's only way to the service: /api/v1 with `Authorization: Bearer`,
 * and /readyz. Errors of the API (`{ error: { code, message, issues? } }`) become
 * an ApiError; a 401 also signs the user out (the token was refused).
 */
import type { Page, Readiness } from './types.ts';
import { clearToken, type CookieSession, currentCookieSession, readToken, setCookieSession } from './session.ts';

export interface Issue {
  path: string;
  message: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly issues: Issue[];

  constructor(status: number, code: string, message: string, issues: Issue[] = []) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.issues = issues;
  }
}

/** `viaCookie`: the refused credential was the sign-in session (OpenID Connect), not an API token. */
type Listener = (viaCookie: boolean) => void;
const unauthorizedListeners = new Set<Listener>();

/** Called when the service refuses the token (401): the app goes back to the login. */
export function onUnauthorized(listener: Listener): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

export type Query = Record<string, string | number | undefined | null>;

function url(path: string, query?: Query): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== null) params.set(k, String(v));
  const qs = params.toString();
  return `/api/v1${path}${qs ? `?${qs}` : ''}`;
}

async function request<T>(
  method: string,
  path: string,
  options: { query?: Query; body?: unknown; signal?: AbortSignal; token?: string } = {},
): Promise<T> {
  const token = options.token ?? readToken();
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  // Signed in with OpenID Connect: the cookie goes along, and the CSRF token with what changes something.
  const cookie = token ? null : currentCookieSession();
  if (cookie && method !== 'GET') headers['x-csrf-token'] = cookie.csrfToken;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(url(path, options.query), {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
      cache: 'no-store',
      credentials: cookie ? 'same-origin' : 'omit',
    });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    throw new ApiError(0, 'network', 'the service did not answer');
  }
  let body: unknown = undefined;
  const text = await response.text();
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
  }
  if (!response.ok) {
    const error = (body as { error?: { code?: string; message?: string; issues?: Issue[] } } | undefined)?.error;
    const apiError = new ApiError(
      response.status,
      error?.code ?? `http_${response.status}`,
      error?.message ?? response.statusText,
      error?.issues ?? [],
    );
    // A token given explicitly is being tried at the login: its 401 is that form's business.
    if (response.status === 401 && options.token === undefined) {
      clearToken();
      setCookieSession(null);
      for (const listener of unauthorizedListeners) listener(cookie !== null);
    }
    throw apiError;
  }
  return body as T;
}

export const api = {
  get: <T>(path: string, query?: Query, signal?: AbortSignal) => request<T>('GET', path, { query, signal }),
  post: <T>(path: string, body?: unknown) => request<T>('POST', path, { body: body ?? {} }),
  put: <T>(path: string, body: unknown) => request<T>('PUT', path, { body }),
  /** For the login: tries a token that is not stored yet. */
  getWithToken: <T>(path: string, token: string) => request<T>('GET', path, { token }),
};

/**
 * Every item of a paginated list, following nextCursor, up to `max` items.
 * `truncated` says whether more were left.
 */
export async function getAll<T>(
  path: string,
  query: Query,
  max: number,
  signal?: AbortSignal,
): Promise<{ items: T[]; truncated: boolean }> {
  const items: T[] = [];
  let cursor: string | null | undefined;
  for (;;) {
    const page: Page<T> = await api.get<Page<T>>(path, { ...query, cursor: cursor ?? undefined }, signal);
    items.push(...page.items);
    cursor = page.nextCursor;
    if (!cursor) return { items, truncated: false };
    if (items.length >= max) return { items, truncated: true };
  }
}

/** A GET answered as CSV (Accept: text/csv), e.g. the activity report: its text. */
export async function getCsv(path: string, query?: Query): Promise<string> {
  const token = readToken();
  const headers: Record<string, string> = { accept: 'text/csv' };
  if (token) headers.authorization = `Bearer ${token}`;
  let response: Response;
  try {
    response = await fetch(url(path, query), { headers, cache: 'no-store', credentials: 'omit' });
  } catch {
    throw new ApiError(0, 'network', 'the service did not answer');
  }
  if (!response.ok) {
    const body = (await response.json().catch(() => undefined)) as { error?: { code?: string; message?: string } };
    throw new ApiError(response.status, body?.error?.code ?? `http_${response.status}`, body?.error?.message ?? '');
  }
  return response.text();
}

/** GET /readyz: readiness of the database and broker; 503 is an answer too. */
export async function readiness(signal?: AbortSignal): Promise<Readiness> {
  let response: Response;
  try {
    response = await fetch('/readyz', { cache: 'no-store', credentials: 'omit', signal });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    throw new ApiError(0, 'network', 'the service did not answer');
  }
  const body = (await response.json().catch(() => undefined)) as Readiness | undefined;
  if (!body?.checks) throw new ApiError(response.status, `http_${response.status}`, response.statusText);
  return body;
}

/** GET /auth/session: whether sign-in with OpenID Connect is offered, and the session of the cookie. */
export interface SignInState {
  signIn: { label: string; loginUrl: string } | null;
  session: CookieSession | null;
}

export async function signInState(): Promise<SignInState> {
  let response: Response;
  try {
    response = await fetch('/auth/session', { cache: 'no-store', credentials: 'same-origin' });
  } catch {
    throw new ApiError(0, 'network', 'the service did not answer');
  }
  if (!response.ok) throw new ApiError(response.status, `http_${response.status}`, response.statusText);
  return (await response.json()) as SignInState;
}

/** POST /auth/logout: ends the cookie's session; the issuer's sign-out page to go to, or null. */
export async function endCookieSession(): Promise<string | null> {
  const session = currentCookieSession();
  setCookieSession(null);
  if (!session) return null;
  const response = await fetch('/auth/logout', {
    method: 'POST',
    cache: 'no-store',
    credentials: 'same-origin',
    headers: { 'x-csrf-token': session.csrfToken, accept: 'application/json' },
  });
  if (!response.ok) return null;
  const body = (await response.json().catch(() => null)) as { endSessionUrl?: string | null } | null;
  return body?.endSessionUrl ?? null;
}
