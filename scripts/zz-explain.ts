import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { Aggregator } from '../src/aggregation/aggregator.ts';
import { createLogger } from '../src/logger.ts';
import '../src/store/database.ts';
const url = process.argv[2];
const pool = new pg.Pool({ connectionString: url, max: 1 });
const db = new Kysely<any>({ dialect: new PostgresDialect({ pool }) });
await sql`INSERT INTO aggregation_dirty (patient_id, type, day) SELECT id, 'cgm_glucose', (now() AT TIME ZONE 'Europe/Paris')::date FROM patients ON CONFLICT DO NOTHING`.execute(db);
const client = await pool.connect();
await client.query(`LOAD 'auto_explain'`);
await client.query(`SET auto_explain.log_min_duration = 0`);
await client.query(`SET auto_explain.log_analyze = on`);
await client.query(`SET auto_explain.log_buffers = on`);
await client.query(`SET auto_explain.log_format = 'json'`);
client.release();
const job = new Aggregator({ db: db as any, log: createLogger('silent'), intervalMs: 1000, batchSize: 200, refreshEveryMs: 3600000, now: Date.now });
for (;;) { const r = await job.runOnce(); if (r.patients === 0) break; }
await db.destroy();
