/**
 * `vitalink simulate`: a fleet of simulated devices (the personas' patients) against
 * a running service's MQTT broker. Devices are provisioned directly in the
 * service's database through the Provisioner the caller passes in (the CLI builds
 * it from the product's actions), then each one is a real MQTT client (see device.ts).
 *
 * Time modes:
 * - backfill (`--days D`, the default with D = 14): the last D days of history,
 *   [now − D days, now), uploaded as a device syncing its memory would, in messages
 *   of at most 1000 readings: the latest batch first, then the rest oldest first.
 *   Latest first, so that the service never sees a type whose newest reading is
 *   days old while the backlog drains: oldest first would open a (true, but for a
 *   patient monitored throughout, spurious) `no_data` alert mid-upload.
 * - live (`--speed X --duration S`): for S seconds of wall time the simulated clock
 *   runs X times faster. The service rejects readings more than 5 minutes in the
 *   future, so the simulated window ends at the start of the run: it is
 *   [start − S·X, start), and at wall time start + t the devices publish the
 *   readings measured up to start − (S − t)·X, every tick. With X = 1 that is real
 *   time, S seconds behind. S·X must stay under the service's maximum age (90 days).
 *
 * Faults (`--fault-*` RATE, 0..1) are injected as faults.ts describes; the summary
 * lists exactly what was injected and what the service must therefore have
 * recorded (`expected`).
 */
import { type ProgressFigures, progressLine, progressLines } from '../progress.ts';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import type { ProtocolReading } from '../models/common.ts';
import { createRng, type Rng } from '../models/random.ts';
import { type Persona, PERSONAS, personaReadings } from '../personas/index.ts';
import type { Provisioner } from '../provisioner.ts';
import { SimulatedDevice } from './device.ts';
import {
  emptyFaultCounts,
  FAULT_KINDS,
  FAULT_REASON,
  faultOptionName,
  type FaultCounts,
  type FaultRates,
  planMessages,
} from './faults.ts';

export { FAULT_KINDS, type FaultCounts, type FaultKind, type FaultRates, faultOptionName } from './faults.ts';

const DAY = 86_400_000;
const MAX_BATCH = 1000;
const WINDOW = 8;
const CONNECT_CONCURRENCY = 50;
const LIVE_TICK_MS = 250;
const DRAIN_TIMEOUT_MS = 60_000;
const REJECTION_WAIT_MS = 5_000;

export interface SimulateOptions {
  /** The service's MQTT URL, mqtt://host:port. */
  readonly url: string;
  /** The service's database, where the caller's Provisioner provisions the devices (`--database-url`). */
  readonly databaseUrl?: string;
  /** Persona keys (heart_failure or heart-failure), or 'all'. Default all. */
  readonly personas?: readonly string[] | 'all';
  /** Patients per persona (default 1). */
  readonly patients?: number;
  readonly seed?: string;
  /** Backfill mode: days of history (default 14 when speed is unset). */
  readonly days?: number;
  /** Live mode: simulated seconds per wall second. */
  readonly speed?: number;
  /** Live mode: wall seconds (default 10). */
  readonly durationS?: number;
  readonly faults?: FaultRates;
  /** Readings per message, at most 1000 (default 1000 in backfill, all of a tick in live mode). */
  readonly batchSize?: number;
  readonly timeZone?: string;
  /** Prefix of the patient and device ids (default `sim-<4 random hex>`), so runs never collide. */
  readonly prefix?: string;
  readonly json?: boolean;
  /** `--token`: also create a clinician API token that reads the run's patients, and print it. */
  readonly token?: boolean;
  /** Progress lines on stderr every second (default true). */
  readonly progress?: boolean;
}

export interface SimulateIo {
  out: (line: string) => void;
  err: (line: string) => void;
  /** On a terminal: redraws the progress block in place (without it, a line a second goes to `err`). */
  status?: (lines: string[]) => void;
}

export interface SimulateSummary {
  mode: 'backfill' | 'live';
  seed: string;
  prefix: string;
  personas: string[];
  patients: string[];
  devices: number;
  window: { start: string; end: string };
  speed?: number;
  durationS?: number;
  elapsedMs: number;
  messages: { published: number; acked: number; resent: number };
  readings: { published: number; acked: number; resent: number };
  reconnects: number;
  faults: FaultCounts;
  /** What the service must hold once every message is acknowledged. */
  expected: {
    /** Rows in `readings` (each valid reading id once). */
    stored: number;
    /** Readings the service must recognise as duplicates (resends after a reconnect may add more). */
    duplicates: number;
    /** Rows in `rejections`, by reason. */
    rejections: Record<string, number>;
  };
  /** Messages the devices received on their rejections topics, by reason. */
  rejectionsReceived: Record<string, number>;
  /**
   * What the database holds of the run's devices once it is over: counted there,
   * so that a broker that is not this database's Vitalink (one that acknowledges
   * everything and stores nothing) cannot pass for it.
   */
  held: { readings: number; rejections: number };
  /** `--token`: a clinician token that reads `patients`. */
  token?: { value: string; expiresAt: string | null };
  /**
   * Every message acknowledged, every expected rejection received, and the database
   * holds exactly what it must (`expected.stored` readings, the expected rejections).
   */
  ok: boolean;
}

export function personaName(key: string): string {
  return key.replace(/_/g, '-');
}

function findPersonas(names: readonly string[] | 'all' | undefined): Persona[] {
  if (names === undefined || names === 'all') return [...PERSONAS];
  return names.map((name) => {
    const key = name.replace(/-/g, '_');
    const p = PERSONAS.find((x) => x.key === key);
    if (!p) {
      throw new RangeError(
        `unknown persona "${name}"; use one of ${PERSONAS.map((x) => personaName(x.key)).join(', ')} or all`,
      );
    }
    return p;
  });
}

/** Parses `vitalink simulate` arguments (after the command word). */
export function parseSimulateArgs(args: string[]): SimulateOptions {
  const faultOptions = Object.fromEntries(FAULT_KINDS.map((k) => [faultOptionName(k), { type: 'string' as const }]));
  const { values } = parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      url: { type: 'string' },
      'database-url': { type: 'string' },
      persona: { type: 'string', default: 'all' },
      patients: { type: 'string', default: '1' },
      seed: { type: 'string' },
      days: { type: 'string' },
      speed: { type: 'string' },
      duration: { type: 'string' },
      'batch-size': { type: 'string' },
      'time-zone': { type: 'string' },
      prefix: { type: 'string' },
      json: { type: 'boolean', default: false },
      token: { type: 'boolean', default: false },
      ...faultOptions,
    },
  });
  const v = values as Record<string, string | boolean | undefined>;
  const num = (name: string) => {
    const text = v[name] as string | undefined;
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!Number.isFinite(n) || n <= 0) throw new RangeError(`--${name} must be a positive number (got "${text}")`);
    return n;
  };
  if (typeof v.url !== 'string') throw new RangeError('--url mqtt://host:port is required');
  const faults: FaultRates = {};
  for (const k of FAULT_KINDS) {
    const name = faultOptionName(k);
    const text = v[name] as string | undefined;
    if (text === undefined) continue;
    const rate = Number(text);
    if (!Number.isFinite(rate) || rate < 0 || rate > 1) throw new RangeError(`--${name} must be a rate in 0..1`);
    faults[k] = rate;
  }
  const persona = v.persona as string;
  return {
    url: v.url,
    databaseUrl: (v['database-url'] as string | undefined) ?? process.env.DATABASE_URL,
    personas: persona === 'all' ? 'all' : persona.split(','),
    patients: num('patients'),
    seed: v.seed as string | undefined,
    days: num('days'),
    speed: num('speed'),
    durationS: num('duration'),
    batchSize: num('batch-size'),
    timeZone: v['time-zone'] as string | undefined,
    prefix: v.prefix as string | undefined,
    json: v.json as boolean,
    token: v.token as boolean,
    faults,
  };
}

function checkOptions(o: SimulateOptions): void {
  if (!/^mqtts?:\/\//.test(o.url)) throw new RangeError(`--url must be mqtt://host:port (got "${o.url}")`);
  const int = (name: string, v: number | undefined) => {
    if (v !== undefined && (!Number.isInteger(v) || v <= 0)) throw new RangeError(`${name} must be a positive integer`);
  };
  int('patients', o.patients);
  int('batchSize', o.batchSize);
  if (o.batchSize !== undefined && o.batchSize > MAX_BATCH) throw new RangeError(`batchSize must be ≤ ${MAX_BATCH}`);
  if (o.speed !== undefined && o.days !== undefined)
    throw new RangeError('--days (backfill) and --speed (live) exclude each other');
  const span = o.speed !== undefined ? (o.durationS ?? 10) * o.speed * 1000 : (o.days ?? 14) * DAY;
  if (span > 89 * DAY)
    throw new RangeError('the simulated window must stay under 89 days (the service rejects older readings)');
  for (const [k, rate] of Object.entries(o.faults ?? {})) {
    if (!(FAULT_KINDS as readonly string[]).includes(k)) throw new RangeError(`unknown fault ${k}`);
    if (!(rate >= 0 && rate <= 1)) throw new RangeError(`fault ${k} must be a rate in 0..1`);
  }
}

interface Patient {
  id: string;
  /** The id the readings are generated for (independent of the prefix: same seed, same readings). */
  modelId: string;
  persona: Persona;
  devices: Map<string, SimulatedDevice>;
}

const sum = (a: Record<string, number>, b: Record<string, number>) => {
  for (const [k, v] of Object.entries(b)) a[k] = (a[k] ?? 0) + v;
  return a;
};

/** Runs the fleet; `provisioner` (opened and closed by the caller) provisions it in the service's database. */
export async function runSimulate(
  options: SimulateOptions,
  io: SimulateIo,
  provisioner: Provisioner,
): Promise<SimulateSummary> {
  checkOptions(options);
  const personas = findPersonas(options.personas);
  const patientsPerPersona = options.patients ?? 1;
  const seed = options.seed ?? '1';
  const prefix = options.prefix ?? `sim-${randomBytes(2).toString('hex')}`;
  const timeZone = options.timeZone ?? provisioner.defaultTimeZone;
  const live = options.speed !== undefined;
  const speed = options.speed ?? 1;
  const durationS = options.durationS ?? 10;
  const started = Date.now();
  const windowEnd = started;
  const windowStart = live ? started - durationS * speed * 1000 : started - (options.days ?? 14) * DAY;
  const batchSize = options.batchSize ?? MAX_BATCH;
  const rates = options.faults ?? {};
  const counts = emptyFaultCounts();
  const rng: Rng = createRng(`${seed}/faults`);
  let failure: Error | undefined;
  const onFailure = (error: Error) => {
    failure ??= error;
  };

  // ------------------------------------------------------------ provisioning
  const patients: Patient[] = [];
  for (const persona of personas) {
    for (let n = 1; n <= patientsPerPersona; n++) {
      const modelId = `${personaName(persona.key)}-${n}`;
      const id = `${prefix}-${modelId}`;
      await provisioner.addPatient({ id, timeZone, displayName: `${persona.key} ${n} (simulated)` });
      if (Object.keys(persona.thresholds).length > 0) {
        await provisioner.setThresholds(id, persona.thresholds);
      }
      const devices = new Map<string, SimulatedDevice>();
      for (const spec of persona.devices) {
        const deviceId = `${id}-${spec.suffix}`;
        const { secret } = await provisioner.addDevice(
          { id: deviceId, model: spec.kind, patientId: id },
          new Date(windowStart - DAY),
        );
        devices.set(
          spec.suffix,
          new SimulatedDevice({ id: deviceId, secret, url: options.url, window: WINDOW, onFailure }),
        );
      }
      patients.push({ id, modelId, persona, devices });
    }
  }
  const devices = patients.flatMap((p) => [...p.devices.values()]);

  // ------------------------------------------------------------ progress
  let valid = 0;
  let planned = 0;
  const totals = () => {
    const t = { published: 0, acked: 0, resent: 0, reconnects: 0, inFlight: 0, connected: 0 };
    const rejections: Record<string, number> = {};
    for (const d of devices) {
      t.published += d.stats.readingsPublished;
      t.acked += d.stats.readingsAcked;
      t.resent += d.stats.readingsResent;
      t.reconnects += d.stats.reconnects;
      t.inFlight += d.inFlight;
      if (d.isConnected) t.connected++;
      sum(rejections, d.stats.rejections);
    }
    return { ...t, rejections, rejectionTotal: Object.values(rejections).reduce((a, b) => a + b, 0) };
  };
  let last = totals();
  let lastAt = Date.now();
  const showProgress = () => {
    const now = Date.now();
    const t = totals();
    const dt = Math.max(1, now - lastAt) / 1000;
    const elapsedS = (now - started) / 1000;
    const figures: ProgressFigures = {
      mode: live ? 'live' : 'backfill',
      elapsedS,
      done: live ? elapsedS / durationS : planned > 0 ? t.acked / planned : 0,
      devices: devices.length,
      connected: t.connected,
      planned,
      published: t.published,
      acked: t.acked,
      sentPerS: (t.published - last.published) / dt,
      ackedPerS: (t.acked - last.acked) / dt,
      inFlight: t.inFlight,
      resent: t.resent,
      reconnects: t.reconnects,
      rejections: t.rejections,
    };
    if (io.status) io.status(progressLines(figures));
    else io.err(progressLine(figures));
    last = t;
    lastAt = now;
  };
  const progress = options.progress === false ? undefined : setInterval(showProgress, io.status ? 250 : 1000);

  const readingsOf = (p: Patient, start: number, end: number) =>
    personaReadings(p.persona, { seed, patientId: p.modelId, timeZone, start, end, origin: windowStart });

  const enqueue = (p: Patient, start: number, end: number) => {
    for (const dr of readingsOf(p, start, end)) {
      const suffix = dr.device.suffix;
      const device = p.devices.get(suffix)!;
      if (dr.readings.length === 0) continue;
      const plan = planMessages(device.id, dr.readings as ProtocolReading[], {
        rates,
        rng: rng.fork(device.id, start),
        batchSize,
        now: Date.now,
        counts,
        latestFirst: !live,
      });
      valid += plan.valid;
      for (const m of plan.messages) planned += m.readings;
      device.enqueue(plan.messages);
    }
  };

  try {
    // ---------------------------------------------------------- connect
    for (let i = 0; i < devices.length; i += CONNECT_CONCURRENCY) {
      await Promise.all(devices.slice(i, i + CONNECT_CONCURRENCY).map((d) => d.connect()));
    }

    // ---------------------------------------------------------- drive
    if (!live) {
      for (const p of patients) {
        enqueue(p, windowStart, windowEnd);
        // Generating a long history takes a while: let the devices publish and the progress show meanwhile.
        await new Promise((r) => setImmediate(r));
      }
    } else {
      let simulated = windowStart;
      const wallStart = Date.now();
      for (;;) {
        const elapsed = Math.min(Date.now() - wallStart, durationS * 1000);
        const until = Math.min(windowEnd, windowStart + elapsed * speed);
        if (until > simulated) {
          for (const p of patients) enqueue(p, simulated, until);
          simulated = until;
        }
        if (failure) throw failure;
        if (elapsed >= durationS * 1000) break;
        await new Promise((r) => setTimeout(r, LIVE_TICK_MS));
      }
    }
    const drained = Promise.all(devices.map((d) => d.idle()));
    const deadline = Date.now() + DRAIN_TIMEOUT_MS;
    let done = false;
    void drained.then(() => (done = true));
    while (!done && !failure && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    if (failure) throw failure;

    // Rejection messages follow their PUBACK: give them a moment to arrive.
    const expectedRejections = expectedRejectionCounts(counts);
    const expectedTotal = Object.values(expectedRejections).reduce((a, b) => a + b, 0);
    const rejectionDeadline = Date.now() + REJECTION_WAIT_MS;
    while (totals().rejectionTotal < expectedTotal && Date.now() < rejectionDeadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    if (progress) {
      clearInterval(progress);
      if (io.status) showProgress(); // the final figures stay on screen above the summary
    }
    await Promise.all(devices.map((d) => d.stop()));
  }

  const stat = (k: keyof SimulatedDevice['stats']) => devices.reduce((a, d) => a + (d.stats[k] as number), 0);
  const rejectionsReceived = devices.reduce<Record<string, number>>((a, d) => sum(a, d.stats.rejections), {});
  const expectedRejections = expectedRejectionCounts(counts);
  const allAcked = devices.every((d) => d.pending === 0);
  // A PUBACK is sent after the commit: once every message is acknowledged, the service
  // that took them holds them. Counting them in the database proves it was this one.
  const held = await provisioner.countStored(devices.map((d) => d.id));
  const expectedRejectionRows = Object.values(expectedRejections).reduce((a, b) => a + b, 0);
  const holdsAll = held.readings === valid && held.rejections === expectedRejectionRows;
  const token = options.token ? await provisioner.createClinicianToken(patients.map((p) => p.id)) : undefined;
  const summary: SimulateSummary = {
    mode: live ? 'live' : 'backfill',
    seed,
    prefix,
    personas: personas.map((p) => personaName(p.key)),
    patients: patients.map((p) => p.id),
    devices: devices.length,
    window: { start: new Date(windowStart).toISOString(), end: new Date(windowEnd).toISOString() },
    ...(live ? { speed, durationS } : {}),
    elapsedMs: Date.now() - started,
    messages: { published: stat('messagesPublished'), acked: stat('messagesAcked'), resent: stat('messagesResent') },
    readings: { published: stat('readingsPublished'), acked: stat('readingsAcked'), resent: stat('readingsResent') },
    reconnects: stat('reconnects'),
    faults: counts,
    expected: { stored: valid, duplicates: counts.duplicate.count, rejections: expectedRejections },
    rejectionsReceived,
    held,
    ...(token ? { token: { value: token.token, expiresAt: token.expiresAt?.toISOString() ?? null } } : {}),
    ok: allAcked && sameCounts(rejectionsReceived, expectedRejections) && holdsAll,
  };
  for (const line of formatSummary(summary, patients)) io.out(line);
  if (!holdsAll) io.err(notHeldMessage(summary, options));
  if (options.json) io.out(JSON.stringify(summary));
  return summary;
}

function expectedRejectionCounts(counts: FaultCounts): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [kind, reason] of Object.entries(FAULT_REASON)) {
    const n = counts[kind as keyof typeof FAULT_REASON].count;
    if (n > 0) out[reason] = (out[reason] ?? 0) + n;
  }
  // Skewed readings are rejected only when the skew takes them past the future bound.
  if (counts.clockSkew.rejected.length > 0) out.future = (out.future ?? 0) + counts.clockSkew.rejected.length;
  return out;
}

function sameCounts(a: Record<string, number>, b: Record<string, number>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((k) => (a[k] ?? 0) === (b[k] ?? 0));
}

/** Where a database URL points, without its credentials. */
function describeDatabase(url: string | undefined): string {
  if (!url) return 'the database given';
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || 5432}${u.pathname}`;
  } catch {
    return 'the database given';
  }
}

/** Said loudly on stderr when the database does not hold what the broker acknowledged. */
function notHeldMessage(s: SimulateSummary, options: SimulateOptions): string {
  const where = describeDatabase(options.databaseUrl);
  const fix =
    `Point --url at the MQTT port (MQTT_PORT) of the Vitalink service whose database is ${where}, ` +
    'or --database-url (default DATABASE_URL) at the database of the service behind --url.';
  if (s.held.readings === 0 && s.held.rejections === 0 && s.readings.acked > 0) {
    return (
      `vitalink simulate: FAILED — the broker at ${options.url} acknowledged ${s.readings.acked} readings, ` +
      `but the database ${where} holds none of them: that broker is not the Vitalink service of this ` +
      `database (another MQTT broker on that port?). ${fix}`
    );
  }
  const rejections = Object.values(s.expected.rejections).reduce((a, b) => a + b, 0);
  return (
    `vitalink simulate: FAILED — the database ${where} holds ${s.held.readings} readings and ` +
    `${s.held.rejections} rejections of this run's devices, where ${s.expected.stored} and ${rejections} ` +
    `were expected. If another service or broker took part of the messages: ${fix}`
  );
}

/** The patients listed in the summary; `--json` lists them all. */
const PATIENTS_LISTED = 20;

function formatSummary(s: SimulateSummary, patients: readonly Patient[]): string[] {
  const rows: [string, string][] = [
    ['mode', s.mode + (s.mode === 'live' ? ` (×${s.speed}, ${s.durationS} s)` : '')],
    ['window', `${s.window.start} → ${s.window.end}`],
    ['personas', s.personas.join(', ')],
    ['patients / devices', `${s.patients.length} / ${s.devices}`],
    ['readings published', String(s.readings.published)],
    ['readings acked', String(s.readings.acked)],
    ['readings resent', String(s.readings.resent)],
    ['reconnects', String(s.reconnects)],
    ['expected stored', String(s.expected.stored)],
    ['expected duplicates', String(s.expected.duplicates)],
  ];
  for (const k of FAULT_KINDS) {
    if (s.faults[k].count > 0) rows.push([`fault ${k}`, String(s.faults[k].count)]);
  }
  const reasons = new Set([...Object.keys(s.expected.rejections), ...Object.keys(s.rejectionsReceived)]);
  for (const r of [...reasons].sort()) {
    rows.push([
      `rejections ${r}`,
      `${s.rejectionsReceived[r] ?? 0} received / ${s.expected.rejections[r] ?? 0} expected`,
    ]);
  }
  rows.push(['stored in the database', `${s.held.readings} readings, ${s.held.rejections} rejections`]);
  rows.push(['elapsed', `${(s.elapsedMs / 1000).toFixed(1)} s`]);
  const width = Math.max(...rows.map(([k]) => k.length));
  const lines = [
    `vitalink simulate${s.ok ? '' : ' — INCOMPLETE'}`,
    ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`),
  ];
  const idWidth = Math.max(0, ...patients.slice(0, PATIENTS_LISTED).map((p) => p.id.length));
  lines.push(`patients (${patients.length}):`);
  for (const p of patients.slice(0, PATIENTS_LISTED)) {
    lines.push(`  ${p.id.padEnd(idWidth)}  ${personaName(p.persona.key)}`);
  }
  if (patients.length > PATIENTS_LISTED) {
    lines.push(`  … and ${patients.length - PATIENTS_LISTED} more (--json lists them all)`);
  }
  if (s.token) {
    const until = s.token.expiresAt ? `expires ${s.token.expiresAt}` : 'never expires';
    lines.push(`clinician token for these patients (${until}; sign in to the dashboard with it):`);
    lines.push(`  ${s.token.value}`);
  } else {
    lines.push('(--token also prints a clinician token that reads them, to open them in the dashboard)');
  }
  return lines;
}
