/**
 * The operator view in a real browser (README, "Dashboard", "Operations"): Debian's
 * Chromium against `vitalink serve`. Before any message the latency windows say there
 * were none (no stale figure); devices then publish, some readings refused, and the
 * view shows the latency over the last minute and the last five, the last fifteen
 * minutes drawn, each device's connection, last contact, last reading and rejections,
 * and the storage (database size, partitions of readings, largest tables).
 *
 * The screenshot goes to test-results/screenshots/operator-view.png, and to
 * docs/screenshots/operator-view.png (committed, shown in the README) when
 * VITALINK_UPDATE_DOCS_SCREENSHOTS=1.
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { MqttClient } from 'mqtt';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApiToken } from '../../src/actions/tokens.ts';
import { useTestDatabase } from '../fixture.ts';
import { connectDevice, heartRate } from '../helpers/device.ts';
import { provisionDevice } from '../helpers/provision.ts';
import { ROOT, type ServiceProcess, startService } from '../helpers/service.ts';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = path.join(ROOT, 'test-results', 'screenshots');
const DOCS_SHOT = path.join(ROOT, 'docs', 'screenshots', 'operator-view.png');
const CHROMIUM_MISSING = `Debian's Chromium is not installed (${CHROMIUM} is missing): the browser tests need it; install it with \`apt-get install -y --no-install-recommends chromium\` (.ci/run does).`;
const DEVICES = ['cuff-01', 'cuff-02', 'oxi-03', 'scale-04', 'gluco-05'];

const database = useTestDatabase();
let service: ServiceProcess | undefined;
let browser: Browser | undefined;
let base: string;
let operatorToken: string;
const secrets = new Map<string, string>();

beforeEach(() => {
  if (!existsSync(CHROMIUM)) throw new Error(CHROMIUM_MISSING);
});

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) return; // each test fails, see beforeEach
  mkdirSync(SHOTS, { recursive: true });
  service = await startService({ DATABASE_URL: database.url });
  base = `http://127.0.0.1:${service.ports.http}`;
  for (const [i, id] of DEVICES.entries()) secrets.set(id, await provisionDevice(database.db, id, `p-ops-${i}`));
  operatorToken = (await createApiToken(database.db, await database.keys(), { role: 'operator' })).token;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-sync'],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await service?.stop();
});

/** How many pixels of a chart's canvas are drawn in blue (the stored readings' bars). */
async function blueInk(page: Page, testId: string): Promise<number> {
  return page
    .getByTestId(testId)
    .locator('canvas')
    .evaluate((element) => {
      const canvas = element as unknown as {
        width: number;
        height: number;
        getContext(kind: '2d'): {
          getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
        };
      };
      const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
      let blue = 0;
      for (let i = 0; i < data.length; i += 4) if (data[i + 3] > 0 && data[i + 2] > data[i] + 40) blue++;
      return blue;
    });
}

describe('operator view', () => {
  it('latency over stated windows, 15 minutes of history, devices and storage', { timeout: 90_000 }, async () => {
    const context = await browser!.newContext({ locale: 'en-GB', viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    const clients: MqttClient[] = [];
    try {
      await page.goto(`${base}/`);
      await page.getByLabel('API token').fill(operatorToken);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(/#\/ops$/);

      // Nothing published yet: each window says so, with its length.
      await page.getByTestId('ack-idle-60').waitFor();
      expect(await page.getByTestId('ack-idle-60').textContent()).toBe('no messages in the last minute');
      expect(await page.getByTestId('ack-idle-300').textContent()).toBe('no messages in the last 5 minutes');
      // Storage from the catalog: a size, this month's partition, the largest tables.
      await page.getByTestId('database-size').waitFor();
      expect(await page.getByTestId('database-size').textContent()).toMatch(/^[\d.,]+ (KiB|MiB|GiB)$/);
      const month = new Intl.DateTimeFormat('en-GB', { year: 'numeric', month: 'long', timeZone: 'UTC' }).format(
        new Date(),
      );
      expect(await page.getByTestId('partitions').textContent()).toContain(month);
      expect(await page.getByTestId('largest-tables').locator('tbody tr').count()).toBeGreaterThan(0);
      // The devices, none seen yet.
      await page.getByTestId('ops-device-list').waitFor();
      expect(await page.getByTestId('ops-device-list').locator('tbody tr').count()).toBe(DEVICES.length);

      // Four devices connect and publish; one reading of cuff-02 is refused.
      for (const id of DEVICES.slice(0, 4)) {
        const client = await connectDevice(`mqtt://127.0.0.1:${service!.ports.mqtt}`, id, secrets.get(id)!);
        clients.push(client);
        for (let i = 0; i < 6; i++) {
          await client.publishAsync(`v1/devices/${id}/readings`, JSON.stringify(heartRate(`${id}-${i}`, 60 + i)), {
            qos: 1,
          });
        }
      }
      await clients[1].publishAsync(
        'v1/devices/cuff-02/readings',
        JSON.stringify({ ...heartRate('bad'), unit: 'kg' }),
        {
          qos: 1,
        },
      );

      await expect.poll(() => page.getByTestId('ack-p50-60').count(), { timeout: 10_000 }).toBe(1);
      expect(await page.getByTestId('ack-p99-300').textContent()).toMatch(/^[\d.,]+\s?ms$/);
      await expect
        .poll(() => page.getByTestId('latency-windows').textContent(), { timeout: 10_000 })
        .toContain('25 messages in the last minute');
      expect(await page.getByTestId('latency-windows').textContent()).toContain('25 messages in the last 5 minutes');
      await expect.poll(() => blueInk(page, 'chart-history'), { timeout: 10_000 }).toBeGreaterThan(50);

      // The device list refreshes every 10 s.
      const row = (id: string) => page.getByTestId('ops-device-list').locator(`tr[data-device="${id}"]`);
      await expect
        .poll(() => row('cuff-02').getByTestId('rejections-24h').textContent(), { timeout: 20_000 })
        .toBe('1');
      expect(await row('cuff-02').getByTestId('connected').textContent()).toBe('here');
      expect(await row('cuff-02').textContent()).toContain('unit not accepted');
      expect(await row('gluco-05').getByTestId('connected').textContent()).toBe('no');
      expect(await row('gluco-05').textContent()).toContain('never');

      // Chart legends: series names, no dash for a value nobody points at.
      const legends = await page.locator('.u-legend').allInnerTexts();
      expect(legends.length).toBeGreaterThan(0);
      for (const legend of legends) expect(legend).not.toMatch(/—|--/);

      await page.screenshot({ path: path.join(SHOTS, 'operator-view.png'), fullPage: true });
      if (process.env.VITALINK_UPDATE_DOCS_SCREENSHOTS === '1') {
        mkdirSync(path.dirname(DOCS_SHOT), { recursive: true });
        copyFileSync(path.join(SHOTS, 'operator-view.png'), DOCS_SHOT);
      }
      expect(errors).toEqual([]);
    } finally {
      for (const client of clients) await client.endAsync();
      await context.close();
    }
  });
});
