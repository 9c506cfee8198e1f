/**
 * The login: "Sign in with <issuer>" when sign-in with OpenID Connect is
 * configured (a link to /auth/login: the browser goes to the issuer and comes
 * back with a session cookie), and one labelled password field for an API
 * token, checked with GET /api/v1/me.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError } from '../api.ts';
import { t } from '../i18n.ts';
import type { Me } from '../types.ts';
import { errorText } from '../components/status.tsx';

export function LoginView({
  notice,
  oidc,
  onSignedIn,
}: {
  notice: string | null;
  oidc: { label: string; loginUrl: string } | null;
  onSignedIn: (token: string, me: Me) => void;
}) {
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (!oidc) input.current?.focus();
  }, [oidc]);

  const submit = async (event: Event) => {
    event.preventDefault();
    const value = token.trim();
    if (!value) {
      setError(t('tokenRequired'));
      input.current?.focus();
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const me = await api.getWithToken<Me>('/me', value);
      onSignedIn(value, me);
    } catch (e) {
      setError(e instanceof ApiError && e.status === 401 ? t('tokenRefused') : errorText(e));
      input.current?.focus();
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="login">
      <form class="card login-card" onSubmit={submit} noValidate data-testid="login-form">
        <h1>{t('loginTitle')}</h1>
        {notice && (
          <p class="notice" role="status">
            {notice}
          </p>
        )}
        {oidc && (
          <div class="oidc-sign-in">
            <a class="button" href={oidc.loginUrl} data-testid="oidc-sign-in" onClick={rememberAddress}>
              {t('signInWith', { label: oidc.label })}
            </a>
            <p class="muted small">{t('signInWithHelp')}</p>
            <h2 class="or-token">{t('orWithToken')}</h2>
          </div>
        )}
        <p>{t('loginIntro')}</p>
        <label for="token">{t('tokenLabel')}</label>
        <input
          id="token"
          name="token"
          type="password"
          ref={input}
          value={token}
          autoComplete="off"
          spellcheck={false}
          aria-invalid={error ? 'true' : undefined}
          aria-describedby={error ? 'token-help token-error' : 'token-help'}
          onInput={(e) => setToken((e.currentTarget as HTMLInputElement).value)}
        />
        <p id="token-help" class="muted small">
          {t('tokenHelp')}
        </p>
        {error && (
          <p id="token-error" class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="button" disabled={busy}>
          {busy ? t('signingIn') : t('signIn')}
        </button>
      </form>
    </div>
  );
}

/**
 * The address asked for before signing in with the issuer (a notification's
 * `#/alerts/{id}`, a patient's page): the issuer sends the browser back to the
 * dashboard's root, so it is kept in this tab's sessionStorage and taken back once
 * signed in (app.tsx, takeRememberedAddress).
 */
const AFTER_SIGN_IN = 'vitalink.afterSignIn';

function rememberAddress(): void {
  const hash = location.hash;
  if (hash && hash !== '#/' && hash !== '#/login') sessionStorage.setItem(AFTER_SIGN_IN, hash.slice(1));
  else sessionStorage.removeItem(AFTER_SIGN_IN);
}

/** The address kept by rememberAddress, once (null: none). */
export function takeRememberedAddress(): string | null {
  const path = sessionStorage.getItem(AFTER_SIGN_IN);
  sessionStorage.removeItem(AFTER_SIGN_IN);
  return path && path.startsWith('/') ? path : null;
}
