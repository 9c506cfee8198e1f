/**
 * Fault injection for `vitalink simulate`: turns a device's readings into the
 * messages it publishes, with the faults asked for, and records exactly what was
 * injected so that a test can compare it with what the service recorded.
 */
import type { ProtocolReading } from '../models/common.ts';
import type { Rng } from '../models/random.ts';

/** The reading-level faults, in the order they are drawn: a reading gets at most one. */
export const READING_FAULTS = [
  'wrongUnit',
  'outOfRange',
  'future',
  'duplicate',
  'conflict',
  'outOfOrder',
  'clockSkew',
] as const;

/** Every fault: the message-level ones around the reading-level ones. */
export const FAULT_KINDS = ['malformedJson', ...READING_FAULTS, 'reconnect', 'slowConsumer'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** The command-line option of a fault: `wrongUnit` → `fault-wrong-unit`. */
export function faultOptionName(kind: FaultKind): string {
  return `fault-${kind.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** Rates in 0..1 (see FaultCounts for the unit each one applies to). */
export type FaultRates = Partial<Record<FaultKind, number>>;

type ReadingFault = (typeof READING_FAULTS)[number];

export interface InjectedReading {
  deviceId: string;
  id: string;
}

/**
 * What was injected. `malformedJson`, `reconnect` and `slowConsumer` are per
 * message (an extra unparseable message before a real one; a dropped connection
 * right after a publish, before its PUBACK; the device stops reading its socket
 * for a while after a publish); the others per reading, at most one per reading.
 */
export interface FaultCounts {
  malformedJson: { count: number };
  reconnect: { count: number };
  slowConsumer: { count: number };
  wrongUnit: { count: number; readings: InjectedReading[] };
  outOfRange: { count: number; readings: InjectedReading[] };
  future: { count: number; readings: InjectedReading[] };
  duplicate: { count: number; readings: InjectedReading[] };
  conflict: { count: number; readings: InjectedReading[] };
  outOfOrder: { count: number; readings: InjectedReading[] };
  /**
   * Readings stamped by a clock running CLOCK_SKEW_MS ahead. Those that land past
   * the service's 5-minute future bound are `rejected` (reason `future`); the
   * others are stored, at the wrong time, as a real skewed device's would be.
   */
  clockSkew: { count: number; readings: InjectedReading[]; rejected: InjectedReading[] };
}

export function emptyFaultCounts(): FaultCounts {
  const r = () => ({ count: 0, readings: [] as InjectedReading[] });
  return {
    malformedJson: { count: 0 },
    reconnect: { count: 0 },
    slowConsumer: { count: 0 },
    wrongUnit: r(),
    outOfRange: r(),
    future: r(),
    duplicate: r(),
    conflict: r(),
    outOfOrder: r(),
    clockSkew: { ...r(), rejected: [] },
  };
}

/** The rejection reason the service must record for each fault (duplicates are not rejections). */
export const FAULT_REASON = {
  malformedJson: 'invalid_json',
  wrongUnit: 'unit',
  outOfRange: 'out_of_range',
  future: 'future',
  conflict: 'conflict',
} as const;

/** A unit that no reading of the type accepts (it is accepted by another type). */
const WRONG_UNIT: Record<string, string> = {
  heart_rate: 'kg',
  spo2: 'kg',
  blood_pressure: 'kg',
  body_weight: 'mm[Hg]',
  body_temperature: 'kg',
  blood_glucose: 'kg',
  cgm_glucose: 'kg',
  respiratory_rate: 'kg',
  steps: 'kg',
};

/** Far outside every plausible range, whatever the accepted unit. */
const OUT_OF_RANGE_VALUE = 1_000_000;
const FUTURE_OFFSET_MS = 60 * 60_000;

/** How far ahead a skewed device's clock runs (a clock left on the wrong zone's summer time, say). */
export const CLOCK_SKEW_MS = 60 * 60_000;
/** The service's bound on readings ahead of its clock (device-protocol.md, "Time"). */
const SERVICE_FUTURE_BOUND_MS = 5 * 60_000;
/**
 * A skewed reading is announced `future` only when it is this far past the bound
 * when planned, so that it still is when the message is delivered (a backfill may
 * take minutes), and announced stored only when it is a minute inside the bound.
 * Readings between the two are sent unskewed: their outcome would depend on timing.
 */
const SKEW_REJECTED_MARGIN_MS = 10 * 60_000;
const SKEW_STORED_MARGIN_MS = 60_000;

/** A device that stops reading its socket holds its PUBACKs unread this long. */
export const SLOW_CONSUMER_PAUSE_MS = 1_500;

export interface PlannedMessage {
  payload: Buffer;
  /** Reading objects in the payload (0 for a malformed message). */
  readings: number;
  /** Sent only once every earlier message of the device is acknowledged. */
  barrier: boolean;
  /** Drop the connection right after publishing it (the reconnect fault). */
  dropAfter: boolean;
  /** Stop reading the socket for SLOW_CONSUMER_PAUSE_MS right after publishing it (the slow-consumer fault). */
  pauseAfter: boolean;
}

export interface PlanResult {
  messages: PlannedMessage[];
  /** Readings that the service must store (valid, once per id). */
  valid: number;
}

function malformed(deviceId: string, n: number): Buffer {
  return Buffer.from(`{"id":"malformed-${deviceId}-${n}","type":"heart_rate","at":`);
}

function conflicting(r: ProtocolReading): ProtocolReading {
  if (r.type === 'blood_pressure') return { ...r, systolic: (r.systolic ?? 120) + 1 };
  // steps may be 0; every other value moves by one in its last digit kept.
  return { ...r, value: (r.value ?? 0) + 1 };
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function encode(readings: readonly ProtocolReading[]): Buffer {
  return Buffer.from(JSON.stringify(readings.length === 1 ? readings[0] : { readings }));
}

/**
 * Plans the messages of one device for one slice of readings (time ordered):
 * batches of at most `batchSize` readings in time order (optionally the latest
 * batch first), then, behind a barrier,
 * the follow-ups (the copies of duplicated and conflicting readings, and the
 * readings held back to arrive out of order).
 */
export function planMessages(
  deviceId: string,
  readings: readonly ProtocolReading[],
  o: {
    rates: FaultRates;
    rng: Rng;
    batchSize: number;
    now: () => number;
    counts: FaultCounts;
    /** Send the batch of the latest readings first, then the others in time order. */
    latestFirst?: boolean;
  },
): PlanResult {
  const { rates, rng, batchSize, counts } = o;
  const main: ProtocolReading[] = [];
  const followups: ProtocolReading[] = [];
  /** Clock-skew candidates, settled once it is known which message carries them. */
  const skews: { index: number; reading: ProtocolReading; skewedAt: number }[] = [];
  let valid = 0;
  for (const r of readings) {
    let fault: ReadingFault | undefined;
    for (const kind of READING_FAULTS) {
      const rate = rates[kind] ?? 0;
      if (rate > 0 && rng.chance(rate)) {
        fault = kind;
        break;
      }
    }
    let skewedAt = 0;
    if (fault === 'clockSkew') {
      skewedAt = r.at + CLOCK_SKEW_MS;
      const bound = o.now() + SERVICE_FUTURE_BOUND_MS;
      const decided = skewedAt > bound + SKEW_REJECTED_MARGIN_MS || skewedAt < bound - SKEW_STORED_MARGIN_MS;
      if (!decided) fault = undefined;
    }
    if (fault !== undefined && fault !== 'clockSkew') {
      counts[fault].count++;
      counts[fault].readings.push({ deviceId, id: r.id });
    }
    switch (fault) {
      case undefined:
        main.push(r);
        valid++;
        break;
      case 'wrongUnit':
        main.push({ ...r, unit: WRONG_UNIT[r.type] ?? 'kg' });
        break;
      case 'outOfRange':
        main.push(
          r.type === 'blood_pressure' ? { ...r, systolic: OUT_OF_RANGE_VALUE } : { ...r, value: OUT_OF_RANGE_VALUE },
        );
        break;
      case 'future':
        main.push({ ...r, at: o.now() + FUTURE_OFFSET_MS });
        break;
      case 'duplicate':
        main.push(r);
        followups.push(r);
        valid++;
        break;
      case 'conflict':
        main.push(r);
        followups.push(conflicting(r));
        valid++;
        break;
      case 'outOfOrder':
        followups.push(r);
        valid++;
        break;
      case 'clockSkew':
        skews.push({ index: main.length, reading: r, skewedAt });
        main.push(r);
        break;
    }
  }
  // Backfill sends the latest readings first, then the rest oldest first; live mode sends as it goes.
  const firstSent = o.latestFirst ? Math.max(0, main.length - batchSize) : 0;
  for (const { index, reading, skewedAt } of skews) {
    const rejected = skewedAt > o.now() + SERVICE_FUTURE_BOUND_MS;
    // A reading announced `future` must reach the service within the margin: in a backfill
    // only the first message is sure to. One that would go later is sent as it is.
    if (rejected && index < firstSent) {
      valid++;
      continue;
    }
    main[index] = { ...reading, at: skewedAt };
    counts.clockSkew.count++;
    counts.clockSkew.readings.push({ deviceId, id: reading.id });
    if (rejected) counts.clockSkew.rejected.push({ deviceId, id: reading.id });
    else valid++;
  }
  const messages: PlannedMessage[] = [];
  const push = (batch: ProtocolReading[], barrier: boolean) => {
    if ((rates.malformedJson ?? 0) > 0 && rng.chance(rates.malformedJson!)) {
      counts.malformedJson.count++;
      messages.push({
        payload: malformed(deviceId, counts.malformedJson.count),
        readings: 0,
        barrier,
        dropAfter: false,
        pauseAfter: false,
      });
      barrier = false;
    }
    const dropAfter = (rates.reconnect ?? 0) > 0 && rng.chance(rates.reconnect!);
    if (dropAfter) counts.reconnect.count++;
    const pauseAfter = !dropAfter && (rates.slowConsumer ?? 0) > 0 && rng.chance(rates.slowConsumer!);
    if (pauseAfter) counts.slowConsumer.count++;
    messages.push({ payload: encode(batch), readings: batch.length, barrier, dropAfter, pauseAfter });
  };
  const batches =
    firstSent > 0 ? [main.slice(firstSent), ...chunk(main.slice(0, firstSent), batchSize)] : chunk(main, batchSize);
  for (const batch of batches) push(batch, false);
  chunk(followups, batchSize).forEach((batch, i) => push(batch, i === 0));
  return { messages, valid };
}
