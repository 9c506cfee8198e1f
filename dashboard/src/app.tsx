/**
 * The shell: the login until a token is accepted or a sign-in session (OpenID
 * Connect, README "Sign-in") is found, then the header (who you are,
 * the views your role may open, sign out) and the view of the hash route.
 * A practitioner (a clinician token acting as one) lands on their worklist, other
 * clinicians on the patient list, operators on the operator view, admins on the
 * patient list.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, endCookieSession, onUnauthorized, signInState, type SignInState } from './api.ts';
import { t, type MessageKey } from './i18n.ts';
import { navigate, useRoute } from './router.ts';
import {
  clearToken,
  currentCookieSession,
  readToken,
  setCookieSession,
  setCurrentRole,
  storeToken,
} from './session.ts';
import type { Me, Role } from './types.ts';
import { ErrorBox, Loading } from './components/status.tsx';
import { LoginView, takeRememberedAddress } from './views/login.tsx';
import { ActivityReportView } from './views/activity-report.tsx';
import { OpsView } from './views/ops.tsx';
import { DeviceListView } from './views/device-list.tsx';
import { PatientListView } from './views/patient-list.tsx';
import { PatientPage } from './views/patient-page.tsx';
import { GlucoseReportView } from './views/glucose-report.tsx';
import { WorklistView } from './views/worklist.tsx';
import { AlertLink } from './views/alert-link.tsx';

const ROLE_LABEL: Record<Role, MessageKey> = {
  admin: 'roleAdmin',
  operator: 'roleOperator',
  clinician: 'roleClinician',
};

function landing(me: Me): string {
  if (me.role === 'clinician' && me.practitioner) return '/worklist';
  return me.role === 'operator' ? '/ops' : '/patients';
}

type Session =
  | { state: 'probing' }
  | { state: 'signed-out' }
  | { state: 'checking' }
  | { state: 'in'; me: Me }
  | { state: 'error'; error: unknown };

export function App() {
  const route = useRoute();
  // First: whether sign-in with OpenID Connect is offered and a session cookie signs us in (GET /auth/session).
  const [session, setSession] = useState<Session>({ state: 'probing' });
  const [oidc, setOidc] = useState<SignInState['signIn']>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    if (session.state !== 'probing') return;
    const fallback = () => setSession(readToken() ? { state: 'checking' } : { state: 'signed-out' });
    signInState().then((found) => {
      setOidc(found.signIn);
      if (found.session && !readToken()) {
        setCookieSession(found.session);
        setSession({ state: 'checking' });
      } else fallback();
    }, fallback);
  }, [session.state]);

  // A token kept in this tab: check it and learn who we are.
  useEffect(() => {
    if (session.state !== 'checking') return;
    api.get<Me>('/me').then(
      (me) => {
        setCurrentRole(me.role);
        setSession({ state: 'in', me });
      },
      (error: unknown) => {
        if (error instanceof ApiError && error.status === 401) return; // onUnauthorized handles it
        setSession({ state: 'error', error });
      },
    );
  }, [session.state, attempt]);

  useEffect(
    () =>
      onUnauthorized((viaCookie) => {
        setCurrentRole(null);
        setNotice(viaCookie ? t('sessionExpired') : t('sessionEnded'));
        setSession({ state: 'signed-out' });
      }),
    [],
  );

  // The start page goes where the role lands; any other address is kept through a login.
  useEffect(() => {
    if (session.state === 'in' && (route.name === 'home' || route.name === 'login')) {
      navigate(takeRememberedAddress() ?? landing(session.me));
    }
  }, [session, route]);

  // A new view: start reading at its top, with the focus on the main region (not on a link that vanished).
  const firstRoute = useRef(true);
  useEffect(() => {
    if (firstRoute.current) {
      firstRoute.current = false;
      return;
    }
    window.scrollTo(0, 0);
    document.getElementById('main')?.focus({ preventScroll: true });
  }, [route]);

  useEffect(() => {
    const titles: Record<string, string> = {
      login: t('loginTitle'),
      worklist: t('worklistTitle'),
      patients: t('patientsTitle'),
      patient: t('patientsTitle'),
      'glucose-report': t('glucoseTitle'),
      ops: t('opsTitle'),
      report: t('reportTitle'),
    };
    document.title = `${titles[route.name] ?? ''}${titles[route.name] ? ' · ' : ''}${t('appName')}`;
  }, [route]);

  const signIn = (token: string, me: Me) => {
    storeToken(token);
    setCurrentRole(me.role);
    setNotice(null);
    setSession({ state: 'in', me });
    if (route.name === 'home' || route.name === 'login') navigate(landing(me));
  };

  const signOut = async () => {
    if (currentCookieSession()) {
      // Ends the session here, then at the issuer when it offers RP-initiated logout.
      const next = await endCookieSession().catch(() => null);
      if (next) {
        window.location.assign(next);
        return;
      }
    }
    clearToken();
    setCurrentRole(null);
    setNotice(t('signedOut'));
    setSession({ state: 'signed-out' });
    navigate('/login');
  };

  if (session.state === 'signed-out') {
    return (
      <main id="main">
        <LoginView notice={notice} oidc={oidc} onSignedIn={signIn} />
      </main>
    );
  }
  if (session.state === 'checking' || session.state === 'probing') {
    return (
      <main id="main">
        <Loading />
      </main>
    );
  }
  if (session.state === 'error') {
    return (
      <main id="main">
        <ErrorBox error={session.error} onRetry={() => (setSession({ state: 'checking' }), setAttempt(attempt + 1))} />
      </main>
    );
  }

  const { me } = session;
  const canPatients = me.role === 'clinician' || me.role === 'admin';
  const canOps = me.role === 'operator' || me.role === 'admin';
  const n = me.patientIds?.length ?? 0;
  const current = route.name === 'patient' || route.name === 'glucose-report' ? 'patients' : route.name;
  const cookie = currentCookieSession();

  return (
    <>
      <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById('main')?.focus())}>
        {t('skipToContent')}
      </a>
      <header class="topbar">
        <a class="brand" href={`#${landing(me)}`}>
          <span class="logo" aria-hidden="true" />
          {t('appName')}
        </a>
        <nav aria-label={t('appName')}>
          <ul>
            {me.role === 'clinician' && (
              <li>
                <a href="#/worklist" aria-current={current === 'worklist' ? 'page' : undefined}>
                  {t('navWorklist')}
                </a>
              </li>
            )}
            {canPatients && (
              <li>
                <a href="#/patients" aria-current={current === 'patients' ? 'page' : undefined}>
                  {t('navPatients')}
                </a>
              </li>
            )}
            {canPatients && (
              <li>
                <a href="#/reports/activity" aria-current={current === 'report' ? 'page' : undefined}>
                  {t('navReport')}
                </a>
              </li>
            )}
            {canOps && (
              <li>
                <a href="#/ops" aria-current={current === 'ops' ? 'page' : undefined}>
                  {t('navOps')}
                </a>
              </li>
            )}
            {me.role === 'admin' && (
              <li>
                <a href="#/devices" aria-current={current === 'devices' ? 'page' : undefined}>
                  {t('navDevices')}
                </a>
              </li>
            )}
          </ul>
        </nav>
        <div class="who" data-testid="who">
          <span>
            {cookie
              ? t('signedInName', { name: cookie.name })
              : me.practitioner
                ? t('signedInPractitioner', { name: me.practitioner.name })
                : t('signedInAs', { role: t(ROLE_LABEL[me.role]) })}
            {me.role === 'clinician' && (
              <span class="muted"> · {n === 1 ? t('signedInPatient') : t('signedInPatients', { n })}</span>
            )}
          </span>
          <button type="button" class="button secondary small" onClick={() => void signOut()}>
            {t('signOut')}
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <View route={route} />
      </main>
    </>
  );
}

function View({ route }: { route: ReturnType<typeof useRoute> }) {
  switch (route.name) {
    case 'worklist':
      return <WorklistView />;
    case 'patients':
      return <PatientListView />;
    case 'patient':
      return <PatientPage key={route.id} id={route.id} />;
    case 'glucose-report':
      return <GlucoseReportView key={route.id} id={route.id} />;
    case 'alert':
      return <AlertLink key={route.id} id={route.id} />;
    case 'ops':
      return <OpsView />;
    case 'devices':
      return <DeviceListView />;
    case 'report':
      return <ActivityReportView />;
    case 'home':
    case 'login':
      return <Loading />;
    case 'unknown':
      return (
        <div class="error-box" role="alert">
          <p>{t('unknownPage', { path: route.path })}</p>
          <a href="#/">{t('goHome')}</a>
        </div>
      );
  }
}
