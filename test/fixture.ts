import { randomBytes } from 'node:crypto';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { addPatient } from '../src/actions/provisioning.ts';
import { resolveKeyRing } from '../src/actions/secret-keys.ts';
import { createApiToken } from '../src/actions/tokens.ts';
import { type ConfiguredKeys, NO_CONFIGURED_KEYS, readSecretKeys } from '../src/config.ts';
import type { KeyRing } from '../src/domain/secret-keys.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { createRoleSplitDatabase, createTestDatabase, type TestDatabase } from './helpers/database.ts';
import { connectDevice, type Reading, waitFor } from './helpers/device.ts';
import { type Closable, describeLeaks, LeakTracker } from './helpers/leak-tracker.ts';
import { provisionDevice } from './helpers/provision.ts';

/**
 * The one test fixture (conventions.md, "Tests", after graphile-worker's
 * `__tests__/helpers.ts`): a test file calls `useTestDatabase()` or
 * `useTestService(options)` at top level and gets one context with what it
 * needs. The hooks are registered here: beforeAll builds (database → service),
 * afterAll tears down in the mirror order (clients → service → database drop),
 * and after each test a leak check fails the test that left open a client it
 * opened itself (test/helpers/leak-tracker.ts).
 */

export type Role = 'admin' | 'operator' | 'clinician';

export interface Token {
  readonly token: string;
  readonly id: string;
}

export interface ApiResponse {
  status: number;
  body: any;
  contentType: string | null;
  headers: Headers;
}

export interface CallOptions {
  token?: string | null;
  json?: unknown;
  /** A body sent as is, as application/json (malformed JSON). */
  raw?: string;
  headers?: Record<string, string>;
}

/** An HTTP client for the service's listening port, with `fetch` as a client would. */
export interface ApiClient {
  call(method: string, path: string, options?: CallOptions): Promise<ApiResponse>;
  get(path: string, options?: CallOptions): Promise<ApiResponse>;
  post(path: string, json: unknown, options?: CallOptions): Promise<ApiResponse>;
  put(path: string, json: unknown, options?: CallOptions): Promise<ApiResponse>;
}

/**
 * What a test file gets from `useTestDatabase()`. States: empty until the
 * fixture's beforeAll (reading `database`, `db` or `url` then throws), built
 * during the file, dropped by its afterAll.
 */
export class DatabaseContext {
  protected readonly tracker = new LeakTracker();
  #database: TestDatabase | undefined;
  #secretKeys: ConfiguredKeys = NO_CONFIGURED_KEYS;

  get database(): TestDatabase {
    if (!this.#database) throw new Error('the test database exists from beforeAll on');
    return this.#database;
  }

  get url(): string {
    return this.database.url;
  }

  get db(): TestDatabase['db'] {
    return this.database.db;
  }

  /** @internal */
  setDatabase(database: TestDatabase): void {
    this.#database = database;
  }

  /** @internal */
  async dropDatabase(): Promise<void> {
    const database = this.#database;
    this.#database = undefined;
    await database?.drop();
  }

  /**
   * The keys credentials are made under: those of the service's environment
   * (VITALINK_SECRET_KEY...), else the database's key, as the service uses them.
   */
  keys(): Promise<KeyRing> {
    return resolveKeyRing(this.db, this.#secretKeys);
  }

  /** Makes credentials under the keys of this environment from now on (a test that restarts the service with other keys). */
  useSecretKeysOf(env: Record<string, string | undefined>): void {
    const { keys, problems } = readSecretKeys(env);
    if (problems.length > 0) throw new Error(problems.join('; '));
    this.#secretKeys = keys;
  }

  /** Runs one SQL statement on a fresh connection (for assertions and locks). */
  async query<R extends pg.QueryResultRow = any>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    const client = await this.pgClient();
    try {
      return await client.query<R>(text, values);
    } finally {
      await client.end();
    }
  }

  /** A connected pg client, tracked: a test that opens one closes it (`end()`). */
  async pgClient(connectionString = this.url): Promise<pg.Client> {
    const client = new pg.Client({ connectionString });
    let open = true;
    client.once('end', () => {
      open = false;
    });
    this.tracker.track({
      what: 'a pg client',
      isOpen: () => open,
      close: () => client.end(),
    });
    await client.connect();
    return client;
  }

  /** A pg pool, tracked: a test that opens one closes it (`end()`). */
  pgPool(connectionString = this.url, max = 2): pg.Pool {
    const pool = new pg.Pool({ connectionString, max });
    this.tracker.track({ what: 'a pg pool', isOpen: () => !pool.ending, close: () => pool.end() });
    return pool;
  }

  /** Adds a patient (`patients add`). */
  async addPatient(id: string, options: { timeZone?: string; displayName?: string } = {}): Promise<void> {
    await addPatient(this.db, { id, ...options });
  }

  /**
   * A device assigned to `patientId` (created if need be; null: unassigned) from
   * `assignedFrom` (default 100 days ago). Returns its secret.
   */
  async provisionDevice(deviceId: string, patientId?: string | null, assignedFrom?: Date): Promise<string> {
    return provisionDevice(this.db, deviceId, patientId, assignedFrom, await this.keys());
  }

  /** An API token of `role` (a clinician's for `patientIds`). */
  async createToken(role: Role, patientIds?: string[]): Promise<Token> {
    const keys = await this.keys();
    return createApiToken(this.db, keys, role === 'clinician' ? { role, patientIds: patientIds ?? [] } : { role });
  }

  /** @internal */
  register(start: () => Promise<void>, stop: () => Promise<void>): void {
    beforeAll(start);
    beforeEach(() => this.tracker.beginTest());
    afterEach(async () => {
      const leaks = await this.tracker.endTest();
      if (leaks.length > 0) throw new Error(describeLeaks(leaks));
    });
    afterAll(async () => {
      await this.tracker.closeAll();
      await stop();
    });
  }
}

export interface TestDatabaseOptions {
  /**
   * `split`: migrated by an owner role of its own, with a service role that owns
   * nothing (test/helpers/database.ts, createRoleSplitDatabase); `t.url` and `t.db`
   * are the owner's, `t.database.roles` names both. Default: one role owns all.
   */
  databaseRoles?: 'single' | 'split';
}

function createDatabaseFor(options: TestDatabaseOptions): Promise<TestDatabase> {
  return options.databaseRoles === 'split' ? createRoleSplitDatabase() : createTestDatabase();
}

/** A database of its own for the file, cloned from the migrated template and dropped after. */
export function useTestDatabase(options: TestDatabaseOptions = {}): DatabaseContext {
  const t = new DatabaseContext();
  t.register(
    async () => t.setDatabase(await createDatabaseFor(options)),
    () => t.dropDatabase(),
  );
  return t;
}

export interface TestServiceOptions extends TestDatabaseOptions {
  /** Environment of the service, on top of the fixture's (ephemeral ports, the test database, silent logs). */
  env?: Record<string, string> | ((database: TestDatabase) => Record<string, string> | Promise<Record<string, string>>);
  /** Sets VITALINK_ADMIN_TOKEN: true for a generated one, or the token itself. Read it as `t.adminToken`. */
  adminToken?: boolean | string;
  /** Runs on the database before the service starts (devices it must know from the start). */
  beforeStart?: (t: ServiceContext) => Promise<void>;
  /** Runs after the service stopped, before the database is dropped (what `env` set up). */
  afterStop?: () => Promise<void>;
  /** The database instead of a clone of the template (test/helpers/database.ts, wrapTestDatabase): a cluster of the test's own. */
  database?: () => Promise<TestDatabase>;
}

/**
 * What a test file gets from `useTestService()`: the database context plus the
 * service, running from the fixture's beforeAll (after the database and
 * `beforeStart`) until its afterAll (before the database is dropped).
 */
export class ServiceContext extends DatabaseContext {
  #service: TestApp | undefined;
  readonly adminToken: string;
  readonly api: ApiClient;

  constructor(adminToken: string) {
    super();
    this.adminToken = adminToken;
    this.api = {
      call: (method, path, options) => this.#call(method, path, options),
      get: (path, options) => this.#call('GET', path, options),
      post: (path, json, options) => this.#call('POST', path, { ...options, json }),
      put: (path, json, options) => this.#call('PUT', path, { ...options, json }),
    };
  }

  /** The whole service, in this process. */
  get service(): TestApp {
    if (!this.#service) throw new Error('the service runs from beforeAll on');
    return this.#service;
  }

  get ports(): TestApp['ports'] {
    return this.service.ports;
  }

  get mqttUrl(): string {
    return `mqtt://127.0.0.1:${this.ports.mqtt}`;
  }

  get httpUrl(): string {
    return `http://127.0.0.1:${this.ports.http}`;
  }

  /**
   * Another instance of the service on the same database, in this process, on
   * ephemeral ports (README, "Running several instances"). The fixture stops it at
   * the end of the test that started it, or after the file.
   */
  async startInstance(env: Record<string, string> = {}): Promise<TestApp> {
    const app = await startTestApp(this.database, env);
    let open = true;
    this.tracker.track(
      {
        what: `service instance ${env.VITALINK_INSTANCE_ID ?? ''}`.trim(),
        isOpen: () => open,
        close: async () => {
          open = false;
          await app.stop();
        },
      },
      { released: true },
    );
    return app;
  }

  /** @internal */
  setService(service: TestApp): void {
    this.#service = service;
  }

  /** @internal */
  async stopService(): Promise<void> {
    const service = this.#service;
    this.#service = undefined;
    await service?.stop();
  }

  /**
   * Connects with a device's credentials (test/helpers/device.ts). The fixture
   * closes the client at the end of the test that opened it, or after the file
   * when it was opened in beforeAll. `url`: another listener (mqtts://, ws://).
   */
  async connectDevice(
    deviceId: string,
    secret: string,
    options: IClientOptions = {},
    url = this.mqttUrl,
  ): Promise<MqttClient> {
    const client = await connectDevice(url, deviceId, secret, options);
    this.tracker.track(mqttClosable(`mqtt client ${deviceId}`, client), { released: true });
    return client;
  }

  /** Provisions `deviceId` for `patientId` (see provisionDevice) and connects it. */
  async device(deviceId: string, patientId?: string | null, options: IClientOptions = {}): Promise<MqttClient> {
    return this.connectDevice(deviceId, await this.provisionDevice(deviceId, patientId), options);
  }

  /**
   * An MQTT client connected with mqtt.js' own `connectAsync` (any options, any
   * URL), tracked: a test that opens one ends it.
   */
  async mqttClient(options: IClientOptions, url = this.mqttUrl): Promise<MqttClient> {
    const client = await mqtt.connectAsync(url, options);
    this.tracker.track(mqttClosable(`mqtt client ${options.clientId ?? ''}`.trim(), client));
    return client;
  }

  /** Publishes readings (or a payload as is) at QoS 1 on the device's readings topic; resolves on its PUBACK. */
  async publish(client: MqttClient, deviceId: string, payload: string | Buffer | Reading[]): Promise<void> {
    const body =
      typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : JSON.stringify({ readings: payload });
    await client.publishAsync(`v1/devices/${deviceId}/readings`, body, { qos: 1 });
  }

  /** Waits until the aggregation job has taken every dirty mark. */
  async settled(): Promise<void> {
    await waitFor(async () => {
      const { rows } = await this.query(
        `SELECT (SELECT count(*) FROM aggregation_dirty) + (SELECT count(*) FROM indicators_dirty) AS n`,
      );
      return Number(rows[0].n) === 0;
    }, 'the aggregation job');
  }

  async #call(method: string, path: string, options: CallOptions = {}): Promise<ApiResponse> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body: string | undefined;
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    } else if (options.raw !== undefined) {
      headers['content-type'] = 'application/json';
      body = options.raw;
    }
    const res = await fetch(`${this.httpUrl}${path}`, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      // not JSON: kept as text, which fails any shape assertion
    }
    return { status: res.status, body: parsed, contentType: res.headers.get('content-type'), headers: res.headers };
  }
}

/** The whole service in this process, on ephemeral ports, against a database of the file's own. */
export function useTestService(options: TestServiceOptions = {}): ServiceContext {
  const adminToken =
    options.adminToken === true
      ? `test-admin-token-${randomBytes(12).toString('hex')}`
      : typeof options.adminToken === 'string'
        ? options.adminToken
        : '';
  const t = new ServiceContext(adminToken);
  t.register(
    async () => {
      const database = options.database ? await options.database() : await createDatabaseFor(options);
      t.setDatabase(database);
      // What beforeStart provisions is made under the service's keys.
      if (typeof options.env !== 'function') t.useSecretKeysOf(options.env ?? {});
      await options.beforeStart?.(t);
      // The split: the service connects as its role, and migrates (and grants) as the owner.
      const roles: Record<string, string> = database.roles
        ? { DATABASE_URL: database.roles.serviceUrl, DATABASE_MIGRATION_URL: database.url }
        : {};
      const env = {
        ...roles,
        ...(typeof options.env === 'function' ? await options.env(database) : (options.env ?? {})),
      };
      t.useSecretKeysOf(env);
      t.setService(await startTestApp(database, adminToken ? { VITALINK_ADMIN_TOKEN: adminToken, ...env } : env));
    },
    async () => {
      try {
        await t.stopService();
        await options.afterStop?.();
      } finally {
        await t.dropDatabase();
      }
    },
  );
  return t;
}

function mqttClosable(what: string, client: MqttClient): Closable {
  return {
    what,
    isOpen: () => !client.disconnected && !client.disconnecting,
    close: async () => {
      await client.endAsync(true);
    },
  };
}
