import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { numberArrayLiteral, textArrayLiteral } from '../../../src/store/array-literals.ts';

/**
 * The literals are byte for byte what pg itself sends for the same arrays (its
 * prepareValue), so PostgreSQL receives the same parameters as before.
 */

const { prepareValue } = (pg as unknown as { utils: { prepareValue(v: unknown): unknown } }).utils;

/** A small deterministic generator (mulberry32), so that a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = [
  'a',
  'Z',
  '0',
  '"',
  '\\',
  ',',
  '{',
  '}',
  ' ',
  'NULL',
  'null',
  "'",
  'é',
  '血',
  '😀',
  '\t',
  ':',
  '-',
  '.',
];

describe('array literals', () => {
  it('spell text arrays as pg does, quotes, backslashes, braces, NULL and unicode included', () => {
    const next = random(11);
    for (let n = 0; n < 2000; n++) {
      const values = Array.from({ length: Math.floor(next() * 6) }, () => {
        if (next() < 0.15) return null;
        return Array.from({ length: Math.floor(next() * 5) }, () => PIECES[Math.floor(next() * PIECES.length)]).join(
          '',
        );
      });
      expect(textArrayLiteral(values), JSON.stringify(values)).toBe(prepareValue(values));
    }
  });

  it('spell number arrays as pg does', () => {
    const next = random(12);
    const special = [0, -0, 1, -1, 0.1, 1e21, 1e-7, -123.456, Number.MAX_SAFE_INTEGER, 1764700000000, 5e-324];
    for (let n = 0; n < 2000; n++) {
      const values = Array.from({ length: Math.floor(next() * 6) }, () => {
        const r = next();
        if (r < 0.15) return null;
        if (r < 0.4) return special[Math.floor(next() * special.length)];
        if (r < 0.7) return Math.round((next() - 0.5) * 1e6);
        return (next() - 0.5) * 10 ** Math.floor(next() * 40 - 20);
      });
      expect(numberArrayLiteral(values), JSON.stringify(values)).toBe(prepareValue(values));
    }
  });
});
