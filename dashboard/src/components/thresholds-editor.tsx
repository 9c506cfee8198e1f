/**
 * The per-patient thresholds editor: one small form per alert rule, showing the
 * value in force, the default, and whether it is the patient's own. Save sends
 * PUT /patients/{id}/thresholds with that rule only; "Reset to default" sends
 * null. The service's 422 is shown next to the field it names (`body.<rule>`).
 */
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError } from '../api.ts';
import { fmtThreshold } from '../format.ts';
import { ruleHelpText, ruleLabel, t, unitLabel } from '../i18n.ts';
import type { ThresholdEntry, ThresholdValue } from '../types.ts';
import { errorText } from './status.tsx';

interface Props {
  patientId: string;
  thresholds: readonly ThresholdEntry[];
  onSaved: (thresholds: ThresholdEntry[]) => void;
}

function inputsOf(v: ThresholdValue): string[] {
  return typeof v === 'number' ? [String(v)] : [String(v.systolic), String(v.diastolic)];
}

function parseNumber(text: string): number | null {
  const normalised = text.trim().replace(',', '.');
  if (normalised === '') return null;
  const n = Number(normalised);
  return Number.isFinite(n) ? n : null;
}

function ThresholdForm({
  patientId,
  entry,
  onSaved,
}: {
  patientId: string;
  entry: ThresholdEntry;
  onSaved: (thresholds: ThresholdEntry[]) => void;
}) {
  const isBp = typeof entry.threshold !== 'number';
  const [values, setValues] = useState(() => inputsOf(entry.threshold));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [message, setMessage] = useState('');
  const key = JSON.stringify(entry.threshold);
  // The value in force changed (saved here or reset): the inputs show it.
  useEffect(() => setValues(inputsOf(entry.threshold)), [key]);

  const id = `threshold-${entry.rule}`;
  const errorId = `${id}-error`;
  const rule = ruleLabel(entry.rule);
  const unit = unitLabel(entry.unit);

  const send = async (value: ThresholdValue | null) => {
    setBusy(true);
    setError(null);
    setMessage('');
    try {
      const result = await api.put<{ thresholds: ThresholdEntry[] }>(
        `/patients/${encodeURIComponent(patientId)}/thresholds`,
        { [entry.rule]: value },
      );
      onSaved(result.thresholds);
      const now = result.thresholds.find((e) => e.rule === entry.rule);
      const shown = now ? fmtThreshold(now.threshold, now.unit) : '';
      setMessage(value === null ? t('resetDone', { rule, value: shown }) : t('saved', { rule, value: shown }));
    } catch (e) {
      if (e instanceof ApiError && e.status === 422) {
        const issue = e.issues.find((i) => i.path === `body.${entry.rule}`) ?? e.issues[0];
        setError(issue?.message ?? e.message);
      } else {
        setError(errorText(e, 'neededClinician'));
      }
    } finally {
      setBusy(false);
    }
  };

  const submit = (event: Event) => {
    event.preventDefault();
    const numbers = values.map(parseNumber);
    if (numbers.some((n) => n === null)) {
      setError(t('enterNumber'));
      return;
    }
    void send(isBp ? { systolic: numbers[0]!, diastolic: numbers[1]! } : numbers[0]!);
  };

  const field = (index: number, label: string, fieldId: string) => (
    <span class="threshold-field">
      <label for={fieldId} class={isBp ? '' : 'visually-hidden'}>
        {label}
      </label>
      <span class="input-unit">
        <input
          id={fieldId}
          name={fieldId}
          type="number"
          step="any"
          inputMode="decimal"
          value={values[index]}
          aria-invalid={error ? 'true' : undefined}
          aria-describedby={`${id}-help${error ? ` ${errorId}` : ''}`}
          onInput={(e) => {
            const next = [...values];
            next[index] = (e.currentTarget as HTMLInputElement).value;
            setValues(next);
          }}
        />
        <span class="unit" aria-hidden="true">
          {unit}
        </span>
      </span>
    </span>
  );

  return (
    <form class="threshold" onSubmit={submit} data-testid={`threshold-${entry.rule}`} noValidate>
      <fieldset>
        <legend>
          <span class="threshold-rule">{rule}</span>{' '}
          {entry.overridden ? (
            <span class="badge badge-custom">{t('custom')}</span>
          ) : (
            <span class="badge badge-neutral">{t('byDefault')}</span>
          )}
        </legend>
        <p id={`${id}-help`} class="muted small">
          {ruleHelpText(entry.rule)} · {t('defaultValue', { value: fmtThreshold(entry.default, entry.unit) })}
        </p>
        <div class="threshold-inputs">
          {isBp ? (
            <>
              {field(0, t('systolic'), `${id}-systolic`)}
              {field(1, t('diastolic'), `${id}-diastolic`)}
            </>
          ) : (
            field(0, `${rule} (${unit})`, id)
          )}
          <button type="submit" class="button" disabled={busy}>
            {busy ? t('saving') : t('save')}
          </button>
          <button
            type="button"
            class="button secondary"
            disabled={busy || !entry.overridden}
            onClick={() => void send(null)}
          >
            {t('resetDefault')}
          </button>
        </div>
        {error && (
          <p id={errorId} class="error small" role="alert" data-testid="threshold-error">
            {error}
          </p>
        )}
        <p class="live small" role="status" aria-live="polite">
          {message}
        </p>
      </fieldset>
    </form>
  );
}

export function ThresholdsEditor({ patientId, thresholds, onSaved }: Props) {
  return (
    <div class="thresholds" data-testid="thresholds">
      <p class="muted">{t('thresholdsIntro')}</p>
      {thresholds.map((entry) => (
        <ThresholdForm key={entry.rule} patientId={patientId} entry={entry} onSaved={onSaved} />
      ))}
    </div>
  );
}
