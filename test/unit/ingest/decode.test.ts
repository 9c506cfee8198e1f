import { describe, expect, it } from 'vitest';
import { type DecodeOptions, decodeMessage } from '../../../src/ingest/decode.ts';
import type { DecodedMessage, Rejection, ValidReading } from '../../../src/domain/reading.ts';
import type { RejectionReason } from '../../../src/domain/rejection-reasons.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** The service's clock in every test: 2026-11-22T12:00:00.000Z. */
const NOW = Date.UTC(2026, 10, 22, 12, 0, 0, 0);
const OPTS: DecodeOptions = { now: NOW, maxAgeMs: 90 * DAY, maxFutureMs: 5 * MINUTE };

/** One hour before NOW. */
const AT = '2026-11-22T11:00:00Z';
const AT_MS = NOW - HOUR;

type Obj = Record<string, unknown>;

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

function bytes(message: unknown): Buffer {
  return Buffer.from(JSON.stringify(message), 'utf8');
}

function decode(message: unknown, options: DecodeOptions = OPTS): DecodedMessage {
  return decodeMessage(bytes(message), options);
}

function hr(fields: Obj = {}): Obj {
  return { id: 'r1', type: 'heart_rate', at: AT, value: 72, unit: '/min', ...fields };
}

function bp(fields: Obj = {}): Obj {
  return { id: 'r1', type: 'blood_pressure', at: AT, systolic: 120, diastolic: 80, unit: 'mm[Hg]', ...fields };
}

function of(type: string, unit: string, value: number, fields: Obj = {}): Obj {
  return { id: 'r1', type, at: AT, value, unit, ...fields };
}

function without(reading: Obj, ...keys: string[]): Obj {
  const copy = { ...reading };
  for (const key of keys) delete copy[key];
  return copy;
}

/** Decodes one reading object that must be accepted; returns the reading. */
function accept(reading: Obj, options: DecodeOptions = OPTS): ValidReading {
  const out = decode(reading, options);
  expect(out.rejections).toEqual([]);
  expect(out.readings).toHaveLength(1);
  return out.readings[0];
}

function expectDetail(rejection: Rejection): void {
  expect(typeof rejection.detail).toBe('string');
  expect(rejection.detail.trim().length).toBeGreaterThan(0);
}

/**
 * Decodes one reading object that must be rejected at reading level, and checks
 * the reason, the reading id and that `raw` is the reading object's JSON.
 */
function rejectReading(
  reading: unknown,
  reason: RejectionReason,
  readingId: string | null,
  options: DecodeOptions = OPTS,
): Rejection {
  const out = decode(reading, options);
  expect(out.readings).toEqual([]);
  expect(out.rejections).toHaveLength(1);
  const rejection = out.rejections[0];
  expect({ reason: rejection.reason, readingId: rejection.readingId }).toEqual({ reason, readingId });
  expect(Buffer.isBuffer(rejection.raw)).toBe(true);
  expect(rejection.raw.toString('utf8')).toBe(JSON.stringify(reading));
  expectDetail(rejection);
  return rejection;
}

/** Decodes raw bytes that must be rejected as a whole message (id null, raw = the exact bytes). */
function rejectMessage(payload: Buffer, reason: RejectionReason): Rejection {
  const copy = Buffer.from(payload);
  const out = decodeMessage(payload, OPTS);
  expect(out.readings).toEqual([]);
  expect(out.rejections).toHaveLength(1);
  const rejection = out.rejections[0];
  expect({ reason: rejection.reason, readingId: rejection.readingId }).toEqual({ reason, readingId: null });
  expect(Buffer.isBuffer(rejection.raw)).toBe(true);
  expect(rejection.raw.equals(copy)).toBe(true);
  expectDetail(rejection);
  return rejection;
}

function hashOf(reading: Obj): string {
  const r = accept(reading);
  expect(typeof r.contentHash).toBe('string');
  expect(r.contentHash.length).toBeGreaterThan(0);
  return r.contentHash;
}

describe('decodeMessage', () => {
  it('the fixed clock is 2026-11-22T12:00:00Z and 90 days before is 2026-08-24T12:00:00Z', () => {
    expect(NOW).toBe(Date.parse('2026-11-22T12:00:00.000Z'));
    expect(NOW - 90 * DAY).toBe(Date.UTC(2026, 7, 24, 12, 0, 0));
  });

  describe('a single reading of each type', () => {
    // [type, sent unit, sent value, stored value (hand-computed), LOINC, stored unit]
    const cases: [string, string, number, number, string, string][] = [
      ['heart_rate', '/min', 72, 72, '8867-4', '/min'],
      ['spo2', '%', 97, 97, '59408-5', '%'],
      ['body_weight', 'kg', 72.5, 72.5, '29463-7', 'kg'],
      ['body_weight', 'g', 72500, 72.5, '29463-7', 'kg'],
      ['body_weight', '[lb_av]', 154, 69.85322498, '29463-7', 'kg'],
      ['body_temperature', 'Cel', 36.6, 36.6, '8310-5', 'Cel'],
      ['body_temperature', '[degF]', 98.6, 37, '8310-5', 'Cel'],
      ['blood_glucose', 'mg/dL', 99, 99, '41653-7', 'mg/dL'],
      ['blood_glucose', 'mmol/L', 5.5, 99.0858, '41653-7', 'mg/dL'],
      ['cgm_glucose', 'mg/dL', 110, 110, '99504-3', 'mg/dL'],
      ['cgm_glucose', 'mmol/L', 6.1, 109.89516, '99504-3', 'mg/dL'],
      ['respiratory_rate', '/min', 16, 16, '9279-1', '/min'],
      ['steps', '{steps}', 1234, 1234, '55423-8', '{steps}'],
    ];

    it('the cases below with blood pressure cover all nine protocol types', () => {
      expect(new Set([...cases.map((c) => c[0]), 'blood_pressure']).size).toBe(9);
    });

    it.each(cases)('%s in %s: %d -> %d, LOINC %s, stored in %s', (type, unit, sent, stored, loinc, storedUnit) => {
      const input = of(type, unit, sent, { id: `${type}-1` });
      const r = accept(input);
      expect(r.readingId).toBe(`${type}-1`);
      expect(r.type).toBe(type);
      expect(r.loinc).toBe(loinc);
      expect(r.unit).toBe(storedUnit);
      expect(typeof r.value).toBe('number');
      expect(r.value).toBeCloseTo(stored, 6);
      expect(r.sentUnit).toBe(unit);
      expect(r.sentValue).toBe(sent);
      expect(r.systolic).toBeNull();
      expect(r.diastolic).toBeNull();
      expect(r.pulse).toBeNull();
      expect(r.sentSystolic).toBeNull();
      expect(r.sentDiastolic).toBeNull();
      expect(r.context).toBeNull();
      expect(r.measuredAt).toBe(AT_MS);
      expect(r.source).toEqual(input);
    });

    it('a heart rate reading, every field', () => {
      const input = hr();
      const r = accept(input);
      expect(r).toEqual({
        readingId: 'r1',
        type: 'heart_rate',
        loinc: '8867-4',
        measuredAt: AT_MS,
        unit: '/min',
        value: 72,
        systolic: null,
        diastolic: null,
        pulse: null,
        sentUnit: '/min',
        sentValue: 72,
        sentSystolic: null,
        sentDiastolic: null,
        context: null,
        contentHash: expect.any(String),
        source: input,
      });
    });

    it('blood pressure in mm[Hg], without pulse', () => {
      const r = accept(bp());
      expect(r.type).toBe('blood_pressure');
      expect(r.loinc).toBe('85354-9');
      expect(r.unit).toBe('mm[Hg]');
      expect(r.systolic).toBe(120);
      expect(r.diastolic).toBe(80);
      expect(r.pulse).toBeNull();
      expect(r.value).toBeNull();
      expect(r.sentValue).toBeNull();
      expect(r.sentUnit).toBe('mm[Hg]');
      expect(r.sentSystolic).toBe(120);
      expect(r.sentDiastolic).toBe(80);
    });

    it('blood pressure in kPa is converted to mm[Hg] (x 7.50062), pulse kept in /min', () => {
      const input = bp({ systolic: 16, diastolic: 10.6, pulse: 72, unit: 'kPa' });
      const r = accept(input);
      expect(r.loinc).toBe('85354-9');
      expect(r.unit).toBe('mm[Hg]');
      expect(r.systolic).toBeCloseTo(120.00992, 6);
      expect(r.diastolic).toBeCloseTo(79.506572, 6);
      expect(r.pulse).toBe(72);
      expect(r.value).toBeNull();
      expect(r.sentUnit).toBe('kPa');
      expect(r.sentSystolic).toBe(16);
      expect(r.sentDiastolic).toBe(10.6);
      expect(r.sentValue).toBeNull();
      expect(r.source).toEqual(input);
    });

    it('blood pressure with pulse in mm[Hg]', () => {
      const r = accept(bp({ pulse: 64 }));
      expect([r.systolic, r.diastolic, r.pulse]).toEqual([120, 80, 64]);
    });

    it.each(['fasting', 'before_meal', 'after_meal', 'bedtime'])('glucose context %s is kept', (context) => {
      expect(accept(of('blood_glucose', 'mg/dL', 99, { context })).context).toBe(context);
      expect(accept(of('cgm_glucose', 'mg/dL', 99, { context })).context).toBe(context);
    });

    it('a context on a non-glucose type is kept as text', () => {
      expect(accept(hr({ context: 'resting' })).context).toBe('resting');
    });

    it('at as integer epoch milliseconds', () => {
      expect(accept(hr({ at: AT_MS })).measuredAt).toBe(AT_MS);
    });

    it('at with an offset and fractional seconds', () => {
      expect(accept(hr({ at: '2026-11-22T05:30:00.250-05:30' })).measuredAt).toBe(NOW - HOUR + 250);
    });

    it.each([
      ['64 characters', 'a'.repeat(64)],
      ['one character', 'x'],
      ['every allowed character class', 'AZaz09._:-'],
      ['a URN UUID', 'urn:uuid:0f8fad5b-d9cb-469f-a165-70867728950e'],
      ['a counter', '000123'],
    ])('reading id of %s', (_name, id) => {
      expect(accept(hr({ id })).readingId).toBe(id);
    });
  });

  describe('payload framing', () => {
    it('a batch of 1000 readings is accepted, in order', () => {
      const list = Array.from({ length: 1000 }, (_, i) =>
        hr({ id: `r-${i}`, at: AT_MS - i * 1000, value: 40 + (i % 100) }),
      );
      const out = decode({ readings: list });
      expect(out.rejections).toEqual([]);
      expect(out.readings).toHaveLength(1000);
      expect(out.readings.map((r) => r.readingId)).toEqual(list.map((r) => r.id));
      expect(out.readings[999].measuredAt).toBe(AT_MS - 999_000);
      expect(out.readings[999].value).toBe(40 + 99);
    });

    it('a batch of one reading is accepted', () => {
      const out = decode({ readings: [hr()] });
      expect(out.rejections).toEqual([]);
      expect(out.readings.map((r) => r.readingId)).toEqual(['r1']);
    });

    it('a batch mixing valid and invalid readings yields both lists, in order, with the right reasons', () => {
      const elements: unknown[] = [
        hr({ id: 'ok-1' }),
        without(hr({ id: 'bad-missing-value' }), 'value'),
        of('spo2', '%', 98, { id: 'ok-2' }),
        hr({ id: 'bad-type', type: 'ecg' }),
        hr({ id: 'bad-unit', unit: 'kg' }),
        bp({ id: 'ok-3', unit: 'kPa', systolic: 16, diastolic: 10.6 }),
        hr({ id: 'bad-range', value: 301 }),
        hr({ id: 'bad-future', at: NOW + 5 * MINUTE + 1 }),
        hr({ id: 'bad-old', at: NOW - 90 * DAY - 1 }),
        42,
        of('steps', '{steps}', 0, { id: 'ok-4' }),
      ];
      const out = decode({ readings: elements });
      expect(out.readings.map((r) => r.readingId)).toEqual(['ok-1', 'ok-2', 'ok-3', 'ok-4']);
      expect(out.rejections.map((r) => [r.readingId, r.reason])).toEqual([
        ['bad-missing-value', 'invalid_reading'],
        ['bad-type', 'unknown_type'],
        ['bad-unit', 'unit'],
        ['bad-range', 'out_of_range'],
        ['bad-future', 'future'],
        ['bad-old', 'too_old'],
        [null, 'invalid_reading'],
      ]);
      const invalidElements = [1, 3, 4, 6, 7, 8, 9].map((i) => elements[i]);
      expect(out.rejections.map((r) => r.raw.toString('utf8'))).toEqual(invalidElements.map((e) => JSON.stringify(e)));
      for (const rejection of out.rejections) expectDetail(rejection);
    });

    it('a batch where every reading is invalid yields only rejections', () => {
      const out = decode({ readings: [hr({ id: 'a', value: 1 }), hr({ id: 'b', value: 1000 })] });
      expect(out.readings).toEqual([]);
      expect(out.rejections.map((r) => [r.readingId, r.reason])).toEqual([
        ['a', 'out_of_range'],
        ['b', 'out_of_range'],
      ]);
    });

    it('unknown extra fields in a reading are ignored (and kept in source)', () => {
      const input = hr({ battery: 87, firmware: { version: '1.2.3' }, tags: ['a'], note: null });
      const r = accept(input);
      expect(r.value).toBe(72);
      expect(r.source).toEqual(input);
      expect(r.contentHash).toBe(hashOf(hr()));
    });

    it('unknown extra fields next to "readings" are ignored', () => {
      const out = decode({ gateway: 'gw-7', sentAt: AT, readings: [hr()] });
      expect(out.rejections).toEqual([]);
      expect(out.readings.map((r) => r.readingId)).toEqual(['r1']);
    });

    it('a UTF-8 byte order mark before a single reading is accepted', () => {
      const out = decodeMessage(Buffer.concat([BOM, bytes(hr())]), OPTS);
      expect(out.rejections).toEqual([]);
      expect(out.readings.map((r) => [r.readingId, r.value])).toEqual([['r1', 72]]);
    });

    it('a UTF-8 byte order mark before a batch is accepted', () => {
      const out = decodeMessage(Buffer.concat([BOM, bytes({ readings: [hr({ id: 'a' }), hr({ id: 'b' })] })]), OPTS);
      expect(out.rejections).toEqual([]);
      expect(out.readings.map((r) => r.readingId)).toEqual(['a', 'b']);
    });

    it('after a byte order mark, a rejected reading keeps the reading JSON (no BOM) as raw', () => {
      const input = hr({ value: 500 });
      const out = decodeMessage(Buffer.concat([BOM, bytes(input)]), OPTS);
      expect(out.rejections).toHaveLength(1);
      expect(out.rejections[0].reason).toBe('out_of_range');
      expect(out.rejections[0].raw.toString('utf8')).toBe(JSON.stringify(input));
    });

    it('whitespace around the JSON and non-ASCII text in extra fields are fine', () => {
      const out = decodeMessage(Buffer.from(`\n  ${JSON.stringify(hr({ note: 'café ☕ 心拍' }))}  \r\n`, 'utf8'), OPTS);
      expect(out.rejections).toEqual([]);
      expect(out.readings).toHaveLength(1);
    });
  });

  describe('common spellings of the units (device-protocol.md 1.1)', () => {
    // [type, spelling sent, value sent, stored value, stored unit]
    const spellings: [string, string, number, number, string][] = [
      ['heart_rate', 'bpm', 72, 72, '/min'],
      ['heart_rate', 'beats/min', 72, 72, '/min'],
      ['respiratory_rate', 'breaths/min', 16, 16, '/min'],
      ['body_temperature', '°C', 36.6, 36.6, 'Cel'],
      ['body_temperature', 'C', 36.6, 36.6, 'Cel'],
      ['body_temperature', '°F', 98.6, 37, 'Cel'],
      ['body_temperature', 'F', 98.6, 37, 'Cel'],
      ['body_weight', 'lb', 154, 69.85322498, 'kg'],
      ['body_weight', 'lbs', 154, 69.85322498, 'kg'],
      ['blood_glucose', 'mg/dl', 99, 99, 'mg/dL'],
      ['cgm_glucose', 'mmol/l', 6.1, 109.89516, 'mg/dL'],
      ['steps', 'steps', 1234, 1234, '{steps}'],
    ];
    it.each(spellings)('%s in %j: stored under the code, the spelling kept', (type, unit, sent, stored, storedUnit) => {
      const r = accept(of(type, unit, sent));
      expect(r.unit).toBe(storedUnit);
      expect(r.value).toBeCloseTo(stored, 6);
      expect(r.sentUnit).toBe(unit);
      expect(r.sentValue).toBe(sent);
    });

    it('blood pressure in mmHg', () => {
      const r = accept(bp({ unit: 'mmHg' }));
      expect(r).toMatchObject({ unit: 'mm[Hg]', systolic: 120, diastolic: 80, sentUnit: 'mmHg' });
    });

    it('a reading resent with the code instead of the spelling is the same reading (a duplicate, not a conflict)', () => {
      expect(hashOf(bp({ unit: 'mmHg' }))).toBe(hashOf(bp({ unit: 'mm[Hg]' })));
      expect(hashOf(hr({ unit: 'bpm' }))).toBe(hashOf(hr({ unit: '/min' })));
      expect(hashOf(of('body_weight', 'lbs', 154))).toBe(hashOf(of('body_weight', 'lb', 154)));
      expect(hashOf(of('body_weight', '[lb_av]', 154))).not.toBe(hashOf(of('body_weight', 'kg', 154)));
    });
  });

  describe('contentHash', () => {
    it('is equal for the same instant written with Z, an offset, or epoch milliseconds', () => {
      const z = hashOf(hr({ at: '2026-11-22T11:00:00Z' }));
      expect(hashOf(hr({ at: '2026-11-22T12:00:00+01:00' }))).toBe(z);
      expect(hashOf(hr({ at: '2026-11-22T05:30:00-05:30' }))).toBe(z);
      expect(hashOf(hr({ at: '2026-11-22t11:00:00.000z' }))).toBe(z);
      expect(hashOf(hr({ at: AT_MS }))).toBe(z);
    });

    it('is stable for the same reading decoded twice', () => {
      expect(hashOf(hr())).toBe(hashOf(hr()));
    });

    it('differs when the value differs', () => {
      expect(hashOf(hr({ value: 73 }))).not.toBe(hashOf(hr({ value: 72 })));
      expect(hashOf(hr({ value: 72.5 }))).not.toBe(hashOf(hr({ value: 72 })));
    });

    it('differs when the instant differs', () => {
      expect(hashOf(hr({ at: '2026-11-22T11:00:01Z' }))).not.toBe(hashOf(hr()));
      expect(hashOf(hr({ at: '2026-11-22T11:00:00+01:00' }))).not.toBe(hashOf(hr()));
    });

    it('differs when the type differs', () => {
      expect(hashOf(of('respiratory_rate', '/min', 20))).not.toBe(hashOf(of('heart_rate', '/min', 20)));
    });

    it('differs when a blood pressure component or the pulse differs', () => {
      const base = hashOf(bp({ pulse: 70 }));
      expect(hashOf(bp({ pulse: 70, systolic: 121 }))).not.toBe(base);
      expect(hashOf(bp({ pulse: 70, diastolic: 81 }))).not.toBe(base);
      expect(hashOf(bp({ pulse: 71 }))).not.toBe(base);
      expect(hashOf(bp())).not.toBe(base);
    });

    it('differs when the glucose context differs', () => {
      expect(hashOf(of('blood_glucose', 'mg/dL', 99, { context: 'fasting' }))).not.toBe(
        hashOf(of('blood_glucose', 'mg/dL', 99, { context: 'after_meal' })),
      );
      expect(hashOf(of('blood_glucose', 'mg/dL', 99, { context: 'fasting' }))).not.toBe(
        hashOf(of('blood_glucose', 'mg/dL', 99)),
      );
    });
  });

  describe('rejection invalid_json (message level, id null, raw = the payload)', () => {
    it.each([
      ['not JSON', 'hello'],
      ['empty', ''],
      ['only whitespace', '  \n'],
      ['truncated', '{"id":"r1","type":"heart_rate",'],
      ['single quotes', "{'id':'r1'}"],
      ['trailing comma', '{"readings":[{"id":"r1"},]}'],
      ['NaN literal', '{"id":"r1","value":NaN}'],
      ['undefined', 'undefined'],
      ['two JSON values', '{} {}'],
      ['a comment', '// x\n{}'],
    ])('%s', (_name, text) => {
      rejectMessage(Buffer.from(text, 'utf8'), 'invalid_json');
    });

    it.each([
      ['a 0xFF byte', [0x7b, 0x22, 0xff, 0x22, 0x7d]],
      ['a truncated multi-byte sequence', [0x22, 0xe2, 0x82, 0x22]],
      ['an overlong encoding of "/"', [0x22, 0xc0, 0xaf, 0x22]],
      ['an encoded surrogate (CESU-8)', [0x22, 0xed, 0xa0, 0x80, 0x22]],
      ['a lone continuation byte', [0x22, 0x80, 0x22]],
    ])('invalid UTF-8: %s', (_name, octets) => {
      rejectMessage(Buffer.from(octets), 'invalid_json');
    });

    it('valid JSON except that a string is Latin-1 encoded', () => {
      rejectMessage(Buffer.from(JSON.stringify(hr({ note: 'café' })), 'latin1'), 'invalid_json');
    });

    it('UTF-16 encoded JSON', () => {
      rejectMessage(Buffer.from(JSON.stringify(hr()), 'utf16le'), 'invalid_json');
    });

    it('a byte order mark with nothing after it', () => {
      rejectMessage(Buffer.from(BOM), 'invalid_json');
    });

    it('two byte order marks', () => {
      rejectMessage(Buffer.concat([BOM, BOM, bytes(hr())]), 'invalid_json');
    });

    it('a byte order mark before invalid JSON keeps the BOM in raw', () => {
      const rejection = rejectMessage(Buffer.concat([BOM, Buffer.from('{oops')]), 'invalid_json');
      expect(rejection.raw[0]).toBe(0xef);
    });
  });

  describe('rejection invalid_shape (message level, id null, raw = the payload)', () => {
    it.each([
      ['an array of readings at the top level', JSON.stringify([hr()])],
      ['an empty array', '[]'],
      ['a number', '42'],
      ['a string', '"r1"'],
      ['null', 'null'],
      ['true', 'true'],
      ['no readings', '{"readings": []}'],
      ['readings an object', JSON.stringify({ readings: hr() })],
      ['readings a string', '{"readings": "r1"}'],
      ['readings null', '{"readings": null}'],
      ['readings a number', '{"readings": 3}'],
      ['oddly spaced', ' [ 1 , 2 ]\n'],
    ])('%s', (_name, text) => {
      rejectMessage(Buffer.from(text, 'utf8'), 'invalid_shape');
    });

    it('1001 readings', () => {
      const list = Array.from({ length: 1001 }, (_, i) => hr({ id: `r-${i}` }));
      rejectMessage(bytes({ readings: list }), 'invalid_shape');
    });

    it('a byte order mark before an array keeps the BOM in raw', () => {
      rejectMessage(Buffer.concat([BOM, Buffer.from('[]')]), 'invalid_shape');
    });
  });

  describe('rejection invalid_reading', () => {
    describe('without a usable id (readingId null)', () => {
      it.each([
        ['missing id', without(hr(), 'id')],
        ['id null', hr({ id: null })],
        ['id a number', hr({ id: 123 })],
        ['id empty', hr({ id: '' })],
        ['id with a space', hr({ id: 'a b' })],
        ['id with a slash', hr({ id: 'a/b' })],
        ['id with a plus', hr({ id: 'a+b' })],
        ['id with a non-ASCII letter', hr({ id: 'café' })],
        ['id with a newline', hr({ id: 'r1\n' })],
        ['id of 65 characters', hr({ id: 'a'.repeat(65) })],
      ])('%s', (_name, reading) => {
        rejectReading(reading, 'invalid_reading', null);
      });
    });

    describe('elements of "readings" that are not objects', () => {
      it.each([
        ['a number', 42],
        ['a string', 'r1'],
        ['null', null],
        ['an array', [hr()]],
        ['true', true],
      ])('%s', (_name, element) => {
        const out = decode({ readings: [element, hr({ id: 'ok' })] });
        expect(out.readings.map((r) => r.readingId)).toEqual(['ok']);
        expect(out.rejections).toHaveLength(1);
        const rejection = out.rejections[0];
        expect([rejection.readingId, rejection.reason]).toEqual([null, 'invalid_reading']);
        expect(rejection.raw.toString('utf8')).toBe(JSON.stringify(element));
        expectDetail(rejection);
      });
    });

    describe('a field missing, of the wrong type, or not allowed (readingId kept)', () => {
      it.each([
        ['missing type', without(hr(), 'type')],
        ['type a number', hr({ type: 7 })],
        ['type null', hr({ type: null })],
        ['missing at', without(hr(), 'at')],
        ['at null', hr({ at: null })],
        ['at not a time', hr({ at: 'yesterday' })],
        ['at without offset', hr({ at: '2026-11-22T11:00:00' })],
        ['at an impossible date', hr({ at: '2026-02-30T11:00:00Z' })],
        ['at month 13', hr({ at: '2026-13-01T11:00:00Z' })],
        ['at hour 24', hr({ at: '2026-11-22T24:00:00Z' })],
        ['at a float epoch', hr({ at: AT_MS + 0.5 })],
        ['at epoch milliseconds as a string', hr({ at: String(AT_MS) })],
        ['at an unsafe integer', hr({ at: 2 ** 60 })],
        ['at true', hr({ at: true })],
        ['at an object', hr({ at: { ms: AT_MS } })],
        ['missing value', without(hr(), 'value')],
        ['value a string', hr({ value: '72' })],
        ['value null', hr({ value: null })],
        ['value true', hr({ value: true })],
        ['value an array', hr({ value: [72] })],
        ['value an object', hr({ value: { v: 72 } })],
        ['missing unit', without(hr(), 'unit')],
        ['unit a number', hr({ unit: 1 })],
        ['unit null', hr({ unit: null })],
        ['systolic on heart_rate', hr({ systolic: 120 })],
        ['diastolic on heart_rate', hr({ diastolic: 80 })],
        ['pulse on heart_rate', hr({ pulse: 72 })],
        ['value on blood_pressure', bp({ value: 120 })],
        ['missing systolic', without(bp(), 'systolic')],
        ['missing diastolic', without(bp(), 'diastolic')],
        ['missing systolic and diastolic', without(bp(), 'systolic', 'diastolic')],
        ['blood_pressure with only value', without(bp({ value: 120 }), 'systolic', 'diastolic')],
        ['diastolic equal to systolic', bp({ systolic: 100, diastolic: 100 })],
        ['diastolic above systolic', bp({ systolic: 80, diastolic: 120 })],
        ['diastolic above systolic in kPa', bp({ unit: 'kPa', systolic: 10.6, diastolic: 16 })],
        ['systolic a string', bp({ systolic: '120' })],
        ['pulse a string', bp({ pulse: '72' })],
        ['pulse null', bp({ pulse: null })],
        ['blood glucose context not in the list', of('blood_glucose', 'mg/dL', 99, { context: 'lunch' })],
        ['blood glucose context in upper case', of('blood_glucose', 'mg/dL', 99, { context: 'FASTING' })],
        ['blood glucose context empty', of('blood_glucose', 'mg/dL', 99, { context: '' })],
        ['cgm glucose context not in the list', of('cgm_glucose', 'mg/dL', 99, { context: 'snack' })],
        ['context a number', of('blood_glucose', 'mg/dL', 99, { context: 1 })],
      ])('%s', (_name, reading) => {
        rejectReading(reading, 'invalid_reading', 'r1');
      });

      it('a value that is not finite (1e400 parses to Infinity)', () => {
        const text = '{"id":"r1","type":"heart_rate","at":"2026-11-22T11:00:00Z","value":1e400,"unit":"/min"}';
        const out = decodeMessage(Buffer.from(text), OPTS);
        expect(out.readings).toEqual([]);
        expect(out.rejections.map((r) => [r.readingId, r.reason])).toEqual([['r1', 'invalid_reading']]);
        expectDetail(out.rejections[0]);
      });

      it('a non-finite systolic and pulse', () => {
        const text = JSON.stringify(bp({ pulse: 70 }));
        for (const patched of [text.replace('120', '1e999'), text.replace('70', '-1e999')]) {
          const out = decodeMessage(Buffer.from(patched), OPTS);
          expect(out.rejections.map((r) => [r.readingId, r.reason])).toEqual([['r1', 'invalid_reading']]);
        }
      });

      it('names the offending field in the detail', () => {
        expect(rejectReading(without(hr(), 'value'), 'invalid_reading', 'r1').detail).toContain('value');
        expect(rejectReading(without(hr(), 'at'), 'invalid_reading', 'r1').detail).toMatch(/\bat\b/);
        expect(rejectReading(hr({ systolic: 120 }), 'invalid_reading', 'r1').detail).toContain('systolic');
        expect(rejectReading(bp({ systolic: 80, diastolic: 90 }), 'invalid_reading', 'r1').detail).toContain(
          'diastolic',
        );
      });
    });
  });

  describe('rejection unknown_type', () => {
    it.each(['ecg', 'weight', 'HEART_RATE', 'heart-rate', 'heart_rate ', '', 'constructor', '__proto__', 'toString'])(
      'type %j',
      (type) => {
        rejectReading(hr({ type }), 'unknown_type', 'r1');
      },
    );

    it('an unknown type is reported as such even without the fields a known type needs', () => {
      rejectReading({ id: 'r1', type: 'ecg', at: AT, unit: 'mV', samples: [0.1, 0.2] }, 'unknown_type', 'r1');
    });
  });

  describe('rejection unit', () => {
    it.each([
      ['heart_rate', 'kg'],
      ['heart_rate', '/s'],
      ['heart_rate', ''],
      ['heart_rate', '/MIN'],
      ['spo2', '/min'],
      ['spo2', 'percent'],
      ['body_weight', '[lb_av] '],
      ['body_weight', 'mg/dL'],
      ['body_weight', 'Kg'],
      ['body_temperature', 'degF'],
      ['body_temperature', 'kg'],
      ['blood_glucose', 'kPa'],
      ['cgm_glucose', 'mmol'],
      ['respiratory_rate', '%'],
      ['steps', '/min'],
      // A spelling accepted for another type's code is not this type's unit.
      ['spo2', 'bpm'],
      ['body_weight', 'C'],
      ['body_temperature', 'lbs'],
      ['heart_rate', 'steps'],
      // Matching is exact: no other case folding.
      ['heart_rate', 'BPM'],
      ['body_weight', 'LB'],
      ['blood_glucose', 'MG/DL'],
    ])('%s in %j', (type, unit) => {
      rejectReading(of(type, unit, 50), 'unit', 'r1');
    });

    it.each([['mmhg'], ['mm Hg'], ['mm[hg]'], ['kpa'], ['/min']])('blood_pressure in %j', (unit) => {
      rejectReading(bp({ unit }), 'unit', 'r1');
    });

    it.each([
      'constructor',
      'toString',
      'valueOf',
      '__proto__',
      'hasOwnProperty',
      'isPrototypeOf',
      'propertyIsEnumerable',
      'toLocaleString',
    ])('a unit named like an Object.prototype member, %j, is not accepted', (unit) => {
      rejectReading(hr({ unit }), 'unit', 'r1');
      rejectReading(bp({ unit }), 'unit', 'r1');
      rejectReading(of('body_weight', unit, 70), 'unit', 'r1');
    });

    it('the detail lists the accepted units', () => {
      const rejection = rejectReading(of('body_weight', 'stone', 150), 'unit', 'r1');
      for (const unit of ['kg', 'g', '[lb_av]']) expect(rejection.detail).toContain(unit);
    });
  });

  describe('rejection out_of_range, inclusive bounds, in the stored unit', () => {
    // [type, stored unit, just below min, min, max, just above max]
    const bounds: [string, string, number, number, number, number][] = [
      ['heart_rate', '/min', 19, 20, 300, 301],
      ['spo2', '%', 49.9, 50, 100, 100.1],
      ['body_weight', 'kg', 0.49, 0.5, 500, 500.01],
      ['body_temperature', 'Cel', 24.9, 25, 45, 45.1],
      ['blood_glucose', 'mg/dL', 9.9, 10, 1000, 1000.1],
      ['cgm_glucose', 'mg/dL', 19.9, 20, 500, 500.1],
      ['respiratory_rate', '/min', 1.9, 2, 80, 80.1],
      ['steps', '{steps}', -1, 0, 100000, 100001],
    ];

    describe.each(bounds)('%s (%s)', (type, unit, below, min, max, above) => {
      it(`${below} is rejected`, () => {
        rejectReading(of(type, unit, below), 'out_of_range', 'r1');
      });
      it(`${min} (min) is accepted`, () => {
        expect(accept(of(type, unit, min)).value).toBe(min);
      });
      it(`${max} (max) is accepted`, () => {
        expect(accept(of(type, unit, max)).value).toBe(max);
      });
      it(`${above} is rejected`, () => {
        rejectReading(of(type, unit, above), 'out_of_range', 'r1');
      });
    });

    it('a negative heart rate and zero are rejected', () => {
      rejectReading(hr({ value: -72 }), 'out_of_range', 'r1');
      rejectReading(hr({ value: 0 }), 'out_of_range', 'r1');
    });

    describe('blood pressure in mm[Hg]', () => {
      it.each([
        [50, 20],
        [300, 200],
        [300, 20],
        [201, 200],
      ])('%d/%d is accepted', (systolic, diastolic) => {
        const r = accept(bp({ systolic, diastolic }));
        expect([r.systolic, r.diastolic]).toEqual([systolic, diastolic]);
      });

      it.each([
        ['systolic below 50', 49, 30],
        ['systolic above 300', 301, 80],
        ['diastolic below 20', 120, 19],
        ['diastolic above 200', 250, 201],
      ])('%s (%d/%d) is rejected', (_name, systolic, diastolic) => {
        rejectReading(bp({ systolic, diastolic }), 'out_of_range', 'r1');
      });

      it.each([19, 301, -1, 0])('pulse %d is rejected', (pulse) => {
        rejectReading(bp({ pulse }), 'out_of_range', 'r1');
      });

      it.each([20, 300])('pulse %d (bound) is accepted', (pulse) => {
        expect(accept(bp({ pulse })).pulse).toBe(pulse);
      });
    });

    describe('checked after conversion', () => {
      it('cgm_glucose 1.0 mmol/L = 18.0156 mg/dL is below 20', () => {
        rejectReading(of('cgm_glucose', 'mmol/L', 1.0), 'out_of_range', 'r1');
      });

      it('cgm_glucose 1.11 mmol/L = 19.997316 mg/dL is below 20; 1.12 mmol/L = 20.177472 is accepted', () => {
        rejectReading(of('cgm_glucose', 'mmol/L', 1.11), 'out_of_range', 'r1');
        expect(accept(of('cgm_glucose', 'mmol/L', 1.12)).value).toBeCloseTo(20.177472, 6);
      });

      it('cgm_glucose 27.8 mmol/L = 500.83368 mg/dL is above 500; 27.7 mmol/L = 499.03212 is accepted', () => {
        rejectReading(of('cgm_glucose', 'mmol/L', 27.8), 'out_of_range', 'r1');
        expect(accept(of('cgm_glucose', 'mmol/L', 27.7)).value).toBeCloseTo(499.03212, 6);
      });

      it('blood_glucose 1.0 mmol/L = 18.0156 mg/dL is accepted (range starts at 10)', () => {
        expect(accept(of('blood_glucose', 'mmol/L', 1.0)).value).toBeCloseTo(18.0156, 6);
      });

      it('blood_glucose 0.5 mmol/L = 9.0078 mg/dL is below 10; 55.6 mmol/L = 1001.66736 is above 1000', () => {
        rejectReading(of('blood_glucose', 'mmol/L', 0.5), 'out_of_range', 'r1');
        rejectReading(of('blood_glucose', 'mmol/L', 55.6), 'out_of_range', 'r1');
        expect(accept(of('blood_glucose', 'mmol/L', 55.5)).value).toBeCloseTo(999.8658, 6);
      });

      it('body_weight in g: 499 g = 0.499 kg rejected, 500 g and 500000 g accepted, 500001 g rejected', () => {
        rejectReading(of('body_weight', 'g', 499), 'out_of_range', 'r1');
        expect(accept(of('body_weight', 'g', 500)).value).toBeCloseTo(0.5, 12);
        expect(accept(of('body_weight', 'g', 500000)).value).toBeCloseTo(500, 12);
        rejectReading(of('body_weight', 'g', 500001), 'out_of_range', 'r1');
      });

      it('body_weight in [lb_av]: 1.1 lb = 0.4990 kg rejected, 1102.3 lb = 499.9949 kg accepted, 1102.4 lb rejected', () => {
        rejectReading(of('body_weight', '[lb_av]', 1.1), 'out_of_range', 'r1');
        expect(accept(of('body_weight', '[lb_av]', 1.2)).value).toBeCloseTo(0.544310844, 8);
        expect(accept(of('body_weight', '[lb_av]', 1102.3)).value).toBeCloseTo(499.994869, 5);
        rejectReading(of('body_weight', '[lb_av]', 1102.4), 'out_of_range', 'r1');
      });

      it('body_temperature in [degF]: 77 and 113 are exactly 25 and 45 Cel; 76.9 and 113.1 are outside', () => {
        expect(accept(of('body_temperature', '[degF]', 77)).value).toBeCloseTo(25, 12);
        expect(accept(of('body_temperature', '[degF]', 113)).value).toBeCloseTo(45, 12);
        rejectReading(of('body_temperature', '[degF]', 76.9), 'out_of_range', 'r1');
        rejectReading(of('body_temperature', '[degF]', 113.1), 'out_of_range', 'r1');
      });

      it('body_temperature 37 sent as [degF] (2.78 Cel) is rejected, 37 Cel is accepted', () => {
        rejectReading(of('body_temperature', '[degF]', 37), 'out_of_range', 'r1');
        expect(accept(of('body_temperature', 'Cel', 37)).value).toBe(37);
      });

      it('blood pressure in kPa: systolic 40 kPa = 300.0248 mm[Hg] is above 300', () => {
        rejectReading(bp({ unit: 'kPa', systolic: 40, diastolic: 10 }), 'out_of_range', 'r1');
        expect(accept(bp({ unit: 'kPa', systolic: 39.9, diastolic: 10 })).systolic).toBeCloseTo(299.274738, 5);
      });

      it('blood pressure in kPa: systolic 6.6 kPa = 49.504 mm[Hg] is below 50', () => {
        rejectReading(bp({ unit: 'kPa', systolic: 6.6, diastolic: 4 }), 'out_of_range', 'r1');
        expect(accept(bp({ unit: 'kPa', systolic: 6.7, diastolic: 4 })).systolic).toBeCloseTo(50.254154, 5);
      });

      it('blood pressure in kPa: diastolic 2.6 kPa = 19.5016 mm[Hg] is below 20', () => {
        rejectReading(bp({ unit: 'kPa', systolic: 16, diastolic: 2.6 }), 'out_of_range', 'r1');
        expect(accept(bp({ unit: 'kPa', systolic: 16, diastolic: 2.7 })).diastolic).toBeCloseTo(20.251674, 5);
      });

      it('blood pressure in kPa: diastolic 26.7 kPa = 200.2666 mm[Hg] is above 200', () => {
        rejectReading(bp({ unit: 'kPa', systolic: 30, diastolic: 26.7 }), 'out_of_range', 'r1');
      });

      it('pulse is not converted with kPa: pulse 19 is still rejected, 72 kept as 72', () => {
        rejectReading(bp({ unit: 'kPa', systolic: 16, diastolic: 10.6, pulse: 19 }), 'out_of_range', 'r1');
        expect(accept(bp({ unit: 'kPa', systolic: 16, diastolic: 10.6, pulse: 72 })).pulse).toBe(72);
      });
    });
  });

  describe('rejection future', () => {
    it('one millisecond over now + 5 minutes is rejected', () => {
      rejectReading(hr({ at: NOW + 5 * MINUTE + 1 }), 'future', 'r1');
    });

    it('exactly now + 5 minutes is accepted', () => {
      expect(accept(hr({ at: NOW + 5 * MINUTE })).measuredAt).toBe(NOW + 5 * MINUTE);
      expect(accept(hr({ at: '2026-11-22T12:05:00Z' })).measuredAt).toBe(NOW + 5 * MINUTE);
      expect(accept(hr({ at: '2026-11-22T13:05:00+01:00' })).measuredAt).toBe(NOW + 5 * MINUTE);
    });

    it('just over, as RFC 3339 text, with Z and with an offset', () => {
      rejectReading(hr({ at: '2026-11-22T12:05:00.001Z' }), 'future', 'r1');
      rejectReading(hr({ at: '2026-11-22T13:05:01+01:00' }), 'future', 'r1');
      rejectReading(hr({ at: '2026-11-22T07:05:01-05:00' }), 'future', 'r1');
    });

    it('a time that looks past in local digits but is future as an instant', () => {
      // 11:00 at -05:00 is 16:00Z, four hours after NOW.
      rejectReading(hr({ at: '2026-11-22T11:00:00-05:00' }), 'future', 'r1');
    });

    it('far in the future', () => {
      rejectReading(hr({ at: '2030-01-01T00:00:00Z' }), 'future', 'r1');
      rejectReading(hr({ at: 8.64e15 }), 'future', 'r1');
    });

    it('now itself is accepted', () => {
      expect(accept(hr({ at: NOW })).measuredAt).toBe(NOW);
    });

    it('uses maxFutureMs from the options', () => {
      const strict = { ...OPTS, maxFutureMs: 0 };
      expect(accept(hr({ at: NOW }), strict).measuredAt).toBe(NOW);
      rejectReading(hr({ at: NOW + 1 }), 'future', 'r1', strict);
    });

    it('applies to blood pressure too', () => {
      rejectReading(bp({ at: NOW + HOUR }), 'future', 'r1');
    });
  });

  describe('rejection too_old', () => {
    it('one millisecond older than 90 days is rejected', () => {
      rejectReading(hr({ at: NOW - 90 * DAY - 1 }), 'too_old', 'r1');
      rejectReading(hr({ at: '2026-08-24T11:59:59.999Z' }), 'too_old', 'r1');
    });

    it('exactly 90 days old is accepted', () => {
      expect(accept(hr({ at: NOW - 90 * DAY })).measuredAt).toBe(NOW - 90 * DAY);
      expect(accept(hr({ at: '2026-08-24T12:00:00Z' })).measuredAt).toBe(NOW - 90 * DAY);
      expect(accept(hr({ at: '2026-08-24T14:00:00+02:00' })).measuredAt).toBe(NOW - 90 * DAY);
    });

    it('late readings within 90 days are accepted (store and forward)', () => {
      expect(accept(hr({ at: '2026-09-01T00:00:00Z' })).measuredAt).toBe(Date.UTC(2026, 8, 1));
    });

    it('the epoch, a negative epoch and year 0050 are too old', () => {
      rejectReading(hr({ at: 0 }), 'too_old', 'r1');
      rejectReading(hr({ at: -1 }), 'too_old', 'r1');
      rejectReading(hr({ at: '1970-01-01T00:00:00Z' }), 'too_old', 'r1');
      rejectReading(hr({ at: '0050-01-01T00:00:00Z' }), 'too_old', 'r1');
    });

    it('uses maxAgeMs from the options', () => {
      const oneDay = { ...OPTS, maxAgeMs: DAY };
      expect(accept(hr({ at: NOW - DAY }), oneDay).measuredAt).toBe(NOW - DAY);
      rejectReading(hr({ at: NOW - DAY - 1 }), 'too_old', 'r1', oneDay);
    });
  });

  describe('rejection raw and detail', () => {
    it('a reading-level rejection inside a batch keeps only that reading object as raw', () => {
      const bad = hr({ id: 'bad', unit: 'kg', extra: { nested: [1, 'two'] } });
      const out = decode({ gateway: 'gw', readings: [hr({ id: 'ok' }), bad] });
      expect(out.rejections).toHaveLength(1);
      expect(out.rejections[0].raw.toString('utf8')).toBe(JSON.stringify(bad));
      expect(JSON.parse(out.rejections[0].raw.toString('utf8'))).toEqual(bad);
    });

    it('every reason the decoder produces comes with a non-empty detail', () => {
      const messages: [Buffer, RejectionReason][] = [
        [Buffer.from('nope'), 'invalid_json'],
        [Buffer.from([0xff]), 'invalid_json'],
        [Buffer.from('[]'), 'invalid_shape'],
        [Buffer.from('{"readings":[]}'), 'invalid_shape'],
        [bytes(without(hr(), 'id')), 'invalid_reading'],
        [bytes({ readings: [1] }), 'invalid_reading'],
        [bytes(hr({ at: 'x' })), 'invalid_reading'],
        [bytes(bp({ diastolic: 130 })), 'invalid_reading'],
        [bytes(hr({ type: 'x' })), 'unknown_type'],
        [bytes(hr({ unit: 'x' })), 'unit'],
        [bytes(hr({ value: 1 })), 'out_of_range'],
        [bytes(bp({ pulse: 1 })), 'out_of_range'],
        [bytes(hr({ at: NOW + HOUR })), 'future'],
        [bytes(hr({ at: 0 })), 'too_old'],
      ];
      const seen = new Set<RejectionReason>();
      for (const [payload, reason] of messages) {
        const out = decodeMessage(payload, OPTS);
        expect(out.rejections.map((r) => r.reason)).toEqual([reason]);
        expectDetail(out.rejections[0]);
        seen.add(reason);
      }
      expect([...seen].sort()).toEqual(
        [
          'future',
          'invalid_json',
          'invalid_reading',
          'invalid_shape',
          'out_of_range',
          'too_old',
          'unit',
          'unknown_type',
        ].sort(),
      );
    });
  });

  describe('robustness', () => {
    it('does not modify the payload buffer', () => {
      const payload = Buffer.concat([BOM, bytes({ readings: [hr(), hr({ id: 'x', value: 1 })] })]);
      const copy = Buffer.from(payload);
      decodeMessage(payload, OPTS);
      expect(payload.equals(copy)).toBe(true);
    });

    it('a "__proto__" key in the JSON is just an unknown field', () => {
      const text = JSON.stringify(hr()).replace('{', '{"__proto__":{"value":1,"unit":"kg"},');
      const out = decodeMessage(Buffer.from(text), OPTS);
      expect(out.rejections).toEqual([]);
      expect(out.readings.map((r) => [r.value, r.unit])).toEqual([[72, '/min']]);
    });
  });
});

describe('messages that are hard to serialise', () => {
  const deep = (levels: number): string => '{"x":'.repeat(levels) + '1' + '}'.repeat(levels);

  it('a deeply nested extra field on an unknown type is rejected, not thrown', () => {
    const payload = Buffer.from(`{"id":"d1","type":"nope","at":0,"value":1,"unit":"/min","extra":${deep(20000)}}`);
    const decoded = decodeMessage(payload, OPTS);
    expect(decoded.readings).toHaveLength(0);
    expect(decoded.rejections).toHaveLength(1);
    expect(decoded.rejections[0].reason).toBe('unknown_type');
    expect(JSON.parse(decoded.rejections[0].raw.toString())).toEqual({
      id: 'd1',
      type: 'nope',
      at: 0,
      value: 1,
      unit: '/min',
    });
  });

  it('a deeply nested element of readings is an invalid_reading', () => {
    const payload = Buffer.from(`{"readings":[${'['.repeat(20000)}${']'.repeat(20000)}]}`);
    const decoded = decodeMessage(payload, OPTS);
    expect(decoded.rejections.map((r) => r.reason)).toEqual(['invalid_reading']);
  });
});
