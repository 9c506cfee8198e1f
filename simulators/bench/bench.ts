import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { MqttClient } from 'mqtt';
import pg from 'pg';
import { createScratchDatabase } from '../harness/scratch-database.ts';
import { loadToolLimits, type ServiceProcess, startService } from '../harness/service-process.ts';
import { connectClient } from '../mqtt-connect.ts';
import type { DatabaseServer, Provisioner } from '../provisioner.ts';
import { measureBareBrokerCeiling, publishClosedLoop } from './bare-broker-ceiling.ts';
import { measurePostgresCeilings } from './postgres-ceiling.ts';

/**
 * `vitalink bench`: starts `vitalink serve` as a child process on a scratch
 * database, provisions N devices (each with its patient), drives them closed loop
 * (`inflight` QoS 1 publishes outstanding per device) or open loop (a token bucket
 * pacing `rate` readings per second in total), then stops the service and checks
 * by reading the rows back that every acknowledged reading is stored exactly once.
 * The PostgreSQL and bare-broker ceilings are measured in the same run, on the same
 * machine, for the ratios. Linux only (CPU and RSS of the service from /proc).
 */

export interface BenchOptions {
  readonly devices: number;
  readonly durationS: number;
  /** Readings per MQTT message (1: a single reading object; more: `{ readings: [...] }`). */
  readonly readingsPerMessage?: number;
  /** Open loop: readings per second in total across devices. Unset: closed loop. */
  readonly rate?: number;
  /** Closed loop: QoS 1 messages outstanding per device (default 16). */
  readonly inflight?: number;
  /** Also connect this many idle devices and report the service's memory per connection. */
  readonly connectionsOnly?: number;
  /** Also run the same publishers against this broker (e.g. a Mosquitto), as a peer figure. */
  readonly mosquittoUrl?: string;
  readonly json?: boolean;
  /**
   * A PostgreSQL server where a scratch database may be created (and is dropped at
   * the end). Unset: an embedded PostgreSQL in a temporary folder.
   */
  readonly databaseUrl?: string;
  /** Duration of each ceiling configuration; default min(durationS, 5) s. */
  readonly ceilingDurationMs?: number;
  readonly ceilingConnections?: readonly number[];
  readonly ceilingBatchSizes?: readonly number[];
}

/** What the bench needs from the product, passed in by `vitalink bench` (src/cli/bench.command.ts). */
export interface BenchProduct {
  /** Migrates a fresh database to the latest schema and opens a provisioner on it. */
  openProvisioner(databaseUrl: string): Promise<Provisioner>;
  /** Starts a temporary PostgreSQL with its data in `dataDir` (used without a database URL). */
  startDatabaseServer(dataDir: string): Promise<DatabaseServer>;
}

export interface BenchIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

export interface BenchResult {
  devices: number;
  durationS: number;
  messageReadings: number;
  sent: number;
  acked: number;
  stored: number;
  lost: number;
  duplicatesStored: number;
  readingsPerSecond: number;
  ackLatencyMs: { p50: number; p95: number; p99: number; max: number };
  serviceCpuPct: number;
  serviceRssMb: number;
  ceilings: {
    postgresCopyRowsPerSecond: number;
    postgresUpsertRowsPerSecond: number;
    bareBrokerQos1MessagesPerSecond: number;
  };
  ratios: { vsPostgresUpsert: number; vsBareBroker: number };
  mosquittoMessagesPerSecond?: number;
  connectionsOnly?: { devices: number; serviceRssMb: number; rssPerConnectionKb: number };
}

const DEFAULT_INFLIGHT = 16;
const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ, 100 on every Linux the service targets
const DRAIN_TIMEOUT_MS = 15_000;
const CONNECT_CONCURRENCY = 50;

const round = (v: number, digits = 1) => Number(v.toFixed(digits));

/** Parses `vitalink bench` arguments (after the command words). */
export function parseBenchArgs(args: string[]): BenchOptions {
  const { values } = parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      devices: { type: 'string', default: '20' },
      duration: { type: 'string', default: '10' },
      'readings-per-message': { type: 'string', default: '1' },
      rate: { type: 'string' },
      inflight: { type: 'string' },
      'connections-only': { type: 'string' },
      mosquitto: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const num = (name: string, text: string | undefined) => {
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!Number.isFinite(n) || n <= 0) throw new RangeError(`--${name} must be a positive number (got "${text}")`);
    return n;
  };
  return {
    devices: num('devices', values.devices)!,
    durationS: num('duration', values.duration)!,
    readingsPerMessage: num('readings-per-message', values['readings-per-message']),
    rate: num('rate', values.rate),
    inflight: num('inflight', values.inflight),
    connectionsOnly: num('connections-only', values['connections-only']),
    mosquittoUrl: values.mosquitto,
    json: values.json,
  };
}

function checkOptions(o: BenchOptions): void {
  const int = (name: string, v: number | undefined, required: boolean) => {
    if (v === undefined && !required) return;
    if (v === undefined || !Number.isInteger(v) || v <= 0) throw new RangeError(`${name} must be a positive integer`);
  };
  int('devices', o.devices, true);
  int('readingsPerMessage', o.readingsPerMessage, false);
  int('inflight', o.inflight, false);
  int('connectionsOnly', o.connectionsOnly, false);
  if (!Number.isFinite(o.durationS) || o.durationS <= 0) throw new RangeError('durationS must be a positive number');
  if (o.rate !== undefined && (!Number.isFinite(o.rate) || o.rate <= 0)) {
    throw new RangeError('rate must be a positive number');
  }
}

// ---------------------------------------------------------------- the service process

/** `vitalink serve` on the bench's database, plain MQTT only, its logs read but not kept. */
function startBenchService(databaseUrl: string, dataDir: string): Promise<ServiceProcess> {
  return startService(
    {
      DATABASE_URL: databaseUrl,
      VITALINK_DATA_DIR: dataDir,
      HOST: '127.0.0.1',
      MQTT_TLS_PORT: undefined,
      TLS_CERT_FILE: undefined,
      TLS_KEY_FILE: undefined,
      MQTT_WS_PORT: undefined,
      ...loadToolLimits(),
    },
    { keepLogs: false },
  );
}

/** CPU time (user + system) of a process in seconds, from /proc/<pid>/stat. */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND; // utime, stime (fields 14, 15)
}

/** Resident set size of a process in MB, from /proc/<pid>/status. */
async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!m) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(m[1]) / 1024;
}

/** Samples the peak RSS of a process until stopped. */
function sampleRss(pid: number, everyMs = 200): { stop(): Promise<number> } {
  let peak = 0;
  let pending: Promise<void> = Promise.resolve();
  const sample = () => {
    pending = rssMb(pid).then(
      (mb) => {
        peak = Math.max(peak, mb);
      },
      () => {},
    );
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    async stop() {
      clearInterval(timer);
      await pending;
      sample();
      await pending;
      return peak;
    },
  };
}

// ---------------------------------------------------------------- MQTT clients

const connect = connectClient;

export async function connectAll(
  url: string,
  credentials: readonly { id: string; secret: string }[],
): Promise<MqttClient[]> {
  const clients: MqttClient[] = [];
  try {
    for (let i = 0; i < credentials.length; i += CONNECT_CONCURRENCY) {
      const slice = credentials.slice(i, i + CONNECT_CONCURRENCY);
      const settled = await Promise.allSettled(
        slice.map((c) => connect(url, { clientId: c.id, username: c.id, password: c.secret })),
      );
      for (const s of settled) if (s.status === 'fulfilled') clients.push(s.value);
      const refused = settled.find((s) => s.status === 'rejected');
      if (refused) throw (refused as PromiseRejectedResult).reason;
    }
    return clients;
  } catch (error) {
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => {})));
    throw error;
  }
}

// ---------------------------------------------------------------- the drive

export interface DriveResult {
  sent: number;
  acked: number;
  ackedInWindow: number;
  messagesAckedInWindow: number;
  windowMs: number;
  latencies: number[];
  /** Acked reading ids, per device index. */
  ackedIds: Set<string>[];
  cpuPct: number;
  rssMb: number;
}

function readingPayload(ids: string[], at: number): Buffer {
  const readings = ids.map((id) => ({ id, type: 'heart_rate', at, value: 72, unit: '/min' }));
  return Buffer.from(JSON.stringify(readings.length === 1 ? readings[0] : { readings }));
}

export async function drive(
  clients: MqttClient[],
  deviceIds: string[],
  o: { durationMs: number; perMessage: number; inflight: number; rate?: number; pid: number },
): Promise<DriveResult> {
  const { durationMs, perMessage, inflight, rate, pid } = o;
  const ackedIds = deviceIds.map(() => new Set<string>());
  const counters = deviceIds.map(() => 0);
  const latencies: number[] = [];
  let sent = 0;
  let acked = 0;
  let ackedInWindow = 0;
  let messagesAckedInWindow = 0;
  let outstanding = 0;
  let counting = true;
  let stopped = false;
  let failure: Error | undefined;
  let drained: (() => void) | undefined;
  const fail = (error: Error) => {
    failure ??= error;
    stopped = true;
    drained?.();
  };

  const publish = (device: number, then?: () => void) => {
    const ids = Array.from({ length: perMessage }, () => `r${device}-${++counters[device]}`);
    const payload = readingPayload(ids, Date.now());
    sent += perMessage;
    outstanding++;
    const t0 = performance.now();
    clients[device].publish(`v1/devices/${deviceIds[device]}/readings`, payload, { qos: 1 }, (error) => {
      outstanding--;
      if (error) return fail(error);
      latencies.push(performance.now() - t0);
      acked += perMessage;
      for (const id of ids) ackedIds[device].add(id);
      if (counting) {
        ackedInWindow += perMessage;
        messagesAckedInWindow++;
      }
      if (stopped) {
        if (outstanding === 0) drained?.();
        return;
      }
      then?.();
    });
  };

  clients.forEach((client, i) => {
    client.on('error', fail);
    client.on('close', () => {
      if (!stopped) fail(new Error(`device ${deviceIds[i]} was disconnected during the run`));
    });
  });

  const cpuStart = await cpuSeconds(pid);
  const rss = sampleRss(pid);
  const start = performance.now();
  let pacer: NodeJS.Timeout | undefined;
  if (rate === undefined) {
    // Closed loop: a new publish on each PUBACK, `inflight` outstanding per device.
    const loop = (device: number) => () => publish(device, loop(device));
    clients.forEach((_, device) => {
      for (let k = 0; k < inflight; k++) publish(device, loop(device));
    });
  } else {
    // Open loop: a token bucket of messages, refilled at rate / perMessage per second,
    // spent round-robin across devices whatever the PUBACKs do.
    const messagesPerMs = rate / perMessage / 1000;
    let tokens = 1;
    let last = start;
    let next = 0;
    pacer = setInterval(() => {
      const now = performance.now();
      tokens = Math.min(tokens + (now - last) * messagesPerMs, Math.max(1, messagesPerMs * 100));
      last = now;
      while (tokens >= 1 && !stopped) {
        tokens -= 1;
        publish(next);
        next = (next + 1) % clients.length;
      }
    }, 2);
  }

  await new Promise((resolve) => setTimeout(resolve, durationMs));
  const windowMs = performance.now() - start;
  counting = false;
  stopped = true;
  if (pacer) clearInterval(pacer);
  if (failure) {
    await rss.stop();
    throw failure;
  }
  if (outstanding > 0) {
    await new Promise<void>((resolve) => {
      drained = resolve;
      setTimeout(resolve, DRAIN_TIMEOUT_MS).unref();
    });
  }
  const cpuEnd = await cpuSeconds(pid);
  const peakRss = await rss.stop();
  if (failure) throw failure;
  return {
    sent,
    acked,
    ackedInWindow,
    messagesAckedInWindow,
    windowMs,
    latencies,
    ackedIds,
    cpuPct: ((cpuEnd - cpuStart) / (windowMs / 1000)) * 100,
    rssMb: peakRss,
  };
}

function percentiles(values: number[]): BenchResult['ackLatencyMs'] {
  if (values.length === 0) return { p50: 0, p95: 0, p99: 0, max: 0 };
  const sorted = Float64Array.from(values).sort();
  const at = (p: number) => round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))], 2);
  return { p50: at(50), p95: at(95), p99: at(99), max: round(sorted[sorted.length - 1], 2) };
}

// ---------------------------------------------------------------- the bench

export async function runBench(options: BenchOptions, io: BenchIo, product: BenchProduct): Promise<BenchResult> {
  checkOptions(options);
  const perMessage = options.readingsPerMessage ?? 1;
  const inflight = options.inflight ?? DEFAULT_INFLIGHT;
  const durationMs = options.durationS * 1000;
  const ceilingMs = options.ceilingDurationMs ?? Math.min(options.durationS, 5) * 1000;
  const run = randomBytes(3).toString('hex');
  const cleanups: (() => Promise<void>)[] = [];
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'vitalink-bench-'));
  cleanups.push(() => rm(tmp, { recursive: true, force: true }));
  // As root, the embedded PostgreSQL runs as the postgres user, which must pass through this folder.
  await chmod(tmp, 0o711);

  try {
    // The database: a scratch one on the given server, or an embedded server of its own.
    let url: string;
    if (options.databaseUrl) {
      const scratch = await createScratchDatabase(options.databaseUrl, {
        prefix: 'vitalink_bench',
        name: `vitalink_bench_${run}_${randomBytes(3).toString('hex')}`,
      });
      cleanups.push(() => scratch.drop());
      url = scratch.url;
      io.err(`bench: scratch database ${scratch.name}`);
    } else {
      io.err('bench: starting an embedded PostgreSQL');
      const server = await product.startDatabaseServer(path.join(tmp, 'data'));
      cleanups.push(() => server.stop());
      url = server.url;
    }

    // Devices, each with its patient, assigned from a day ago.
    const idle = options.connectionsOnly ?? 0;
    io.err(`bench: provisioning ${options.devices + idle} devices`);
    const provisioner = await product.openProvisioner(url);
    const devices: { id: string; secret: string }[] = [];
    const idleDevices: { id: string; secret: string }[] = [];
    try {
      const from = new Date(Date.now() - 86_400_000);
      const provision = async (prefix: string, count: number, into: { id: string; secret: string }[]) => {
        for (let i = 0; i < count; i++) {
          const id = `bench-${run}-${prefix}${i}`;
          await provisioner.addPatient({ id: `${id}-p` });
          into.push({ id, secret: (await provisioner.addDevice({ id, patientId: `${id}-p` }, from)).secret });
        }
      };
      await provision('d', options.devices, devices);
      await provision('idle', idle, idleDevices);
    } finally {
      await provisioner.close();
    }

    const service = await startBenchService(url, path.join(tmp, 'service'));
    const pid = service.child.pid!;
    cleanups.push(async () => {
      await service.stop();
    });
    const brokerUrl = `mqtt://127.0.0.1:${service.ports.mqtt}`;

    let connectionsOnly: BenchResult['connectionsOnly'];
    if (idle > 0) {
      io.err(`bench: connecting ${idle} idle devices`);
      await new Promise((r) => setTimeout(r, 500));
      const before = await rssMb(pid);
      const idleClients = await connectAll(brokerUrl, idleDevices);
      await new Promise((r) => setTimeout(r, 1000));
      const after = await rssMb(pid);
      await Promise.all(idleClients.map((c) => c.endAsync().catch(() => {})));
      connectionsOnly = {
        devices: idle,
        serviceRssMb: round(after),
        rssPerConnectionKb: round(((after - before) * 1024) / idle),
      };
    }

    io.err(
      `bench: driving ${options.devices} devices for ${options.durationS} s, ` +
        (options.rate === undefined
          ? `closed loop, ${inflight} in flight each`
          : `open loop, ${options.rate} readings/s`),
    );
    const clients = await connectAll(brokerUrl, devices);
    let driven: DriveResult;
    try {
      driven = await drive(
        clients,
        devices.map((d) => d.id),
        { durationMs, perMessage, inflight, rate: options.rate, pid },
      );
    } finally {
      await Promise.all(clients.map((c) => c.endAsync().catch(() => {})));
    }
    const code = await service.stop();
    if (code !== 0) io.err(`bench: the service exited with code ${code}; stderr: ${service.stderrTail()}`);

    // Verification: every acked reading stored, and no (device, reading id) stored twice.
    let stored = 0;
    let lost = 0;
    let duplicatesStored = 0;
    const check = new pg.Client({ connectionString: url });
    await check.connect();
    try {
      // One pass over the readings (no index leads from a device to its readings).
      const { rows } = await check.query<{ device_id: string; reading_id: string; n: number }>(
        'SELECT device_id, reading_id, count(*)::int AS n FROM readings GROUP BY device_id, reading_id',
      );
      const present = new Map<string, Set<string>>(devices.map((d) => [d.id, new Set<string>()]));
      for (const row of rows) {
        stored += row.n;
        duplicatesStored += row.n - 1;
        present.get(row.device_id)?.add(row.reading_id);
      }
      for (let i = 0; i < devices.length; i++) {
        const ids = present.get(devices[i].id)!;
        for (const id of driven.ackedIds[i]) if (!ids.has(id)) lost++;
      }
    } finally {
      await check.end();
    }

    // Ceilings, on the same machine and database server.
    io.err(`bench: measuring the PostgreSQL ceilings (${ceilingMs} ms per configuration)`);
    const pgCeilings = await measurePostgresCeilings({
      databaseUrl: url,
      durationMs: ceilingMs,
      connections: options.ceilingConnections ?? [1, 2, 4],
      batchSizes: options.ceilingBatchSizes ?? [1000, 5000],
    });
    const samplePayload = readingPayload(
      Array.from({ length: perMessage }, (_, k) => `r0-${1_000_000 + k}`),
      Date.now(),
    );
    io.err('bench: measuring the bare broker ceiling');
    const bare = await measureBareBrokerCeiling({
      publishers: options.devices,
      durationMs: ceilingMs,
      inflight,
      payloadBytes: samplePayload.length,
    });
    let mosquittoMessagesPerSecond: number | undefined;
    if (options.mosquittoUrl) {
      io.err(`bench: the same publishers against ${options.mosquittoUrl}`);
      const peer = await publishClosedLoop({
        url: options.mosquittoUrl,
        publishers: options.devices,
        durationMs: ceilingMs,
        inflight,
        payloadBytes: samplePayload.length,
        topic: (i) => `vitalink-bench/${run}/${i}`,
        payload: () => samplePayload,
      });
      mosquittoMessagesPerSecond = round(peer.messagesPerSecond);
    }

    const windowS = driven.windowMs / 1000;
    const readingsPerSecond = driven.ackedInWindow / windowS;
    const messagesPerSecond = driven.messagesAckedInWindow / windowS;
    const result: BenchResult = {
      devices: options.devices,
      durationS: round(windowS, 2),
      messageReadings: perMessage,
      sent: driven.sent,
      acked: driven.acked,
      stored,
      lost,
      duplicatesStored,
      readingsPerSecond: round(readingsPerSecond),
      ackLatencyMs: percentiles(driven.latencies),
      serviceCpuPct: round(driven.cpuPct),
      serviceRssMb: round(driven.rssMb),
      ceilings: {
        postgresCopyRowsPerSecond: round(pgCeilings.copyRowsPerSecond),
        postgresUpsertRowsPerSecond: round(pgCeilings.upsertRowsPerSecond),
        bareBrokerQos1MessagesPerSecond: round(bare.messagesPerSecond),
      },
      ratios: {
        vsPostgresUpsert: round(readingsPerSecond / pgCeilings.upsertRowsPerSecond, 3),
        vsBareBroker: round(messagesPerSecond / bare.messagesPerSecond, 3),
      },
      ...(mosquittoMessagesPerSecond !== undefined ? { mosquittoMessagesPerSecond } : {}),
      ...(connectionsOnly ? { connectionsOnly } : {}),
    };
    for (const line of formatTable(result, options)) io.out(line);
    if (options.json) io.out(JSON.stringify(result));
    return result;
  } finally {
    for (const cleanup of cleanups.reverse()) {
      await cleanup().catch((error: unknown) => io.err(`bench: cleanup failed: ${(error as Error).message}`));
    }
  }
}

function formatTable(r: BenchResult, o: BenchOptions): string[] {
  const n = (v: number) => v.toLocaleString('en-US', { maximumFractionDigits: 3 });
  const rows: [string, string][] = [
    ['devices', n(r.devices)],
    [
      'mode',
      o.rate === undefined
        ? `closed loop, ${o.inflight ?? DEFAULT_INFLIGHT} in flight per device`
        : `open loop, ${n(o.rate)} readings/s`,
    ],
    ['duration', `${r.durationS} s`],
    ['readings per message', n(r.messageReadings)],
    ['readings sent', n(r.sent)],
    ['readings acked', n(r.acked)],
    ['rows stored', n(r.stored)],
    ['acked but lost', n(r.lost)],
    ['duplicates stored', n(r.duplicatesStored)],
    ['readings/s (acked)', n(r.readingsPerSecond)],
    [
      'ack latency ms',
      `p50 ${r.ackLatencyMs.p50}  p95 ${r.ackLatencyMs.p95}  p99 ${r.ackLatencyMs.p99}  max ${r.ackLatencyMs.max}`,
    ],
    ['service CPU', `${r.serviceCpuPct} % of a core`],
    ['service RSS (peak)', `${r.serviceRssMb} MB`],
    ['PostgreSQL COPY rows/s', n(r.ceilings.postgresCopyRowsPerSecond)],
    ['PostgreSQL upsert rows/s', n(r.ceilings.postgresUpsertRowsPerSecond)],
    ['bare broker QoS 1 msgs/s', n(r.ceilings.bareBrokerQos1MessagesPerSecond)],
    ['vs PostgreSQL upsert', n(r.ratios.vsPostgresUpsert)],
    ['vs bare broker', n(r.ratios.vsBareBroker)],
  ];
  if (r.mosquittoMessagesPerSecond !== undefined) rows.push(['peer broker msgs/s', n(r.mosquittoMessagesPerSecond)]);
  if (r.connectionsOnly) {
    rows.push(
      ['idle connections', n(r.connectionsOnly.devices)],
      ['RSS with them', `${r.connectionsOnly.serviceRssMb} MB`],
      ['RSS per connection', `${r.connectionsOnly.rssPerConnectionKb} KB`],
    );
  }
  const width = Math.max(...rows.map(([k]) => k.length));
  return [
    `vitalink bench${r.lost > 0 || r.duplicatesStored > 0 ? ' — VERIFICATION FAILED' : ''}`,
    ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`),
  ];
}
