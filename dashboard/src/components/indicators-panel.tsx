/**
 * The patient's indicators (indicators.md), grouped as a clinician reads them:
 * value in the stored unit with one decimal, the window it covers (patient's
 * time zone), the number of readings behind it, and whether the data suffice.
 * An insufficient indicator keeps its value but is marked, never shown as if it
 * could be trusted.
 */
import { fmtDateTime, fmtFixed, fmtInteger } from '../format.ts';
import { indicatorLabel, lang, locale, t, unitLabel, type MessageKey } from '../i18n.ts';
import { INDICATOR_KEYS, type IndicatorKey } from '../../../src/domain/indicators/indicator-keys.ts';
import type { Indicator } from '../types.ts';

type GroupTitle = 'groupGlucose' | 'groupBp' | 'groupWeight' | 'groupSpo2' | 'groupHr' | 'groupTemp' | 'groupAdherence';

/** The group each indicator is shown in; adherence (with its per-type keys) is grouped apart, below. */
const GROUP_OF: Readonly<Record<IndicatorKey, GroupTitle>> = {
  cgm_mean: 'groupGlucose',
  gmi: 'groupGlucose',
  glucose_cv: 'groupGlucose',
  tir_70_180: 'groupGlucose',
  tbr_70: 'groupGlucose',
  tbr_54: 'groupGlucose',
  tar_180: 'groupGlucose',
  tar_250: 'groupGlucose',
  sensor_active: 'groupGlucose',
  bp_mean_systolic: 'groupBp',
  bp_mean_diastolic: 'groupBp',
  bp_above_threshold: 'groupBp',
  weight_change_72h: 'groupWeight',
  weight_change_7d: 'groupWeight',
  spo2_min: 'groupSpo2',
  spo2_mean: 'groupSpo2',
  spo2_below_90: 'groupSpo2',
  hr_min: 'groupHr',
  hr_mean: 'groupHr',
  hr_max: 'groupHr',
  temp_max: 'groupTemp',
  adherence_days: 'groupAdherence',
};

/** The groups in the order of their first key in indicators.md, each with its keys in that order. */
const GROUPS: readonly { title: MessageKey; keys: readonly IndicatorKey[] }[] = (() => {
  const groups = new Map<GroupTitle, IndicatorKey[]>();
  for (const key of INDICATOR_KEYS) {
    const title = GROUP_OF[key];
    if (title === 'groupAdherence') continue;
    const keys = groups.get(title);
    if (keys) keys.push(key);
    else groups.set(title, [key]);
  }
  return [...groups].map(([title, keys]) => ({ title, keys }));
})();

const signed = new Intl.NumberFormat(locale, {
  minimumFractionDigits: 1,
  maximumFractionDigits: 1,
  signDisplay: 'exceptZero',
});

export function formatIndicator(i: Indicator): string {
  if (i.value === null) return t('none');
  if (i.key === 'bp_above_threshold') return i.value >= 1 ? t('yes') : t('no');
  if (i.key.startsWith('adherence_days')) return t('adherenceDaysValue', { n: fmtInteger(i.value) });
  const unit = unitLabel(i.unit);
  const number = i.key.startsWith('weight_change') ? signed.format(i.value) : fmtFixed(i.value, 1);
  if (!unit) return number;
  return unit === '%' && lang === 'en' ? `${number}%` : `${number}\u202f${unit}`;
}

function Row({ indicator, timeZone }: { indicator: Indicator; timeZone: string }) {
  const i = indicator;
  return (
    <tr class={i.sufficient ? '' : 'insufficient'} data-testid={`indicator-${i.key}`}>
      <th scope="row">{indicatorLabel(i.key)}</th>
      <td class="num">
        <span class={i.sufficient ? 'value' : 'value value-muted'}>{formatIndicator(i)}</span>
      </td>
      <td class="window">
        {fmtDateTime(i.from, timeZone)} – {fmtDateTime(i.to, timeZone)}
      </td>
      <td class="num">{fmtInteger(i.n)}</td>
      <td>
        {i.sufficient ? (
          <span class="badge badge-ok">{t('sufficient')}</span>
        ) : (
          <span class="badge badge-warn">{t('insufficient')}</span>
        )}
      </td>
    </tr>
  );
}

export function IndicatorsPanel({ indicators, timeZone }: { indicators: readonly Indicator[]; timeZone: string }) {
  if (indicators.length === 0) return <p class="empty">{t('noIndicators')}</p>;
  // Indicators with no reading at all in their window (a type this patient is not monitored for) are folded,
  // whatever their value: "sensor active 0 %" of a patient without a CGM says nothing about them.
  const measured = indicators.filter((i) => i.n > 0);
  const unmeasured = indicators.filter((i) => i.n === 0);
  return (
    <div data-testid="indicators">
      {measured.length > 0 ? <IndicatorTable indicators={measured} timeZone={timeZone} /> : null}
      {unmeasured.length > 0 && (
        <details class="unmeasured">
          <summary>{t('unmeasured', { n: unmeasured.length })}</summary>
          <IndicatorTable indicators={unmeasured} timeZone={timeZone} />
        </details>
      )}
    </div>
  );
}

function IndicatorTable({ indicators, timeZone }: { indicators: readonly Indicator[]; timeZone: string }) {
  const used = new Set<string>();
  const groups: { title: string; items: Indicator[] }[] = [];
  for (const g of GROUPS) {
    const items = g.keys.map((k) => indicators.find((i) => i.key === k)).filter((i): i is Indicator => !!i);
    items.forEach((i) => used.add(i.key));
    if (items.length > 0) groups.push({ title: t(g.title), items });
  }
  const adherence = indicators
    .filter((i) => i.key === 'adherence_days' || i.key.startsWith('adherence_days_'))
    .sort((a, b) => (a.key === 'adherence_days' ? -1 : b.key === 'adherence_days' ? 1 : a.key.localeCompare(b.key)));
  adherence.forEach((i) => used.add(i.key));
  if (adherence.length > 0) groups.push({ title: t('groupAdherence'), items: adherence });
  const others = indicators.filter((i) => !used.has(i.key));
  if (others.length > 0) groups.push({ title: t('groupOther'), items: others });

  return (
    <div class="table-wrap">
      <table class="indicators">
        <caption class="visually-hidden">{t('indicatorsTitle')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('colIndicator')}</th>
            <th scope="col" class="num">
              {t('colValue')}
            </th>
            <th scope="col">{t('colWindow')}</th>
            <th scope="col" class="num">
              {t('colN')}
            </th>
            <th scope="col">{t('colStatus')}</th>
          </tr>
        </thead>
        {groups.map((g) => (
          <tbody key={g.title}>
            <tr class="group">
              <th scope="rowgroup" colSpan={5}>
                {g.title}
              </th>
            </tr>
            {g.items.map((i) => (
              <Row key={i.key} indicator={i} timeZone={timeZone} />
            ))}
          </tbody>
        ))}
      </table>
    </div>
  );
}
