import type { Db } from './database.ts';

export interface DeviceRow {
  id: string;
  model: string | null;
  enabled: boolean;
  createdAt: Date;
}

export async function loadInstallationKey(db: Db): Promise<Buffer> {
  const row = await db.selectFrom('installation').select('secret_key').where('id', '=', 1).executeTakeFirst();
  if (!row) throw new Error('the database has no installation key; run `vitalink migrate` and try again');
  return row.secret_key;
}

export async function findDeviceCredentials(
  db: Db,
  id: string,
): Promise<{ secretHash: Buffer; enabled: boolean } | undefined> {
  const row = await db.selectFrom('devices').select(['secret_hash', 'enabled']).where('id', '=', id).executeTakeFirst();
  return row ? { secretHash: row.secret_hash, enabled: row.enabled } : undefined;
}

export async function insertDevice(
  db: Db,
  device: { id: string; secretHash: Buffer; model: string | null },
): Promise<DeviceRow> {
  const row = await db
    .insertInto('devices')
    .values({ id: device.id, secret_hash: device.secretHash, model: device.model })
    .returning(['id', 'model', 'enabled', 'created_at'])
    .executeTakeFirstOrThrow();
  return { id: row.id, model: row.model, enabled: row.enabled, createdAt: row.created_at };
}

export async function findDevice(db: Db, id: string): Promise<DeviceRow | undefined> {
  const row = await db
    .selectFrom('devices')
    .select(['id', 'model', 'enabled', 'created_at'])
    .where('id', '=', id)
    .executeTakeFirst();
  return row ? { id: row.id, model: row.model, enabled: row.enabled, createdAt: row.created_at } : undefined;
}

export async function setDeviceEnabled(db: Db, id: string, enabled: boolean): Promise<boolean> {
  const result = await db.updateTable('devices').set({ enabled }).where('id', '=', id).executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}
