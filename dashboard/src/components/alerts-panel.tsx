/**
 * A patient's alerts: the open ones first, most urgent first, each with an
 * Acknowledge button (POST /alerts/{id}/acknowledge); acknowledged and resolved
 * ones below, folded. An alert acknowledged here stays in place with its new
 * status, and a live region says what happened.
 */
import { useState } from 'preact/hooks';
import { api, ApiError } from '../api.ts';
import { fmtDateTime, fmtThreshold } from '../format.ts';
import { ruleLabel, severityLabel, statusLabel, t } from '../i18n.ts';
import { SEVERITY_RANK } from '../../../src/domain/alerts/rules.ts';
import type { Alert, Severity, ThresholdEntry } from '../types.ts';
import { errorText } from './status.tsx';

export function SeverityBadge({ severity }: { severity: Severity | undefined }) {
  if (!severity) return null;
  return <span class={`badge sev-${severity}`}>{severityLabel(severity)}</span>;
}

interface Props {
  alerts: readonly Alert[];
  thresholds: readonly ThresholdEntry[];
  timeZone: string;
  onChange: (alert: Alert) => void;
}

function AlertRow({
  alert,
  unit,
  timeZone,
  onChange,
  announce,
}: {
  alert: Alert;
  unit: string;
  timeZone: string;
  onChange: (a: Alert) => void;
  announce: (text: string) => void;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const severity = alert.severity;
  const rule = ruleLabel(alert.rule);
  const acknowledge = async () => {
    setBusy(true);
    setError(null);
    try {
      const updated = await api.post<Alert>(`/alerts/${encodeURIComponent(alert.id)}/acknowledge`);
      onChange(updated);
      announce(t(updated.status === 'resolved' ? 'acknowledgedResolved' : 'acknowledged', { rule }));
    } catch (e) {
      setError(e instanceof ApiError ? errorText(e, 'neededClinician') : String(e));
    } finally {
      setBusy(false);
    }
  };
  const n = alert.readingIds.length;
  return (
    <li class={`alert alert-${alert.status}`} data-testid={`alert-${alert.id}`} data-rule={alert.rule}>
      <div class="alert-main">
        <strong class="alert-rule">{rule}</strong> <SeverityBadge severity={severity} />{' '}
        <span class={`badge status-${alert.status}`} data-testid="alert-status">
          {statusLabel(alert.status)}
        </span>
        <div class="muted small">
          {t('colOpened')} {fmtDateTime(alert.openedAt, timeZone)} · {t('colThreshold')}{' '}
          {fmtThreshold(alert.threshold, unit)} · {n === 1 ? t('readingsBehindOne') : t('readingsBehind', { n })}
          {alert.acknowledgedAt && <> · {t('acknowledgedAt', { at: fmtDateTime(alert.acknowledgedAt, timeZone) })}</>}
          {alert.resolvedAt && <> · {t('resolvedAt', { at: fmtDateTime(alert.resolvedAt, timeZone) })}</>}
        </div>
        {error && (
          <p class="error small" role="alert">
            {error}
          </p>
        )}
      </div>
      {alert.status === 'open' && (
        <button
          type="button"
          class="button"
          onClick={acknowledge}
          disabled={busy}
          aria-label={t('acknowledgeLabel', { rule, at: fmtDateTime(alert.openedAt, timeZone) })}
        >
          {busy ? t('acknowledging') : t('acknowledge')}
        </button>
      )}
    </li>
  );
}

export function AlertsPanel({ alerts, thresholds, timeZone, onChange }: Props) {
  // The alerts open when the page was loaded stay in the first list after being acknowledged.
  const [firstOpen] = useState(() => new Set(alerts.filter((a) => a.status === 'open').map((a) => a.id)));
  const [message, setMessage] = useState('');
  const unitOf = (rule: string) => thresholds.find((e) => e.rule === rule)?.unit ?? '';
  const urgency = (a: Alert) => SEVERITY_RANK[a.severity];
  const main = alerts
    .filter((a) => a.status === 'open' || firstOpen.has(a.id))
    .sort((a, b) => urgency(b) - urgency(a) || b.openedAt.localeCompare(a.openedAt));
  const closed = alerts.filter((a) => !(a.status === 'open' || firstOpen.has(a.id)));
  const row = (a: Alert) => (
    <AlertRow
      key={a.id}
      alert={a}
      unit={unitOf(a.rule)}
      timeZone={timeZone}
      onChange={onChange}
      announce={setMessage}
    />
  );
  return (
    <div data-testid="alerts">
      <p class="live" role="status" aria-live="polite" data-testid="alerts-message">
        {message}
      </p>
      {main.length === 0 && closed.length === 0 && <p class="empty">{t('noAlertsForPatient')}</p>}
      {main.length > 0 && <ul class="alerts">{main.map(row)}</ul>}
      {closed.length > 0 && (
        <details class="closed-alerts">
          <summary>
            {t('showClosed')} ({closed.length})
          </summary>
          <ul class="alerts">{closed.map(row)}</ul>
        </details>
      )}
    </div>
  );
}
