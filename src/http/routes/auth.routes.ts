import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { clientPublicJwks, type OidcIssuer } from '../../actions/oidc-issuer.ts';
import {
  beginSignIn,
  csrfToken,
  decodePending,
  encodePending,
  endSession,
  findSession,
  finishSignIn,
  PENDING_SIGN_IN_MS,
  type SignInOutcome,
} from '../../actions/sign-in.ts';
import type { Principal } from '../../actions/tokens.ts';
import type { RequestLimits } from '../rate-limits.ts';
import { AppError } from '../../errors.ts';
import type { Db } from '../../store/database.ts';
import { csrfTokenMatches } from '../../actions/sign-in.ts';
import { errorBody } from '../schemas.ts';
import {
  clearPendingCookie,
  clearSessionCookie,
  type CookieNames,
  readCookie,
  setPendingCookie,
  setSessionCookie,
} from '../session-cookies.ts';
import type { ZodApp } from './context.ts';

export interface AuthRouteDeps {
  readonly db: Db;
  readonly now: () => Date;
  /** None when VITALINK_OIDC_ISSUER is unset: /auth/session then says so, the other routes do not exist. */
  readonly signIn?: { readonly issuer: OidcIssuer; readonly cookies: CookieNames };
  /** The HTTP rate limits: a refused callback counts as a failed authentication of its address. */
  readonly limits?: RequestLimits;
}

const html = z.string().describe('an HTML page saying what happened and what to do');

/**
 * Sign-in with OpenID Connect for the dashboard (README, "Sign-in"), outside
 * /api/v1 (these routes set and read the cookies themselves):
 * - `GET /auth/login`: to the issuer (authorization code + PKCE S256, state, nonce, acr_values);
 * - `GET /auth/callback`: the issuer's answer; a session and back to the dashboard,
 *   or a page saying why not (an unknown practitioner: what to ask the administrator);
 * - `GET /auth/session`: whether sign-in is offered (its label) and who is signed
 *   in, with the CSRF token (same-origin scripts only: no CORS);
 * - `POST /auth/logout`: ends the session (X-CSRF-Token), and where to go next:
 *   the issuer's end_session_endpoint when it has one;
 * - `GET /auth/jwks.json` (private_key_jwt only): the service's public key.
 */
export function authRoutes(app: ZodApp, deps: AuthRouteDeps): void {
  app.get(
    '/auth/session',
    {
      schema: {
        tags: ['sign-in'],
        summary: 'Whether sign-in with OpenID Connect is offered, and the signed-in practitioner (session cookie)',
        security: [],
        response: {
          200: z.object({
            signIn: z.object({ label: z.string(), loginUrl: z.string() }).nullable(),
            session: z
              .object({
                practitionerId: z.string(),
                name: z.string(),
                expiresAt: z.string(),
                idleEndsAt: z.string(),
                csrfToken: z.string().describe('send it as X-CSRF-Token with every request that changes something'),
              })
              .nullable(),
          }),
        },
      },
    },
    async (request, reply) => {
      const s = deps.signIn;
      if (!s) return { signIn: null, session: null };
      const signIn = { label: s.issuer.settings.label, loginUrl: 'auth/login' };
      const sessionId = readCookie(request, s.cookies.session);
      if (!sessionId) return { signIn, session: null };
      const found = await findSession(deps.db, s.issuer.settings, sessionId, deps.now(), (err) =>
        request.log.warn({ err }, 'session last use not recorded'),
      );
      if ('refused' in found) {
        request.log.info({ reason: found.refused }, 'session refused');
        clearSessionCookie(reply, s.cookies);
        return { signIn, session: null };
      }
      return {
        signIn,
        session: {
          practitionerId: found.session.practitionerId,
          name: found.session.practitionerName,
          expiresAt: found.session.expiresAt.toISOString(),
          idleEndsAt: found.session.idleEndsAt.toISOString(),
          csrfToken: csrfToken(sessionId),
        },
      };
    },
  );

  const s = deps.signIn;
  if (!s) return;
  const settings = s.issuer.settings;

  app.get(
    '/auth/login',
    {
      schema: {
        tags: ['sign-in'],
        summary: `Starts a sign-in at the OpenID provider (a redirect)`,
        security: [],
        response: { 302: z.null().describe('to the issuer'), 503: errorBody },
      },
    },
    async (_request, reply) => {
      const now = deps.now();
      const { url, pending } = await beginSignIn(s.issuer, now);
      setPendingCookie(reply, s.cookies, encodePending(pending), PENDING_SIGN_IN_MS / 1000);
      return reply.redirect(url.href, 302);
    },
  );

  app.get(
    '/auth/callback',
    {
      schema: {
        tags: ['sign-in'],
        summary: "The OpenID provider's answer: a session and back to the dashboard, or a page saying why not",
        security: [],
        querystring: z.object({
          code: z.string().max(4096).optional(),
          state: z.string().max(1024).optional(),
          error: z.string().max(200).optional(),
        }),
        response: {
          303: z.null().describe('to the dashboard, signed in'),
          400: html,
          403: html,
          429: errorBody,
          503: html,
        },
      },
    },
    async (request, reply) => {
      const now = deps.now();
      const pending = decodePending(readCookie(request, s.cookies.pending), now);
      clearPendingCookie(reply, s.cookies);
      const fr = /^fr\b/i.test(String(request.headers['accept-language'] ?? ''));
      if (request.query.error) {
        request.log.info({ reason: 'issuer_error', error: request.query.error.slice(0, 64) }, 'sign-in refused');
        return page(reply, 400, fr, 'issuerError', settings.label);
      }
      if (!pending) {
        request.log.info({ reason: 'no_pending_sign_in' }, 'sign-in refused');
        return page(reply, 400, fr, 'noPending', settings.label);
      }
      const query = request.url.indexOf('?');
      const callbackUrl = new URL(settings.redirectUrl);
      callbackUrl.search = query === -1 ? '' : request.url.slice(query);
      let signedIn: Extract<SignInOutcome, { ok: true }> | undefined;
      // Under the failed-authentication limit of the address (README, "HTTP limits"), as a token
      // check: each attempt costs a call to the issuer's token endpoint.
      const attempt = async (): Promise<Principal> => {
        let outcome: SignInOutcome;
        try {
          outcome = await finishSignIn(deps.db, s.issuer, pending, callbackUrl, now);
        } catch (error) {
          if (error instanceof AppError) throw error;
          // State, PKCE, ID token or userinfo checks failed: openid-client's code and constant
          // message only (its error may hold the response, with personal data).
          const { code, name, message } = error as { code?: unknown; name?: unknown; message?: unknown };
          request.log.warn(
            { reason: 'oidc_check_failed', code: typeof code === 'string' ? code : null, name, message },
            'sign-in refused',
          );
          throw new SignInRefused(400, 'checkFailed', null);
        }
        if (!outcome.ok) {
          // No identifier in the log (a person's national identifier is personal data): the reason only.
          request.log.warn({ reason: outcome.reason }, 'sign-in refused');
          const key =
            outcome.reason === 'unknown_practitioner'
              ? 'unknown'
              : outcome.reason === 'acr_not_met'
                ? 'acrNotMet'
                : 'noIdentifier';
          throw new SignInRefused(403, key, outcome.shown);
        }
        signedIn = outcome;
        return { role: 'clinician', tokenId: null, patientIds: null, practitionerId: outcome.practitioner.id };
      };
      try {
        await (deps.limits ? deps.limits.authenticate(request, attempt) : attempt());
      } catch (error) {
        if (error instanceof SignInRefused)
          return page(reply, error.pageStatus, fr, error.page, settings.label, error.shown);
        if (error instanceof AppError && error.code === 'unavailable') {
          request.log.warn({ reason: 'issuer_unreachable' }, 'sign-in provider unreachable');
          return page(reply, 503, fr, 'unavailable', settings.label);
        }
        throw error;
      }
      const outcome = signedIn!;
      request.log.info(
        { practitionerId: outcome.practitioner.id, professions: outcome.professions.length },
        'signed in',
      );
      setSessionCookie(reply, s.cookies, outcome.sessionId);
      return reply.redirect(settings.postLogoutRedirectUrl, 303);
    },
  );

  if (settings.clientAuth.method === 'private_key_jwt') {
    const auth = settings.clientAuth;
    app.get(
      '/auth/jwks.json',
      {
        schema: {
          tags: ['sign-in'],
          summary: "The public key of the service's private_key_jwt client authentication, to register at the issuer",
          security: [],
          response: { 200: z.object({ keys: z.array(z.record(z.string(), z.unknown())) }) },
        },
      },
      async (_request, reply) => {
        reply.header('cache-control', 'public, max-age=300');
        return (await clientPublicJwks(auth)) ?? { keys: [] };
      },
    );
  }

  app.post(
    '/auth/logout',
    {
      schema: {
        tags: ['sign-in'],
        summary: 'Ends the session of the cookie; where to go next (the issuer sign-out page, or null)',
        security: [],
        response: {
          200: z.object({
            endSessionUrl: z.string().nullable().describe("the issuer's end_session_endpoint (RP-initiated logout)"),
          }),
          403: errorBody,
        },
      },
    },
    async (request: FastifyRequest, reply: FastifyReply) => {
      const sessionId = readCookie(request, s.cookies.session);
      if (!sessionId) return { endSessionUrl: null };
      const presented = request.headers['x-csrf-token'];
      if (!csrfTokenMatches(sessionId, Array.isArray(presented) ? presented[0] : presented)) {
        throw new AppError('forbidden', 'signing out needs the X-CSRF-Token header of GET /auth/session');
      }
      const next = await endSession(deps.db, s.issuer, sessionId, deps.now());
      clearSessionCookie(reply, s.cookies);
      request.log.info({}, 'signed out');
      return { endSessionUrl: next?.href ?? null };
    },
  );
}

/** A refused sign-in: a 401 for the failed-authentication count, answered with a page. */
class SignInRefused extends AppError {
  readonly pageStatus: number;
  readonly page: PageKey;
  readonly shown: string | null;
  constructor(pageStatus: number, page: PageKey, shown: string | null) {
    super('unauthorized', 'sign-in refused');
    this.pageStatus = pageStatus;
    this.page = page;
    this.shown = shown;
  }
}

type PageKey = 'issuerError' | 'noPending' | 'checkFailed' | 'unavailable' | 'unknown' | 'noIdentifier' | 'acrNotMet';

const PAGES: Record<
  PageKey,
  { en: (label: string, id: string | null) => string[]; fr: (label: string, id: string | null) => string[] }
> = {
  issuerError: {
    en: (l) => [`Sign-in with ${l} was cancelled or refused.`, 'Go back to the dashboard and sign in again.'],
    fr: (l) => [
      `La connexion avec ${l} a été annulée ou refusée.`,
      'Revenez au tableau de bord et connectez-vous à nouveau.',
    ],
  },
  noPending: {
    en: () => [
      'This sign-in has expired or was started in another browser.',
      'Go back to the dashboard and sign in again.',
    ],
    fr: () => [
      'Cette connexion a expiré ou a été commencée dans un autre navigateur.',
      'Revenez au tableau de bord et connectez-vous à nouveau.',
    ],
  },
  checkFailed: {
    en: (l) => [
      `The answer of ${l} could not be verified, so you are not signed in.`,
      'Sign in again; if this happens again, tell your administrator (the service log has the details).',
    ],
    fr: (l) => [
      `La réponse de ${l} n'a pas pu être vérifiée : vous n'êtes pas connecté.`,
      'Reconnectez-vous ; si cela se reproduit, prévenez votre administrateur (le journal du service a les détails).',
    ],
  },
  unavailable: {
    en: (l) => [`${l} does not answer at the moment.`, 'Try again in a few minutes.'],
    fr: (l) => [`${l} ne répond pas pour le moment.`, 'Réessayez dans quelques minutes.'],
  },
  unknown: {
    en: (l, id) => [
      `You are signed in at ${l}, but Vitalink has no practitioner with your identifier${id ? ` (${id})` : ''}.`,
      'Ask your Vitalink administrator to add you as a practitioner with your RPPS number (vitalink practitioners add --rpps …) and to add you to your care team; then sign in again.',
    ],
    fr: (l, id) => [
      `Vous êtes authentifié auprès de ${l}, mais Vitalink ne connaît aucun professionnel avec votre identifiant${id ? ` (${id})` : ''}.`,
      'Demandez à votre administrateur Vitalink de vous enregistrer comme professionnel avec votre numéro RPPS (vitalink practitioners add --rpps …) et de vous ajouter à votre équipe de soins, puis reconnectez-vous.',
    ],
  },
  acrNotMet: {
    en: (l, acr) => [
      `Your sign-in at ${l} did not reach the level of assurance Vitalink requires (${acr ?? ''}).`,
      'Sign in again with a means that reaches it (at Pro Santé Connect: your CPS card or the e-CPS app).',
    ],
    fr: (l, acr) => [
      `Votre connexion auprès de ${l} n'atteint pas le niveau de garantie exigé par Vitalink (${acr ?? ''}).`,
      "Reconnectez-vous avec un moyen qui l'atteint (avec Pro Santé Connect : votre carte CPS ou l'application e-CPS).",
    ],
  },
  noIdentifier: {
    en: (l) => [
      `${l} did not give the identifier Vitalink needs (VITALINK_OIDC_PRACTITIONER_CLAIM).`,
      'Tell your Vitalink administrator: the sign-in settings do not match this provider.',
    ],
    fr: (l) => [
      `${l} n'a pas transmis l'identifiant dont Vitalink a besoin (VITALINK_OIDC_PRACTITIONER_CLAIM).`,
      'Prévenez votre administrateur Vitalink : les réglages de connexion ne correspondent pas à ce fournisseur.',
    ],
  },
};

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A small page without script or style (the default CSP of src/http/security-headers.ts holds). */
function page(reply: FastifyReply, status: number, fr: boolean, key: PageKey, label: string, id: string | null = null) {
  const lines = PAGES[key][fr ? 'fr' : 'en'](label, id);
  const back = fr ? 'Retour au tableau de bord' : 'Back to the dashboard';
  const body = `<!doctype html>
<html lang="${fr ? 'fr' : 'en'}"><head><meta charset="utf-8"><title>Vitalink</title></head>
<body><main data-testid="sign-in-problem">
<h1>Vitalink</h1>
${lines.map((l) => `<p>${escapeHtml(l)}</p>`).join('\n')}
<p><a href="./..">${back}</a></p>
</main></body></html>
`;
  return reply.status(status).type('text/html; charset=utf-8').send(body);
}
