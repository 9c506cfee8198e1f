/**
 * A care team's morning in a real browser (README, "Care teams"): Debian's
 * Chromium driven by playwright-core against the HTTP service in this process,
 * its clock set to Tuesday 1 December 2026, 09:10 in Paris (the service's and
 * the page's), so that what is on duty and how long each alert has waited are
 * those of that morning whenever the test runs.
 *
 * Dr Morel belongs to two teams: heart failure (on duty mon-fri 08:00-18:00) and
 * diabetes (afternoons only, so off duty until 13:00). Twelve patients are
 * enrolled; ten alerts opened overnight on seven of them. Signing in with the
 * practitioner's token lands on the worklist: the off-duty banner for the
 * diabetes team, the patients in the service's order (critical first, then
 * waiting longest), each with programme, team, open alerts and last reading.
 *
 * The screenshot goes to test-results/screenshots/worklist-morning.png, and to
 * docs/screenshots/worklist-morning.png (committed, shown in the README) when
 * VITALINK_UPDATE_DOCS_SCREENSHOTS=1.
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
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
import { writeReadings } from '../helpers/readings.ts';
import { ROOT } from '../helpers/service.ts';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = path.join(ROOT, 'test-results', 'screenshots');
const DOCS_SHOT = path.join(ROOT, 'docs', 'screenshots', 'worklist-morning.png');
const CHROMIUM_MISSING = `Debian's Chromium is not installed (${CHROMIUM} is missing): the browser tests need it; install it with \`apt-get install -y --no-install-recommends chromium\` (.ci/run does).`;

/** Tuesday 1 December 2026, 09:10 in Paris. */
const MORNING = Date.parse('2026-12-01T09:10:00+01:00');
const at = (hhmm: string) => Date.parse(`2026-12-01T${hhmm}:00+01:00`);

const t = useTestDatabase();
let app: FastifyInstance | undefined;
let base: string;
let browser: Browser | undefined;
let token: string;

/** Patient, name, programme, team, overnight alerts (rule, opened at), last reading (local time). */
const PATIENTS: [string, string, string, string, [string, string][], string][] = [
  [
    'hf-01',
    'Jeanne Lefebvre',
    'heart_failure',
    'ic-idf',
    [
      ['weight_gain', '06:40'],
      ['bp_high', '07:55'],
    ],
    '07:50',
  ],
  [
    'hf-02',
    'Marcel Girard',
    'heart_failure',
    'ic-idf',
    [
      ['spo2_low', '03:10'],
      ['tachycardia', '03:12'],
    ],
    '08:58',
  ],
  ['db-03', 'Lucie Roux', 'diabetes', 'diabeto', [['hypoglycemia', '05:20']], '09:02'],
  ['hf-04', 'André Fontaine', 'heart_failure', 'ic-idf', [['no_data', '00:00']], '2026-11-28T19:12'],
  ['db-05', 'Sophie Chevalier', 'diabetes', 'diabeto', [['hyperglycemia', '07:30']], '08:41'],
  [
    'hf-06',
    'Paul Bonnet',
    'heart_failure',
    'ic-idf',
    [
      ['weight_gain', '08:05'],
      ['bradycardia', '02:00'],
    ],
    '08:05',
  ],
  ['hf-07', 'Hélène Mercier', 'heart_failure', 'ic-idf', [['fever', '06:00']], '07:15'],
  ['hf-08', 'Louis Dupont', 'heart_failure', 'ic-idf', [], '07:05'],
  ['db-09', 'Claire Lambert', 'diabetes', 'diabeto', [], '08:30'],
  ['hf-10', 'Michel Faure', 'heart_failure', 'ic-idf', [], '06:55'],
  ['hf-11', 'Anne Rousseau', 'heart_failure', 'ic-idf', [], '07:40'],
  ['db-12', 'Julien Blanc', 'diabetes', 'diabeto', [], '09:05'],
];

const localTime = (text: string) => (text.includes('T') ? Date.parse(`${text}:00+01:00`) : at(text));

beforeEach(() => {
  if (!existsSync(CHROMIUM)) throw new Error(CHROMIUM_MISSING);
});

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) return; // each test fails, see beforeEach
  mkdirSync(SHOTS, { recursive: true });

  const now = new Date(MORNING);
  const db = t.db;
  await addPractitioner(db, { id: 'dr-morel', name: 'Dr Claire Morel', rpps: '10003456789', role: 'physician' });
  await addTeam(
    db,
    {
      id: 'ic-idf',
      name: 'Cardiologie — télésurveillance',
      timeZone: 'Europe/Paris',
      serviceHours: 'mon-fri 08:00-18:00',
    },
    now,
  );
  await addTeam(
    db,
    { id: 'diabeto', name: 'Diabétologie', timeZone: 'Europe/Paris', serviceHours: 'mon-fri 13:00-18:00' },
    now,
  );
  await addMember(db, 'ic-idf', 'dr-morel');
  await addMember(db, 'diabeto', 'dr-morel');
  let alerts = 0;
  for (const [id, name, programme, team, opened, last] of PATIENTS) {
    await t.addPatient(id, { displayName: name, timeZone: 'Europe/Paris' });
    await enrol(db, { patientId: id, teamId: team, programme, from: '2026-09-01T00:00:00+02:00' }, now);
    for (const [rule, time] of opened) {
      await t.query(
        `INSERT INTO alerts (patient_id, rule, status, opened_at, threshold, reading_ids) VALUES ($1, $2, 'open', $3, '1'::jsonb, '{}')`,
        [id, rule, new Date(at(time))],
      );
      alerts++;
    }
    const device = `dev-${id}`;
    await provisionDevice(db, device, id, new Date('2026-09-01T00:00:00Z'));
    const type = programme === 'diabetes' ? 'blood_glucose' : 'body_weight';
    await writeReadings(
      db,
      device,
      [
        type === 'blood_glucose'
          ? { id: 'r1', type, at: localTime(last), unit: 'mg/dL', value: 112 }
          : { id: 'r1', type, at: localTime(last), unit: 'kg', value: 78.4 },
      ],
      MORNING,
    );
  }
  expect(alerts).toBe(10);
  token = (await createApiToken(db, await t.keys(), { role: 'clinician', practitionerId: 'dr-morel' })).token;

  app = await buildHttpServer({
    log: createLogger('silent'),
    metrics: createMetrics(),
    adminToken: undefined,
    readiness: async () => ({ database: true, broker: true }),
    db,
    keys: await t.keys(),
    now: () => new Date(MORNING),
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
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
});

async function openAs(locale: string): Promise<{ page: Page; errors: string[]; close: () => Promise<void> }> {
  const context = await browser!.newContext({
    locale,
    timezoneId: 'Europe/Paris',
    viewport: { width: 1280, height: 1000 },
  });
  await context.clock.setFixedTime(new Date(MORNING));
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto(`${base}/`);
  await page.getByLabel(/API token|Jeton d’API/).fill(token);
  await page.getByRole('button', { name: /^(Sign in|Se connecter)$/ }).click();
  return { page, errors, close: () => context.close() };
}

describe('the worklist on a morning with ten open alerts', () => {
  it('is the practitioner’s landing view: the off-duty banner, then the patients most urgent first', async () => {
    const { page, errors, close } = await openAs('fr-FR');
    try {
      await page.waitForURL(/#\/worklist$/);
      const table = page.getByTestId('worklist-table');
      await table.waitFor();
      // The diabetes team works afternoons: off duty until 13:00 today, in its own zone.
      const banner = page.getByTestId('off-duty-diabeto');
      await banner.waitFor({ timeout: 10_000 });
      await expect.poll(() => banner.innerText()).toContain('Équipe hors service jusqu’à mardi 1 décembre à 13:00');
      expect(await banner.innerText()).toContain('Diabétologie');
      expect(await banner.innerText()).toContain('appellent le 15');
      expect(await page.getByTestId('off-duty-ic-idf').count()).toBe(0);
      expect(await page.getByTestId('on-duty').innerText()).toContain('Cardiologie — télésurveillance');
      expect(await page.getByTestId('who').innerText()).toContain('Dr Claire Morel');

      // Critical first (hypoglycaemia 05:20, then high blood pressure with an alert waiting since 06:40), then high
      // (waiting since 02:00, 03:10, 07:30), moderate, low, then the patients without alerts by name.
      const order = await table
        .locator('tbody tr')
        .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-testid')?.replace('worklist-row-', '')));
      expect(order).toEqual([
        'db-03',
        'hf-01',
        'hf-06',
        'hf-02',
        'db-05',
        'hf-07',
        'hf-04',
        'hf-11',
        'db-09',
        'db-12',
        'hf-08',
        'hf-10',
      ]);
      const first = await page.getByTestId('worklist-row-db-03').innerText();
      expect(first).toContain('Lucie Roux');
      expect(first).toContain('Diabète');
      expect(first).toContain('Diabétologie');
      expect(first).toContain('critique');
      expect(first).toContain('Hypoglycémie');
      expect(first).toContain('il y a 4 heures'); // waiting since 05:20
      const lefebvre = await page.getByTestId('worklist-row-hf-01').innerText();
      expect(lefebvre).toMatch(/^Jeanne Lefebvre/);
      expect(lefebvre).toContain('Insuffisance cardiaque');
      expect(lefebvre).toMatch(/\b2\b/); // two open alerts
      expect(lefebvre).toContain('il y a 1 heure'); // last reading 07:50
      expect(await page.getByTestId('worklist-row-hf-04').innerText()).toContain('il y a 3 jours');

      // The team filter keeps one team's patients.
      await page.getByLabel('Équipe').selectOption('diabeto');
      expect(await table.locator('tbody tr').count()).toBe(4);
      await page.getByLabel('Équipe').selectOption('');

      await page.screenshot({ path: path.join(SHOTS, 'worklist-morning.png'), fullPage: true });
      if (process.env.VITALINK_UPDATE_DOCS_SCREENSHOTS === '1') {
        mkdirSync(path.dirname(DOCS_SHOT), { recursive: true });
        copyFileSync(path.join(SHOTS, 'worklist-morning.png'), DOCS_SHOT);
      }

      // A patient's row opens their page.
      await page.getByRole('link', { name: 'Lucie Roux' }).click();
      await page.waitForURL(/#\/patients\/db-03$/);

      // The link a notification carries (#/alerts/ID) opens the alert's patient; an alert
      // of a patient out of this practitioner's care is not found.
      const { rows: firstAlert } = await t.query<{ id: string; patient_id: string }>(
        `SELECT id::text, patient_id FROM alerts ORDER BY id LIMIT 1`,
      );
      const [{ id: alertId, patient_id: alertPatient }] = firstAlert;
      await page.goto(`${base}/#/alerts/${alertId}`);
      await page.waitForURL(new RegExp(`#/patients/${alertPatient}$`));
      await page.goto(`${base}/#/alerts/999999999`);
      await expect.poll(() => page.getByRole('alert').innerText()).toContain('999999999');
      expect(errors.filter((e) => !e.includes('404'))).toEqual([]);
    } finally {
      await close();
    }
  }, 60_000);

  it('says it in English too', async () => {
    const { page, close } = await openAs('en-GB');
    try {
      await page.waitForURL(/#\/worklist$/);
      const banner = page.getByTestId('off-duty-diabeto');
      await banner.waitFor({ timeout: 10_000 });
      await expect.poll(() => banner.innerText()).toContain('Team off duty until Tuesday 1 December at 13:00');
      expect(await banner.innerText()).toContain('patients call 15');
    } finally {
      await close();
    }
  }, 60_000);
});
