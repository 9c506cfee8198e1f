import { describe, expect, it } from 'vitest';
import { createRng, deriveSeed, hashString, smoothNoise } from '../../../simulators/models/random.ts';

const draw = (seed: number | string, n = 100) => {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => rng.next());
};

describe('seeded random numbers', () => {
  it('gives the same stream for the same seed and another for another seed', () => {
    expect(draw(42)).toEqual(draw(42));
    expect(draw('42')).toEqual(draw(42));
    expect(draw(43)).not.toEqual(draw(42));
  });

  it('stays in [0, 1) with a uniform-looking mean', () => {
    const xs = draw(7, 20_000);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    expect(xs.reduce((a, b) => a + b, 0) / xs.length).toBeCloseTo(0.5, 1);
  });

  it('draws normals with the asked mean and SD, truncated normals within the limit', () => {
    const rng = createRng('normal');
    const xs = Array.from({ length: 20_000 }, () => rng.normal(10, 2));
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1));
    expect(mean).toBeCloseTo(10, 1);
    expect(sd).toBeGreaterThan(1.9);
    expect(sd).toBeLessThan(2.1);
    const ts = Array.from({ length: 5000 }, () => rng.truncatedNormal(0, 1, 2));
    expect(Math.max(...ts.map(Math.abs))).toBeLessThanOrEqual(2);
  });

  it('draws integers in [min, max], both ends included', () => {
    const rng = createRng(1);
    const seen = new Set(Array.from({ length: 1000 }, () => rng.int(1, 3)));
    expect([...seen].sort()).toEqual([1, 2, 3]);
  });

  it('derives sub-streams from the seed and labels, not from the parent state', () => {
    const a = createRng('patient');
    a.next();
    a.next();
    const b = createRng('patient');
    expect(a.fork('cgm').next()).toBe(b.fork('cgm').next());
    expect(a.fork('cgm').next()).not.toBe(a.fork('scale').next());
    expect(a.fork('cgm').seed).toBe(deriveSeed('patient', 'cgm'));
    expect(hashString('a/b')).not.toBe(hashString('a/c'));
  });

  it('makes smooth noise: deterministic, continuous, of about unit variance', () => {
    const period = 3_600_000;
    expect(smoothNoise('s', 12_345_678, period)).toBe(smoothNoise('s', 12_345_678, period));
    expect(Math.abs(smoothNoise('s', 1_000_000, period) - smoothNoise('s', 1_060_000, period))).toBeLessThan(0.5);
    const xs = Array.from({ length: 5000 }, (_, i) => smoothNoise('v', i * period + period / 3, period));
    const var_ = xs.reduce((a, b) => a + b * b, 0) / xs.length;
    expect(var_).toBeGreaterThan(0.8);
    expect(var_).toBeLessThan(1.2);
  });
});
