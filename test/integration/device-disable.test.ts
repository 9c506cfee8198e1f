/**
 * The store's half of "no publish of a disabled device is acknowledged as stored
 * after the disable committed" (README, "Revoking a device or a token"): the
 * statement that stores readings refuses a disabled device's readings and
 * rejections, and disabling waits for the batches being written.
 */
import { describe, expect, it } from 'vitest';
import { hashDeviceSecret } from '../../src/domain/device-secret.ts';
import { decodeMessage } from '../../src/ingest/decode.ts';
import { writeMessages } from '../../src/store/reading-sink.ts';
import { disableDevice, findDeviceCredentials, rotateDeviceSecret } from '../../src/store/devices.repository.ts';
import { Partitions } from '../../src/store/partitions.ts';
import { useTestDatabase } from '../fixture.ts';
import { heartRate } from '../helpers/device.ts';

const t = useTestDatabase();

function message(deviceId: string, readings: object[] | string) {
  const now = Date.now();
  const payload = Buffer.from(typeof readings === 'string' ? readings : JSON.stringify({ readings }));
  const decoded = decodeMessage(payload, { now, maxAgeMs: 90 * 86_400_000, maxFutureMs: 300_000 });
  return { deviceId, receivedAt: now, readings: decoded.readings, rejections: decoded.rejections };
}

async function count(table: 'readings' | 'rejections', deviceId: string): Promise<number> {
  const { rows } = await t.query(`SELECT count(*)::int AS n FROM ${table} WHERE device_id = $1`, [deviceId]);
  return rows[0].n;
}

describe('a disabled device in the write path', () => {
  it('has nothing stored or recorded, and its messages say so; other devices of the batch are unaffected', async () => {
    await t.provisionDevice('dd-on');
    await t.provisionDevice('dd-off');
    await new Partitions(t.db).ensureFor([Date.now()]);
    await disableDevice(t.db, 'dd-off', 5_000);
    const outcomes = await t.db
      .transaction()
      .execute((trx) =>
        writeMessages(trx, [
          message('dd-on', [heartRate('on-1')]),
          message('dd-off', [heartRate('off-1'), heartRate('off-1'), { ...heartRate('off-2'), value: 9999 }]),
          message('dd-off', 'not json'),
        ]),
      );
    expect(outcomes.map((o) => o.deviceDisabled ?? false)).toEqual([false, true, true]);
    expect(outcomes[0]).toMatchObject({ stored: 1, rejections: [] });
    expect(outcomes[1]).toMatchObject({ stored: 0, duplicates: 0, rejections: [] });
    expect(await count('readings', 'dd-on')).toBe(1);
    expect(await count('readings', 'dd-off')).toBe(0);
    expect(await count('rejections', 'dd-off')).toBe(0);
    const { rows } = await t.query(`SELECT count(*)::int AS n FROM reading_keys WHERE device_id = 'dd-off'`);
    expect(rows[0].n).toBe(0);
  });

  it('waits for a batch being written before it commits, and changes nothing when the wait outlasts its bound', async () => {
    await t.provisionDevice('dd-wait');
    const writer = await t.pgClient();
    await writer.query('BEGIN');
    // What a batch's statement holds until its commit.
    await writer.query('LOCK TABLE ONLY readings IN ROW EXCLUSIVE MODE');

    await expect(disableDevice(t.db, 'dd-wait', 200)).rejects.toMatchObject({ code: '55P03' });
    expect((await findDeviceCredentials(t.db, 'dd-wait'))?.enabled).toBe(true);

    let done = false;
    const disabling = disableDevice(t.db, 'dd-wait', 10_000).then((found) => {
      done = true;
      return found;
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(done).toBe(false);
    await writer.query('COMMIT');
    expect(await disabling).toBe(true);
    expect((await findDeviceCredentials(t.db, 'dd-wait'))?.enabled).toBe(false);
    await writer.end();
  });

  it('accepts the previous secret only during its grace period', async () => {
    await t.provisionDevice('dd-grace');
    const { rows } = await t.query(`SELECT secret_hash FROM devices WHERE id = 'dd-grace'`);
    const old: Buffer = rows[0].secret_hash;
    const { current } = await t.keys();
    await rotateDeviceSecret(t.db, 'dd-grace', { hash: hashDeviceSecret(current, 'new'), keyId: current.id }, 60);
    expect((await findDeviceCredentials(t.db, 'dd-grace'))?.previousSecretHash?.equals(old)).toBe(true);
    await t.query(`UPDATE devices SET previous_secret_expires_at = now() - interval '1 ms' WHERE id = 'dd-grace'`);
    expect((await findDeviceCredentials(t.db, 'dd-grace'))?.previousSecretHash).toBeNull();
  });
});
