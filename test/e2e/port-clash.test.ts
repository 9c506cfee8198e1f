/**
 * README, "First device in one minute" and "Commands" (exit codes): `vitalink serve` with
 * one of its ports taken by another program stops at once, with one line naming the port,
 * the variable that sets it and what to do, and exit code 2. The database named here does
 * not exist: the ports are checked before the database is opened, so that nothing waits.
 */
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../helpers/service.ts';

let taken: net.Server;
let port: number;

beforeAll(async () => {
  taken = net.createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  port = (taken.address() as net.AddressInfo).port;
});

afterAll(async () => {
  await new Promise((resolve) => taken.close(resolve));
});

const tls = {
  TLS_CERT_FILE: path.join(ROOT, 'test/fixtures/tls/cert.pem'),
  TLS_KEY_FILE: path.join(ROOT, 'test/fixtures/tls/key.pem'),
};
const base = {
  HOST: '127.0.0.1',
  MQTT_PORT: '0',
  HTTP_PORT: '0',
  // Nothing listens there: reaching the database would fail otherwise.
  DATABASE_URL: 'postgres://vitalink@127.0.0.1:1/none',
  VITALINK_DATA_DIR: undefined,
};

describe('vitalink serve with a port taken', () => {
  it.each([
    ['MQTT_PORT', {}],
    ['HTTP_PORT', {}],
    ['MQTT_WS_PORT', {}],
    ['MQTT_TLS_PORT', tls],
    ['HTTPS_PORT', tls],
  ] as const)('%s: one line naming the port and the variable, exit 2', { timeout: 30_000 }, async (variable, extra) => {
    const run = await runCli(['serve'], { ...base, ...extra, [variable]: String(port) });
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toBe(
      `vitalink: port ${port} (${variable}) on 127.0.0.1 is already in use by another program: ` +
        `stop that program, or give ${variable} another port, e.g. \`${variable}=${port + 1} npm start\`\n`,
    );
    // Nothing was started, so nothing drained.
    expect(run.stdout).not.toContain('stopping');
    expect(run.stdout).not.toContain('database');
  });

  it('two settings naming the same port: which ones, exit 2', { timeout: 30_000 }, async () => {
    const run = await runCli(['serve'], { ...base, MQTT_PORT: '18830', HTTP_PORT: '18830' });
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toBe('vitalink: MQTT_PORT and HTTP_PORT both name port 18830: give one of them another port\n');
  });
});
