/**
 * Sign-in with OpenID Connect through the dashboard in a real browser (README,
 * "Sign-in"): Debian's Chromium, the real service process (`vitalink serve`) and
 * a real OpenID provider on this machine (oidc-provider, serving Pro Santé
 * Connect's claims: test/helpers/oidc-provider.ts), each on its own port.
 *
 * A physician clicks "Se connecter avec Pro Santé Connect", signs in on the
 * provider's own pages, comes back signed in and sees the patients enrolled with
 * their team and not the others; an expired session is refused (the page goes
 * back to the login, the API answers 401); sign-out ends the session here and at
 * the provider; a person the service does not know as a practitioner gets a page
 * saying what to ask the administrator, and no session. Screenshots go to
 * test-results/screenshots (oidc-*.png).
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { addPatient } from '../../src/actions/provisioning.ts';
import { useTestDatabase } from '../fixture.ts';
import { freePort } from '../helpers/free-port.ts';
import { type LocalProvider, startOidcProvider } from '../helpers/oidc-provider.ts';
import { ROOT, type ServiceProcess, startService } from '../helpers/service.ts';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = path.join(ROOT, 'test-results', 'screenshots');
const CHROMIUM_MISSING = `Debian's Chromium is not installed (${CHROMIUM} is missing): the browser tests need it; install it with \`apt-get install -y --no-install-recommends chromium\` (.ci/run does).`;

const DR_MARTIN = { id: 'psc-martin', rpps: '10003456789', givenName: 'Anne', familyName: 'Martin' };
/** The same physician through a sign-in below the level asked for (acr_values=eidas1). */
const DR_MARTIN_LOW = { ...DR_MARTIN, id: 'psc-martin-low', acr: 'eidas-low' };
const STRANGER = {
  id: 'psc-stranger',
  rpps: '10009999999',
  givenName: 'Paul',
  familyName: 'Durand',
  professions: ['60'],
};

const database = useTestDatabase();
let service: ServiceProcess | undefined;
let provider: LocalProvider | undefined;
let browser: Browser | undefined;
let base: string;

beforeEach(() => {
  if (!existsSync(CHROMIUM)) throw new Error(CHROMIUM_MISSING);
});

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) return; // each test fails, see beforeEach
  mkdirSync(SHOTS, { recursive: true });

  for (const id of ['p-cardio-1', 'p-cardio-2', 'p-diab-1']) await addPatient(database.db, { id });
  await database.query(
    `INSERT INTO practitioners (id, name, rpps, role) VALUES ('dr-martin', 'Dr Anne Martin', $1, 'physician')`,
    [DR_MARTIN.rpps],
  );
  await database.query(
    `INSERT INTO care_teams (id, name) VALUES ('cardio', 'Cardiologie'), ('diabeto', 'Diabétologie')`,
  );
  await database.query(`INSERT INTO team_members (team_id, practitioner_id) VALUES ('cardio', 'dr-martin')`);
  await database.query(
    `INSERT INTO enrolments (patient_id, team_id, programme, starts_at, ends_at) VALUES
       ('p-cardio-1', 'cardio', 'heart_failure', now() - interval '10 days', NULL),
       ('p-cardio-2', 'cardio', 'heart_failure', now() - interval '1 day', NULL),
       ('p-diab-1', 'diabeto', 'diabetes', now() - interval '10 days', NULL),
       ('p-diab-1', 'cardio', 'heart_failure', now() - interval '20 days', now() - interval '15 days')`,
  );

  const [httpPort, providerPort] = [await freePort(), await freePort()];
  base = `http://127.0.0.1:${httpPort}`;
  provider = await startOidcProvider({
    port: providerPort,
    redirectUris: [`${base}/auth/callback`],
    postLogoutRedirectUris: [`${base}/`],
    accounts: [DR_MARTIN, DR_MARTIN_LOW, STRANGER],
  });
  service = await startService({
    DATABASE_URL: database.url,
    HTTP_PORT: String(httpPort),
    VITALINK_PUBLIC_URL: base,
    VITALINK_OIDC_ISSUER: provider.issuer,
    VITALINK_OIDC_CLIENT_ID: provider.clientId,
    VITALINK_OIDC_CLIENT_SECRET: provider.clientSecret,
    VITALINK_OIDC_API_AUDIENCE: provider.apiAudience,
  });

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-sync'],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (service) {
    service.child.kill('SIGTERM');
    await service.exited;
  }
  await provider?.stop();
});

async function newPage(): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser!.newContext({ locale: 'fr-FR', viewport: { width: 1280, height: 900 } });
  return { context, page: await context.newPage() };
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

async function step<T>(page: Page, name: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    await page.screenshot({ path: path.join(SHOTS, `FAILED-${name}.png`), fullPage: true }).catch(() => {});
    throw error;
  }
}

/** From the dashboard's login to the provider's pages: login (any password), then consent when asked. */
async function signInAtProvider(page: Page, login: string): Promise<void> {
  await page.getByTestId('oidc-sign-in').click();
  await page.waitForURL((u) => u.href.startsWith(provider!.issuer));
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('any password');
  await page.locator('button[type="submit"]').click();
  // The consent page, when the provider asks (the first time this account signs in to this client).
  const consent = page.getByRole('button', { name: 'Continue' });
  const back = page.waitForURL((u) => !u.href.startsWith(provider!.issuer));
  const asked = await Promise.race([back.then(() => false), consent.waitFor().then(() => true)]);
  if (asked) {
    await consent.click();
    await back;
  }
}

async function sessionRows(): Promise<{ practitioner_id: string; live: boolean }[]> {
  const { rows } = await database.query(
    `SELECT practitioner_id, revoked_at IS NULL AND expires_at > now() AS live FROM sign_in_sessions ORDER BY created_at`,
  );
  return rows;
}

describe('sign-in with Pro Santé Connect (a local OpenID provider)', () => {
  it('signs a physician in: they see their team’s patients and not the others; an expired session is refused', async () => {
    const { context, page } = await newPage();
    try {
      await step(page, 'oidc-login', async () => {
        await page.goto(base);
        await expect
          .poll(() => page.getByTestId('oidc-sign-in').textContent())
          .toBe('Se connecter avec Pro Santé Connect');
        await shot(page, 'oidc-login');
      });
      await step(page, 'oidc-provider', () => signInAtProvider(page, DR_MARTIN.id));
      await step(page, 'oidc-signed-in', async () => {
        await page.waitForURL((u) => u.href.startsWith(base));
        // A signed-in practitioner lands on their teams' worklist (README, "Care teams").
        await page.getByTestId('worklist-table').waitFor();
        await expect.poll(() => page.getByTestId('who').textContent()).toContain('Connecté : Dr Anne Martin');
        await expect.poll(() => page.getByTestId('worklist-row-p-cardio-1').count()).toBe(1);
        expect(await page.getByTestId('worklist-row-p-cardio-2').count()).toBe(1);
        // Enrolled with another team, and once with this one in the past: not theirs now.
        expect(await page.getByTestId('worklist-row-p-diab-1').count()).toBe(0);
        await shot(page, 'oidc-signed-in');
      });
      // The cookie: HttpOnly, SameSite=Strict, never visible to scripts.
      const cookies = await context.cookies(base);
      const cookie = cookies.find((c) => c.name === 'vitalink_session');
      expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
      expect(await page.evaluate('document.cookie')).not.toContain('vitalink_session');
      expect(await sessionRows()).toEqual([{ practitioner_id: 'dr-martin', live: true }]);
      // The browser's own requests with the cookie: the patient of another team is a 404.
      expect((await context.request.get(`${base}/api/v1/patients/p-cardio-1`)).status()).toBe(200);
      expect((await context.request.get(`${base}/api/v1/patients/p-diab-1`)).status()).toBe(404);

      await step(page, 'oidc-expired', async () => {
        await database.query(`UPDATE sign_in_sessions SET expires_at = now() - interval '1 second'`);
        expect((await context.request.get(`${base}/api/v1/me`)).status()).toBe(401);
        // The page's next request is refused: back to the login, saying why.
        await page.getByRole('link', { name: 'p-cardio-1' }).click();
        await page.getByTestId('oidc-sign-in').waitFor();
        expect(await page.getByRole('status').textContent()).toContain('Votre session a pris fin');
        await page.reload();
        await page.getByTestId('oidc-sign-in').waitFor();
        expect(await page.getByTestId('worklist-table').count()).toBe(0);
        await shot(page, 'oidc-expired');
      });
    } finally {
      await context.close();
    }
  });

  it('signs out here and at the provider', async () => {
    const { context, page } = await newPage();
    try {
      // An address asked for before signing in (a notification's link, a patient's page)
      // is where the browser ends up once back from the issuer, not the worklist.
      await page.goto(`${base}#/patients/p-cardio-1`);
      await step(page, 'oidc-provider-2', () => signInAtProvider(page, DR_MARTIN.id));
      await step(page, 'oidc-signed-in-2', async () => {
        await page.waitForURL((u) => u.href.startsWith(base) && u.hash === '#/patients/p-cardio-1');
        await page.getByRole('heading', { level: 1 }).waitFor();
      });
      // Once: the next visit of the root lands on the worklist.
      await page.goto(base);
      await page.getByTestId('worklist-table').waitFor();
      const live = (await sessionRows()).filter((r) => r.live);
      expect(live).toHaveLength(1);
      await step(page, 'oidc-sign-out', async () => {
        await page.getByTestId('who').getByRole('button').click();
        // The provider asks whether to sign out there too (RP-initiated logout).
        await page.waitForURL((u) => u.href.startsWith(provider!.issuer));
        await shot(page, 'oidc-provider-logout');
        await page.getByRole('button', { name: /Yes, sign me out/i }).click();
        await page.waitForURL((u) => u.href.startsWith(base));
        await page.getByTestId('oidc-sign-in').waitFor();
      });
      expect((await sessionRows()).filter((r) => r.live)).toHaveLength(0);
      expect((await context.request.get(`${base}/api/v1/me`)).status()).toBe(401);
      // Signed out at the provider too: signing in again asks for the login.
      await page.getByTestId('oidc-sign-in').click();
      await page.locator('input[name="login"]').waitFor();
    } finally {
      await context.close();
    }
  });

  it('refuses a person who is no practitioner here: a page saying what to ask, no session, nothing personal in the log', async () => {
    const { context, page } = await newPage();
    const before = (await sessionRows()).length;
    try {
      await page.goto(base);
      await step(page, 'oidc-unknown', async () => {
        await signInAtProvider(page, STRANGER.id);
        await page.waitForURL((u) => u.href.startsWith(`${base}/auth/callback`));
        const text = await page.getByTestId('sign-in-problem').textContent();
        expect(text).toContain('Vitalink ne connaît aucun professionnel avec votre identifiant (10009999999)');
        expect(text).toContain('Demandez à votre administrateur Vitalink');
        await shot(page, 'oidc-unknown-practitioner');
      });
      expect((await sessionRows()).length).toBe(before);
      expect((await context.cookies(base)).find((c) => c.name === 'vitalink_session')).toBeUndefined();
      const refused = service!.logs.filter((l) => l.msg === 'sign-in refused');
      expect(refused.map((l) => l.reason)).toContain('unknown_practitioner');
      expect(JSON.stringify(service!.logs)).not.toContain(STRANGER.rpps);
    } finally {
      await context.close();
    }
  });

  it('refuses a sign-in below the level of assurance asked for (acr eidas1): a page, no session', async () => {
    const { context, page } = await newPage();
    const before = (await sessionRows()).length;
    try {
      await page.goto(base);
      await step(page, 'oidc-acr', async () => {
        await signInAtProvider(page, DR_MARTIN_LOW.id);
        await page.waitForURL((u) => u.href.startsWith(`${base}/auth/callback`));
        expect(await page.getByTestId('sign-in-problem').textContent()).toContain(
          "n'atteint pas le niveau de garantie exigé par Vitalink (eidas1)",
        );
      });
      expect((await sessionRows()).length).toBe(before);
      expect(service!.logs.filter((l) => l.msg === 'sign-in refused').map((l) => l.reason)).toContain('acr_not_met');
    } finally {
      await context.close();
    }
  });
});
