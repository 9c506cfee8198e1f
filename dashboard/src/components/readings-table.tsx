/**
 * The readings of one type over the range shown, as a table a page at a time
 * (GET /patients/{id}/readings with its cursor: newest first, stable under
 * inserts), and as CSV to download: every page of the range, built here
 * (readings-csv.ts), up to MAX_CSV_READINGS.
 */
import { useEffect, useState } from 'preact/hooks';
import { api, getAll } from '../api.ts';
import { digitsOf, fmtDateTime, fmtInteger, fmtNumber } from '../format.ts';
import { t, typeLabel, unitLabel } from '../i18n.ts';
import { readingsCsv } from '../readings-csv.ts';
import type { Page, Reading } from '../types.ts';
import { ErrorBox, Loading } from './status.tsx';

const PAGE_SIZE = 50;
export const MAX_CSV_READINGS = 100_000;

interface Props {
  patientId: string;
  types: readonly string[];
  /** Epoch ms of the range shown. */
  from: number;
  to: number;
  timeZone: string;
}

/** A reading's value as the table shows it: "7.4", "132/84 (pulse 71)". */
function valueText(r: Reading): string {
  if (r.value !== undefined) return fmtNumber(r.value, digitsOf(r.type));
  const bp = `${r.systolic ?? ''}/${r.diastolic ?? ''}`;
  return r.pulse !== undefined ? `${bp} (${t('pulse')} ${r.pulse})` : bp;
}

export function ReadingsTable({ patientId, types, from, to, timeZone }: Props) {
  const [type, setType] = useState(types[0] ?? '');
  // The cursors of the pages seen so far: the first page has none.
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [page, setPage] = useState<
    { state: 'loading' } | { state: 'error'; error: unknown } | { state: 'ready'; value: Page<Reading> }
  >({ state: 'loading' });
  const [csvState, setCsvState] = useState<{ busy: boolean; message: string }>({ busy: false, message: '' });
  const path = `/patients/${encodeURIComponent(patientId)}/readings`;
  const range = { from: new Date(from).toISOString(), to: new Date(to + 60_000).toISOString() };
  const current = cursors[cursors.length - 1];

  useEffect(() => {
    if (!types.includes(type) && types.length > 0) setType(types[0]);
  }, [types, type]);
  useEffect(() => setCursors([null]), [type, from, to]);
  useEffect(() => {
    if (!type) return;
    const abort = new AbortController();
    setPage({ state: 'loading' });
    api.get<Page<Reading>>(path, { type, ...range, limit: PAGE_SIZE, cursor: current ?? undefined }, abort.signal).then(
      (value) => setPage({ state: 'ready', value }),
      (error: unknown) => {
        if ((error as Error).name !== 'AbortError') setPage({ state: 'error', error });
      },
    );
    return () => abort.abort();
  }, [patientId, type, from, to, current]);

  const download = async () => {
    setCsvState({ busy: true, message: '' });
    try {
      const all = await getAll<Reading>(path, { type, ...range, limit: 1000 }, MAX_CSV_READINGS);
      const link = document.createElement('a');
      link.href = URL.createObjectURL(new Blob([readingsCsv(all.items, timeZone)], { type: 'text/csv' }));
      link.download = `readings-${patientId}-${type}-${range.from.slice(0, 10)}-${range.to.slice(0, 10)}.csv`;
      link.click();
      setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
      setCsvState({
        busy: false,
        message: all.truncated
          ? t('csvTruncated', { n: fmtInteger(all.items.length) })
          : t('csvDone', { n: fmtInteger(all.items.length) }),
      });
    } catch (e) {
      setCsvState({ busy: false, message: e instanceof Error ? e.message : String(e) });
    }
  };

  if (types.length === 0) return null;
  const rows = page.state === 'ready' ? page.value.items : [];
  return (
    <div data-testid="readings-table-panel">
      <div class="toolbar">
        <label for="readings-type">{t('readingsType')}</label>
        <select id="readings-type" value={type} onChange={(e) => setType((e.currentTarget as HTMLSelectElement).value)}>
          {types.map((k) => (
            <option key={k} value={k}>
              {typeLabel(k)}
            </option>
          ))}
        </select>
        <button type="button" class="button secondary" onClick={download} disabled={csvState.busy}>
          {csvState.busy ? t('csvPreparing') : t('downloadCsv')}
        </button>
        <span class="live small" role="status" aria-live="polite" data-testid="csv-status">
          {csvState.message}
        </span>
      </div>
      {page.state === 'loading' && <Loading />}
      {page.state === 'error' && <ErrorBox error={page.error} />}
      {page.state === 'ready' && (
        <>
          <div class="table-wrap readings-wrap">
            <table class="readings" data-testid="readings-table">
              <caption class="visually-hidden">{t('readingsTitle')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('colMeasuredAt')}</th>
                  <th scope="col" class="num">
                    {t('colValue')} ({unitLabel(rows[0]?.unit ?? '')})
                  </th>
                  <th scope="col">{t('colDevice')}</th>
                  <th scope="col">{t('colReceivedAt')}</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((r) => (
                  <tr key={`${r.deviceId}/${r.id}`} data-reading={r.id}>
                    <td>
                      <time dateTime={r.at}>{fmtDateTime(r.at, timeZone)}</time>
                    </td>
                    <td class="num">{valueText(r)}</td>
                    <td>
                      <code>{r.deviceId}</code>
                    </td>
                    <td class="muted">{fmtDateTime(r.receivedAt, timeZone)}</td>
                  </tr>
                ))}
                {rows.length === 0 && (
                  <tr>
                    <td colSpan={4} class="empty">
                      {t('noReadingsInRange')}
                    </td>
                  </tr>
                )}
              </tbody>
            </table>
          </div>
          <nav class="pager" aria-label={t('readingsPages')}>
            <button
              type="button"
              class="button secondary"
              disabled={cursors.length === 1}
              onClick={() => setCursors(cursors.slice(0, -1))}
            >
              {t('newerReadings')}
            </button>
            <span data-testid="readings-page">{t('readingsPageN', { page: cursors.length })}</span>
            <button
              type="button"
              class="button secondary"
              disabled={!page.value.nextCursor}
              onClick={() => setCursors([...cursors, page.value.nextCursor])}
            >
              {t('olderReadings')}
            </button>
          </nav>
        </>
      )}
    </div>
  );
}
