/**
 * The clinician's patient page in a real browser (issue #16 items 4 and 5):
 * Debian's Chromium driven by playwright-core against the HTTP service in this
 * process, its clock and the page's set to Tuesday 1 December 2026, 14:00 in Paris.
 *
 * Lucie Roux, enrolled for diabetes, has fourteen days of CGM every 5 minutes
 * (the sensor off two hours last night), a meter four times a day and a scale
 * every morning whose 0.8 kg of noise must not look like a spike; a
 * hypoglycaemia this morning and a hyperglycaemia yesterday after lunch, opened
 * by the service's own aggregation job. Jeanne Lefebvre, enrolled for heart
 * failure, has a scale, a cuff (a high blood pressure yesterday evening) and an
 * oximeter. Their practitioner sees, in this order: glucose first for Lucie and
 * the weight first for Jeanne; each alert's event with its values and a marker
 * on the chart; the targets as green bands; legends without dashes; the readings
 * a page at a time and as CSV. An administrator sees the patients' programmes
 * and devices, and is told the clinical data is for clinicians.
 *
 * Screenshots go to test-results/screenshots/, and patient-24h.png and
 * patient-14d.png to docs/screenshots/ (committed, in the README) when
 * VITALINK_UPDATE_DOCS_SCREENSHOTS=1.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { addMember, addPractitioner, addTeam, enrol } from '../../src/actions/care-teams.ts';
import { createApiToken } from '../../src/actions/tokens.ts';
import { buildHttpServer } from '../../src/http/server.ts';
import { createLogger } from '../../src/logger.ts';
import { createMetrics } from '../../src/metrics/metrics.ts';
import { useTestDatabase } from '../fixture.ts';
import { provisionDevice } from '../helpers/provision.ts';
import { drainAggregation, type TestReadingInput, writeReadings } from '../helpers/readings.ts';
import { ROOT } from '../helpers/service.ts';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = path.join(ROOT, 'test-results', 'screenshots');
const DOCS = path.join(ROOT, 'docs', 'screenshots');
const CHROMIUM_MISSING = `Debian's Chromium is not installed (${CHROMIUM} is missing): the browser tests need it; install it with \`apt-get install -y --no-install-recommends chromium\` (.ci/run does).`;
const ADMIN_TOKEN = 'patient-page-admin-token-0123456789';

/** Tuesday 1 December 2026, 14:00 in Paris (13:00 UTC). */
const NOW = Date.parse('2026-12-01T14:00:00+01:00');
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
/** Midnight in Paris, `d` days before today. */
const dayStart = (d: number) => Date.parse('2026-12-01T00:00:00+01:00') - d * DAY;

/** The sensor was off from 01:30 to 03:30 last night. */
const SENSOR_OFF = [Date.parse('2026-12-01T01:30:00+01:00'), Date.parse('2026-12-01T03:30:00+01:00')];
/** This morning's hypoglycaemia: three readings below 54 mg/dL from 05:20. */
const HYPO = Date.parse('2026-12-01T05:20:00+01:00');
/** Yesterday's hyperglycaemia: three readings above 250 mg/dL from 13:00. */
const HYPER = Date.parse('2026-11-30T13:00:00+01:00');

/** Jeanne's high blood pressure, yesterday evening. */
const BP_HIGH = Date.parse('2026-11-30T20:00:00+01:00');

/** A day's glucose without events: 100–190 mg/dL, higher after meals (08:00, 12:30, 19:30). */
function glucose(at: number): number {
  const hour = (at - dayStart(0) + 100 * DAY) / HOUR;
  const h = hour % 24;
  const meal = (start: number) => (h >= start && h < start + 3 ? 60 * Math.sin((Math.PI * (h - start)) / 3) : 0);
  const wobble = 8 * Math.sin(at / (37 * MIN)); // sensor noise, deterministic
  return Math.round(118 + meal(8) + meal(12.5) + meal(19.5) + wobble);
}

function cgmReadings(): TestReadingInput[] {
  const out: TestReadingInput[] = [];
  for (let at = NOW - 14 * DAY + 5 * MIN; at <= NOW - 10 * MIN; at += 5 * MIN) {
    if (at >= SENSOR_OFF[0] && at < SENSOR_OFF[1]) continue;
    let value = glucose(at);
    if (at >= HYPO && at < HYPO + 15 * MIN) value = [52, 49, 51][(at - HYPO) / (5 * MIN)];
    if (at >= HYPO + 15 * MIN && at < HYPO + 40 * MIN) value = 62 + ((at - HYPO) / MIN - 15) * 2;
    if (at >= HYPER && at < HYPER + 15 * MIN) value = [262, 274, 266][(at - HYPER) / (5 * MIN)];
    out.push({ id: `c${at}`, type: 'cgm_glucose', at, unit: 'mg/dL', value });
  }
  return out;
}

/** The meter at 07:30, 12:00, 19:00 and 22:30. */
function meterReadings(): TestReadingInput[] {
  const out: TestReadingInput[] = [];
  for (let d = 14; d >= 0; d--) {
    for (const hhmm of [7.5, 12, 19, 22.5]) {
      const at = dayStart(d) + hhmm * HOUR;
      if (at > NOW || at <= NOW - 14 * DAY) continue;
      out.push({ id: `m${at}`, type: 'blood_glucose', at, unit: 'mg/dL', value: glucose(at) + 6 });
    }
  }
  return out;
}

/** 72 kg give or take 0.4 kg: a scale's and a body's day-to-day noise, every morning at 07:00. */
const WEIGHT_NOISE = [0.3, -0.2, 0.4, 0.1, -0.3, 0.4, 0.0, 0.2, -0.1, 0.3, 0.4, 0.1, -0.4, 0.2, 0.3];

function weightReadings(base: number, noise: readonly number[]): TestReadingInput[] {
  return noise.map((n, i) => {
    const at = dayStart(14 - i) + 7 * HOUR;
    return { id: `w${at}`, type: 'body_weight', at, unit: 'kg', value: Math.round((base + n) * 10) / 10 };
  });
}

/** Jeanne: a cuff at 08:00 and 20:00 (yesterday 20:00 high), pulse as heart rate, SpO2 at 08:00. */
function heartFailureReadings(): { cuff: TestReadingInput[]; oximeter: TestReadingInput[] } {
  const cuff: TestReadingInput[] = [];
  const oximeter: TestReadingInput[] = [];
  for (let d = 14; d >= 0; d--) {
    for (const h of [8, 20]) {
      const at = dayStart(d) + h * HOUR;
      if (at > NOW || at <= NOW - 14 * DAY) continue;
      const high = at === BP_HIGH;
      cuff.push({
        id: `b${at}`,
        type: 'blood_pressure',
        at,
        unit: 'mm[Hg]',
        systolic: high ? 184 : 128 + ((d * 7 + h) % 11),
        diastolic: high ? 104 : 78 + ((d * 3 + h) % 7),
      });
      cuff.push({ id: `h${at}`, type: 'heart_rate', at, unit: '/min', value: 68 + ((d * 5 + h) % 9) });
    }
    const at = dayStart(d) + 8 * HOUR + 5 * MIN;
    if (at <= NOW && at > NOW - 14 * DAY) {
      oximeter.push({ id: `s${at}`, type: 'spo2', at, unit: '%', value: 94 + (d % 4) });
    }
  }
  return { cuff, oximeter };
}

const t = useTestDatabase();
let app: FastifyInstance | undefined;
let base: string;
let browser: Browser | undefined;
let token: string;
let cgmCount24h: number;

beforeEach(() => {
  if (!existsSync(CHROMIUM)) throw new Error(CHROMIUM_MISSING);
});

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) return; // each test fails, see beforeEach
  mkdirSync(SHOTS, { recursive: true });

  const now = new Date(NOW);
  const db = t.db;
  await addPractitioner(db, { id: 'dr-morel', name: 'Dr Claire Morel', rpps: '10003456789', role: 'physician' });
  await addTeam(db, { id: 'diabeto', name: 'Diabétologie', timeZone: 'Europe/Paris' }, now);
  await addTeam(db, { id: 'ic-idf', name: 'Cardiologie', timeZone: 'Europe/Paris' }, now);
  await addMember(db, 'diabeto', 'dr-morel');
  await addMember(db, 'ic-idf', 'dr-morel');
  const since = '2026-09-01T00:00:00+02:00';
  await t.addPatient('db-lucie', { displayName: 'Lucie Roux', timeZone: 'Europe/Paris' });
  await t.addPatient('hf-jeanne', { displayName: 'Jeanne Lefebvre', timeZone: 'Europe/Paris' });
  await enrol(db, { patientId: 'db-lucie', teamId: 'diabeto', programme: 'diabetes', from: since }, now);
  await enrol(db, { patientId: 'hf-jeanne', teamId: 'ic-idf', programme: 'heart_failure', from: since }, now);

  const assigned = new Date('2026-09-01T00:00:00Z');
  const cgm = cgmReadings();
  cgmCount24h = cgm.filter((r) => r.at >= NOW - DAY).length; // the API's from is inclusive
  const hf = heartFailureReadings();
  const devices: [string, string, TestReadingInput[]][] = [
    ['lucie-cgm', 'db-lucie', cgm],
    ['lucie-meter', 'db-lucie', meterReadings()],
    ['lucie-scale', 'db-lucie', weightReadings(72, WEIGHT_NOISE)],
    [
      'jeanne-scale',
      'hf-jeanne',
      weightReadings(
        81,
        WEIGHT_NOISE.map((n) => -n),
      ),
    ],
    ['jeanne-cuff', 'hf-jeanne', hf.cuff],
    ['jeanne-oximeter', 'hf-jeanne', hf.oximeter],
  ];
  for (const [device, patient] of devices) await provisionDevice(db, device, patient, assigned);
  // The readings arrive as time goes by, and the service's own job rolls the days up and opens
  // the alerts, with their events, a few minutes after each (not all at 14:00).
  const cuts = [HYPER + 16 * MIN, BP_HIGH + 2 * MIN, HYPO + 16 * MIN, NOW];
  let previous = -Infinity;
  for (const cut of cuts) {
    for (const [device, , readings] of devices) {
      const batch = readings.filter((r) => r.at > previous && r.at <= cut);
      if (batch.length > 0) await writeReadings(db, device, batch, cut);
    }
    await drainAggregation(db, cut);
    previous = cut;
  }

  token = (await createApiToken(db, await t.keys(), { role: 'clinician', practitionerId: 'dr-morel' })).token;
  app = await buildHttpServer({
    log: createLogger('silent'),
    metrics: createMetrics(),
    adminToken: ADMIN_TOKEN,
    readiness: async () => ({ database: true, broker: true }),
    db,
    keys: await t.keys(),
    now: () => new Date(NOW),
    ingestion: async () => {
      throw new Error('not used');
    },
  });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-sync'],
  });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
});

async function apiGet<T>(pathname: string, as = token): Promise<T> {
  const response = await fetch(`${base}/api/v1${pathname}`, { headers: { authorization: `Bearer ${as}` } });
  expect(response.status, pathname).toBe(200);
  return (await response.json()) as T;
}

async function openAs(
  as: string,
  locale = 'en-GB',
): Promise<{ page: Page; errors: string[]; close: () => Promise<void> }> {
  const context = await browser!.newContext({
    locale,
    timezoneId: 'Europe/Paris',
    viewport: { width: 1280, height: 1000 },
    acceptDownloads: true,
  });
  await context.clock.setFixedTime(new Date(NOW));
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto(`${base}/`);
  await page.getByLabel(/API token|Jeton d’API/).fill(as);
  await page.getByRole('button', { name: /^(Sign in|Se connecter)$/ }).click();
  return {
    page,
    errors,
    close: async () => {
      // A failing test leaves the page as it was beside the others (FAILED-*.png).
      const failed = expect.getState().currentTestName;
      await page
        .screenshot({
          path: path.join(SHOTS, `LAST-${String(failed).replace(/\W+/g, '-').slice(-60)}.png`),
          fullPage: true,
        })
        .catch(() => {});
      await context.close();
    },
  };
}

/** The page from its top to the end of the charts: the header, the alerts and the charts. */
async function shotToCharts(page: Page, name: string): Promise<void> {
  const box = (await page.locator('#charts-section').boundingBox())!;
  const scrollY = await page.evaluate(() => (globalThis as unknown as { scrollY: number }).scrollY);
  const height = Math.ceil(box.y + scrollY + box.height + 16);
  await page.screenshot({ path: path.join(SHOTS, name), fullPage: true, clip: { x: 0, y: 0, width: 1280, height } });
}

/** The charts' types, top to bottom. */
async function chartOrder(page: Page): Promise<string[]> {
  return page
    .locator('[data-testid^="figure-"]:not([data-testid="figure-agp"])')
    .evaluateAll((els) => els.map((e) => e.getAttribute('data-testid')!.replace('figure-', '')));
}

interface Band {
  component: string;
  low: number | null;
  high: number | null;
  top: number;
  bottom: number;
}

async function targetBands(page: Page, type: string): Promise<Band[]> {
  return JSON.parse((await page.getByTestId(`chart-${type}`).getAttribute('data-target-bands')) ?? '[]') as Band[];
}

interface Canvas {
  width: number;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } };
}

/** Pixels of the target band's green (rgba(25, 103, 47, 0.10) over white) in rows y0..y1 of the chart's canvas. */
async function greenPixels(page: Page, type: string, y0: number, y1: number): Promise<number> {
  return page
    .getByTestId(`chart-${type}`)
    .locator('canvas')
    .evaluate(
      (element, [from, to]) => {
        const canvas = element as unknown as Canvas;
        const { data } = canvas.getContext('2d').getImageData(0, from, canvas.width, to - from);
        let green = 0;
        for (let i = 0; i < data.length; i += 4) {
          const [r, g, b, a] = [data[i], data[i + 1], data[i + 2], data[i + 3]];
          if (a > 0 && g > r + 8 && g > b + 8) green++;
        }
        return green;
      },
      [y0, y1],
    );
}

type ApiAlert = {
  id: string;
  rule: string;
  status: string;
  event: { at: string; readings: { type: string; at: string; value?: number; systolic?: number }[] | null };
};

describe('the patient page of a patient with diabetes', () => {
  it('glucose first; alerts with their event and a marker on the chart; target bands; clean legends; 24 h and 14 d', async () => {
    const { page, errors, close } = await openAs(token);
    try {
      await page.waitForURL(/#\/worklist$/);
      await page.getByRole('link', { name: 'Lucie Roux' }).click();
      await page.locator('[data-testid="figure-cgm_glucose"][data-range="24h"] canvas').waitFor({ timeout: 30_000 });
      expect(await page.getByTestId('programmes').innerText()).toBe('Diabetes');
      expect(await page.getByTestId('last-reading').innerText()).toMatch(/minutes ago/);
      expect(await chartOrder(page)).toEqual(['cgm_glucose', 'blood_glucose', 'body_weight']);

      // The API carries each alert's event: the readings that raised it with their values.
      const { items: alerts } = await apiGet<{ items: ApiAlert[] }>('/alerts?patient=db-lucie&status=open');
      expect(alerts.map((a) => a.rule).sort()).toEqual(['hyperglycemia', 'hypoglycemia']);
      const hypo = alerts.find((a) => a.rule === 'hypoglycemia')!;
      expect(hypo.event.readings!.length).toBe(1);
      const [low] = hypo.event.readings!;
      expect(low.type).toBe('cgm_glucose');
      expect([52, 49, 51]).toContain(low.value);
      expect(Date.parse(low.at)).toBeGreaterThanOrEqual(HYPO);
      expect(Date.parse(low.at)).toBeLessThan(HYPO + 15 * MIN);
      const hyper = alerts.find((a) => a.rule === 'hyperglycemia')!;
      expect(hyper.event.readings!.map((r) => r.value)).toEqual([274, 266]);

      // The page shows it: the event's time and value on the alert, a marker on the chart.
      const hypoEvent = await page.getByTestId(`alert-${hypo.id}`).getByTestId('alert-event').innerText();
      expect(hypoEvent).toMatch(new RegExp(`^Event 1 Dec 2026, 05:[23]\\d · value ${low.value} mg/dL`));
      const hyperEvent = await page.getByTestId(`alert-${hyper.id}`).getByTestId('alert-event').innerText();
      expect(hyperEvent).toContain('274 mg/dL');
      expect(hyperEvent).toContain('266 mg/dL');
      const marker = page.locator(
        `[data-testid="chart-cgm_glucose"] [data-testid="chart-marker"][data-at="${low.at}"]`,
      );
      await marker.waitFor();
      expect(await marker.getAttribute('aria-label')).toMatch(/^Hypoglycaemia alert event, 1 Dec 2026, 05:/);
      // Yesterday's hyperglycaemia is outside the 24 h shown: no marker for it yet.
      expect(await page.locator('[data-testid="chart-cgm_glucose"] [data-testid="chart-marker"]').count()).toBe(1);

      // The 70–180 mg/dL target: a green band on the glucose charts, said below them; none on the weight.
      for (const type of ['cgm_glucose', 'blood_glucose']) {
        const [band] = await targetBands(page, type);
        expect(band).toMatchObject({ component: 'value', low: 70, high: 180 });
        expect(band.bottom - band.top).toBeGreaterThan(40);
        expect(await greenPixels(page, type, band.top + 2, band.bottom - 2)).toBeGreaterThan(1000);
        expect(await page.getByTestId(`chart-target-${type}`).innerText()).toMatch(/^Target 70–180 mg\/dL \(Battelino/);
        expect(await page.getByTestId(`chart-${type}`).getAttribute('aria-label')).toContain('Target: 70–180 mg/dL.');
      }
      expect(await targetBands(page, 'body_weight')).toEqual([]);
      expect(await page.getByTestId('chart-target-body_weight').count()).toBe(0);

      // Legends: series names, no dash for a value nobody points at.
      const legends = await page.locator('.charts .u-legend').allInnerTexts();
      expect(legends.length).toBe(3);
      for (const legend of legends) expect(legend).not.toMatch(/—|--/);

      await shotToCharts(page, 'patient-24h.png');
      await page.locator('#charts-section').screenshot({ path: path.join(SHOTS, 'patient-24h-charts.png') });

      await page.getByRole('radio', { name: '14 days' }).check();
      await page.locator('[data-testid="figure-cgm_glucose"][data-range="14d"] canvas').waitFor();
      await expect
        .poll(() => page.getByTestId('chart-cgm_glucose').getAttribute('aria-label'))
        .toMatch(/14 days: daily values over 1[45] days/);
      // Over 14 days both events are marked (the hyperglycaemia's two readings each), the target still drawn.
      await expect
        .poll(() => page.locator('[data-testid="chart-cgm_glucose"] [data-testid="chart-marker"]').count())
        .toBe(3);
      expect((await targetBands(page, 'cgm_glucose'))[0]).toMatchObject({ low: 70, high: 180 });
      for (const legend of await page.locator('.charts .u-legend').allInnerTexts()) expect(legend).not.toMatch(/—|--/);
      await shotToCharts(page, 'patient-14d.png');
      await page.locator('#charts-section').screenshot({ path: path.join(SHOTS, 'patient-14d-charts.png') });
      await page.screenshot({ path: path.join(SHOTS, 'patient-14d-full.png'), fullPage: true });
      if (process.env.VITALINK_UPDATE_DOCS_SCREENSHOTS === '1') {
        mkdirSync(DOCS, { recursive: true });
        for (const name of ['patient-24h.png', 'patient-14d.png']) {
          copyFileSync(path.join(SHOTS, name), path.join(DOCS, name));
        }
      }
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  }, 90_000);

  it('lists the readings a page at a time, newest first, and downloads them as CSV', async () => {
    const { page, errors, close } = await openAs(token);
    try {
      await page.waitForURL(/#\/worklist$/);
      await page.getByRole('link', { name: 'Lucie Roux' }).click();
      const table = page.getByTestId('readings-table');
      await table.waitFor({ timeout: 30_000 });
      // The first type of the page (CGM), 50 a page, the newest reading first.
      const rows = table.locator('tbody tr');
      await expect.poll(() => rows.count()).toBe(50);
      const newest = NOW - 10 * MIN;
      expect(await rows.first().getAttribute('data-reading')).toBe(`c${newest}`);
      expect(await rows.first().innerText()).toMatch(/1 Dec 2026, 13:50\s+\d+\s+lucie-cgm/);
      await page.getByRole('button', { name: 'Older' }).click();
      await expect.poll(() => page.getByTestId('readings-page').innerText()).toBe('Page 2');
      await expect.poll(() => rows.first().getAttribute('data-reading')).toBe(`c${newest - 50 * 5 * MIN}`);
      await page.getByRole('button', { name: 'Newer' }).click();
      await expect.poll(() => rows.first().getAttribute('data-reading')).toBe(`c${newest}`);

      // The CSV: every CGM reading of the 24 h shown, oldest first, built from every page of the API.
      const download = page.waitForEvent('download');
      await page.getByRole('button', { name: 'Download CSV' }).click();
      const file = await download;
      expect(file.suggestedFilename()).toBe('readings-db-lucie-cgm_glucose-2026-11-30-2026-12-01.csv');
      const csv = readFileSync((await file.path())!, 'utf8');
      const lines = csv.split('\r\n');
      expect(lines[0]).toBe(
        'measuredAt,measuredAtLocal,type,value,systolic,diastolic,pulse,unit,deviceId,readingId,receivedAt',
      );
      expect(lines.length).toBe(cgmCount24h + 2); // the header and a final line end
      expect(lines[lines.length - 2]).toMatch(
        new RegExp(
          `^${new Date(newest).toISOString()},2026-12-01 13:50:00,cgm_glucose,\\d+,,,,mg/dL,lucie-cgm,c${newest},`,
        ),
      );
      await expect
        .poll(() => page.getByTestId('csv-status').innerText())
        .toBe(`CSV of ${cgmCount24h} readings downloaded.`);

      // Another type: the meter's readings, four a day.
      await page.getByLabel('Type', { exact: true }).selectOption({ label: 'Glucose (meter)' });
      await expect.poll(() => rows.count()).toBe(4);
      expect(await rows.first().innerText()).toContain('lucie-meter');
      await page.locator('#readings-section').screenshot({ path: path.join(SHOTS, 'patient-readings.png') });
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  }, 60_000);
});

describe('the patient page of a patient with heart failure', () => {
  it('weight first, then blood pressure with its home target and the high reading marked, heart rate, SpO2', async () => {
    const { page, errors, close } = await openAs(token);
    try {
      await page.waitForURL(/#\/worklist$/);
      await page.getByRole('link', { name: 'Jeanne Lefebvre' }).click();
      await page.locator('[data-testid="figure-body_weight"][data-range="24h"] canvas').waitFor({ timeout: 30_000 });
      expect(await chartOrder(page)).toEqual(['body_weight', 'blood_pressure', 'heart_rate', 'spo2']);
      const bands = await targetBands(page, 'blood_pressure');
      expect(bands.map((b) => [b.component, b.low, b.high])).toEqual([
        ['systolic', null, 135],
        ['diastolic', null, 85],
      ]);
      expect(await page.getByTestId('chart-target-blood_pressure').innerText()).toMatch(
        /^Target systolic < 135 mmHg, diastolic < 85 mmHg \(Stergiou et al\. \(ESH\), J Hypertens 2021/,
      );
      expect((await targetBands(page, 'spo2'))[0]).toMatchObject({ low: 94, high: 98 });
      const { items } = await apiGet<{ items: ApiAlert[] }>('/alerts?patient=hf-jeanne&status=open');
      const bp = items.find((a) => a.rule === 'bp_high')!;
      expect(bp.event.readings).toMatchObject([{ type: 'blood_pressure', systolic: 184 }]);
      expect(await page.getByTestId(`alert-${bp.id}`).getByTestId('alert-event').innerText()).toContain(
        'value 184/104 mmHg',
      );
      await page
        .locator(
          `[data-testid="chart-blood_pressure"] [data-testid="chart-marker"][data-at="${bp.event.readings![0].at}"]`,
        )
        .waitFor();
      await page.getByRole('radio', { name: '7 days' }).check();
      await page.locator('[data-testid="figure-body_weight"][data-range="7d"] canvas').waitFor();
      await page.screenshot({ path: path.join(SHOTS, 'patient-heart-failure-7d.png'), fullPage: true });
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  }, 60_000);
});

describe('what an administrator sees', () => {
  it('the patients with their programmes and devices, no clinical column of dashes; the page says why', async () => {
    const { page, errors, close } = await openAs(ADMIN_TOKEN);
    try {
      await page.waitForURL(/#\/patients$/);
      const row = page.getByTestId('patient-row-db-lucie');
      await row.waitFor();
      expect(await page.getByTestId('admin-list-notice').innerText()).toContain('clinical data');
      const headers = await page.getByTestId('patient-table').locator('thead th').allInnerTexts();
      expect(headers.map((h) => h.replace(/[▲▼↕]/g, '').trim())).toEqual([
        'Patient',
        'Time zone',
        'Programme',
        'Devices now',
      ]);
      const text = await row.innerText();
      expect(text).toContain('Diabetes');
      expect(text).toContain('lucie-cgm');
      expect(text).toContain('lucie-meter');
      expect(await page.getByTestId('patient-table').innerText()).not.toContain('—');
      expect(await page.getByLabel('Only patients with open alerts').count()).toBe(0);
      await page.screenshot({ path: path.join(SHOTS, 'admin-patient-list.png'), fullPage: true });

      await page.getByRole('link', { name: 'Lucie Roux' }).click();
      await page.getByTestId('admin-devices').waitFor();
      expect(await page.getByTestId('admin-clinical-notice').innerText()).toContain('only a clinician');
      expect(await page.getByTestId('last-reading').count()).toBe(0); // not "never": not shown at all
      expect(await page.getByText('never', { exact: true }).count()).toBe(0);
      const devices = await page
        .getByTestId('admin-devices')
        .locator('tbody tr')
        .evaluateAll((r) => r.map((e) => e.getAttribute('data-device')));
      expect(devices).toEqual(['lucie-cgm', 'lucie-meter', 'lucie-scale']);
      expect(await page.getByTestId('admin-enrolments').innerText()).toContain('Diabetes · team diabeto');
      expect(await page.locator('[data-testid^="figure-"]').count()).toBe(0);
      expect(await page.locator('.section-nav').count()).toBe(0); // no links to sections that are not there
      await page.screenshot({ path: path.join(SHOTS, 'admin-patient-page.png'), fullPage: true });
      // The clinical endpoints were not even asked: no refused request in the console.
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  }, 60_000);
});
