import type pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { migrateDatabase } from '../../src/database-server/migrate-database.ts';
import { DAY_MS, nextUtcMonthStart, utcMonthStart } from '../../src/domain/retention.ts';
import { decodeMessage } from '../../src/ingest/decode.ts';
import { createLogger } from '../../src/logger.ts';
import { createDatabase, type Db } from '../../src/store/database.ts';
import { partitionName, Partitions } from '../../src/store/partitions.ts';
import { writeBatch } from '../../src/store/reading-sink.ts';
import { privilegesOf, SERVICE_TABLE_PRIVILEGES } from '../../src/store/service-grants.ts';
import { useTestService } from '../fixture.ts';
import { createRoleSplitDatabase } from '../helpers/database.ts';
import { heartRate } from '../helpers/device.ts';
import { runCli, startService } from '../helpers/service.ts';

/**
 * The role split (README, "Security", "Database roles"), on the real service: an
 * owner role and a service role made for this run, the service started with
 * DATABASE_URL as the service role and DATABASE_MIGRATION_URL as the owner. What
 * the service does runs as a role that owns nothing; what needs the owner goes
 * through the migration's SECURITY DEFINER functions, and audit_log stays
 * append-only whatever the service's role tries.
 */

const t = useTestService({
  databaseRoles: 'split',
  adminToken: true,
  // Live sessions are re-checked only when a credential change is notified (LISTEN as the service role).
  env: { VITALINK_SESSION_RECHECK_MS: '3600000' },
});
const admin = () => ({ token: t.adminToken });
const roles = () => t.database.roles!;
const silent = createLogger('silent');

/** A Kysely on the service role's connection, for the store's own functions; destroyed by `work`'s end. */
async function asService<T>(work: (db: Db) => Promise<T>): Promise<T> {
  const { db } = createDatabase(roles().serviceUrl, 2, silent);
  try {
    return await work(db);
  } finally {
    await db.destroy();
  }
}

/** Runs `statement` on `client`; the PostgreSQL error code and message, or 'done'. */
async function attempt(client: pg.Client, statement: string): Promise<string> {
  return client.query(statement).then(
    () => 'done',
    (error: { code?: string; message: string }) => `${error.code}: ${error.message}`,
  );
}

describe('the service on the role split', () => {
  it('serves a device end to end as a role that owns nothing: PUBACK, stored, aggregated, read over HTTP, audited', async () => {
    const { rows: who } = await t.query(
      `SELECT DISTINCT usename FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'vitalink:%'`,
    );
    expect(who.map((r) => r.usename)).toContain(roles().service);

    expect((await t.api.post('/api/v1/patients', { id: 'p-split' }, admin())).status).toBe(201);
    const device = await t.api.post('/api/v1/devices', { id: 'dev-split', patientId: 'p-split' }, admin());
    expect(device.status).toBe(201);
    const client = await t.connectDevice('dev-split', device.body.secret);
    // Resolves on the PUBACK, sent after the commit.
    await t.publish(client, 'dev-split', [heartRate('split-1', 71), heartRate('split-2', 75)]);
    await client.endAsync();
    const { rows } = await t.query(`SELECT reading_id FROM readings WHERE patient_id = 'p-split' ORDER BY 1`);
    expect(rows.map((r) => r.reading_id)).toEqual(['split-1', 'split-2']);
    await t.settled();

    const token = await t.api.post('/api/v1/tokens', { role: 'clinician', patientIds: ['p-split'] }, admin());
    expect(token.status).toBe(201);
    const clinician = { token: token.body.token as string };
    const readings = await t.api.get('/api/v1/patients/p-split/readings', clinician);
    expect(readings.status).toBe(200);
    expect(readings.body.items.map((r: { id: string }) => r.id).sort()).toEqual(['split-1', 'split-2']);
    const series = await t.api.get('/api/v1/patients/p-split/series?type=heart_rate&bucket=hour', clinician);
    expect(series.status).toBe(200);
    expect(series.body.items.reduce((n: number, b: { count: number }) => n + b.count, 0)).toBe(2);

    const { rows: audit } = await t.query(
      `SELECT action, outcome, role FROM audit_log WHERE patient_id = 'p-split' AND role = 'clinician' ORDER BY id`,
    );
    expect(audit).toEqual([
      { action: 'readings.read', outcome: 'allowed', role: 'clinician' },
      { action: 'series.read', outcome: 'allowed', role: 'clinician' },
    ]);
  });

  it('disables a device: the SHARE lock on readings through the owner function, the live session closed by NOTIFY', async () => {
    const created = await t.api.post('/api/v1/devices', { id: 'dev-split-off', patientId: 'p-split' }, admin());
    const client = await t.connectDevice('dev-split-off', created.body.secret);
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    const disabled = await t.api.post('/api/v1/devices/dev-split-off/disable', {}, admin());
    expect(disabled.status).toBe(200);
    expect(disabled.body).toMatchObject({ id: 'dev-split-off', enabled: false });
    // The periodic re-check is an hour away (env below): only the notification closes it.
    await closed;
  });

  it('creates the partition of a new month through the owner function; the service cannot create one itself', async () => {
    const month = utcMonthStart(Date.now() + 200 * DAY_MS);
    const name = partitionName(month);
    const created = await asService((db) => new Partitions(db).ensureRange(month, month));
    expect(created).toEqual([name]);
    const { rows } = await t.query(
      `SELECT pg_get_userbyid(c.relowner) AS owner,
              has_table_privilege($2, c.oid, 'SELECT') AS can_select,
              has_table_privilege($2, c.oid, 'INSERT') AS can_insert
       FROM pg_class c WHERE c.oid = to_regclass($1)`,
      [name, roles().service],
    );
    // Owned by the owner; readable by the service (retention reads a month's heap directly), nothing more.
    expect(rows).toEqual([{ owner: roles().owner, can_select: true, can_insert: false }]);

    const service = await t.pgClient(roles().serviceUrl);
    try {
      const next = new Date(nextUtcMonthStart(month)).toISOString();
      const after = new Date(nextUtcMonthStart(nextUtcMonthStart(month))).toISOString();
      expect(
        await attempt(
          service,
          `CREATE TABLE readings_by_hand PARTITION OF readings FOR VALUES FROM ('${next}') TO ('${after}')`,
        ),
      ).toMatch(/^42501: permission denied/);
      // The function's own bounds: a month start, at most a year ahead.
      expect(await attempt(service, `SELECT vitalink_ensure_reading_partition(now() + interval '3 years')`)).toMatch(
        /^22023: /,
      );
    } finally {
      await service.end();
    }
  });
});

describe('audit_log for the service role', () => {
  it('refuses UPDATE, DELETE, TRUNCATE, disabling or dropping the trigger: permission denied, rows unchanged', async () => {
    await t.query(
      `INSERT INTO audit_log (at, role, patient_id, action, outcome)
       VALUES (now() - interval '2 days', 'clinician', 'p-split-audit', 'readings.read', 'allowed')`,
    );
    const before = (await t.query(`SELECT * FROM audit_log ORDER BY id`)).rows;
    const service = await t.pgClient(roles().serviceUrl);
    try {
      // It may append: the service writes its audit rows so.
      expect(
        await attempt(
          service,
          `INSERT INTO audit_log (role, patient_id, action, outcome) VALUES ('clinician', 'p-split-audit', 'probe', 'allowed')`,
        ),
      ).toBe('done');
      const refused: Record<string, string> = {};
      for (const statement of [
        `UPDATE audit_log SET action = 'nothing.happened'`,
        `DELETE FROM audit_log`,
        `DELETE FROM audit_log WHERE patient_id = 'p-split-audit'`,
        `TRUNCATE audit_log`,
        `ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only`,
        `ALTER TABLE audit_log DISABLE TRIGGER ALL`,
        `DROP TRIGGER audit_log_append_only ON audit_log`,
        `DROP FUNCTION audit_log_append_only() CASCADE`,
        `DROP TABLE audit_log`,
        `ALTER TABLE audit_log OWNER TO CURRENT_USER`,
        // The trigger's bypass is no use without DELETE.
        `DO $$ BEGIN PERFORM set_config('vitalink.retention', 'on', true); DELETE FROM audit_log; END $$`,
      ]) {
        refused[statement] = await attempt(service, statement);
      }
      for (const [statement, outcome] of Object.entries(refused)) {
        expect(outcome, statement).toMatch(/^42501: (permission denied|must be owner)/);
      }
      // Clinical data alike: readings are appended, never changed, by the service.
      for (const statement of [`UPDATE readings SET value = 0`, `DELETE FROM readings`, `TRUNCATE readings`]) {
        expect(await attempt(service, statement), statement).toMatch(/^42501: permission denied/);
      }
    } finally {
      await service.end();
    }
    const after = (await t.query(`SELECT * FROM audit_log WHERE action <> 'probe' ORDER BY id`)).rows;
    expect(after).toEqual(before);
  });

  it('the audit-retention function refuses to delete rows less than 365 days old, and deletes only older ones', async () => {
    await t.query(
      `INSERT INTO audit_log (at, role, patient_id, action, outcome)
       VALUES (now() - interval '364 days', 'clinician', 'p-split-floor', 'readings.read', 'allowed'),
              (now() - interval '400 days', 'clinician', 'p-split-floor', 'readings.read', 'allowed')`,
    );
    const count = async () =>
      (await t.query(`SELECT count(*)::int AS n FROM audit_log WHERE patient_id = 'p-split-floor'`)).rows[0].n;
    const service = await t.pgClient(roles().serviceUrl);
    try {
      for (const before of [`now()`, `now() - interval '364 days'`, `'infinity'`]) {
        expect(await attempt(service, `SELECT vitalink_delete_audit_before(${before}, 10000)`), before).toMatch(
          /^42501: refused: audit_log entries less than 365 days old are never deleted/,
        );
      }
      expect(await count()).toBe(2);
      const { rows } = await service.query(
        `SELECT vitalink_delete_audit_before(now() - interval '366 days', 10000)::int AS n`,
      );
      expect(rows[0].n).toBe(1);
      // Months of readings alike: none that ended less than 97 days ago.
      const current = partitionName(utcMonthStart(Date.now()));
      expect(await attempt(service, `SELECT vitalink_drop_reading_partition('${current}', 1000)`)).toMatch(
        /^42501: refused: readings_\d{4}_\d{2} holds readings of a month that ended less than 97 days ago/,
      );
    } finally {
      await service.end();
    }
    expect(await count()).toBe(1);
    expect(
      (await t.query(`SELECT to_regclass($1) IS NOT NULL AS kept`, [partitionName(Date.now())])).rows[0].kept,
    ).toBe(true);
  });
});

describe('vitalink retention as the service role', () => {
  it('removes old keys, drops an old month, deletes old rejections and audit rows, and keeps the recent ones', async () => {
    const now = Date.now();
    const old = now - 200 * DAY_MS;
    await t.provisionDevice('dev-split-old', 'p-split-old', new Date(now - 300 * DAY_MS));
    // Stored as ingestion did back then (as the owner: the test's own connection).
    const payload = Buffer.from(JSON.stringify({ readings: [heartRate('old-1', 70, old)] }));
    const decoded = decodeMessage(payload, { now: old, maxAgeMs: 90 * DAY_MS, maxFutureMs: 300_000 });
    const [outcome] = await writeBatch(t.db, new Partitions(t.db), [
      { deviceId: 'dev-split-old', receivedAt: old, ...decoded },
    ]);
    expect(outcome.stored).toBe(1);
    await t.query(
      `INSERT INTO audit_log (at, role, patient_id, action, outcome)
       VALUES (now() - interval '4000 days', 'clinician', 'p-split-old', 'readings.read', 'allowed'),
              (now() - interval '10 days', 'clinician', 'p-split-old', 'readings.read', 'allowed')`,
    );
    await t.query(
      `INSERT INTO rejections (device_id, reading_id, reason, detail, raw, fingerprint, received_at)
       VALUES ('dev-split-old', 'rj-old', 'out_of_range', 'x', '\\x00', 'split-old', now() - interval '200 days')`,
    );

    // The command as an operator runs it with the service's settings only: DATABASE_URL, no owner.
    const run = await runCli(['retention', '--json'], {
      DATABASE_URL: roles().serviceUrl,
      VITALINK_RETENTION_READINGS_DAYS: '120',
      LOG_LEVEL: 'warn',
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    const month = partitionName(old);
    expect(report.readingKeys.months).toContain(new Date(utcMonthStart(old)).toISOString().slice(0, 7));
    expect(report.readings.partitions).toContain(month);
    expect(report.rejections.rows).toBe(1);
    expect(report.auditLog.rows).toBe(1);

    expect((await t.query(`SELECT to_regclass($1) IS NULL AS gone`, [month])).rows[0].gone).toBe(true);
    const { rows } = await t.query(`SELECT at > now() - interval '1 year' AS recent FROM audit_log
                                    WHERE patient_id = 'p-split-old'`);
    expect(rows).toEqual([{ recent: true }]);
    expect((await t.query(`SELECT count(*)::int AS n FROM rejections WHERE reading_id = 'rj-old'`)).rows[0].n).toBe(0);
  });
});

describe('the migration runner', () => {
  it('grants the service exactly its privileges on every table, again after each run: a new table without a GRANT works, a privilege added by hand goes', async () => {
    // A later migration that forgets its GRANT, and a privilege granted by hand.
    await t.query(`CREATE TABLE later_feature (id int PRIMARY KEY)`);
    await t.query(`GRANT TRUNCATE, UPDATE ON audit_log TO ${roles().service}`);
    await t.query(`REVOKE INSERT ON patients FROM ${roles().service}`);
    await asService((db) => migrateDatabase({ db, migrationUrl: t.url }, silent));
    const service = await t.pgClient(roles().serviceUrl);
    try {
      expect(await attempt(service, `INSERT INTO later_feature VALUES (1)`)).toBe('done');
      expect(await attempt(service, `TRUNCATE audit_log`)).toMatch(/^42501: permission denied/);
    } finally {
      await service.end();
    }

    const { rows: tables } = await t.query(
      `SELECT c.relname AS name, c.relispartition AS partition FROM pg_class c
       WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') ORDER BY 1`,
    );
    // Every table the exceptions name exists (a renamed table would silently get the default).
    for (const name of Object.keys(SERVICE_TABLE_PRIVILEGES)) expect(tables.map((r) => r.name)).toContain(name);
    const kinds = ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER'];
    const { rows: granted } = await t.query(
      `SELECT c.relname AS name, array_agg(k ORDER BY k) FILTER (WHERE has_table_privilege($1, c.oid, k)) AS privileges
       FROM pg_class c CROSS JOIN unnest($2::text[]) k
       WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
       GROUP BY c.relname ORDER BY 1`,
      [roles().service, kinds],
    );
    const expected = tables.map((table) => ({ name: table.name, privileges: [...privilegesOf(table)].sort() }));
    expect(granted).toEqual(expected);
    expect(granted.find((g) => g.name === 'audit_log').privileges).toEqual(['INSERT', 'SELECT']);
    await t.query(`DROP TABLE later_feature`);
  });

  it('grants from two instances starting at once, one after the other', async () => {
    await asService((db) =>
      Promise.all([
        migrateDatabase({ db, migrationUrl: t.url }, silent),
        migrateDatabase({ db, migrationUrl: t.url }, silent),
      ]),
    );
    const { rows } = await t.query(`SELECT has_table_privilege($1, 'audit_log', 'DELETE') AS d`, [roles().service]);
    expect(rows).toEqual([{ d: false }]);
  });

  it('refuses an owner connection to another database than the service one, naming both variables', async () => {
    const elsewhere = inject('pgAdminUrl');
    await expect(asService((db) => migrateDatabase({ db, migrationUrl: elsewhere }, silent))).rejects.toThrow(
      /^DATABASE_MIGRATION_URL names the database \w+ and DATABASE_URL vitalink_test_roles_\w+: both must name the database the service uses/,
    );
  });

  it('says what to do when the service role alone meets a pending migration', async () => {
    const empty = await createRoleSplitDatabase({ migrate: false });
    try {
      const run = await runCli(['migrate'], { DATABASE_URL: empty.roles!.serviceUrl, LOG_LEVEL: 'warn' });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('permission denied for schema public');
      expect(run.stderr).toContain(
        'The role of DATABASE_URL may not change the schema: set DATABASE_MIGRATION_URL to the owner role of the database',
      );
      // With the owner's connection the same command migrates and grants.
      const owner = await runCli(['migrate', '--json'], {
        DATABASE_URL: empty.roles!.serviceUrl,
        DATABASE_MIGRATION_URL: empty.url,
        LOG_LEVEL: 'warn',
      });
      expect(owner.code).toBe(0);
      expect(JSON.parse(owner.stdout)).toMatchObject({
        roles: { service: empty.roles!.service, owner: empty.roles!.owner, split: true },
      });
    } finally {
      await empty.drop();
    }
  });

  it('refuses to start without DATABASE_URL when DATABASE_MIGRATION_URL is set, naming both', () => {
    expect(() => loadConfig({ DATABASE_MIGRATION_URL: t.url })).toThrow(/DATABASE_MIGRATION_URL: .*DATABASE_URL/);
  });
});

describe('what serve logs', () => {
  it('says the roles are split, or warns that the service role owns the tables', async () => {
    const env = { MQTT_PORT: '0', HTTP_PORT: '0', LOG_LEVEL: 'info' };
    for (const [urls, expected] of [
      [
        { DATABASE_URL: roles().serviceUrl, DATABASE_MIGRATION_URL: t.url },
        { level: 'info', msg: 'database roles split', serviceRole: roles().service, ownerRole: roles().owner },
      ],
      [
        { DATABASE_URL: t.url },
        {
          level: 'warn',
          msg: 'the service role owns the tables: audit_log is append-only against mistakes only; set DATABASE_MIGRATION_URL to an owner role (README, "Database roles")',
          serviceRole: roles().owner,
          ownerRole: roles().owner,
        },
      ],
    ] as const) {
      const service = await startService({ ...env, ...urls });
      try {
        expect(service.logs.find((l) => /database roles|owns the tables/.test(String(l.msg)))).toMatchObject(expected);
      } finally {
        await service.stop();
      }
    }
  });
});
