/**
 * Freshness at fleet scale: `vitalink serve` with its default aggregation settings
 * on the loaded database, the CGM patients' devices publishing over MQTT (QoS 1, one
 * reading a message) at the rate a fleet of 10,000 CGM patients sending every 5
 * minutes would (33.3 readings/s), spread round-robin over the CGM patients there are,
 * so each of them sends every few seconds: harsher per patient than production.
 * Meanwhile probe patients, in rotation, send a hypoglycemic CGM reading (< 54 mg/dL)
 * every PROBE_EVERY_MS, and the time from its PUBACK until its alert and the
 * patient's `cgm_mean` indicator show it is measured by polling the database.
 *
 * Each probe's latency is unambiguous: a probe patient has its own device and
 * history-free record, and its next probe waits until the alert of the last one is
 * resolved (acknowledged by the bench, then a normal reading clears the condition),
 * so the alert that records the probe's reading id is a new one.
 *
 * Afterwards the database is put back as it was: the published readings are deleted
 * and their days marked dirty and recomputed, the probe patients deleted with all
 * they own, the fleet patients' alerts and the devices' secrets restored.
 */
import { resolveKeyRing } from '../../src/actions/secret-keys.ts';
import { readSecretKeys } from '../../src/config.ts';
import type { MqttClient } from 'mqtt';
import { sql } from 'kysely';
import { connectClient } from '../../simulators/mqtt-connect.ts';
import { loadToolLimits, type ServiceProcess, startService } from '../../simulators/harness/service-process.ts';
import { acknowledgeAlert } from '../../src/actions/alerts.ts';
import { addDevice, addPatient } from '../../src/actions/provisioning.ts';
import { Aggregator } from '../../src/aggregation/aggregator.ts';
import type { Logger } from '../../src/logger.ts';
import type { Db } from '../../src/store/database.ts';
import { FLEET_CGM_PATIENTS } from './aggregation-cost.ts';
import { borrowDeviceSecrets, deletePatients, deletePublishedReadings, snapshotAlerts } from './freshness-restore.ts';
import { CGM_STEP_S } from './history.ts';
import { CpuMeter, isBackendOf } from './process-cpu.ts';
import { waitForAggregation } from './settle.ts';
import { type Latency, latencyOf, percentile, round2 } from './stats.ts';

const PROBE_PATIENTS = 4;
const PROBE_EVERY_MS = 2000;
const POLL_MS = 50;
/** A probe whose alert is not seen in this time stops its patient's rotation. */
const PROBE_TIMEOUT_MS = 60_000;
const HYPOGLYCEMIC_MG_DL = 45;
const NORMAL_MG_DL = 110;
/** The service's connections are told apart from the bench's by this application_name. */
const SERVICE_APPLICATION = 'vitalink-freshness';

export interface LatencyTail extends Latency {
  p95Ms: number;
  maxMs: number;
}

export interface Freshness {
  seconds: number;
  /** The service ran with its default aggregation settings (VITALINK_AGGREGATION_* unset). */
  aggregationSettings: 'default';
  fleet: {
    modelledCgmPatients: number;
    modelledReadingIntervalS: number;
    targetReadingsPerSecond: number;
    devices: number;
    /** Each device's interval between readings in the phase (production: modelledReadingIntervalS). */
    perDeviceIntervalS: number;
    published: number;
    /** Acknowledged (PUBACK), those in flight at the end of the window included. */
    acked: number;
    failed: number;
    /** Published over the window's length. */
    achievedReadingsPerSecond: number;
    pubackMs: Latency;
  };
  probes: {
    patients: number;
    everyMs: number;
    sent: number;
    /** Probes whose alert was seen; each was a newly opened alert (notNew counts any that was not). */
    alerts: number;
    notNew: number;
    timedOut: number;
    /** Probe slots skipped because that probe patient's previous alert was not resolved yet. */
    slotsSkipped: number;
    alertMs: LatencyTail;
    indicatorMs: LatencyTail;
  };
  aggregation: {
    runs: number;
    runSeconds: number;
    runSecondsPerMinute: number;
    meanRunMs: number;
    maxLagSeconds: number;
  };
  cpu: {
    serviceSeconds: number | null;
    serviceCorePct: number | null;
    /** The PostgreSQL backends of the service's connections (ingest and job), when the server runs on this machine. */
    databaseSeconds: number | null;
    databaseCorePct: number | null;
    databaseBackends: number;
  };
  cleanup: { readingsDeleted: number };
}

export interface FreshnessOptions {
  readonly db: Db;
  readonly log: Logger;
  /** The database's URL, for the service. */
  readonly url: string;
  /** The CGM patients; each has the device `${patientId}-cgm`. */
  readonly fleetPatientIds: readonly string[];
  readonly seconds: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

function tailOf(samples: readonly number[]): LatencyTail {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    ...latencyOf(sorted),
    p95Ms: round2(percentile(sorted, 95)),
    maxMs: round2(sorted.length ? sorted[sorted.length - 1] : NaN),
  };
}

async function scrape(httpBase: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${httpBase}/metrics`)).text();
  const values = new Map<string, number>();
  for (const m of text.matchAll(/^([a-z_]+) (\S+)$/gm)) values.set(m[1], Number(m[2]));
  return values;
}

function probeIds(i: number): { patientId: string; deviceId: string } {
  const patientId = `scale-probe-${String(i + 1).padStart(2, '0')}`;
  return { patientId, deviceId: `${patientId}-cgm` };
}

async function drain(db: Db, log: Logger): Promise<void> {
  const aggregator = new Aggregator({
    db,
    log,
    intervalMs: 1000,
    batchSize: 20,
    refreshEveryMs: 3_600_000,
    now: Date.now,
  });
  for (;;) {
    const run = await aggregator.runOnce();
    if (run.marks === 0 && run.patients === 0) return;
  }
}

export async function measureFreshness(o: FreshnessOptions): Promise<Freshness> {
  const { db, log } = o;
  const tag = Date.now().toString(36);
  const fleetDevices = o.fleetPatientIds.map((id) => `${id}-cgm`);
  const probes = Array.from({ length: PROBE_PATIENTS }, (_, i) => probeIds(i));
  const probePatientIds = probes.map((p) => p.patientId);
  const probeDeviceIds = probes.map((p) => p.deviceId);
  // What an interrupted run may have left.
  await deletePatients(db, probePatientIds, probeDeviceIds);
  const probeSecrets: string[] = [];
  const keys = await resolveKeyRing(db, readSecretKeys(process.env).keys);
  for (const { patientId, deviceId } of probes) {
    await addPatient(db, { id: patientId });
    probeSecrets.push(
      (await addDevice(db, keys, { id: deviceId, patientId }, new Date(Date.now() - 86_400_000))).secret,
    );
  }
  const restoreAlerts = await snapshotAlerts(db, o.fleetPatientIds);
  const secrets = await borrowDeviceSecrets(db, fleetDevices);
  const since = Date.now();
  let service: ServiceProcess | undefined;
  const clients: MqttClient[] = [];
  let measured: Omit<Freshness, 'cleanup'> | undefined;
  let readingsDeleted: number;
  try {
    const url = new URL(o.url);
    url.searchParams.set('application_name', SERVICE_APPLICATION);
    service = await startService(
      {
        DATABASE_URL: url.toString(),
        VITALINK_AGGREGATION_MAX_BUSY_PCT: undefined,
        VITALINK_AGGREGATION_INTERVAL_MS: undefined,
        ...loadToolLimits(),
      },
      { keepLogs: false, timeoutMs: 120_000 },
    );
    await waitForAggregation(db, 600_000);
    const broker = `mqtt://127.0.0.1:${service.ports.mqtt}`;
    const connect = async (deviceId: string, password: string) => {
      const client = await connectClient(broker, { clientId: deviceId, username: deviceId, password });
      clients.push(client);
      return client;
    };
    const fleet: MqttClient[] = [];
    for (const deviceId of fleetDevices) fleet.push(await connect(deviceId, secrets.secret));
    const probeClients: MqttClient[] = [];
    for (let i = 0; i < probes.length; i++) probeClients.push(await connect(probes[i].deviceId, probeSecrets[i]));
    measured = await run(o, service, tag, fleet, fleetDevices, probeClients, probes);
  } finally {
    for (const client of clients) await client.endAsync(true).catch(() => {});
    await service?.stop();
    readingsDeleted = await deletePublishedReadings(db, o.fleetPatientIds, fleetDevices, `fr-${tag}-`, since - 60_000);
    await deletePatients(db, probePatientIds, probeDeviceIds);
    await drain(db, log);
    await restoreAlerts();
    await secrets.restore();
  }
  return { ...measured!, cleanup: { readingsDeleted } };
}

async function run(
  o: FreshnessOptions,
  service: ServiceProcess,
  tag: string,
  fleet: readonly MqttClient[],
  fleetDevices: readonly string[],
  probeClients: readonly MqttClient[],
  probes: readonly { patientId: string; deviceId: string }[],
): Promise<Omit<Freshness, 'cleanup'>> {
  const { db } = o;
  const httpBase = `http://127.0.0.1:${service.ports.http}`;
  const rate = FLEET_CGM_PATIENTS / CGM_STEP_S;

  // CPU of the service and of the backends of its connections, sampled every second.
  const serviceCpu = new CpuMeter();
  const databaseCpu = new CpuMeter();
  const servicePid = service.child.pid;
  const sampleCpu = async () => {
    const { rows } = await sql<{ pid: number; datname: string }>`
      SELECT pid, datname FROM pg_stat_activity
      WHERE datname = current_database() AND application_name = ${SERVICE_APPLICATION}
    `.execute(db);
    databaseCpu.sample(rows.filter((r) => isBackendOf(r.pid, r.datname)).map((r) => r.pid));
    if (servicePid !== undefined) serviceCpu.sample([servicePid]);
  };
  let maxLag = 0;
  const sample = async () => {
    const metrics = await scrape(httpBase);
    maxLag = Math.max(maxLag, metrics.get('vitalink_aggregation_lag_seconds') ?? 0);
    await sampleCpu();
    return metrics;
  };

  const before = await sample();
  const started = performance.now();
  const deadline = started + o.seconds * 1000;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      await sleep(1000);
      if (sampling) await sample();
    }
  })();

  // The fleet: open loop, reading k due at started + k / rate.
  const ackMs: number[] = [];
  let published = 0;
  let failed = 0;
  const inFlight: Promise<void>[] = [];
  const publishing = (async () => {
    for (let k = 0; ; k++) {
      const due = started + (k * 1000) / rate;
      if (due >= deadline) return;
      await sleep(due - performance.now());
      const i = k % fleet.length;
      const payload = JSON.stringify({
        id: `fr-${tag}-${k}`,
        type: 'cgm_glucose',
        at: Date.now(),
        value: Math.round(NORMAL_MG_DL + 40 * Math.sin(k / 7)),
        unit: 'mg/dL',
      });
      const sent = performance.now();
      published++;
      inFlight.push(
        fleet[i].publishAsync(`v1/devices/${fleetDevices[i]}/readings`, payload, { qos: 1 }).then(
          () => {
            ackMs.push(performance.now() - sent);
          },
          () => {
            failed++;
          },
        ),
      );
    }
  })();

  // The probes: slot j (every PROBE_EVERY_MS from the first second) belongs to probe patient j mod PROBE_PATIENTS.
  const alertMs: number[] = [];
  const indicatorMs: number[] = [];
  let sent = 0;
  let notNew = 0;
  let timedOut = 0;
  let slotsSkipped = 0;
  const poll = async <T>(read: () => Promise<T | undefined>): Promise<T | undefined> => {
    const from = performance.now();
    for (;;) {
      const found = await read();
      if (found !== undefined || performance.now() - from > PROBE_TIMEOUT_MS) return found;
      await sleep(POLL_MS);
    }
  };
  const probeWorker = async (w: number) => {
    const { patientId, deviceId } = probes[w];
    const topic = `v1/devices/${deviceId}/readings`;
    let readings = 0;
    let lastAlertId: string | undefined;
    for (let slot = w, n = 0; ; slot += probes.length, n++) {
      const due = started + 1000 + slot * PROBE_EVERY_MS;
      if (due >= deadline) return;
      if (performance.now() > due) {
        slotsSkipped++;
        continue;
      }
      await sleep(due - performance.now());
      const readingId = `probe-${tag}-${n}`;
      const payload = { id: readingId, type: 'cgm_glucose', at: Date.now(), value: HYPOGLYCEMIC_MG_DL, unit: 'mg/dL' };
      await probeClients[w].publishAsync(topic, JSON.stringify(payload), { qos: 1 });
      const acked = performance.now();
      sent++;
      readings++;
      let alertAt: number | undefined;
      let alertId: string | undefined;
      let indicatorAt: number | undefined;
      await poll(async () => {
        const { rows } = await sql<{ alert_id: string | null; n: number | null }>`
          SELECT (SELECT id FROM alerts WHERE patient_id = ${patientId} AND rule = 'hypoglycemia'
                    AND ${`${deviceId}/${readingId}`} = ANY(reading_ids) ORDER BY id DESC LIMIT 1) AS alert_id,
                 (SELECT n FROM patient_indicators WHERE patient_id = ${patientId} AND key = 'cgm_mean') AS n
        `.execute(db);
        const now = performance.now();
        if (alertAt === undefined && rows[0].alert_id !== null) {
          alertAt = now;
          alertId = rows[0].alert_id;
        }
        if (indicatorAt === undefined && (rows[0].n ?? 0) >= readings) indicatorAt = now;
        return alertAt !== undefined && indicatorAt !== undefined ? true : undefined;
      });
      if (alertAt === undefined || indicatorAt === undefined || alertId === undefined) {
        timedOut++;
        return;
      }
      alertMs.push(alertAt - acked);
      indicatorMs.push(indicatorAt - acked);
      if (alertId === lastAlertId) notNew++;
      lastAlertId = alertId;
      // The condition holds, so the alert becomes acknowledged; the normal reading then resolves it.
      await acknowledgeAlert(db, alertId, { actor: 'scale-bench', action: null, note: null }, new Date());
      const normal = { id: `${readingId}-ok`, type: 'cgm_glucose', at: Date.now(), value: NORMAL_MG_DL, unit: 'mg/dL' };
      await probeClients[w].publishAsync(topic, JSON.stringify(normal), { qos: 1 });
      readings++;
      const resolved = await poll(async () => {
        const { rows } = await sql<{ status: string }>`SELECT status FROM alerts WHERE id = ${alertId}`.execute(db);
        return rows[0]?.status === 'resolved' ? true : undefined;
      });
      if (!resolved) {
        timedOut++;
        return;
      }
    }
  };
  const probing = Promise.all(probes.map((_, w) => probeWorker(w)));

  await publishing;
  sampling = false;
  // The window ends here: what the service and the database did in it, then the stragglers' acknowledgements.
  const after = await sample();
  const elapsedS = (performance.now() - started) / 1000;
  const serviceSeconds = servicePid === undefined ? null : serviceCpu.seconds();
  const databaseSeconds = databaseCpu.processes > 0 ? databaseCpu.seconds() : null;
  await sampler;
  await Promise.all(inFlight);
  await probing;

  const runs =
    (after.get('vitalink_aggregation_run_seconds_count') ?? 0) -
    (before.get('vitalink_aggregation_run_seconds_count') ?? 0);
  const runSeconds =
    (after.get('vitalink_aggregation_run_seconds_sum') ?? 0) -
    (before.get('vitalink_aggregation_run_seconds_sum') ?? 0);
  return {
    seconds: round2(elapsedS),
    aggregationSettings: 'default',
    fleet: {
      modelledCgmPatients: FLEET_CGM_PATIENTS,
      modelledReadingIntervalS: CGM_STEP_S,
      targetReadingsPerSecond: round2(rate),
      devices: fleet.length,
      perDeviceIntervalS: round2(fleet.length / rate),
      published,
      acked: ackMs.length,
      failed,
      achievedReadingsPerSecond: round2(published / elapsedS),
      pubackMs: latencyOf(ackMs),
    },
    probes: {
      patients: probes.length,
      everyMs: PROBE_EVERY_MS,
      sent,
      alerts: alertMs.length,
      notNew,
      timedOut,
      slotsSkipped,
      alertMs: tailOf(alertMs),
      indicatorMs: tailOf(indicatorMs),
    },
    aggregation: {
      runs,
      runSeconds: round2(runSeconds),
      runSecondsPerMinute: round2((runSeconds * 60) / elapsedS),
      meanRunMs: round2(runs > 0 ? (runSeconds * 1000) / runs : 0),
      maxLagSeconds: round2(maxLag),
    },
    cpu: {
      serviceSeconds: serviceSeconds === null ? null : round2(serviceSeconds),
      serviceCorePct: serviceSeconds === null ? null : round2((100 * serviceSeconds) / elapsedS),
      databaseSeconds: databaseSeconds === null ? null : round2(databaseSeconds),
      databaseCorePct: databaseSeconds === null ? null : round2((100 * databaseSeconds) / elapsedS),
      databaseBackends: databaseCpu.processes,
    },
  };
}
