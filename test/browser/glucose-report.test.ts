/**
 * The glucose report in a real browser (README, "Glucose report (AGP)"): Debian's
 * Chromium driven by playwright-core against the real service process holding a
 * simulated patient with type 1 diabetes (14 days of CGM, published over MQTT).
 *
 * On the patient page, the time-in-ranges panel and the AGP beside it count the same
 * readings, the indicators API's n (issue #16: they counted 3,975 and 3,974). The
 * page's link opens the printable report, whose numbers are the indicators API's;
 * printed by Chromium (DevTools Page.printToPDF) on A4 and on US Letter, it is one
 * page (poppler's pdfinfo), and not blank once rendered (pdftoppm). The PDF of the
 * API is rendered too: test-results/screenshots/glucose-report.png, and
 * docs/screenshots/glucose-report.png (committed, shown in the README) when
 * VITALINK_UPDATE_DOCS_SCREENSHOTS=1.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runSimulate as runFleet } from '../../simulators/fleet/simulate.ts';
import { createApiToken } from '../../src/actions/tokens.ts';
import { openProvisioner } from '../../src/cli/provisioner.ts';
import { NO_CONFIGURED_KEYS } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { useTestDatabase } from '../fixture.ts';
import { ROOT, type ServiceProcess, startService } from '../helpers/service.ts';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = path.join(ROOT, 'test-results', 'screenshots');
const DOCS_SHOT = path.join(ROOT, 'docs', 'screenshots', 'glucose-report.png');
const CHROMIUM_MISSING = `Debian's Chromium is not installed (${CHROMIUM} is missing): the browser tests need it; install it with \`apt-get install -y --no-install-recommends chromium\` (.ci/run does).`;
const POPPLER_MISSING =
  "poppler's pdftoppm is not installed: this test renders PDFs with it; install it with `apt-get install -y --no-install-recommends poppler-utils` (.ci/run does).";

const database = useTestDatabase();
let service: ServiceProcess | undefined;
let browser: Browser | undefined;
let base: string;
let token: string;
let patient: string;

interface ApiIndicator {
  key: string;
  value: number | null;
  n: number;
}

function poppler(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(POPPLER_MISSING, { cause: error });
    throw error;
  }
}

/** Ink on a rendered page: the share of pixels that are not white (pdftoppm -gray, a binary PGM). */
function inkShare(pdf: string, name: string): number {
  poppler('pdftoppm', ['-r', '40', '-gray', '-singlefile', pdf, path.join(SHOTS, name)]);
  const data = readFileSync(path.join(SHOTS, `${name}.pgm`));
  const header = /^P5\s+(\d+)\s+(\d+)\s+255\s/.exec(data.subarray(0, 64).toString('latin1'))!;
  const pixels = data.subarray(header[0].length);
  return pixels.filter((p) => p < 250).length / pixels.length;
}

async function indicators(): Promise<Map<string, ApiIndicator>> {
  const response = await fetch(`${base}/api/v1/patients/${patient}/indicators`, {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(response.status).toBe(200);
  const body = (await response.json()) as { indicators: ApiIndicator[] };
  return new Map(body.indicators.map((i) => [i.key, i]));
}

const digits = (text: string | null) => Number((text ?? '').replace(/\D/g, ''));
const one = new Intl.NumberFormat('en-GB', { minimumFractionDigits: 1, maximumFractionDigits: 1 });

beforeEach(() => {
  if (!existsSync(CHROMIUM)) throw new Error(CHROMIUM_MISSING);
});

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) return; // each test fails, see beforeEach
  mkdirSync(SHOTS, { recursive: true });
  service = await startService({
    DATABASE_URL: database.url,
    VITALINK_AGGREGATION_INTERVAL_MS: '100',
    VITALINK_AGGREGATION_MAX_BUSY_PCT: '100',
  });
  base = `http://127.0.0.1:${service.ports.http}`;
  const provisioner = await openProvisioner(database.url, createLogger('silent'), { secretKeys: NO_CONFIGURED_KEYS });
  const backfill = await runFleet(
    {
      url: `mqtt://127.0.0.1:${service.ports.mqtt}`,
      databaseUrl: database.url,
      personas: ['type1-diabetes'],
      days: 14,
      seed: '16',
      progress: false,
    },
    { out: () => {}, err: () => {} },
    provisioner,
  ).finally(() => provisioner.close());
  expect(backfill.ok).toBe(true);
  [patient] = backfill.patients;
  token = (await createApiToken(database.db, await database.keys(), { role: 'clinician', patientIds: [patient] }))
    .token;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { rows } = await database.query<{ n: string }>(
      `SELECT (SELECT count(*) FROM aggregation_dirty) + (SELECT count(*) FROM indicators_dirty) AS n`,
    );
    if (Number(rows[0].n) === 0 && (await indicators()).has('tir_70_180')) break;
    if (Date.now() > deadline) throw new Error('timed out waiting for the aggregation of the simulated data');
    await new Promise((r) => setTimeout(r, 200));
  }
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (service) {
    service.child.kill('SIGTERM');
    await service.exited;
  }
});

describe('the glucose report', () => {
  it(
    'the patient page’s two glucose panels count the same readings; the printable report prints on one page',
    { timeout: 60_000 },
    async () => {
      const context = await browser!.newContext({ locale: 'en-GB', viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      try {
        await page.goto(`${base}/`);
        await page.getByLabel('API token').fill(token);
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.waitForURL(/#\/patients$/);
        await page.goto(`${base}/#/patients/${patient}`);

        // The time in ranges and the AGP: the same count, the indicators API's.
        const tirN = page.getByTestId('tir').getByText(/^Last 14 days, [\d,]+ CGM readings/);
        await tirN.waitFor();
        const agpN = page.getByTestId('figure-agp').getByText(/[\d,]+ CGM readings, by time of day/);
        await agpN.waitFor();
        const api = await indicators();
        const n = api.get('tir_70_180')!.n;
        expect(n).toBeGreaterThan(3000);
        expect(digits(/, ([\d,]+) CGM readings/.exec((await tirN.textContent()) ?? '')?.[1] ?? '')).toBe(n);
        expect(digits(/, ([\d,]+) CGM readings/.exec((await agpN.textContent()) ?? '')?.[1] ?? '')).toBe(n);

        // The printable report, from the patient page's link.
        await page.getByTestId('glucose-report-link').click();
        await page.waitForURL(new RegExp(`#/patients/${patient}/glucose-report$`));
        await page.getByTestId('glucose-report').waitFor();
        const shown = async (testId: string) => (await page.getByTestId(testId).textContent()) ?? '';
        const v = (key: string) => api.get(key)!.value!;
        expect(await shown('gr-cgm_mean')).toBe(`${one.format(v('cgm_mean'))} mg/dL`);
        expect(await shown('gr-gmi')).toBe(`${one.format(v('gmi'))}%`);
        expect(await shown('gr-glucose_cv')).toBe(`${one.format(v('glucose_cv'))}%`);
        expect(await shown('gr-sensor_active')).toBe(`${one.format(v('sensor_active'))}%`);
        expect(digits(await shown('gr-n'))).toBe(n);
        expect(await shown('gr-range-value-in_range')).toBe(`${one.format(v('tir_70_180'))}%`);
        expect(await shown('gr-range-value-very_low')).toBe(`${one.format(v('tbr_54'))}%`);
        expect(await shown('gr-range-value-low')).toBe(`${one.format(v('tbr_70') - v('tbr_54'))}%`);
        expect(Number(await page.getByTestId('gr-agp').getAttribute('data-n'))).toBe(n);
        expect(await page.getByTestId('gr-day').count()).toBe(14);
        await page.screenshot({ path: path.join(SHOTS, 'glucose-report-screen.png'), fullPage: true });

        // Printed by Chromium (DevTools Page.printToPDF), on A4 then US Letter: one page each, with ink.
        const cdp = await context.newCDPSession(page);
        for (const [paper, width, height] of [
          ['a4', 8.27, 11.69],
          ['letter', 8.5, 11],
        ] as const) {
          const { data } = (await cdp.send('Page.printToPDF', {
            printBackground: true,
            paperWidth: width,
            paperHeight: height,
            marginTop: 0.39,
            marginBottom: 0.39,
            marginLeft: 0.39,
            marginRight: 0.39,
          })) as { data: string };
          const file = path.join(SHOTS, `glucose-report-printed-${paper}.pdf`);
          writeFileSync(file, Buffer.from(data, 'base64'));
          expect(poppler('pdfinfo', [file]), paper).toMatch(/^Pages:\s+1$/m);
          expect(inkShare(file, `glucose-report-printed-${paper}`), paper).toBeGreaterThan(0.1);
          // The dashboard's bar and the buttons are not printed; the statistics are.
          const text = poppler('pdftotext', ['-layout', file, '-']);
          expect(text).not.toContain('Sign out');
          expect(text).not.toContain('Download PDF');
          expect(text).toMatch(new RegExp(`Mean glucose\\s+${one.format(v('cgm_mean'))} mg/dL`));
        }
        poppler('pdftoppm', [
          '-r',
          '80',
          '-png',
          '-singlefile',
          path.join(SHOTS, 'glucose-report-printed-a4.pdf'),
          path.join(SHOTS, 'glucose-report-printed-a4'),
        ]);

        // The API's PDF of the same patient, rendered: the screenshot of the report as printed.
        const response = await fetch(`${base}/api/v1/patients/${patient}/glucose-report.pdf`, {
          headers: { authorization: `Bearer ${token}` },
        });
        expect(response.status).toBe(200);
        const pdf = path.join(SHOTS, 'glucose-report.pdf');
        writeFileSync(pdf, Buffer.from(await response.arrayBuffer()));
        expect(poppler('pdfinfo', [pdf])).toMatch(/^Pages:\s+1$/m);
        expect(inkShare(pdf, 'glucose-report-api')).toBeGreaterThan(0.1);
        poppler('pdftoppm', ['-r', '110', '-png', '-singlefile', pdf, path.join(SHOTS, 'glucose-report')]);
        if (process.env.VITALINK_UPDATE_DOCS_SCREENSHOTS === '1') {
          copyFileSync(path.join(SHOTS, 'glucose-report.png'), DOCS_SHOT);
        }
        expect(errors).toEqual([]);
      } finally {
        await context.close();
      }
    },
  );

  it('speaks French in a French browser, with French numbers', { timeout: 60_000 }, async () => {
    const context = await browser!.newContext({ locale: 'fr-FR', viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    try {
      await page.goto(`${base}/`);
      await page.getByLabel('Jeton d’API').fill(token);
      await page.getByRole('button', { name: 'Se connecter' }).click();
      await page.waitForURL(/#\/patients$/);
      await page.goto(`${base}/#/patients/${patient}/glucose-report`);
      await page.getByTestId('glucose-report').waitFor();
      expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe(
        'Rapport AGP : mesure continue du glucose',
      );
      const mean = (await indicators()).get('cgm_mean')!.value!;
      const fr = new Intl.NumberFormat('fr-FR', { minimumFractionDigits: 1, maximumFractionDigits: 1 });
      expect(await page.getByTestId('gr-cgm_mean').textContent()).toBe(`${fr.format(mean)} mg/dL`);
      await page.screenshot({ path: path.join(SHOTS, 'glucose-report-fr.png'), fullPage: true });
    } finally {
      await context.close();
    }
  });
});
