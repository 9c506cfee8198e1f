/**
 * The dashboard in a real browser: Debian's Chromium driven by playwright-core,
 * against the real service process (`vitalink serve`) holding simulated patients.
 *
 * A clinician logs in with a token, opens a patient with 14 days of CGM data, sees
 * the charts drawn (canvas pixels, not just elements), switches 24 h → 30 d and
 * sees them redrawn, sees an alert's event (values, a marker on the chart),
 * acknowledges it with an action and a note, reads its history, marks the day
 * reviewed and edits a threshold (each checked through the API too); an
 * administrator reads a team's monthly activity report; an operator watches the throughput figure move while a
 * live simulator publishes. Screenshots of each view go to test-results/screenshots.
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  runSimulate as runFleet,
  type SimulateIo,
  type SimulateOptions,
  type SimulateSummary,
} from '../../simulators/fleet/simulate.ts';
import { createApiToken } from '../../src/actions/tokens.ts';
import { openProvisioner } from '../../src/cli/provisioner.ts';
import { NO_CONFIGURED_KEYS } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { useTestDatabase } from '../fixture.ts';
import { ROOT, type ServiceProcess, startService } from '../helpers/service.ts';

/** The simulators, provisioning in this file's database (simulators/provisioner.ts). */
async function runSimulate(options: SimulateOptions, io: SimulateIo): Promise<SimulateSummary> {
  const provisioner = await openProvisioner(options.databaseUrl!, createLogger('silent'), {
    secretKeys: NO_CONFIGURED_KEYS,
  });
  return runFleet(options, io, provisioner).finally(() => provisioner.close());
}

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = path.join(ROOT, 'test-results', 'screenshots');
const ADMIN_TOKEN = 'browser-test-admin-token-0123456789';

const database = useTestDatabase();
let service: ServiceProcess | undefined;
let browser: Browser | undefined;
let base: string;
let backfill: SimulateSummary;
let clinicianToken: string;
let operatorToken: string;
let t1d: string;
let hypertension: string;

const quiet = { out: () => {}, err: () => {} };

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function count(sql: string, values: unknown[]): Promise<number> {
  const { rows } = await database.query<{ n: string }>(sql, values);
  return Number(rows[0].n);
}

async function apiGet<T>(pathname: string, token = clinicianToken): Promise<T> {
  const response = await fetch(`${base}/api/v1${pathname}`, { headers: { authorization: `Bearer ${token}` } });
  expect(response.status, pathname).toBe(200);
  return (await response.json()) as T;
}

const CHROMIUM_MISSING = `Debian's Chromium is not installed (${CHROMIUM} is missing): the browser tests need it; install it with \`apt-get install -y --no-install-recommends chromium\` (.ci/run does).`;

// Without the browser every test fails with the sentence above: none is skipped.
beforeEach(() => {
  if (!existsSync(CHROMIUM)) throw new Error(CHROMIUM_MISSING);
});

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) return; // each test fails, see beforeEach
  mkdirSync(SHOTS, { recursive: true });

  service = await startService({
    DATABASE_URL: database.url,
    VITALINK_ADMIN_TOKEN: ADMIN_TOKEN,
    VITALINK_AGGREGATION_INTERVAL_MS: '100',
    VITALINK_AGGREGATION_MAX_BUSY_PCT: '100',
  });
  base = `http://127.0.0.1:${service.ports.http}`;

  // 14 days of a type 1 diabetes patient (CGM, meter: hypo- and hyperglycaemia) and a
  // hypertension patient (blood pressure: bp_high), published as real MQTT devices.
  backfill = await runSimulate(
    {
      url: `mqtt://127.0.0.1:${service.ports.mqtt}`,
      databaseUrl: database.url,
      personas: ['type1-diabetes', 'hypertension'],
      days: 14,
      seed: '6',
      progress: false,
    },
    quiet,
  );
  expect(backfill.ok).toBe(true);
  [t1d, hypertension] = backfill.patients;
  clinicianToken = (
    await createApiToken(database.db, await database.keys(), { role: 'clinician', patientIds: backfill.patients })
  ).token;
  operatorToken = (await createApiToken(database.db, await database.keys(), { role: 'operator' })).token;

  // The aggregation job has rolled up every day and opened the personas' alerts.
  await waitFor(
    async () =>
      (await count(`SELECT count(*) AS n FROM aggregation_dirty WHERE patient_id = ANY($1)`, [backfill.patients])) ===
        0 &&
      (await count(`SELECT count(*) AS n FROM indicators_dirty WHERE patient_id = ANY($1)`, [backfill.patients])) ===
        0 &&
      (await count(`SELECT count(*) AS n FROM alerts WHERE patient_id = $1 AND status = 'open'`, [t1d])) >= 2 &&
      (await count(`SELECT count(*) AS n FROM alerts WHERE patient_id = $1 AND status = 'open'`, [hypertension])) >= 1,
    60_000,
    'the aggregation of the simulated data',
  );

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (service) {
    service.child.kill('SIGTERM');
    await service.exited;
  }
});

interface Canvas {
  width: number;
  height: number;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } };
}

/** What a canvas holds: how many bluish pixels (the series and bands) and a checksum of all of them. */
async function canvasInk(page: Page, testId: string): Promise<{ blue: number; checksum: number; width: number }> {
  return page
    .getByTestId(testId)
    .locator('canvas')
    .evaluate((element) => {
      // The root tsconfig has no DOM library: the little of a canvas this needs is typed here.
      const canvas = element as unknown as Canvas;
      const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
      let blue = 0;
      let checksum = 0;
      for (let i = 0; i < data.length; i += 4) {
        const [r, g, b, a] = [data[i], data[i + 1], data[i + 2], data[i + 3]];
        if (a > 0 && b > r + 40 && b > g) blue++;
        checksum = (checksum * 31 + r + 3 * g + 7 * b + 11 * a) >>> 0;
      }
      return { blue, checksum, width: canvas.width };
    });
}

/** Console errors other than the browser's own note of a refused request (the tests provoke a 401, a 403 and a 422). */
function unexpected(errors: string[]): string[] {
  return errors.filter((e) => !/Failed to load resource: the server responded with a status of (401|403|422)/.test(e));
}

async function shot(page: Page, name: string, fullPage = true): Promise<void> {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage });
}

async function newPage(locale = 'en-GB'): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser!.newContext({ locale, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  return { context, page, errors };
}

/** Runs a step; when it fails, a screenshot of the page as it was goes beside the others (FAILED-name.png). */
async function step<T>(page: Page, name: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    await page.screenshot({ path: path.join(SHOTS, `FAILED-${name}.png`), fullPage: true }).catch(() => {});
    throw error;
  }
}

async function logIn(page: Page, token: string): Promise<void> {
  await page.goto(`${base}/`);
  await page.getByLabel(/API token|Jeton d’API/).fill(token);
  await page.getByRole('button', { name: /^(Sign in|Se connecter)$/ }).click();
}

describe('the dashboard, served by the service', () => {
  it('GET / serves the built page with a restrictive CSP; hashed assets are cached for good', async () => {
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('cache-control')).toBe('no-cache');
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    const html = await page.text();
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    expect(html).not.toMatch(/<script>(?!<\/script>)/); // no inline script
    const asset = await fetch(`${base}${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    expect(asset.headers.get('content-type')).toMatch(/javascript/);
    expect((await asset.text()).length).toBeGreaterThan(10_000);
    // Not behind the API's token check, and not in the OpenAPI document.
    const openapi = (await (await fetch(`${base}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(openapi.paths).some((p) => p === '/' || p.startsWith('/assets'))).toBe(false);
  });
});

describe('clinician views', () => {
  let context: BrowserContext;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    if (existsSync(CHROMIUM)) ({ context, page, errors } = await newPage());
  });

  afterAll(async () => {
    await context?.close();
  });

  it('logs in with a token (a wrong one is refused) and lists the simulated patients', async () => {
    await page.goto(`${base}/`);
    await expect.poll(() => page.getByLabel('API token').isVisible()).toBe(true);
    await shot(page, '01-login');
    await logIn(page, 'vlk_not-a-token-that-exists-anywhere');
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('unknown or revoked');

    await page.getByLabel('API token').fill(clinicianToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/#\/patients$/);
    await page.getByTestId(`patient-row-${hypertension}`).waitFor();
    expect(await page.getByTestId('who').textContent()).toContain('Signed in as clinician');
    expect(await page.evaluate(() => sessionStorage.getItem('vitalink.token'))).toBe(clinicianToken);
    const rows = page.locator('[data-testid^="patient-row-"]');
    expect(await rows.count()).toBe(2);
    const htRow = await page.getByTestId(`patient-row-${hypertension}`).textContent();
    expect(htRow).toContain('critical');
    expect(htRow).toContain('High blood pressure');
    expect(htRow).toMatch(/1[45] \/ 30 days/);
    // Filter, then sort by name.
    await page.getByLabel('Filter by name or id').fill('hypertension');
    expect(await rows.count()).toBe(1);
    await page.getByLabel('Filter by name or id').fill('');
    await page.getByRole('button', { name: /^Patient/ }).click();
    expect(await page.locator('th[aria-sort="ascending"]').textContent()).toContain('Patient');
    await shot(page, '02-patient-list');
    // A tablet held upright: the list still fits, nothing overlaps.
    await page.setViewportSize({ width: 768, height: 1024 });
    await shot(page, '02b-patient-list-tablet');
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('opens a patient with simulated data: charts drawn, 24 h then 30 d redrawn', { timeout: 30_000 }, async () => {
    await page.getByRole('link', { name: /type1_diabetes/ }).click();
    await page.waitForURL(new RegExp(`#/patients/${t1d}$`));
    const cgm = page.locator('[data-testid="figure-cgm_glucose"][data-range="24h"] canvas');
    await cgm.waitFor();
    const short = await canvasInk(page, 'chart-cgm_glucose');
    expect(short.width).toBeGreaterThan(300);
    expect(short.blue).toBeGreaterThan(500);
    for (const type of ['heart_rate', 'blood_glucose', 'body_temperature']) {
      // A thermometer read at 8:00 and 20:00 has one reading in the last 24 h for about an
      // hour before each reading is due: then the chart is one point, not a line.
      const readings = Number(
        /: (\d+) readings? /.exec((await page.getByTestId(`chart-${type}`).getAttribute('aria-label')) ?? '')?.[1] ?? 0,
      );
      expect(readings, type).toBeGreaterThan(0);
      expect((await canvasInk(page, `chart-${type}`)).blue, type).toBeGreaterThan(readings > 1 ? 50 : 0);
    }
    const label = await page.getByTestId('chart-cgm_glucose').getAttribute('aria-label');
    expect(label).toMatch(/Glucose \(CGM\), 24 h: \d+ readings from \d+ to \d+ mg\/dL/);
    expect(label).toContain('Hypoglycaemia 54');
    await shot(page, '03-patient-24h');

    await page.getByRole('radio', { name: '30 days' }).check();
    await page.locator('[data-testid="figure-cgm_glucose"][data-range="30d"] canvas').waitFor();
    // The figure says 30d as soon as it has data; the chart redraws itself afterwards
    // (once its label says 30 days): read its ink only once it has changed.
    await expect
      .poll(() => page.getByTestId('chart-cgm_glucose').getAttribute('aria-label'))
      .toMatch(/Glucose \(CGM\), 30 days: daily values over 1[45] days/);
    await expect.poll(async () => (await canvasInk(page, 'chart-cgm_glucose')).checksum).not.toBe(short.checksum);
    const long = await canvasInk(page, 'chart-cgm_glucose');
    expect(long.blue).toBeGreaterThan(500);
    await shot(page, '04-patient-30d');
  });

  it('shows the glucose time in ranges and the ambulatory glucose profile', async () => {
    const tir = page.getByTestId('tir');
    await tir.waitFor();
    const tirText = (await tir.textContent()) ?? '';
    for (const label of ['Very high', 'High', 'In range', 'Low', 'Very low']) expect(tirText).toContain(label);
    await page.locator('[data-testid="chart-agp"] canvas').waitFor();
    expect((await canvasInk(page, 'chart-agp')).blue).toBeGreaterThan(2000);
    expect(await page.getByTestId('indicator-tir_70_180').textContent()).toMatch(/\d+\.\d%/);
    await page.locator('#glucose-section').screenshot({ path: path.join(SHOTS, '05-glucose-agp.png') });
  });

  it('an alert shows its event, with a marker on the chart; acknowledged with an action and a note, then its history', async () => {
    type ApiAlert = {
      id: string;
      rule: string;
      status: string;
      acknowledgedAt: string | null;
      event: { at: string; readings: { type: string; at: string; value?: number }[] };
      acknowledgement: { action: string; note: string | null } | null;
    };
    const alerts = await apiGet<{ items: ApiAlert[] }>(`/alerts?patient=${t1d}&status=open`);
    const hypo = alerts.items.find((a) => a.rule === 'hypoglycemia');
    expect(hypo).toBeDefined();
    const row = page.getByTestId(`alert-${hypo!.id}`);
    expect(await row.getByTestId('alert-status').textContent()).toBe('open');
    // The event: its time and value, on the alert and as a marker on the chart of its reading (30 days shown).
    const [reading] = hypo!.event.readings;
    expect(await row.getByTestId('alert-event').textContent()).toMatch(
      new RegExp(`^Event .+ · value ${reading.value} mg/dL`),
    );
    const marker = page.locator(
      `[data-testid="chart-${reading.type}"] [data-testid="chart-marker"][data-at="${reading.at}"]`,
    );
    await marker.waitFor();
    expect(await marker.getAttribute('aria-label')).toMatch(/^Hypoglycaemia alert event, /);
    expect(await page.getByTestId(`chart-${reading.type}`).getAttribute('aria-label')).toContain(
      'Hypoglycaemia alert event',
    );
    await page.getByTestId(`figure-${reading.type}`).screenshot({ path: path.join(SHOTS, '06a-event-marker.png') });

    // Without saying what was done: refused on the page, nothing sent.
    const acknowledge = row.getByRole('button', { name: /^Acknowledge the Hypoglycaemia alert/ });
    await acknowledge.click();
    await expect.poll(() => row.getByRole('alert').textContent()).toContain('Choose what was done');
    expect(await row.getByTestId('alert-status').textContent()).toBe('open');

    await row.getByLabel('What was done').selectOption({ label: 'Called the patient' });
    await row.getByLabel(/^Note/).fill('Sugar taken, 110 mg/dL twenty minutes later.');
    await acknowledge.click();
    await expect.poll(() => row.getByTestId('alert-status').textContent()).toMatch(/^(acknowledged|resolved)$/);
    expect(await page.getByTestId('alerts-message').textContent()).toContain('Hypoglycaemia alert is acknowledged');
    expect(await row.getByTestId('ack-form').count()).toBe(0);
    expect(await row.getByTestId('alert-acknowledgement').textContent()).toMatch(
      /by token:\d+ · Called the patient.*Sugar taken, 110 mg\/dL twenty minutes later\./,
    );
    const after = await apiGet<{ items: ApiAlert[] }>(`/alerts?patient=${t1d}`);
    const stored = after.items.find((a) => a.id === hypo!.id)!;
    expect(stored.status).not.toBe('open');
    expect(stored.acknowledgedAt).not.toBeNull();
    expect(stored.acknowledgement).toMatchObject({
      action: 'called_patient',
      note: 'Sugar taken, 110 mg/dL twenty minutes later.',
    });

    await row.getByText('History', { exact: true }).click();
    await expect.poll(() => row.getByTestId('alert-history').textContent()).toContain('Called the patient');
    expect(await row.getByTestId('alert-history').textContent()).toMatch(/opened.*acknowledged/);
    await page.locator('#alerts-section').screenshot({ path: path.join(SHOTS, '06-alerts.png') });
  });

  it("marks the patient's data reviewed for today", async () => {
    expect(await page.getByTestId('last-review').textContent()).toContain('not reviewed yet');
    await page.getByRole('button', { name: 'Mark today reviewed' }).click();
    await expect.poll(() => page.getByTestId('last-review').textContent()).toMatch(/\d{4}-\d{2}-\d{2} by token:\d+/);
    const patient = await apiGet<{ summary: { lastReview: { day: string } | null } }>(`/patients/${t1d}`);
    expect(await page.getByTestId('last-review').textContent()).toContain(patient.summary.lastReview!.day);
  });

  it('edits a threshold: a refused value is explained at the field, a good one is saved', async () => {
    const form = page.getByTestId('threshold-fever');
    const input = form.getByLabel('Fever (°C)');
    await input.fill('-1');
    await form.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => form.getByTestId('threshold-error').textContent()).toMatch(/fever/);
    expect(await input.getAttribute('aria-invalid')).toBe('true');
    await form.screenshot({ path: path.join(SHOTS, '07a-threshold-refused.png') });

    await input.fill('37.8');
    await form.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => form.getByRole('status').textContent()).toContain('Saved: Fever is now 37.8');
    expect(await form.locator('legend').textContent()).toContain('custom');
    expect(await form.getByTestId('threshold-error').count()).toBe(0);
    const { thresholds } = await apiGet<{ thresholds: { rule: string; threshold: unknown; overridden: boolean }[] }>(
      `/patients/${t1d}/thresholds`,
    );
    expect(thresholds.find((e) => e.rule === 'fever')).toMatchObject({ threshold: 37.8, overridden: true });
    // The temperature chart's threshold line follows.
    expect(await page.getByTestId('chart-body_temperature').getAttribute('aria-label')).toContain('Fever 37.8');
    await page.locator('#thresholds-section').screenshot({ path: path.join(SHOTS, '07-thresholds.png') });

    await form.getByRole('button', { name: 'Reset to default' }).click();
    await expect.poll(() => form.getByRole('status').textContent()).toContain('back to its default');
    const reset = await apiGet<{ thresholds: { rule: string; overridden: boolean }[] }>(`/patients/${t1d}/thresholds`);
    expect(reset.thresholds.find((e) => e.rule === 'fever')?.overridden).toBe(false);
  });

  it('blood pressure: systolic and diastolic on one chart with the bp_high lines', async () => {
    await page.goto(`${base}/#/patients/${hypertension}`);
    await page.locator('[data-testid="figure-blood_pressure"][data-range="24h"] canvas').waitFor();
    const label = (await page.getByTestId('chart-blood_pressure').getAttribute('aria-label')) ?? '';
    expect(label).toMatch(/systolic \d+ to \d+, diastolic \d+ to \d+ mmHg/);
    expect(label).toContain('High blood pressure, systolic 180');
    await page.getByRole('radio', { name: '14 days' }).check();
    await page.locator('[data-testid="figure-blood_pressure"][data-range="14d"] canvas').waitFor();
    expect((await canvasInk(page, 'chart-blood_pressure')).blue).toBeGreaterThan(100);
    await shot(page, '08-patient-blood-pressure-14d');
    expect(unexpected(errors)).toEqual([]);
  });

  it('a token the service no longer accepts brings back the login with a message', async () => {
    await page.evaluate(() => sessionStorage.setItem('vitalink.token', 'vlk_revoked-or-never-issued-token'));
    await page.reload();
    await page.getByLabel('API token').waitFor();
    expect(await page.getByTestId('login-form').textContent()).toContain('The service refused your token');
    expect(await page.evaluate(() => sessionStorage.getItem('vitalink.token'))).toBeNull();
  });
});

describe('monthly activity report page', () => {
  it('an administrator opens the report of a team: a line per patient and the team, as the API counts', async () => {
    const month = new Date().toISOString().slice(0, 7);
    await database.query(`INSERT INTO care_teams (id, name, time_zone) VALUES ('team-browser', 'Diabetes', 'UTC')`);
    await database.query(
      `INSERT INTO enrolments (patient_id, team_id, programme, starts_at)
       SELECT unnest($1::text[]), 'team-browser', 'diabetes', now() - interval '40 days'`,
      [backfill.patients],
    );
    const expected = await apiGet<{ team: { alertsOpened: number; daysWithData: number } }>(
      `/reports/activity?team=team-browser&month=${month}`,
      ADMIN_TOKEN,
    );
    const { context, page, errors } = await newPage();
    try {
      await logIn(page, ADMIN_TOKEN);
      await page.waitForURL(/#\/patients$/);
      await page.getByRole('link', { name: 'Activity report' }).click();
      await page.getByLabel('Team', { exact: true }).fill('team-browser');
      await page.getByLabel('Month', { exact: true }).fill(month);
      await page.getByRole('button', { name: 'Show' }).click();
      await page.getByTestId('report-table').waitFor();
      expect(await page.locator('[data-testid^="report-row-"]').count()).toBe(3);
      const team = (await page.getByTestId('report-row-team').textContent()) ?? '';
      expect(team).toContain('Team (2 patients)');
      expect(team).toContain(String(expected.team.daysWithData));
      expect(team).toContain(String(expected.team.alertsOpened));
      await shot(page, '11-activity-report');
      const download = page.waitForEvent('download');
      await page.getByRole('button', { name: 'Download CSV' }).click();
      expect((await download).suggestedFilename()).toBe(`activity-team-browser-${month}.csv`);
      // A team that does not exist: said so.
      await page.getByLabel('Team', { exact: true }).fill('team-nope');
      await page.getByRole('button', { name: 'Show' }).click();
      await expect.poll(() => page.getByTestId('error').textContent()).toContain('team team-nope does not exist');
      expect(unexpected(errors).filter((e) => !/status of 404/.test(e))).toEqual([]);
    } finally {
      await context.close();
    }
  });
});

describe('in French', () => {
  it('the patient page speaks French, with French dates and numbers', async () => {
    const { context, page, errors } = await newPage('fr-FR');
    try {
      await step(page, 'fr-login', async () => {
        await logIn(page, clinicianToken);
        await page.waitForURL(/#\/patients$/);
      });
      await step(page, 'fr-patient', async () => {
        await page.getByRole('link', { name: /type1_diabetes/ }).click();
        await page.locator('[data-testid="figure-cgm_glucose"][data-range="24h"] canvas').waitFor({ timeout: 15_000 });
      });
      expect(await page.locator('html').getAttribute('lang')).toBe('fr');
      expect(await page.getByRole('heading', { name: 'Mesures' }).count()).toBe(1);
      expect(await page.getByRole('radio', { name: '30 jours' }).count()).toBe(1);
      expect(await page.getByTestId('indicator-tir_70_180').textContent()).toMatch(/\d+,\d\s%/);
      await page.getByTestId('tir').waitFor();
      await shot(page, '09-patient-fr');
      expect(unexpected(errors)).toEqual([]);
    } finally {
      await context.close();
    }
  });
});

describe('operator view', () => {
  it('shows live ingestion; the throughput figure moves while a simulator publishes', { timeout: 45_000 }, async () => {
    const { context, page, errors } = await newPage();
    try {
      await logIn(page, operatorToken);
      await page.waitForURL(/#\/ops$/);
      await page.getByTestId('rps').waitFor();
      await expect.poll(() => page.getByTestId('health').textContent()).toContain('reachable');
      // A dead letter (README, "Notifications") shows in the ops view.
      await database.query(`INSERT INTO care_teams (id) VALUES ('ops-team')`);
      const { rows: alert } = await database.query(
        `INSERT INTO alerts (patient_id, rule, status, opened_at, resolved_at, threshold, reading_ids)
         VALUES ($1, 'fever', 'resolved', now(), now(), '38', '{}') RETURNING id`,
        [t1d],
      );
      const { rows: channel } = await database.query(
        `INSERT INTO notification_channels (team_id, kind, target) VALUES ('ops-team', 'email', 'ops@ch.example') RETURNING id`,
      );
      await database.query(
        `INSERT INTO notifications (alert_id, team_id, channel_id, channel, purpose, state, due_at, attempts, created_at, dead_at)
         VALUES ($1, 'ops-team', $2, 'email', 'alert', 'dead', now(), 8, now(), now())`,
        [alert[0].id, channel[0].id],
      );
      await expect.poll(() => page.getByTestId('dead-letters').textContent(), { timeout: 10_000 }).toBe('1');

      const live = runSimulate(
        {
          url: `mqtt://127.0.0.1:${service!.ports.mqtt}`,
          databaseUrl: database.url,
          personas: ['healthy', 'copd'],
          patients: 6,
          speed: 1800,
          durationS: 8,
          faults: { outOfRange: 0.02 },
          progress: false,
        },
        quiet,
      );
      const seen = new Set<string>();
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline) {
        seen.add((await page.getByTestId('rps').textContent()) ?? '');
        const moving = [...seen].filter((v) => /^[\d\s,.\u202f]+$/.test(v) && Number(v.replace(/\D/g, '')) > 0);
        if (moving.length >= 3) break;
        await page.waitForTimeout(400);
      }
      const nonZero = [...seen].filter((v) => Number(v.replace(/\D/g, '')) > 0);
      expect(nonZero.length, `throughput figures seen: ${[...seen].join(' | ')}`).toBeGreaterThanOrEqual(3);
      expect(Number((await page.getByTestId('connected-devices').textContent())?.replace(/\D/g, ''))).toBeGreaterThan(
        0,
      );
      expect((await canvasInk(page, 'chart-throughput')).blue).toBeGreaterThan(100);
      // One instance here: it lists itself, and the sum is its own figures.
      expect(await page.getByTestId('instances').locator('tbody tr').count()).toBe(1);
      expect(await page.getByTestId('instances').textContent()).toContain('this one');
      expect(await page.getByTestId('instances-total').textContent()).toMatch(/^1 live · /);
      await expect.poll(() => page.getByTestId('latest-rejections').count(), { timeout: 10_000 }).toBe(1);
      expect(await page.getByTestId('rejections-by-reason').textContent()).toContain('out of range');
      await shot(page, '10-operator');
      expect((await live).ok).toBe(true);

      // An operator token may not open the clinical views: the page says which role is needed.
      await page.goto(`${base}/#/patients`);
      await expect.poll(() => page.getByTestId('error').textContent()).toContain('clinician or administrator');
      expect(unexpected(errors)).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
