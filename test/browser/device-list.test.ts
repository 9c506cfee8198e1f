/**
 * The administrator's device list in a real browser (README, "Dashboard"):
 * Debian's Chromium driven by playwright-core against the service of this process.
 * Three devices send, one over each transport (MQTT, HTTPS, a Nightscout upload),
 * a fourth never does; the list says how each one sends and when it last did.
 * Screenshot: test-results/screenshots/device-list.png.
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { enableNightscout } from '../../src/actions/nightscout.ts';
import { apiSecretHash } from '../../src/domain/nightscout.ts';
import { useTestService } from '../fixture.ts';
import { heartRate, waitFor } from '../helpers/device.ts';
import { postReadings } from '../helpers/https-device.ts';
import { ROOT } from '../helpers/service.ts';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = path.join(ROOT, 'test-results', 'screenshots');
const CHROMIUM_MISSING = `Debian's Chromium is not installed (${CHROMIUM} is missing): the browser tests need it; install it with \`apt-get install -y --no-install-recommends chromium\` (.ci/run does).`;

const t = useTestService({ adminToken: true });
let browser: Browser | undefined;

beforeEach(() => {
  if (!existsSync(CHROMIUM)) throw new Error(CHROMIUM_MISSING);
});

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) return; // each test fails, see beforeEach
  mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu'],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

describe('device list', () => {
  it('shows how each device sends (MQTT, HTTPS, Nightscout) and its last contact', { timeout: 40_000 }, async () => {
    const at = Date.now() - 60_000;
    const mqtt = await t.device('list-mqtt', 'list-patient');
    await t.publish(mqtt, 'list-mqtt', [heartRate('m-1', 70, at)]);
    const secret = await t.provisionDevice('list-https', 'list-patient-2');
    expect(
      (await postReadings(t.httpUrl, 'list-https', heartRate('h-1', 70, at), { deviceId: 'list-https', secret }))
        .status,
    ).toBe(200);
    await t.provisionDevice('list-cgm', 'list-patient-3');
    const upload = await enableNightscout(
      t.db,
      await t.keys(),
      { patientId: 'list-patient-3', deviceId: 'list-cgm' },
      new Date(),
    );
    const res = await fetch(`${t.httpUrl}/api/v1/entries`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'api-secret': apiSecretHash(upload.secret) },
      body: JSON.stringify([{ type: 'sgv', sgv: 120, date: at, dateString: new Date(at).toISOString() }]),
    });
    expect(res.status).toBe(200);
    await t.provisionDevice('list-silent', 'list-patient-4');
    // device_activity is written every 10 s.
    await waitFor(
      async () => {
        const { rows } = await t.query(
          `SELECT count(*)::int AS n FROM device_activity WHERE last_transport IS NOT NULL`,
        );
        return rows[0].n >= 3;
      },
      'the device activity flush',
      20_000,
    );

    const context = await browser!.newContext({ locale: 'en-GB', viewport: { width: 1280, height: 900 } });
    try {
      const page = await context.newPage();
      await page.goto(`${t.httpUrl}/`);
      await page.getByLabel('API token').fill(t.adminToken);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('link', { name: 'Devices' }).click();
      await page.waitForURL(/#\/devices$/);
      await page.getByTestId('device-list').waitFor();
      const row = (id: string) => page.locator(`tr[data-device="${id}"]`);
      expect(await row('list-mqtt').getByTestId('transport').textContent()).toBe('MQTT');
      expect(await row('list-https').getByTestId('transport').textContent()).toBe('HTTPS');
      expect(await row('list-cgm').getByTestId('transport').textContent()).toBe('Nightscout upload');
      expect(await row('list-silent').getByTestId('transport').textContent()).toBe('not seen yet');
      expect(await row('list-https').textContent()).toMatch(/seconds? ago|minute ago|now/);
      expect(await row('list-silent').textContent()).toContain('never');
      await page.screenshot({ path: path.join(SHOTS, 'device-list.png'), fullPage: true });
    } finally {
      await context.close();
    }
  });
});
