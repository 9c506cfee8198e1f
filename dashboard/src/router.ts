/**
 * Hash routes, so that serving stays a single index.html:
 * #/login, #/worklist, #/patients, #/patients/:id, #/patients/:id/glucose-report (the
 * printable glucose report), #/alerts/:id (the link notifications carry: opens the
 * alert's patient), #/ops, #/reports/activity, #/devices.
 */
import { useEffect, useState } from 'preact/hooks';

export type Route =
  | { name: 'home' }
  | { name: 'login' }
  | { name: 'worklist' }
  | { name: 'patients' }
  | { name: 'patient'; id: string }
  | { name: 'glucose-report'; id: string }
  | { name: 'alert'; id: string }
  | { name: 'ops' }
  | { name: 'devices' }
  | { name: 'report' }
  | { name: 'unknown'; path: string };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '') || '/';
  if (path === '/' || path === '') return { name: 'home' };
  if (path === '/login') return { name: 'login' };
  if (path === '/worklist') return { name: 'worklist' };
  if (path === '/patients') return { name: 'patients' };
  if (path === '/ops') return { name: 'ops' };
  if (path === '/devices') return { name: 'devices' };
  if (path === '/reports/activity') return { name: 'report' };
  const alert = /^\/alerts\/(\d{1,18})$/.exec(path);
  if (alert) return { name: 'alert', id: alert[1] };
  const m = /^\/patients\/([^/]+)(\/glucose-report)?$/.exec(path);
  if (m) {
    // A hand-edited address may hold a malformed escape (%E0): an unknown page, not a blank app.
    try {
      return { name: m[2] ? 'glucose-report' : 'patient', id: decodeURIComponent(m[1]) };
    } catch {
      return { name: 'unknown', path };
    }
  }
  return { name: 'unknown', path };
}

export function navigate(path: string): void {
  if (location.hash !== `#${path}`) location.hash = path;
}

export function patientHref(id: string): string {
  return `#/patients/${encodeURIComponent(id)}`;
}

export function glucoseReportHref(id: string): string {
  return `#/patients/${encodeURIComponent(id)}/glucose-report`;
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const update = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', update);
    return () => removeEventListener('hashchange', update);
  }, []);
  return route;
}
