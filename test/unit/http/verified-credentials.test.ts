import { describe, expect, it } from 'vitest';
import { VerifiedCredentials } from '../../../src/http/verified-credentials.ts';

const secret = Buffer.from('s3cret');

describe('VerifiedCredentials', () => {
  it('knows a verified secret until its time is up, and no other secret', () => {
    const v = new VerifiedCredentials(10_000);
    expect(v.has('dev-1', secret, 0)).toBe(false);
    v.remember('dev-1', secret, 0);
    expect(v.has('dev-1', secret, 9_999)).toBe(true);
    expect(v.has('dev-1', Buffer.from('other'), 1)).toBe(false);
    expect(v.has('dev-2', secret, 1)).toBe(false);
    expect(v.has('dev-1', secret, 10_000)).toBe(false);
  });

  it('forgets a device, or all, when credentials change', () => {
    const v = new VerifiedCredentials(10_000);
    v.remember('dev-1', secret, 0);
    v.remember('dev-2', secret, 0);
    v.forget('dev-1');
    expect(v.has('dev-1', secret, 1)).toBe(false);
    expect(v.has('dev-2', secret, 1)).toBe(true);
    v.forget();
    expect(v.has('dev-2', secret, 1)).toBe(false);
  });

  it('keeps at most maxEntries devices, the oldest forgotten first', () => {
    const v = new VerifiedCredentials(10_000, 2);
    v.remember('a', secret, 0);
    v.remember('b', secret, 0);
    v.remember('c', secret, 0);
    expect([v.has('a', secret, 1), v.has('b', secret, 1), v.has('c', secret, 1)]).toEqual([false, true, true]);
  });
});
