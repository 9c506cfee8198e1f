import { describe, expect, it } from 'vitest';
import { DeviceActivityRecorder } from '../../../src/broker/device-activity.ts';
import { createLogger } from '../../../src/logger.ts';
import type { DeviceActivity } from '../../../src/store/devices.repository.ts';

function recorder(write: (rows: DeviceActivity[]) => Promise<void>) {
  return new DeviceActivityRecorder({ write, intervalMs: 60_000, log: createLogger('silent') });
}

describe('DeviceActivityRecorder', () => {
  it('writes one row per device per flush, with the latest times, and nothing when nothing happened', async () => {
    const writes: DeviceActivity[][] = [];
    const r = recorder(async (rows) => {
      writes.push(rows);
    });
    r.seen('a', 100);
    r.seen('a', 300);
    r.seen('a', 200);
    r.readingStored('a', 250);
    r.readingStored('b', 400);
    await r.flush();
    await r.flush();
    expect(writes).toEqual([
      [
        { deviceId: 'a', lastSeenAt: 300, lastTransport: 'mqtt', lastReadingAt: 250 },
        { deviceId: 'b', lastSeenAt: 400, lastTransport: null, lastReadingAt: 400 },
      ],
    ]);
  });

  it('keeps what a failed write held for the next flush', async () => {
    const writes: DeviceActivity[][] = [];
    let fail = true;
    const r = recorder(async (rows) => {
      if (fail) throw new Error('database unreachable');
      writes.push(rows);
    });
    r.readingStored('a', 100);
    await r.flush();
    fail = false;
    r.seen('a', 150);
    await r.stop();
    expect(writes).toEqual([[{ deviceId: 'a', lastSeenAt: 150, lastTransport: 'mqtt', lastReadingAt: 100 }]]);
  });

  it('keeps the transport of the latest contact', async () => {
    const writes: DeviceActivity[][] = [];
    const r = recorder(async (rows) => {
      writes.push(rows);
    });
    r.seen('a', 100, 'mqtt');
    r.seen('a', 200, 'https');
    r.seen('b', 300, 'nightscout');
    r.seen('b', 250, 'mqtt');
    await r.flush();
    expect(writes).toEqual([
      [
        { deviceId: 'a', lastSeenAt: 200, lastTransport: 'https', lastReadingAt: 0 },
        { deviceId: 'b', lastSeenAt: 300, lastTransport: 'nightscout', lastReadingAt: 0 },
      ],
    ]);
  });
});
