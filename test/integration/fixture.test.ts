import type { MqttClient } from 'mqtt';
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestService } from '../fixture.ts';

/** The fixture itself (test/fixture.ts): what it builds, and that its leak check can fail. */

const t = useTestService({ adminToken: true });
let fileClient: MqttClient;
let testClient: MqttClient | undefined;
let leakedMqtt: MqttClient | undefined;
let leakedPg: pg.Client | undefined;
let leakedPool: pg.Pool | undefined;

beforeAll(async () => {
  fileClient = await t.device('fx-file-1', 'p-fx');
});

describe('the test fixture', () => {
  it('gives the database, the service, tokens, devices and an API client', async () => {
    const { rows } = await t.query(`SELECT id FROM patients WHERE id = 'p-fx'`);
    expect(rows).toEqual([{ id: 'p-fx' }]);
    expect(t.ports.mqtt).toBeGreaterThan(0);
    const admin = await t.api.get('/api/v1/me', { token: t.adminToken });
    expect(admin.body).toEqual({ role: 'admin', patientIds: null, practitioner: null, teams: [] });
    const clinician = await t.createToken('clinician', ['p-fx']);
    expect((await t.api.get('/api/v1/me', { token: clinician.token })).body).toEqual({
      role: 'clinician',
      patientIds: ['p-fx'],
      practitioner: null,
      teams: [],
    });
    testClient = await t.connectDevice('fx-file-1-b', await t.provisionDevice('fx-file-1-b', 'p-fx'));
    expect(testClient.connected).toBe(true);
  });

  it('closes the device clients a test opened after it, and keeps those of beforeAll for the file', () => {
    expect(testClient?.disconnected).toBe(true);
    expect(fileClient.connected).toBe(true);
  });

  // The leak check fails a test that leaves a tracked client open: `it.fails` passes only if it does.
  it.fails('fails a test that leaves an MQTT client open', async () => {
    leakedMqtt = await t.mqttClient({
      clientId: 'fx-leak-1',
      username: 'fx-leak-1',
      password: await t.provisionDevice('fx-leak-1'),
      reconnectPeriod: 0,
    });
  });

  it.fails('fails a test that leaves a pg client open', async () => {
    leakedPg = await t.pgClient();
  });

  it.fails('fails a test that leaves a pg pool open', async () => {
    leakedPool = t.pgPool();
    await leakedPool.query('SELECT 1');
  });

  it('closed what those tests leaked, so that the next test is not charged with it', () => {
    expect(leakedMqtt?.disconnected).toBe(true);
    expect(leakedPg).toBeDefined();
    expect(leakedPool?.ending).toBe(true);
  });

  it('does not fail a test that closes what it opened', async () => {
    const client = await t.pgClient();
    await client.query('SELECT 1');
    await client.end();
    const pool = t.pgPool();
    await pool.end();
  });
});
