import { isUtf8 } from 'node:buffer';
import { hash } from 'node:crypto';
import {
  acceptedUnits,
  inRange,
  PULSE_RANGE,
  type ReadingTypeSpec,
  readingTypeSpec,
  ucumCode,
} from '../domain/reading-types.ts';
import { parseMeasuredAt } from '../domain/timestamp.ts';
import { MAX_READINGS_PER_MESSAGE, READING_ID_PATTERN } from '../domain/protocol.ts';
import { describeIssues, readingFieldsSchema } from './payload.schema.ts';
import type { DecodedMessage, Rejection, ValidReading } from '../domain/reading.ts';
import type { RejectionReason } from '../domain/rejection-reasons.ts';
import { rawReading } from '../domain/raw-reading.ts';
import { cleanDetail } from '../domain/rejection-detail.ts';

export interface DecodeOptions {
  /** The service's clock, epoch milliseconds. */
  readonly now: number;
  /** device-protocol.md, "Time": readings older than this are `too_old` (default 90 days). */
  readonly maxAgeMs: number;
  /** device-protocol.md, "Time": readings later than now + this are `future` (5 minutes). */
  readonly maxFutureMs: number;
  /**
   * Readings before this instant are `too_old` too, whatever `now`: the horizon of
   * duplicate keys (src/domain/retention.ts), set when rejections are reprocessed
   * long after they were received, since `now` is then their received time.
   */
  readonly notBefore?: number;
}

const UTF8_BOM = 0xfeff;

type ReadingOutcome = { ok: true; reading: ValidReading } | { ok: false; rejection: Rejection };

/**
 * Decodes one MQTT payload into valid readings and rejections, exactly as
 * device-protocol.md says ("Payload", "Types", "Time", "Rejections"). Pure: the
 * clock comes in `options`; nothing here throws on device input.
 */
export function decodeMessage(payload: Buffer, options: DecodeOptions): DecodedMessage {
  if (!isUtf8(payload)) {
    return messageRejected('invalid_json', 'the message is not valid UTF-8; send UTF-8 JSON', payload);
  }
  let text = payload.toString('utf8');
  if (text.charCodeAt(0) === UTF8_BOM) text = text.slice(1);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    const why = error instanceof SyntaxError ? `: ${error.message}` : '';
    return messageRejected('invalid_json', `the message is not valid JSON${why}`, payload);
  }
  if (!isPlainObject(parsed)) {
    return messageRejected(
      'invalid_shape',
      'the message must be one reading object or {"readings": [...]} with 1 to 1000 readings',
      payload,
    );
  }
  if (!('readings' in parsed)) {
    return collect([decodeReading(parsed, options)]);
  }
  const list = parsed.readings;
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_READINGS_PER_MESSAGE) {
    const got = Array.isArray(list) ? `${list.length} readings` : 'not an array';
    return messageRejected(
      'invalid_shape',
      `"readings" must be an array of 1 to ${MAX_READINGS_PER_MESSAGE} reading objects (got ${got})`,
      payload,
    );
  }
  const outcomes: ReadingOutcome[] = new Array(list.length);
  for (let i = 0; i < list.length; i++) outcomes[i] = decodeReading(list[i], options);
  return collect(outcomes);
}

/** Validates one reading object (already parsed from JSON). */
export function decodeReading(input: unknown, options: DecodeOptions): ReadingOutcome {
  if (!isPlainObject(input)) {
    return rejected(null, 'invalid_reading', 'a reading must be a JSON object', input);
  }
  const idOrNull = typeof input.id === 'string' && READING_ID_PATTERN.test(input.id) ? input.id : null;
  const fields = readingFieldsSchema.safeParse(input, { reportInput: true });
  if (!fields.success) {
    return rejected(idOrNull, 'invalid_reading', describeIssues(fields.error), input);
  }
  const r = fields.data;
  const spec = readingTypeSpec(r.type);
  if (!spec) {
    return rejected(r.id, 'unknown_type', `type "${r.type}" is not one of the protocol's reading types`, input);
  }
  const fieldProblem = checkTypeFields(spec, r);
  if (fieldProblem) return rejected(r.id, 'invalid_reading', fieldProblem, input);

  const measuredAt = parseMeasuredAt(r.at);
  if (measuredAt === undefined) {
    return rejected(
      r.id,
      'invalid_reading',
      'at must be an RFC 3339 time with an offset (2026-11-22T08:15:00+01:00) or integer epoch milliseconds',
      input,
    );
  }
  // A common spelling (mmHg, bpm, °C, lbs, mg/dl, ...) stands for its UCUM code.
  const code = ucumCode(r.unit);
  // Own keys only: a unit such as "constructor" or "__proto__" must not reach Object.prototype.
  const convert = Object.hasOwn(spec.units, code) ? spec.units[code] : undefined;
  if (!convert) {
    return rejected(
      r.id,
      'unit',
      `unit "${r.unit}" is not accepted for ${spec.type}; send one of ${acceptedUnits(spec).join(', ')} (UCUM codes; device-protocol.md lists the common spellings accepted for them)`,
      input,
    );
  }

  let value: number | null = null;
  let systolic: number | null = null;
  let diastolic: number | null = null;
  const pulse = r.pulse ?? null;
  if (spec.type === 'blood_pressure') {
    systolic = convert(r.systolic as number);
    diastolic = convert(r.diastolic as number);
    const diastolicRange = spec.diastolicRange ?? spec.range;
    if (!inRange(systolic, spec.range) || !inRange(diastolic, diastolicRange)) {
      return rejected(
        r.id,
        'out_of_range',
        `blood pressure ${round(systolic)}/${round(diastolic)} ${spec.storedUnit} is outside the plausible range (systolic ${spec.range.min}-${spec.range.max}, diastolic ${diastolicRange.min}-${diastolicRange.max})`,
        input,
      );
    }
    if (pulse !== null && !inRange(pulse, PULSE_RANGE)) {
      return rejected(
        r.id,
        'out_of_range',
        `pulse ${pulse} /min is outside the plausible range ${PULSE_RANGE.min}-${PULSE_RANGE.max}`,
        input,
      );
    }
  } else {
    value = convert(r.value as number);
    if (!inRange(value, spec.range)) {
      return rejected(
        r.id,
        'out_of_range',
        `${spec.type} ${round(value)} ${spec.storedUnit} is outside the plausible range ${spec.range.min}-${spec.range.max}`,
        input,
      );
    }
  }

  if (measuredAt > options.now + options.maxFutureMs) {
    return rejected(
      r.id,
      'future',
      `at is more than ${options.maxFutureMs / 60_000} minutes after the service's clock; check the device's clock`,
      input,
    );
  }
  if (measuredAt < options.now - options.maxAgeMs) {
    return rejected(
      r.id,
      'too_old',
      `at is more than ${Math.round(options.maxAgeMs / 86_400_000)} days in the past; such readings are not accepted`,
      input,
    );
  }
  if (options.notBefore !== undefined && measuredAt < options.notBefore) {
    return rejected(
      r.id,
      'too_old',
      `at is before ${new Date(options.notBefore).toISOString()}, older than the time during which the service recognises duplicates; such a reading can no longer be stored`,
      input,
    );
  }

  const context = r.context ?? null;
  const reading: ValidReading = {
    readingId: r.id,
    type: spec.type,
    loinc: spec.loinc,
    measuredAt,
    unit: spec.storedUnit,
    value,
    systolic,
    diastolic,
    pulse,
    sentUnit: r.unit,
    sentValue: r.value ?? null,
    sentSystolic: r.systolic ?? null,
    sentDiastolic: r.diastolic ?? null,
    context,
    // The code, not the spelling: the same reading resent as "mmHg" or "mm[Hg]" is a duplicate.
    contentHash: contentHash(spec.type, measuredAt, code, r.value, r.systolic, r.diastolic, r.pulse, context),
    source: input,
  };
  return { ok: true, reading };
}

/** Field rules that depend on the type (device-protocol.md, "A reading object"). */
function checkTypeFields(spec: ReadingTypeSpec, r: { [k: string]: unknown }): string | undefined {
  if (spec.type === 'blood_pressure') {
    const missing = ['systolic', 'diastolic'].filter((k) => r[k] === undefined);
    if (missing.length > 0) return `${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} missing`;
    if (r.value !== undefined) return 'value is not allowed for blood_pressure; send systolic and diastolic';
    if ((r.diastolic as number) >= (r.systolic as number)) return 'diastolic must be lower than systolic';
  } else {
    if (r.value === undefined) return 'value is missing';
    const extra = ['systolic', 'diastolic', 'pulse'].filter((k) => r[k] !== undefined);
    if (extra.length > 0)
      return `${extra.join(', ')} ${extra.length > 1 ? 'are' : 'is'} only allowed for blood_pressure`;
  }
  if (spec.contexts && r.context !== undefined && !spec.contexts.includes(r.context as string)) {
    return `context must be one of ${spec.contexts.join(', ')} for ${spec.type}`;
  }
  return undefined;
}

/**
 * Same device, same id, same content is a duplicate; anything else is a conflict
 * (device-protocol.md, "What a PUBACK means"). Content is the reading as sent,
 * with `at` normalised to an instant so that two spellings of one time agree.
 */
function contentHash(
  type: string,
  at: number,
  unit: string,
  value: number | undefined,
  systolic: number | undefined,
  diastolic: number | undefined,
  pulse: number | undefined,
  context: string | null,
): string {
  return hash('sha1', `${type}|${at}|${unit}|${value}|${systolic}|${diastolic}|${pulse}|${context}`, 'base64');
}

function collect(outcomes: ReadingOutcome[]): DecodedMessage {
  const readings: ValidReading[] = [];
  const rejections: Rejection[] = [];
  for (let i = 0; i < outcomes.length; i++) {
    const o = outcomes[i];
    if (o.ok) readings.push(o.reading);
    else rejections.push({ ...o.rejection, position: i });
  }
  return { readings, rejections };
}

function messageRejected(reason: RejectionReason, detail: string, payload: Buffer): DecodedMessage {
  return { readings: [], rejections: [{ readingId: null, reason, detail: cleanDetail(detail), raw: payload }] };
}

function rejected(readingId: string | null, reason: RejectionReason, detail: string, input: unknown): ReadingOutcome {
  return { ok: false, rejection: { readingId, reason, detail: cleanDetail(detail), raw: rawReading(input) } };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function round(v: number): number {
  return Math.round(v * 10) / 10;
}
