/** Time in ranges as one stacked bar with its legend (time-in-ranges.ts computes the segments). */
import { fmtDateTime, fmtPercent } from '../format.ts';
import { indicatorLabel, t } from '../i18n.ts';
import { tirSegments } from '../time-in-ranges.ts';
import type { Indicator } from '../types.ts';

export function TirBar({ indicators, timeZone }: { indicators: readonly Indicator[]; timeZone: string }) {
  const segments = tirSegments(indicators);
  if (!segments) return <p class="empty">{t('tirNone')}</p>;
  const tir = indicators.find((i) => i.key === 'tir_70_180')!;
  const sensor = indicators.find((i) => i.key === 'sensor_active');
  const summary = t('tirAria', {
    list: segments.map((s) => `${s.label} (${s.range} mg/dL) ${fmtPercent(s.value)}`).join(', '),
  });
  return (
    <div class="tir" data-testid="tir">
      <div class="tir-bar" role="img" aria-label={summary}>
        {segments.map((s) => (
          <div
            key={s.key}
            class={`tir-segment tir-${s.key}`}
            style={{ flexGrow: s.value, minHeight: s.value > 0 ? '3px' : '0' }}
          />
        ))}
      </div>
      <dl class="tir-legend">
        {segments.map((s) => (
          <div key={s.key} class="tir-row">
            <dt>
              <span class={`swatch tir-${s.key}`} aria-hidden="true" />
              {s.label} <span class="muted">{s.range} mg/dL</span>
            </dt>
            <dd>
              <strong>{fmtPercent(s.value)}</strong> <span class="muted">{t('tirTarget', { target: s.target })}</span>
            </dd>
          </div>
        ))}
      </dl>
      <p class="muted small">
        {t('tirWindow', { n: tir.n, from: fmtDateTime(tir.from, timeZone), to: fmtDateTime(tir.to, timeZone) })}
        {sensor && sensor.value !== null ? ` · ${indicatorLabel('sensor_active')} ${fmtPercent(sensor.value)}` : ''}
      </p>
      {!tir.sufficient && (
        <p class="badge badge-warn" role="note">
          {t('insufficient')}
          {sensor && sensor.value !== null ? ` (${indicatorLabel('sensor_active')} ${fmtPercent(sensor.value)})` : ''}
        </p>
      )}
    </div>
  );
}
