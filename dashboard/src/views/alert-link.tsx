/**
 * `#/alerts/:id`, the address a notification links to (README, "Notifications"): finds
 * the alert's patient (GET /api/v1/alerts/{id}/history, which the clinician may read
 * and which is audited) and opens the patient's page, where the alert is listed with
 * its event and the acknowledgement form. An alert of a patient out of the caller's
 * care is a 404 like any other.
 */
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError } from '../api.ts';
import { t } from '../i18n.ts';
import { navigate, patientHref } from '../router.ts';

export function AlertLink({ id }: { id: string }) {
  const [failed, setFailed] = useState<unknown>(null);
  useEffect(() => {
    const controller = new AbortController();
    api.get<{ patientId: string }>(`/alerts/${encodeURIComponent(id)}/history`, undefined, controller.signal).then(
      (found) => navigate(patientHref(found.patientId)),
      (error: unknown) => {
        if ((error as Error).name !== 'AbortError') setFailed(error);
      },
    );
    return () => controller.abort();
  }, [id]);
  if (failed === null) return <p class="muted">{t('alertLinkOpening')}</p>;
  const missing = failed instanceof ApiError && failed.status === 404;
  return (
    <div class="error-box" role="alert">
      <p>{missing ? t('alertLinkMissing', { id }) : t('alertLinkFailed')}</p>
      <a href="#/">{t('goHome')}</a>
    </div>
  );
}
