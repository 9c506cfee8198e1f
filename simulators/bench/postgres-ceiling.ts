import { randomBytes } from 'node:crypto';
import { finished } from 'node:stream/promises';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

/**
 * The write ceiling of a plain PostgreSQL client on this machine, for `vitalink bench`:
 * how many readings-shaped rows per second COPY and a batched
 * `INSERT ... SELECT FROM unnest(...) ON CONFLICT DO NOTHING` reach, with 1, 2 or 4
 * connections and batches of 1000 or 5000 rows.
 *
 * The scratch table has the columns and types of `readings` but is a plain table
 * (not partitioned, logged) with one unique index on (device_id, reading_id): what a
 * naive design would write to, and what ON CONFLICT needs. It has no other index and
 * no reading_keys companion, so the figures are an upper bound for the service, not
 * a like-for-like comparison. It gets a unique name and is dropped at the end, even
 * after a failure.
 */

export type PostgresCeilingKind = 'copy' | 'upsert';

export interface PostgresCeilingOptions {
  readonly databaseUrl: string;
  /** How long each (kind, connections, batch size) configuration runs. */
  readonly durationMs: number;
  readonly connections?: readonly number[];
  readonly batchSizes?: readonly number[];
  /** Called after each run, before the table is truncated for the next one. */
  readonly onRun?: (run: PostgresCeilingRun, table: string) => void | Promise<void>;
}

export interface PostgresCeilingRun {
  readonly kind: PostgresCeilingKind;
  readonly connections: number;
  readonly batchSize: number;
  /** Rows the server reported written (COPY row count, INSERT row count). */
  readonly rows: number;
  readonly batches: number;
  readonly elapsedMs: number;
  readonly rowsPerSecond: number;
}

export interface PostgresCeilings {
  /** Best COPY figure over all configurations. */
  readonly copyRowsPerSecond: number;
  /** Best batched INSERT ... ON CONFLICT DO NOTHING figure over all configurations. */
  readonly upsertRowsPerSecond: number;
  readonly runs: readonly PostgresCeilingRun[];
  /** The scratch table used (already dropped). */
  readonly table: string;
}

const COLUMNS = [
  'patient_id',
  'device_id',
  'reading_id',
  'type',
  'loinc',
  'unit',
  'value',
  'systolic',
  'diastolic',
  'pulse',
  'sent_unit',
  'sent_value',
  'sent_systolic',
  'sent_diastolic',
  'context',
  'measured_at',
  'received_at',
] as const;

/** Keys spread over this many devices (and as many patients), as a fleet would. */
const DEVICES = 1000;
const DEVICE_DIGITS = 4;
const SEQUENCE_DIGITS = 12;
const PATIENT_PREFIX = 'bench-pat-';
const DEVICE_PREFIX = 'bench-dev-';
const READING_PREFIX = 'r-';
const MEASURED_AT = '2026-11-22T09:00:00Z';
const RECEIVED_AT = '2026-11-22T09:00:01Z';

/** The columns after the three keys, as one COPY text-format tail (a heart-rate reading). */
const COPY_TAIL = [
  'heart_rate',
  '8867-4',
  '/min',
  '72',
  '\\N',
  '\\N',
  '\\N',
  '/min',
  '72',
  '\\N',
  '\\N',
  '\\N',
  MEASURED_AT,
  RECEIVED_AT,
].join('\t');

function createTableSql(table: string): string {
  return `
    CREATE TABLE ${table} (
      patient_id text NOT NULL,
      device_id text NOT NULL,
      reading_id text NOT NULL,
      type text NOT NULL,
      loinc text NOT NULL,
      unit text NOT NULL,
      value double precision,
      systolic double precision,
      diastolic double precision,
      pulse double precision,
      sent_unit text NOT NULL,
      sent_value double precision,
      sent_systolic double precision,
      sent_diastolic double precision,
      context text,
      measured_at timestamptz NOT NULL,
      received_at timestamptz NOT NULL
    );
    CREATE UNIQUE INDEX ${table}_device_reading ON ${table} (device_id, reading_id);`;
}

function upsertSql(table: string): string {
  const types = [
    'text',
    'text',
    'text',
    'text',
    'text',
    'text',
    'float8',
    'float8',
    'float8',
    'float8',
    'text',
    'float8',
    'float8',
    'float8',
    'text',
    'timestamptz',
    'timestamptz',
  ];
  const params = types.map((t, i) => `$${i + 1}::${t}[]`).join(', ');
  return (
    `INSERT INTO ${table} (${COLUMNS.join(', ')}) SELECT * FROM unnest(${params}) ` +
    `ON CONFLICT (device_id, reading_id) DO NOTHING`
  );
}

/** Writes `value` as `width` zero-padded ASCII digits at `offset`. */
function writeDigits(buf: Buffer, offset: number, value: number, width: number): void {
  for (let i = offset + width - 1; i >= offset; i--) {
    buf[i] = 48 + (value % 10);
    value = Math.floor(value / 10);
  }
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

/**
 * A COPY text-format batch of fixed-width rows, built once; each batch only patches
 * the digits of its keys in place. One per worker: a buffer is patched again only
 * after the COPY that sent it has completed.
 */
class CopyBatch {
  readonly buffer: Buffer;
  readonly #rowLength: number;
  readonly #patientAt: number;
  readonly #deviceAt: number;
  readonly #readingAt: number;
  readonly size: number;

  constructor(size: number) {
    this.size = size;
    const row =
      `${PATIENT_PREFIX}${pad(0, DEVICE_DIGITS)}\t${DEVICE_PREFIX}${pad(0, DEVICE_DIGITS)}\t` +
      `${READING_PREFIX}${pad(0, SEQUENCE_DIGITS)}\t${COPY_TAIL}\n`;
    this.#rowLength = Buffer.byteLength(row);
    this.#patientAt = PATIENT_PREFIX.length;
    this.#deviceAt = this.#patientAt + DEVICE_DIGITS + 1 + DEVICE_PREFIX.length;
    this.#readingAt = this.#deviceAt + DEVICE_DIGITS + 1 + READING_PREFIX.length;
    this.buffer = Buffer.from(row.repeat(size));
  }

  /** Rows with keys first, first + 1, ... */
  fill(first: number): Buffer {
    for (let i = 0; i < this.size; i++) {
      const at = i * this.#rowLength;
      const seq = first + i;
      const device = seq % DEVICES;
      writeDigits(this.buffer, at + this.#patientAt, device, DEVICE_DIGITS);
      writeDigits(this.buffer, at + this.#deviceAt, device, DEVICE_DIGITS);
      writeDigits(this.buffer, at + this.#readingAt, seq, SEQUENCE_DIGITS);
    }
    return this.buffer;
  }
}

/**
 * The 17 array parameters of the upsert as PostgreSQL array literals: the constant
 * columns built once per batch size, the three key columns per batch (no quoting is
 * needed: no value holds a comma, quote, brace, backslash or space).
 */
class UpsertBatch {
  readonly #constant: string[];
  readonly size: number;

  constructor(size: number) {
    this.size = size;
    const repeat = (v: string) => `{${new Array<string>(size).fill(v).join(',')}}`;
    this.#constant = [
      repeat('heart_rate'),
      repeat('8867-4'),
      repeat('/min'),
      repeat('72'),
      repeat('NULL'),
      repeat('NULL'),
      repeat('NULL'),
      repeat('/min'),
      repeat('72'),
      repeat('NULL'),
      repeat('NULL'),
      repeat('NULL'),
      repeat(MEASURED_AT),
      repeat(RECEIVED_AT),
    ];
  }

  params(first: number): string[] {
    const patients = new Array<string>(this.size);
    const devices = new Array<string>(this.size);
    const readings = new Array<string>(this.size);
    for (let i = 0; i < this.size; i++) {
      const seq = first + i;
      const device = pad(seq % DEVICES, DEVICE_DIGITS);
      patients[i] = PATIENT_PREFIX + device;
      devices[i] = DEVICE_PREFIX + device;
      readings[i] = READING_PREFIX + pad(seq, SEQUENCE_DIGITS);
    }
    return [`{${patients.join(',')}}`, `{${devices.join(',')}}`, `{${readings.join(',')}}`, ...this.#constant];
  }
}

function checkPositiveIntegers(name: string, values: readonly number[]): void {
  if (values.length === 0 || values.some((v) => !Number.isInteger(v) || v <= 0)) {
    throw new RangeError(`${name} must be a non-empty list of positive integers`);
  }
}

async function connect(databaseUrl: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'vitalink-bench' });
  await client.connect();
  return client;
}

export async function measurePostgresCeilings(options: PostgresCeilingOptions): Promise<PostgresCeilings> {
  const { databaseUrl, durationMs, onRun } = options;
  const connectionCounts = options.connections ?? [1, 2, 4];
  const batchSizes = options.batchSizes ?? [1000, 5000];
  if (!(durationMs > 0) || !Number.isFinite(durationMs)) throw new RangeError('durationMs must be a positive number');
  checkPositiveIntegers('connections', connectionCounts);
  checkPositiveIntegers('batchSizes', batchSizes);

  const table = `bench_readings_${randomBytes(6).toString('hex')}`;
  const upsert = upsertSql(table);
  const copy = `COPY ${table} (${COLUMNS.join(', ')}) FROM STDIN`;
  const admin = await connect(databaseUrl);
  const workers: pg.Client[] = [];
  const runs: PostgresCeilingRun[] = [];
  // Keys never repeat within a measurement, so every upserted row is a fresh one.
  let nextKey = 0;

  try {
    await admin.query(createTableSql(table));
    for (let i = 0; i < Math.max(...connectionCounts); i++) workers.push(await connect(databaseUrl));

    for (const batchSize of batchSizes) {
      const copyBatches = workers.map(() => new CopyBatch(batchSize));
      const upsertBatch = new UpsertBatch(batchSize);

      for (const connections of connectionCounts) {
        for (const kind of ['copy', 'upsert'] as const) {
          await admin.query(`TRUNCATE ${table}`);
          const writeBatch = async (worker: number): Promise<number> => {
            const first = nextKey;
            nextKey += batchSize;
            const client = workers[worker];
            if (kind === 'copy') {
              const stream = client.query(copyFrom(copy));
              stream.end(copyBatches[worker].fill(first));
              await finished(stream);
              return stream.rowCount;
            }
            const result = await client.query({
              name: `bench_upsert_${batchSize}`,
              text: upsert,
              values: upsertBatch.params(first),
            });
            return result.rowCount ?? 0;
          };

          let rows = 0;
          let batches = 0;
          let failed = false;
          const start = performance.now();
          const deadline = start + durationMs;
          const settled = await Promise.allSettled(
            Array.from({ length: connections }, async (_, worker) => {
              try {
                while (!failed && performance.now() < deadline) {
                  // Not `rows += await ...`: that reads `rows` before the await and loses other workers' rows.
                  const written = await writeBatch(worker);
                  rows += written;
                  batches++;
                }
              } catch (error) {
                failed = true;
                throw error;
              }
            }),
          );
          const elapsedMs = performance.now() - start;
          const rejected = settled.find((s) => s.status === 'rejected');
          if (rejected) throw (rejected as PromiseRejectedResult).reason;

          const run: PostgresCeilingRun = {
            kind,
            connections,
            batchSize,
            rows,
            batches,
            elapsedMs,
            rowsPerSecond: rows / (elapsedMs / 1000),
          };
          runs.push(run);
          await onRun?.(run, table);
        }
      }
    }
  } finally {
    // A client that failed mid-COPY may be unusable: end them all, then drop from admin.
    await Promise.all(workers.map((w) => w.end().catch(() => {})));
    try {
      await admin.query(`DROP TABLE IF EXISTS ${table}`);
    } finally {
      await admin.end().catch(() => {});
    }
  }

  const best = (kind: PostgresCeilingKind) =>
    Math.max(...runs.filter((r) => r.kind === kind).map((r) => r.rowsPerSecond));
  return { copyRowsPerSecond: best('copy'), upsertRowsPerSecond: best('upsert'), runs, table };
}
