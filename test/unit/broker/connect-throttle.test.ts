import { describe, expect, it } from 'vitest';
import { ConnectThrottle, WindowBans } from '../../../src/broker/connect-throttle.ts';

describe('WindowBans', () => {
  it('bans a key once its count in the window reaches the maximum, until the ban ends', () => {
    const bans = new WindowBans(3, 60_000, 10_000);
    expect([bans.hit('k', 0), bans.hit('k', 1), bans.hit('k', 2)]).toEqual([false, false, true]);
    expect(bans.banned('k', 9_999)).toBe(true);
    expect(bans.banned('k', 10_002)).toBe(false);
    expect(bans.banned('other', 5)).toBe(false);
  });

  it('starts a new window after the window length, so spread-out events never ban', () => {
    const bans = new WindowBans(3, 1_000, 10_000);
    for (let i = 0; i < 20; i++) expect(bans.hit('k', i * 600)).toBe(false);
    expect(bans.banned('k', 20 * 600)).toBe(false);
  });

  it('keeps at most maxEntries keys, evicting the least recently touched', () => {
    const bans = new WindowBans(2, 60_000, 60_000, 100);
    bans.hit('kept', 0);
    bans.hit('kept', 1); // banned
    for (let i = 0; i < 1_000; i++) {
      bans.hit(`addr-${i}`, 2);
      if (i % 50 === 0) bans.hit('kept', 2); // touched: stays
    }
    expect(bans.size).toBe(100);
    expect(bans.banned('kept', 3)).toBe(true);
    expect(bans.banned('addr-0', 3)).toBe(false);
  });
});

describe('ConnectThrottle', () => {
  const throttle = () =>
    new ConnectThrottle({
      authFailuresPerAddress: 4,
      authFailuresPerClient: 2,
      authFailureWindowMs: 60_000,
      authBanMs: 60_000,
      flappingMaxConnects: 3,
      flappingWindowMs: 60_000,
      flappingBanMs: 300_000,
    });

  it('throttles a client id only from the address its failures came from', () => {
    const t = throttle();
    t.failed('10.0.0.1', 'dev', 0);
    t.failed('10.0.0.1', 'dev', 1);
    expect(t.check('10.0.0.1', 'dev', 2)).toBe('throttled_client');
    expect(t.check('10.0.0.2', 'dev', 2)).toBeUndefined();
    expect(t.check('10.0.0.1', 'other', 2)).toBeUndefined();
  });

  it('throttles an address whatever the client id once it has failed often enough', () => {
    const t = throttle();
    for (let i = 0; i < 4; i++) t.failed('10.0.0.1', `guess-${i}`, i);
    expect(t.check('10.0.0.1', 'anything', 5)).toBe('throttled_address');
    expect(t.check('10.0.0.2', 'anything', 5)).toBeUndefined();
  });

  it('bans a flapping client id from every address, and no other', () => {
    const t = throttle();
    expect([t.connected('dev', 0), t.connected('dev', 1), t.connected('dev', 2)]).toEqual([false, false, true]);
    expect(t.check('10.0.0.9', 'dev', 3)).toBe('flapping');
    expect(t.check('10.0.0.9', 'dev2', 3)).toBeUndefined();
    expect(t.check('10.0.0.9', 'dev', 300_003)).toBeUndefined();
  });
});
