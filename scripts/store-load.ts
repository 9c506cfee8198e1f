/**
 * The store alone, without MQTT: writes batches of decoded readings through the
 * service's own writeBatch, `--writers` at once, for `--duration` seconds, and prints
 * rows/s, the mean commit time, and the CPU time per stored row of this process (decoding
 * and the store's Node side) and of the PostgreSQL backends of its connections (when the
 * server runs on this machine; from /proc). Separates the database's share of a bench
 * figure from the broker's; CPU per row varies less than rows/s on a shared machine.
 * Also the WAL written per stored row (records, full-page images, bytes, from
 * pg_stat_wal): machine-independent, but the server's total, so exact only on a
 * server nothing else writes to (a cluster of your own).
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
 *     node scripts/store-load.ts --batch 120 --writers 2 --duration 5
 *
 * `--drop-index NAME` (repeatable) drops an index after migrating: what it costs the write path.
 */
import { resolveKeyRing } from '../src/actions/secret-keys.ts';
import { readSecretKeys } from '../src/config.ts';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import pg from 'pg';
import { createScratchDatabase } from '../simulators/harness/scratch-database.ts';
import { addDevice, addPatient } from '../src/actions/provisioning.ts';
import { decodeMessage } from '../src/ingest/decode.ts';
import { createLogger } from '../src/logger.ts';
import { type MessageToStore, writeBatch } from '../src/store/reading-sink.ts';
import { createDatabase } from '../src/store/database.ts';
import { migrateToLatest } from '../src/store/migrations.ts';
import { Partitions } from '../src/store/partitions.ts';
import { CpuMeter } from './scale-bench/process-cpu.ts';

const { values } = parseArgs({
  options: {
    devices: { type: 'string', default: '20' },
    batch: { type: 'string', default: '120' },
    'per-message': { type: 'string', default: '1' },
    writers: { type: 'string', default: '2' },
    duration: { type: 'string', default: '5' },
    // What an index costs the write path: drop it (on the partitioned table) after migrating.
    'drop-index': { type: 'string', multiple: true, default: [] },
  },
});
const devices = Number(values.devices);
const batchRows = Number(values.batch);
const perMessage = Number(values['per-message']);
const writers = Number(values.writers);
const durationMs = Number(values.duration) * 1000;
const base = process.env.DATABASE_URL;
if (!base) {
  process.stderr.write('store-load: set DATABASE_URL to a PostgreSQL server where a database may be created\n');
  process.exit(2);
}

const scratch = await createScratchDatabase(base, { prefix: 'vitalink_store' });
const dbName = scratch.name;
const admin = new pg.Client({ connectionString: base });
await admin.connect();
if (process.env.STORE_LOAD_EXPLAIN) {
  // Plans of slow statements go to the server's log (auto_explain).
  await admin.query(`ALTER DATABASE ${dbName} SET session_preload_libraries = 'auto_explain'`);
  await admin.query(`ALTER DATABASE ${dbName} SET auto_explain.log_min_duration = 30`);
  await admin.query(`ALTER DATABASE ${dbName} SET auto_explain.log_analyze = on`);
  await admin.query(`ALTER DATABASE ${dbName} SET auto_explain.log_buffers = on`);
}
if (process.env.STORE_LOAD_LOG_DURATIONS) {
  // Every statement's server-side duration goes to the server's log.
  await admin.query(`ALTER DATABASE ${dbName} SET log_min_duration_statement = 0`);
}
await admin.end();
const log = createLogger('warn', process.stderr);
const { db } = createDatabase(scratch.url, writers + 1, log);
try {
  await migrateToLatest(db, log);
  for (const index of values['drop-index']) await sql`DROP INDEX ${sql.id(index)}`.execute(db);
  const keys = await resolveKeyRing(db, readSecretKeys(process.env).keys);
  for (let i = 0; i < devices; i++) {
    await addPatient(db, { id: `p${i}` });
    await addDevice(db, keys, { id: `d${i}`, patientId: `p${i}` }, new Date(Date.now() - 86_400_000));
  }
  const partitions = new Partitions(db);
  const counters = new Array<number>(devices).fill(0);
  const nextBatch = (): MessageToStore[] => {
    const messages: MessageToStore[] = [];
    const now = Date.now();
    for (let m = 0; m < batchRows / perMessage; m++) {
      const d = m % devices;
      const readings = Array.from({ length: perMessage }, () => ({
        id: `r${++counters[d]}`,
        type: 'heart_rate',
        at: now,
        value: 70,
        unit: '/min',
      }));
      const payload = Buffer.from(JSON.stringify(perMessage === 1 ? readings[0] : { readings }));
      const decoded = decodeMessage(payload, { now, maxAgeMs: 90 * 86_400_000, maxFutureMs: 300_000 });
      messages.push({
        deviceId: `d${d}`,
        receivedAt: now,
        ...decoded,
      });
    }
    return messages;
  };
  // Every connection of the pool open, so that their backends are sampled from the start.
  await Promise.all(Array.from({ length: writers }, () => writeBatch(db, partitions, nextBatch())));
  const backends = async () =>
    (
      await sql<{ pid: number }>`SELECT pid FROM pg_stat_activity WHERE datname = current_database()`.execute(db)
    ).rows.map((r) => r.pid);
  const walStats = async () =>
    (
      await sql<{ records: string; fpi: string; bytes: string }>`
        SELECT wal_records AS records, wal_fpi AS fpi, wal_bytes AS bytes FROM pg_stat_wal`.execute(db)
    ).rows[0];
  const walBefore = await walStats();
  const dbCpu = new CpuMeter();
  dbCpu.sample(await backends());
  const nodeCpu = process.cpuUsage();
  let rows = 0;
  let commits = 0;
  let commitMs = 0;
  const deadline = performance.now() + durationMs;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async () => {
      while (performance.now() < deadline) {
        const batch = nextBatch();
        const t0 = performance.now();
        const outcomes = await writeBatch(db, partitions, batch);
        commitMs += performance.now() - t0;
        commits++;
        for (const o of outcomes) rows += o.stored;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const { user, system } = process.cpuUsage(nodeCpu);
  dbCpu.sample(await backends());
  const walAfter = await walStats();
  const walPerRow = (k: 'records' | 'fpi' | 'bytes') =>
    Number(((Number(walAfter[k]) - Number(walBefore[k])) / rows).toFixed(2));
  process.stdout.write(
    `${JSON.stringify({
      batchRows,
      perMessage,
      writers,
      rowsPerSecond: Math.round(rows / seconds),
      commits,
      meanCommitMs: Number((commitMs / commits).toFixed(2)),
      nodeCpuUsPerRow: Number(((user + system) / rows).toFixed(2)),
      dbCpuUsPerRow: dbCpu.processes > 0 ? Number(((dbCpu.seconds() * 1e6) / rows).toFixed(2)) : null,
      walRecordsPerRow: walPerRow('records'),
      walFpiPerRow: walPerRow('fpi'),
      walBytesPerRow: walPerRow('bytes'),
      loadAverage: Number(loadavg()[0].toFixed(2)),
    })}\n`,
  );
} finally {
  await db.destroy();
  await scratch.drop();
}
