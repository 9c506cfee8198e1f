/**
 * A patient's alerts: the open ones first, most urgent first, each with its event
 * (time and values of the readings that raised it) and an acknowledgement form
 * (what was done, a note: POST /alerts/{id}/acknowledge); acknowledged and resolved
 * ones below, folded, with who acknowledged and what they did. Each alert's history
 * unfolds on demand. An alert acknowledged here stays in place with its new status,
 * and a live region says what happened.
 */
import { useState } from 'preact/hooks';
import { api, ApiError } from '../api.ts';
import { digitsOf, fmtDateTime, fmtNumber, fmtThreshold } from '../format.ts';
import { type MessageKey, ruleLabel, severityLabel, statusLabel, t, unitLabel } from '../i18n.ts';
import { ACKNOWLEDGE_ACTIONS, ACKNOWLEDGE_NOTE_MAX } from '../../../src/domain/alerts/acknowledgement.ts';
import { SEVERITY_RANK } from '../../../src/domain/alerts/rules.ts';
import type {
  AcknowledgeAction,
  Alert,
  AlertEventReading,
  AlertHistoryEntry,
  Severity,
  ThresholdEntry,
} from '../types.ts';
import { errorText } from './status.tsx';

/** A reading's value as a clinician reads it: "88 %", "185/100 mmHg". */
export function eventValueText(r: AlertEventReading): string {
  const unit = unitLabel(r.unit);
  if (r.value !== undefined) return `${fmtNumber(r.value, digitsOf(r.type))} ${unit}`.trim();
  return `${r.systolic ?? '–'}/${r.diastolic ?? '–'} ${unit}`.trim();
}

export const actionLabel = (action: AcknowledgeAction) =>
  t(`action${action[0].toUpperCase()}${action.slice(1)}` as MessageKey);

function EventLine({ alert, timeZone }: { alert: Alert; timeZone: string }) {
  const event = alert.event;
  if (!event || event.at === null) return null;
  const values =
    event.readings === null
      ? t('eventUnknownValues')
      : event.readings.length === 0
        ? ''
        : t('eventValues', {
            // A reading's own time only where it is not the event's (the first of two in a row).
            values: event.readings
              .map((r) =>
                Date.parse(r.at) === Date.parse(event.at!)
                  ? eventValueText(r)
                  : `${eventValueText(r)} (${fmtDateTime(r.at, timeZone)})`,
              )
              .join(', '),
          });
  return (
    <div class="alert-event" data-testid="alert-event">
      {t('eventAt', { at: fmtDateTime(event.at, timeZone) })}
      {values && <> · {values}</>}
    </div>
  );
}

function AcknowledgementLine({ alert }: { alert: Alert }) {
  const ack = alert.acknowledgement;
  if (!ack) return null;
  return (
    <div class="alert-ack" data-testid="alert-acknowledgement">
      {statusLabel('acknowledged')} {t('acknowledgedBy', { by: ack.by })} ·{' '}
      {ack.action ? actionLabel(ack.action) : t('actionNotSaid')}
      {ack.note && <q class="alert-note">{ack.note}</q>}
    </div>
  );
}

function History({ alertId, timeZone }: { alertId: string; timeZone: string }) {
  const [items, setItems] = useState<AlertHistoryEntry[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = async (event: Event) => {
    if (!(event.currentTarget as HTMLDetailsElement).open || items) return;
    try {
      const res = await api.get<{ items: AlertHistoryEntry[] }>(`/alerts/${encodeURIComponent(alertId)}/history`);
      setItems(res.items);
    } catch (e) {
      setError(e instanceof ApiError ? errorText(e, 'neededClinician') : String(e));
    }
  };
  return (
    <details class="alert-history" onToggle={load}>
      <summary>{t('historyShow')}</summary>
      {error && <p class="error small">{error}</p>}
      {!items && !error && <p class="muted small">{t('historyLoading')}</p>}
      {items && (
        <ol class="small" data-testid="alert-history">
          {items.map((h, i) => (
            <li key={i}>
              {fmtDateTime(h.at, timeZone)} · {t(`historyEvent_${h.event}` as MessageKey) || h.event}
              {h.by && <> · {h.by}</>}
              {h.notification && (
                <>
                  {' '}
                  · {h.notification.teamId} ({h.notification.channel}
                  {h.notification.purpose === 'escalation' ? `, ${t('historyEscalation')}` : ''})
                </>
              )}
              {h.readings && h.readings.length > 0 && <> · {h.readings.map(eventValueText).join(', ')}</>}
              {h.action && <> · {actionLabel(h.action)}</>}
              {h.note && <q class="alert-note">{h.note}</q>}
            </li>
          ))}
        </ol>
      )}
    </details>
  );
}

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
  const [action, setAction] = useState<AcknowledgeAction | ''>('');
  const [note, setNote] = useState('');
  const severity = alert.severity;
  const rule = ruleLabel(alert.rule);
  const acknowledge = async (event: Event) => {
    event.preventDefault();
    if (!action) {
      setError(t('ackNeedsAction'));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const body = note.trim() ? { action, note } : { action };
      const updated = await api.post<Alert>(`/alerts/${encodeURIComponent(alert.id)}/acknowledge`, body);
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
        <EventLine alert={alert} timeZone={timeZone} />
        <AcknowledgementLine alert={alert} />
        <History alertId={alert.id} timeZone={timeZone} />
        {error && (
          <p class="error small" role="alert">
            {error}
          </p>
        )}
      </div>
      {alert.status === 'open' && (
        <form class="ack-form" onSubmit={acknowledge} data-testid="ack-form">
          <label>
            {t('actionLabel')}
            <select
              name="action"
              value={action}
              onChange={(e) => setAction((e.currentTarget as HTMLSelectElement).value as AcknowledgeAction | '')}
            >
              <option value="">{t('actionChoose')}</option>
              {ACKNOWLEDGE_ACTIONS.map((a) => (
                <option key={a} value={a}>
                  {actionLabel(a)}
                </option>
              ))}
            </select>
          </label>
          <label>
            {t('noteLabel', { max: ACKNOWLEDGE_NOTE_MAX })}
            <textarea
              name="note"
              rows={2}
              maxLength={ACKNOWLEDGE_NOTE_MAX}
              value={note}
              onInput={(e) => setNote((e.currentTarget as HTMLTextAreaElement).value)}
            />
          </label>
          <button
            type="submit"
            class="button"
            disabled={busy}
            aria-label={t('acknowledgeLabel', { rule, at: fmtDateTime(alert.openedAt, timeZone) })}
          >
            {busy ? t('acknowledging') : t('acknowledge')}
          </button>
        </form>
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
