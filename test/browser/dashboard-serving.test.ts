/**
 * How the service serves the dashboard's files (src/http/dashboard.ts), on a
 * fastify instance and a dist folder made here: the page, its headers, the
 * hashed assets, and the sentence a user gets when the dashboard is not built.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Fastify from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { DASHBOARD_NOT_BUILT, dashboardRoutes } from '../../src/http/dashboard.ts';

const dirs: string[] = [];

function distDir(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vitalink-dist-'));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), content);
  }
  return dir;
}

async function serve(dir: string) {
  const app = Fastify();
  await app.register(dashboardRoutes(dir));
  await app.ready();
  return app;
}

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('dashboard files', () => {
  it('GET / without a build is a 503 that says to run npm run build', async () => {
    const app = await serve(path.join(os.tmpdir(), 'vitalink-no-such-dist'));
    const res = await app.inject('/');
    expect(res.statusCode).toBe(503);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.body.trim()).toBe(DASHBOARD_NOT_BUILT);
    expect(res.body).toContain('run npm run build');
    expect((await app.inject('/assets/index-abc.js')).statusCode).toBe(404);
    await app.close();
  });

  it('serves index.html uncached with the CSP, and hashed assets for a year', async () => {
    const dir = distDir({
      'index.html': '<!doctype html><script type="module" src="/assets/index-abc.js"></script>',
      'assets/index-abc.js': 'console.log(1)',
      'assets/index-abc.css': 'body{}',
      'secret.txt': 'do not serve',
    });
    const app = await serve(dir);
    const page = await app.inject('/');
    expect(page.statusCode).toBe(200);
    expect(page.headers['cache-control']).toBe('no-cache');
    expect(page.headers['content-security-policy']).toMatch(/default-src 'none'.*script-src 'self'/);
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.body).toContain('/assets/index-abc.js');
    expect((await app.inject('/index.html')).body).toBe(page.body);

    const js = await app.inject('/assets/index-abc.js');
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toMatch(/javascript/);
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect((await app.inject('/assets/index-abc.css')).headers['content-type']).toMatch(/^text\/css/);

    // Nothing outside assets/ through it, and no listing.
    for (const url of ['/assets/..%2fsecret.txt', '/assets/%2e%2e%2fsecret.txt', '/assets/..%5csecret.txt']) {
      const res = await app.inject(url);
      expect([400, 403, 404], url).toContain(res.statusCode);
      expect(res.body, url).not.toContain('do not serve');
    }
    expect([403, 404]).toContain((await app.inject('/assets/')).statusCode);
    await app.close();
  });

  it('a rebuild is picked up without a restart', async () => {
    const dir = distDir({ 'index.html': 'one' });
    const app = await serve(dir);
    expect((await app.inject('/')).body).toBe('one');
    writeFileSync(path.join(dir, 'index.html'), 'two');
    mkdirSync(path.join(dir, 'assets'));
    writeFileSync(path.join(dir, 'assets', 'new-123.js'), '1');
    expect((await app.inject('/')).body).toBe('two');
    expect((await app.inject('/assets/new-123.js')).statusCode).toBe(200);
    await app.close();
  });
});
