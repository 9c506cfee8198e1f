/**
 * The administrator's device list: how each device sends (MQTT, HTTPS, a
 * Nightscout-style upload) and when it last reached the service, from
 * GET /api/v1/devices (admin only), up to 1,000 devices, read once on opening.
 */
import { useEffect, useState } from 'preact/hooks';
import { getAll } from '../api.ts';
import { fmtDateTime, fmtInteger, fmtRelative } from '../format.ts';
import { t, transportLabel } from '../i18n.ts';
import type { DeviceState } from '../types.ts';
import { ErrorBox, Loading } from '../components/status.tsx';

const MAX_DEVICES = 1000;

export function When({ iso }: { iso: string | null }) {
  if (!iso) return <span class="muted">{t('never')}</span>;
  return (
    <time dateTime={iso}>
      {fmtRelative(iso)}
      <div class="muted small">{fmtDateTime(iso)}</div>
    </time>
  );
}

export function DeviceListView() {
  const [devices, setDevices] = useState<{ items: DeviceState[]; truncated: boolean } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    setError(null);
    getAll<DeviceState>('/devices', { limit: 100 }, MAX_DEVICES, controller.signal).then(setDevices, (e: unknown) => {
      if (!controller.signal.aborted) setError(e);
    });
    return () => controller.abort();
  }, [attempt]);

  return (
    <section aria-labelledby="devices-title" data-testid="devices">
      <h1 id="devices-title">{t('devicesTitle')}</h1>
      <p class="muted">{t('devicesIntro')}</p>
      {error !== null ? (
        <ErrorBox error={error} needed="neededAdmin" onRetry={() => setAttempt(attempt + 1)} />
      ) : devices === null ? (
        <Loading />
      ) : devices.items.length === 0 ? (
        <p class="empty">{t('noDevices')}</p>
      ) : (
        <div class="card table-wrap">
          <table data-testid="device-list">
            <thead>
              <tr>
                <th scope="col">{t('colDevice')}</th>
                <th scope="col">{t('colState')}</th>
                <th scope="col">{t('colPatientNow')}</th>
                <th scope="col">{t('colTransport')}</th>
                <th scope="col">{t('colLastContact')}</th>
                <th scope="col">{t('colLastStored')}</th>
              </tr>
            </thead>
            <tbody>
              {devices.items.map((d) => (
                <tr key={d.id} data-device={d.id}>
                  <th scope="row">
                    <code>{d.id}</code>
                    {d.model && <div class="muted small">{d.model}</div>}
                  </th>
                  <td>{d.enabled ? t('deviceEnabled') : t('deviceDisabled')}</td>
                  <td>{d.patientId ? <code>{d.patientId}</code> : <span class="muted">{t('none')}</span>}</td>
                  <td data-testid="transport">
                    {d.lastTransport ? (
                      transportLabel(d.lastTransport)
                    ) : (
                      <span class="muted">{t('transportUnknown')}</span>
                    )}
                  </td>
                  <td>
                    <When iso={d.lastSeenAt} />
                  </td>
                  <td>
                    <When iso={d.lastReadingAt} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {devices.truncated && (
            <p class="muted small">{t('devicesTruncated', { n: fmtInteger(devices.items.length) })}</p>
          )}
        </div>
      )}
    </section>
  );
}
