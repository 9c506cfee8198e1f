/**
 * The glucose report (README, "Glucose report (AGP)") over the real API: its numbers
 * are the indicators API's, its AGP counts the readings the time in ranges counts
 * (a reading exactly at the window's start is out, one exactly at its end is in, a
 * reading after the computation is out), and its PDF, rendered by poppler's
 * pdftoppm, is one page that is not blank, whose text (pdftotext) shows the
 * indicators' values. Scoped and audited like the other patient reads.
 *
 * The service's own aggregation job waits an hour between runs here: the indicators
 * are computed by the job's code at a chosen moment `to` (drainAggregation), so
 * that readings can sit exactly on the window's edges.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { glucoseProfile } from '../../dashboard/src/glucose-profile.ts';
import type { Reading } from '../../dashboard/src/types.ts';
import { cgmIndicatorsFromReadings } from '../../src/domain/indicators/index.ts';
import { fmt1 } from '../../src/http/glucose-report-pdf.ts';
import { mulberry32 } from '../../simulators/models/random.ts';
import { describeRes, expectSameNotFound } from '../helpers/api-expectations.ts';
import { useApiTest } from '../helpers/api-test.ts';
import { drainAggregation, type TestReadingInput, writeReadings } from '../helpers/readings.ts';

const MIN = 60_000;
const DAY = 86_400_000;
const PATIENT = 'p-own-1';
const DEVICE = 'cgm-report';

const { t, who, get } = useApiTest({ VITALINK_AGGREGATION_INTERVAL_MS: '3600000' });

interface ApiIndicator {
  key: string;
  value: number | null;
  unit: string;
  from: string;
  to: string;
  n: number;
  sufficient: boolean;
}

/** When the indicators are computed: 30 s ago, on a whole second. */
let to: number;
let dir: string;
let inputs: TestReadingInput[];

const POPPLER_MISSING =
  "poppler's pdftoppm is not installed: this test renders the PDF with it; install it with `apt-get install -y --no-install-recommends poppler-utils` (.ci/run does).";

function poppler(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(POPPLER_MISSING, { cause: error });
    throw error;
  }
}

async function fetchPdf(query: string, token = who.clinician.token): Promise<Response> {
  return fetch(`${t.httpUrl}/api/v1/patients/${PATIENT}/glucose-report.pdf${query}`, {
    headers: { authorization: `Bearer ${token}` },
  });
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'vitalink-glucose-report-'));
  to = Math.floor(Date.now() / 1000) * 1000 - 30_000;
  await t.provisionDevice(DEVICE, PATIENT, new Date(to - 60 * DAY));
  // 14 days every 5 minutes from exactly `to` − 14 d (out of the window) to exactly `to` (in),
  // through all five ranges, with a sensor change of 6 hours on the fourth day.
  const random = mulberry32(16);
  inputs = [];
  for (let at = to - 14 * DAY, i = 0; at <= to; at += 5 * MIN, i++) {
    if (at > to - 10.5 * DAY && at < to - 10.25 * DAY) continue;
    const hour = new Date(at).getUTCHours();
    const base = 90 + 90 * Math.sin(((hour - 6) / 24) * 2 * Math.PI);
    inputs.push({
      id: `g${i}`,
      type: 'cgm_glucose',
      at,
      value: Math.max(40, Math.round(base + random() * 120 - 40)),
      unit: 'mg/dL',
    });
  }
  await writeReadings(t.db, DEVICE, inputs, to);
  await drainAggregation(t.db, to);
  // A reading after the computation: the indicators take it at their next run, and so does the report.
  await writeReadings(t.db, DEVICE, [{ id: 'late', type: 'cgm_glucose', at: to + MIN, value: 120, unit: 'mg/dL' }], to);
}, 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function indicators(): Promise<Map<string, ApiIndicator>> {
  const res = await get(`/api/v1/patients/${PATIENT}/indicators`, who.clinician.token);
  expect(res.status, describeRes(res)).toBe(200);
  return new Map((res.body.indicators as ApiIndicator[]).map((i) => [i.key, i]));
}

describe('the glucose report (JSON)', () => {
  it('shows the indicators API’s numbers, and its AGP counts the same readings, edges included', async () => {
    const api = await indicators();
    const tir = api.get('tir_70_180')!;
    expect(Date.parse(tir.to)).toBe(to);
    const res = await get(`/api/v1/patients/${PATIENT}/glucose-report`, who.clinician.token);
    expect(res.status, describeRes(res)).toBe(200);
    const report = res.body;
    expect(report).toMatchObject({ days: 14, from: tir.from, to: tir.to, source: 'indicators', sufficient: true });
    for (const s of report.statistics) {
      const i = api.get(s.key)!;
      expect(s, s.key).toEqual({ key: i.key, value: i.value, unit: i.unit, n: i.n, sufficient: i.sufficient });
    }
    expect(report.statistics.map((s: { key: string }) => s.key)).toEqual([
      'cgm_mean',
      'gmi',
      'glucose_cv',
      'tir_70_180',
      'tbr_70',
      'tbr_54',
      'tar_180',
      'tar_250',
      'sensor_active',
    ]);
    // The readings of the window: not the one at `to` − 14 d, the one at `to`, not the late one.
    const inside = inputs.filter((r) => r.at > to - 14 * DAY && r.at <= to);
    expect(inside).toHaveLength(inputs.length - 1);
    expect(tir.n).toBe(inside.length);
    expect(report.agp.n).toBe(tir.n);
    expect(report.daily).toHaveLength(14);
    // The daily profiles hold the readings of their 14 days: all but those of the window's first, partial, day.
    const dailyN = report.daily.reduce((sum: number, d: { n: number }) => sum + d.n, 0);
    expect(dailyN).toBeLessThanOrEqual(tir.n);
    expect(dailyN).toBeGreaterThan(tir.n - 288);
    expect(report.daily.at(-1).date).toBe(
      new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Paris' }).format(new Date(to)),
    );
    // The five ranges are the nested indicators taken apart, and add up to 100 %.
    const v = (key: string) => api.get(key)!.value!;
    expect(report.ranges.map((r: { key: string; value: number }) => [r.key, r.value])).toEqual([
      ['very_high', v('tar_250')],
      ['high', v('tar_180') - v('tar_250')],
      ['in_range', v('tir_70_180')],
      ['low', v('tbr_70') - v('tbr_54')],
      ['very_low', v('tbr_54')],
    ]);
    expect(report.ranges.reduce((sum: number, r: { value: number }) => sum + r.value, 0)).toBeCloseTo(100, 9);
  });

  it('the patient page’s AGP: read over the indicators’ window, it counts what the time in ranges counts', async () => {
    const api = await indicators();
    const tir = api.get('tir_70_180')!;
    const readingsOf = async (from: string, until: string) => {
      const items: Reading[] = [];
      let cursor: string | null = null;
      do {
        const query = new URLSearchParams({ type: 'cgm_glucose', from, to: until, limit: '1000' });
        if (cursor) query.set('cursor', cursor);
        const res = await get(`/api/v1/patients/${PATIENT}/readings?${query}`, who.clinician.token);
        expect(res.status, describeRes(res)).toBe(200);
        items.push(...res.body.items);
        cursor = res.body.nextCursor;
      } while (cursor);
      return items;
    };
    // What the page asks now (dashboard/src/views/patient-page.tsx): the indicators' window, `to` + 1 ms
    // because the readings API's `to` is exclusive; glucoseProfile keeps `from` < at ≤ `to`.
    const fetched = await readingsOf(tir.from, new Date(Date.parse(tir.to) + 1).toISOString());
    expect(glucoseProfile(fetched, 'Europe/Paris', { from: tir.from, to: tir.to }).n).toBe(tir.n);
    // What it asked before: the last 14 days of the page's clock ([now − 14 d, now + 1 min)), every
    // reading counted. The late reading is in, and the windows differ by the time since the
    // computation: one reading more here (3,975 against 3,974 in issue #16, the other way round).
    const now = to + 30_000;
    const before = await readingsOf(new Date(now - 14 * DAY).toISOString(), new Date(now + MIN).toISOString());
    expect(glucoseProfile(before, 'Europe/Paris').n).toBe(tir.n + 1);
  });

  it('another period: the same definitions over its readings, ending where the indicators end', async () => {
    const res = await get(`/api/v1/patients/${PATIENT}/glucose-report?days=7`, who.clinician.token);
    expect(res.status, describeRes(res)).toBe(200);
    expect(res.body).toMatchObject({ days: 7, source: 'readings', computedAt: null, to: new Date(to).toISOString() });
    expect(Date.parse(res.body.from)).toBe(to - 7 * DAY);
    const expected = cgmIndicatorsFromReadings(
      inputs.map((r) => ({ deviceId: DEVICE, at: r.at, value: r.value! })),
      to,
      7 * DAY,
    );
    for (const s of res.body.statistics) {
      const e = expected.find((i) => i.key === s.key)!;
      expect(s.n, s.key).toBe(e.n);
      if (e.value === null) expect(s.value).toBeNull();
      else expect(s.value, s.key).toBeCloseTo(e.value, 9);
    }
    expect(res.body.agp.n).toBe(res.body.statistics[0].n);
    expect(res.body.daily).toHaveLength(7);
    const bad = await get(`/api/v1/patients/${PATIENT}/glucose-report?days=91`, who.clinician.token);
    expect(bad.status).toBe(422);
  });

  it('is for the clinicians of the patient, and audited', async () => {
    expectSameNotFound(
      await get('/api/v1/patients/p-other/glucose-report', who.clinician.token),
      'p-other',
      await get('/api/v1/patients/p-nobody/glucose-report', who.clinician.token),
      'p-nobody',
    );
    expect((await get(`/api/v1/patients/${PATIENT}/glucose-report`, who.admin.token)).status).toBe(403);
    expect((await fetchPdf('', who.operator.token)).status).toBe(403);
    const { rows } = await t.query(
      `SELECT action, detail FROM audit_log WHERE patient_id = $1 AND action = 'glucose_report.read' ORDER BY id`,
      [PATIENT],
    );
    expect(rows.length).toBeGreaterThanOrEqual(2);
    expect(rows[0].detail).toEqual({ days: 14, format: 'json' });
  });
});

describe('the glucose report (PDF)', () => {
  it('is one page, not blank, whose text shows the indicators API’s values', async () => {
    const res = await fetchPdf('?days=14');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/pdf');
    const file = path.join(dir, 'report.pdf');
    writeFileSync(file, Buffer.from(await res.arrayBuffer()));

    expect(poppler('pdfinfo', [file])).toMatch(/^Pages:\s+1$/m);
    // Rendered: one page image, and ink on it (a blank page is all white).
    poppler('pdftoppm', ['-r', '60', '-gray', file, path.join(dir, 'page')]);
    const pages = readdirSync(dir).filter((f) => f.startsWith('page'));
    expect(pages).toHaveLength(1);
    const { pixels, width, height } = readPgm(readFileSync(path.join(dir, pages[0])));
    expect(width).toBeGreaterThan(400);
    expect(height).toBeGreaterThan(600);
    const dark = pixels.filter((p) => p < 128).length;
    const tinted = pixels.filter((p) => p < 250).length;
    expect(dark / pixels.length).toBeGreaterThan(0.02);
    expect(tinted / pixels.length).toBeGreaterThan(0.15);
    // The screenshot of the report as printed (README, "Glucose report (AGP)").
    poppler('pdftoppm', ['-r', '110', '-png', '-singlefile', file, path.join(dir, 'glucose-report')]);

    const text = poppler('pdftotext', ['-layout', file, '-']);
    const api = await indicators();
    const value = (key: string) => fmt1(api.get(key)!.value);
    const shown = (pattern: RegExp) => pattern.exec(text)?.[1];
    expect(shown(/Mean glucose\s+([\d.]+) mg\/dL/)).toBe(value('cgm_mean'));
    expect(shown(/Glucose management indicator \(GMI\)\s+([\d.]+)%/)).toBe(value('gmi'));
    expect(shown(/Glucose variability \(CV\)\s+([\d.]+)%/)).toBe(value('glucose_cv'));
    expect(shown(/Time CGM active\s+([\d.]+)%/)).toBe(value('sensor_active'));
    expect(shown(/CGM readings\s+([\d,]+)/)).toBe(api.get('tir_70_180')!.n.toLocaleString('en-GB'));
    const v = (key: string) => api.get(key)!.value!;
    expect(shown(/Very high\s+([\d.]+)%/)).toBe(fmt1(v('tar_250')));
    expect(shown(/\bHigh\s+([\d.]+)%/)).toBe(fmt1(v('tar_180') - v('tar_250')));
    expect(shown(/Target range\s+([\d.]+)%/)).toBe(value('tir_70_180'));
    expect(shown(/\bLow\s+([\d.]+)%/)).toBe(fmt1(v('tbr_70') - v('tbr_54')));
    expect(shown(/Very low\s+([\d.]+)%/)).toBe(fmt1(v('tbr_54')));
    // Dates in the patient's time zone (Europe/Paris).
    const local = new Intl.DateTimeFormat('en-GB', {
      timeZone: 'Europe/Paris',
      day: 'numeric',
      month: 'short',
      year: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    expect(text).toContain(`${local.format(to - 14 * DAY)} – ${local.format(to)}`);
    expect(text).toContain('Time zone: Europe/Paris');
    expect(text).toContain('DAILY GLUCOSE PROFILES');
  });

  it('prints on one US Letter page too, and for a patient without CGM data', async () => {
    const letter = await fetchPdf('?paper=letter');
    expect(letter.status).toBe(200);
    const file = path.join(dir, 'letter.pdf');
    writeFileSync(file, Buffer.from(await letter.arrayBuffer()));
    const info = poppler('pdfinfo', [file]);
    expect(info).toMatch(/^Pages:\s+1$/m);
    expect(info).toMatch(/^Page size:\s+612 x 792 pts \(letter\)$/m);

    const empty = await fetch(`${t.httpUrl}/api/v1/patients/p-own-2/glucose-report.pdf`, {
      headers: { authorization: `Bearer ${who.clinician.token}` },
    });
    expect(empty.status).toBe(200);
    const emptyFile = path.join(dir, 'empty.pdf');
    writeFileSync(emptyFile, Buffer.from(await empty.arrayBuffer()));
    expect(poppler('pdfinfo', [emptyFile])).toMatch(/^Pages:\s+1$/m);
    const text = poppler('pdftotext', ['-layout', emptyFile, '-']);
    expect(text).toContain('No CGM reading in this period.');
    expect(text).toMatch(/CGM readings\s+0\b/);
  });
});

/** A binary PGM (P5, 8-bit) as pdftoppm -gray writes it. */
function readPgm(data: Buffer): { width: number; height: number; pixels: Uint8Array } {
  const header = /^P5\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(data.subarray(0, 64).toString('latin1'));
  if (!header) throw new Error('not a binary PGM');
  const [, width, height, max] = header.map(Number);
  expect(max).toBe(255);
  const pixels = new Uint8Array(data.subarray(header[0].length));
  expect(pixels.length).toBe(width * height);
  return { width, height, pixels };
}
