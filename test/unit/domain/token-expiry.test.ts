import { describe, expect, it } from 'vitest';
import { parseTokenExpiry, tokenState } from '../../../src/domain/token-expiry.ts';

const NOW = new Date('2026-12-07T10:00:00Z');

describe('parseTokenExpiry', () => {
  it.each([
    ['90d', '2027-03-07T10:00:00.000Z'],
    ['12h', '2026-12-07T22:00:00.000Z'],
    ['30m', '2026-12-07T10:30:00.000Z'],
    ['3600s', '2026-12-07T11:00:00.000Z'],
    ['2027-03-01', '2027-03-01T00:00:00.000Z'],
    ['2027-03-01T08:00:00+01:00', '2027-03-01T07:00:00.000Z'],
  ])('%s expires at %s', (text, iso) => {
    const parsed = parseTokenExpiry(text, NOW);
    expect(parsed).toEqual({ ok: true, expiresAt: new Date(iso) });
  });

  it('takes never only when it is written out', () => {
    expect(parseTokenExpiry('never', NOW)).toEqual({ ok: true, expiresAt: null });
    for (const text of ['', '0', '0d', 'forever', 'Never']) expect(parseTokenExpiry(text, NOW).ok).toBe(false);
  });

  it('refuses what it cannot read, a time in the past, and more than ten years, saying what it takes', () => {
    const unreadable = parseTokenExpiry('next week', NOW);
    expect(unreadable).toMatchObject({ ok: false });
    expect(!unreadable.ok && unreadable.message).toContain('90d');
    expect(parseTokenExpiry('2026-12-01', NOW)).toMatchObject({
      ok: false,
      message: expect.stringContaining('future'),
    });
    expect(parseTokenExpiry('3651d', NOW)).toMatchObject({ ok: false, message: expect.stringContaining('never') });
    expect(parseTokenExpiry('2027-02-30T08:00:00', NOW).ok).toBe(false);
  });
});

describe('tokenState', () => {
  it('is revoked before expired, expired from its expiry on, active otherwise', () => {
    const past = new Date(NOW.getTime() - 1);
    expect(tokenState({ revokedAt: past, expiresAt: past }, NOW)).toBe('revoked');
    expect(tokenState({ revokedAt: null, expiresAt: NOW }, NOW)).toBe('expired');
    expect(tokenState({ revokedAt: null, expiresAt: new Date(NOW.getTime() + 1) }, NOW)).toBe('active');
    expect(tokenState({ revokedAt: null, expiresAt: null }, NOW)).toBe('active');
  });
});
