/**
 * /docs (Swagger UI) under its Content-Security-Policy (src/http/security-headers.ts,
 * DOCS_CSP: no inline script or style) in Debian's Chromium: the page renders the
 * API's operations from /docs/json and the browser reports no CSP violation.
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { DOCS_CSP } from '../../src/http/security-headers.ts';
import { useTestService } from '../fixture.ts';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_MISSING = `Debian's Chromium is not installed (${CHROMIUM} is missing): the browser tests need it; install it with \`apt-get install -y --no-install-recommends chromium\` (.ci/run does).`;

const t = useTestService();
let browser: Browser | undefined;

// Without the browser the test fails with the sentence above: it is not skipped.
beforeEach(() => {
  if (!existsSync(CHROMIUM)) throw new Error(CHROMIUM_MISSING);
});

afterAll(async () => {
  await browser?.close();
});

describe('/docs in Chromium', () => {
  it('renders every operation under its CSP, with no violation reported', async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    const page = await browser.newPage();
    await page.addInitScript(() => {
      const seen: string[] = [];
      (window as unknown as { cspViolations: string[] }).cspViolations = seen;
      document.addEventListener('securitypolicyviolation', (e) => {
        seen.push(`${e.violatedDirective} ${e.blockedURI}`);
      });
    });
    const refused: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) refused.push(message.text());
    });
    const response = await page.goto(`${t.httpUrl}/docs/`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toBe(DOCS_CSP);
    await page.waitForSelector('.opblock', { timeout: 30_000 });
    const operations = await page.locator('.opblock').count();
    // One operation is enough to know the document was fetched and drawn; there are many more.
    expect(operations).toBeGreaterThan(10);
    // Expand one: its schema is drawn too (React inline styles are set through the DOM, which CSP allows).
    await page.locator('.opblock-summary').first().click();
    await page.waitForSelector('.opblock-body', { timeout: 10_000 });
    const violations = await page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations);
    expect(violations).toEqual([]);
    expect(refused).toEqual([]);
  });
});
