/**
 * docs/device-protocol.md run as written: every example marked `<!-- example: NAME -->`
 * that can run here (MQTT.js, Eclipse Paho for Python, mosquitto_pub/mosquitto_sub,
 * curl with the secret, a device token and a client certificate), in the page's
 * order, against `vitalink serve` over TLS (MQTT_TLS_PORT, HTTPS_PORT, device
 * certificates optional). The page's settings block is the only one replaced, by
 * the same variables with this test's values (free ports, the test certificates);
 * a placeholder line (`DEVICE_TOKEN=vdt_…`) gets what the block before printed.
 * Then the readings stored and the rejections received are checked. The Kotlin
 * example cannot run here: the page says so.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { type Pair, ScratchPki } from '../helpers/pki.ts';
import { MAIN, ROOT, type ServiceProcess, startService } from '../helpers/service.ts';

const PAGE = path.join(ROOT, 'docs', 'device-protocol.md');
const TLS_DIR = path.join(ROOT, 'test', 'fixtures', 'tls');
/** Debian's python3-paho-mqtt is installed for this interpreter (.ci/run), not for a pyenv one first on PATH. */
const PYTHON = '/usr/bin/python3';

/** The examples of the page by name, with their fence's language. */
function examples(): Map<string, { lang: string; code: string }> {
  const page = readFileSync(PAGE, 'utf8');
  const found = new Map<string, { lang: string; code: string }>();
  for (const m of page.matchAll(/<!-- example: ([a-z-]+) -->\n+```(\w+)\n([\s\S]*?)```/g)) {
    expect(found.has(m[1]), `example ${m[1]} appears once`).toBe(false);
    found.set(m[1], { lang: m[2], code: m[3] });
  }
  return found;
}

function run(
  command: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const bash = (script: string, env: Record<string, string>) => run('bash', ['-euo', 'pipefail', '-c', script], env);

/** The last line of `stdout` that is a JSON object. */
function lastJson(stdout: string): any {
  const line = stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .at(-1);
  expect(line, `a JSON line in:\n${stdout}`).toBeDefined();
  return JSON.parse(line!);
}

const pki = new ScratchPki();
const scratch = mkdtempSync(path.join(tmpdir(), 'vitalink-doc-examples-'));
// The MQTT.js example imports `mqtt`: written below node_modules so that it resolves from there.
const nodeScratch = path.join(ROOT, 'node_modules', '.cache', `vitalink-doc-examples-${process.pid}`);
let database: TestDatabase;
let service: ServiceProcess;
let deviceCert: Pair;

beforeAll(async () => {
  const ca = pki.deviceCa();
  deviceCert = pki.deviceCert('cuff-42', 'cuff-42');
  // `vitalink`, as an installed package provides it.
  const bin = path.join(scratch, 'bin');
  mkdirSync(bin);
  writeFileSync(path.join(bin, 'vitalink'), `#!/bin/sh\nexec node ${JSON.stringify(MAIN)} "$@"\n`);
  chmodSync(path.join(bin, 'vitalink'), 0o755);
  mkdirSync(nodeScratch, { recursive: true });
  database = await createTestDatabase();
  service = await startService({
    DATABASE_URL: database.url,
    MQTT_TLS_PORT: '0',
    HTTPS_PORT: '0',
    TLS_CERT_FILE: path.join(TLS_DIR, 'cert.pem'),
    TLS_KEY_FILE: path.join(TLS_DIR, 'key.pem'),
    VITALINK_DEVICE_CERTS: 'optional',
    VITALINK_DEVICE_CA_FILE: ca,
    VITALINK_HSTS_MAX_AGE_S: '0',
  });
});

afterAll(async () => {
  await service?.stop();
  await database?.drop();
  pki.remove();
  rmSync(scratch, { recursive: true, force: true });
  rmSync(nodeScratch, { recursive: true, force: true });
});

describe('docs/device-protocol.md, "Examples"', () => {
  it('every example that can run here works as written', { timeout: 180_000 }, async () => {
    const blocks = examples();
    expect([...blocks.keys()]).toEqual([
      'settings',
      'provision',
      'mqttjs',
      'paho',
      'mosquitto',
      'curl-basic',
      'token',
      'curl-token',
      'curl-cert',
    ]);
    const cli = {
      PATH: `${path.join(scratch, 'bin')}:${process.env.PATH}`,
      DATABASE_URL: database.url,
      LOG_LEVEL: 'warn',
    };

    const provision = await bash(blocks.get('provision')!.code, cli);
    expect(provision.code, provision.stderr).toBe(0);
    const added = lastJson(provision.stdout);
    expect(added.id).toBe('cuff-42');

    // The page's settings, with this test's values: the same variables, no others.
    const settings: Record<string, string> = {
      VITALINK_HOST: 'localhost',
      MQTTS_PORT: String(service.ports.mqtts),
      HTTPS_PORT: String(service.ports.https),
      CA_FILE: path.join(TLS_DIR, 'cert.pem'),
      DEVICE_ID: 'cuff-42',
      DEVICE_SECRET: added.secret,
      DEVICE_CERT: deviceCert.cert,
      DEVICE_KEY: deviceCert.key,
    };
    const named = [...blocks.get('settings')!.code.matchAll(/(?:export |\s)([A-Z_]+)=/g)].map((m) => m[1]);
    expect(new Set(named)).toEqual(new Set(Object.keys(settings)));
    const env = { ...settings, ...cli };
    // The device was assigned from the second it was added; readings stamped in whole
    // seconds (date -u) must come after it, as they would for a person typing.
    await new Promise((r) => setTimeout(r, 1_100));

    // MQTT.js
    const js = blocks.get('mqttjs')!;
    expect(js.lang).toBe('js');
    writeFileSync(path.join(nodeScratch, 'send-readings.mjs'), js.code);
    const node = await run('node', [path.join(nodeScratch, 'send-readings.mjs')], env);
    expect(node.code, node.stderr).toBe(0);
    expect(node.stdout).toContain('acknowledged');
    expect(node.stdout).toMatch(/^rejected js-0003: unit \(/m);

    // Eclipse Paho for Python
    const py = blocks.get('paho')!;
    expect(py.lang).toBe('python');
    writeFileSync(path.join(scratch, 'send_readings.py'), py.code);
    const paho = await run(PYTHON, [path.join(scratch, 'send_readings.py')], env);
    expect(
      paho.code,
      `${paho.stderr}\n(Eclipse Paho is Debian's python3-paho-mqtt: apt-get install -y python3-paho-mqtt)`,
    ).toBe(0);
    expect(paho.stdout).toContain('acknowledged');
    expect(paho.stdout).toMatch(/^rejected py-0003: unit \(/m);

    // mosquitto_sub and mosquitto_pub
    const mosquitto = await bash(blocks.get('mosquitto')!.code, env);
    expect(mosquitto.code, mosquitto.stderr).toBe(0);
    expect(lastJson(mosquitto.stdout)).toMatchObject({ id: 'sh-0002', reason: 'unit' });

    // curl with the secret
    const basic = await bash(blocks.get('curl-basic')!.code, env);
    expect(basic.code, basic.stderr + basic.stdout).toBe(0);
    expect(JSON.parse(basic.stdout).results).toEqual([
      { id: 'curl-0001', outcome: 'stored', reason: null, detail: null },
      expect.objectContaining({ id: 'curl-0002', outcome: 'rejected', reason: 'unit' }),
    ]);

    // A device token made by the CLI, then curl with it (the placeholder gets the token printed).
    const tokenBlock = await bash(blocks.get('token')!.code, cli);
    expect(tokenBlock.code, tokenBlock.stderr).toBe(0);
    const created = lastJson(tokenBlock.stdout);
    expect(created).toMatchObject({ deviceId: 'cuff-42', token: expect.stringMatching(/^vdt_/) });
    const withToken = blocks.get('curl-token')!.code.replace(/^DEVICE_TOKEN=\S+/m, `DEVICE_TOKEN='${created.token}'`);
    expect(withToken).not.toBe(blocks.get('curl-token')!.code);
    const bearer = await bash(withToken, env);
    expect(bearer.code, bearer.stderr + bearer.stdout).toBe(0);
    expect(JSON.parse(bearer.stdout).results).toEqual([
      { id: 'curl-0003', outcome: 'stored', reason: null, detail: null },
    ]);

    // curl with the device's certificate, no secret
    const mtls = await bash(blocks.get('curl-cert')!.code, env);
    expect(mtls.code, mtls.stderr + mtls.stdout).toBe(0);
    expect(JSON.parse(mtls.stdout).results).toEqual([
      { id: 'curl-0004', outcome: 'stored', reason: null, detail: null },
    ]);

    // What the service committed: every valid reading once, every refused one as a `unit` rejection.
    const stored = await database.query<{ reading_id: string; type: string; unit: string; value: number | null }>(
      "SELECT reading_id, type, unit, value FROM readings WHERE device_id = 'cuff-42' ORDER BY reading_id",
    );
    expect(stored.rows.map((r) => r.reading_id)).toEqual([
      'curl-0001',
      'curl-0003',
      'curl-0004',
      'js-0001',
      'js-0002',
      'py-0001',
      'py-0002',
      'sh-0001',
    ]);
    const byId = new Map(stored.rows.map((r) => [r.reading_id, r]));
    // Spellings stored as UCUM codes, in the stored unit.
    expect(byId.get('curl-0003')).toMatchObject({ type: 'body_weight', unit: 'kg' });
    expect(byId.get('curl-0003')!.value).toBeCloseTo(157.4 * 0.45359237, 3);
    expect(byId.get('py-0002')).toMatchObject({ type: 'body_temperature', unit: 'Cel' });
    expect(byId.get('sh-0001')).toMatchObject({ type: 'blood_glucose', unit: 'mg/dL' });
    const rejected = await database.query<{ reading_id: string; reason: string }>(
      "SELECT reading_id, reason FROM rejections WHERE device_id = 'cuff-42' ORDER BY reading_id",
    );
    expect(rejected.rows).toEqual([
      { reading_id: 'curl-0002', reason: 'unit' },
      { reading_id: 'js-0003', reason: 'unit' },
      { reading_id: 'py-0003', reason: 'unit' },
      { reading_id: 'sh-0002', reason: 'unit' },
    ]);
  });
});
