import { type Kysely, sql } from 'kysely';

/**
 * What the running service does that needs the tables' owner, as functions that
 * run with the owner's rights (SECURITY DEFINER), each doing one bounded thing
 * (README, "Security", "Database roles"). With the role split the service's role
 * owns nothing: it gets EXECUTE on these and the table privileges of
 * src/store/service-grants.ts, never ownership. Without it (one role owns
 * everything) the service calls the same functions, which then run as itself.
 *
 * - vitalink_ensure_reading_partition(month): creates the readings partition of
 *   one UTC month, from 2000-01 to a year ahead of the database's clock.
 * - vitalink_drop_reading_partition(name, lock timeout): detaches and drops one
 *   month partition whose month ended at least 97 days ago by the database's clock
 *   (the shortest readings retention the settings allow with the default window).
 * - vitalink_delete_audit_before(before, limit): deletes at most `limit` audit rows
 *   older than `before`, and refuses a `before` less than 365 days ago: no caller
 *   can delete the last year of the trail through it.
 * - vitalink_hold_ingest(): the SHARE lock on readings and rejections that
 *   disabling a device takes (src/store/devices.repository.ts); LOCK in SHARE mode
 *   needs UPDATE or DELETE on the table, which the service has on neither.
 *
 * Each has a fixed search_path (pg_catalog, then pg_temp) and names the tables
 * with the schema the migrations run in, so no object the caller can create is
 * picked up instead. EXECUTE is revoked from PUBLIC: the migration runner grants it
 * to the service's role.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const { rows } = await sql<{ schema: string }>`SELECT current_schema() AS schema`.execute(db);
  const schema = rows[0]?.schema;
  if (!schema) throw new Error('no current schema: set the search_path of the migrating role');
  const s = sql.lit(schema);
  const options = sql`LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC'`;

  await sql`
    CREATE FUNCTION vitalink_ensure_reading_partition(p_month timestamptz) RETURNS boolean ${options} AS $$
    DECLARE
      c_schema constant text := ${s};
      v_name text;
    BEGIN
      IF p_month IS NULL OR p_month <> date_trunc('month', p_month) THEN
        RAISE EXCEPTION 'not the start of a UTC month: %', p_month USING ERRCODE = 'invalid_parameter_value';
      END IF;
      IF p_month < timestamptz '2000-01-01 00:00:00+00' OR p_month > now() + interval '1 year' THEN
        RAISE EXCEPTION 'reading partitions are made for months from 2000-01 to a year ahead, not %', p_month
          USING ERRCODE = 'invalid_parameter_value';
      END IF;
      v_name := 'readings_' || to_char(p_month, 'YYYY_MM');
      -- Instances starting together take turns: only the one that creates it says so.
      PERFORM pg_advisory_xact_lock(hashtext('vitalink_partition'), hashtext(v_name));
      -- pg_class read with this statement's snapshot: to_regclass would use a catalog cache
      -- that taking an advisory lock does not refresh, and miss a table created meanwhile.
      IF EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = c_schema AND c.relname = v_name) THEN
        RETURN false;
      END IF;
      EXECUTE format('CREATE TABLE IF NOT EXISTS %I.%I PARTITION OF %I.readings FOR VALUES FROM (%L) TO (%L)',
                     c_schema, v_name, c_schema, p_month, p_month + interval '1 month');
      RETURN true;
    END $$`.execute(db);

  await sql`
    CREATE FUNCTION vitalink_drop_reading_partition(p_name text, p_lock_timeout_ms integer) RETURNS void ${options} AS $$
    DECLARE
      c_schema constant text := ${s};
      v_month timestamptz;
      v_oid oid;
      v_pending boolean;
      v_attached boolean;
    BEGIN
      IF p_name IS NULL OR p_name !~ '^readings_[0-9]{4}_(0[1-9]|1[0-2])$' THEN
        RAISE EXCEPTION 'not a readings month partition: %', p_name USING ERRCODE = 'invalid_parameter_value';
      END IF;
      v_month := to_timestamp(substr(p_name, 10), 'YYYY_MM');
      IF v_month + interval '1 month' > now() - interval '97 days' THEN
        RAISE EXCEPTION 'refused: % holds readings of a month that ended less than 97 days ago', p_name
          USING ERRCODE = 'insufficient_privilege',
                HINT = 'VITALINK_RETENTION_READINGS_DAYS is 0 (forever) or at least 97 days';
      END IF;
      SELECT c.oid INTO v_oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = c_schema AND c.relname = p_name AND c.relkind = 'r';
      IF v_oid IS NULL THEN
        RAISE EXCEPTION 'no table %.%', c_schema, p_name USING ERRCODE = 'undefined_table';
      END IF;
      SELECT i.inhdetachpending INTO v_pending FROM pg_inherits i
      WHERE i.inhrelid = v_oid AND i.inhparent = format('%I.readings', c_schema)::regclass;
      v_attached := FOUND;
      PERFORM set_config('lock_timeout', greatest(p_lock_timeout_ms, 1) || 'ms', true);
      IF v_attached AND v_pending THEN
        EXECUTE format('ALTER TABLE %I.readings DETACH PARTITION %I.%I FINALIZE', c_schema, c_schema, p_name);
      ELSIF v_attached THEN
        EXECUTE format('ALTER TABLE %I.readings DETACH PARTITION %I.%I', c_schema, c_schema, p_name);
      END IF;
      EXECUTE format('DROP TABLE %I.%I', c_schema, p_name);
    END $$`.execute(db);

  await sql`
    CREATE FUNCTION vitalink_delete_audit_before(p_before timestamptz, p_limit integer) RETURNS bigint ${options} AS $$
    DECLARE
      v_removed bigint;
    BEGIN
      IF p_before IS NULL OR p_before > now() - interval '365 days' THEN
        RAISE EXCEPTION 'refused: audit_log entries less than 365 days old are never deleted (asked for those before %)',
          p_before
          USING ERRCODE = 'insufficient_privilege',
                HINT = 'VITALINK_RETENTION_AUDIT_DAYS is 0 (forever) or at least 365 days';
      END IF;
      IF p_limit IS NULL OR p_limit < 1 OR p_limit > 10000 THEN
        RAISE EXCEPTION 'limit must be 1 to 10000, not %', p_limit USING ERRCODE = 'invalid_parameter_value';
      END IF;
      -- The append-only trigger lets this statement through, and nothing after it.
      PERFORM set_config('vitalink.retention', 'on', true);
      EXECUTE format('DELETE FROM %I.audit_log WHERE id = ANY (ARRAY(
                        SELECT id FROM %I.audit_log WHERE at < $1 ORDER BY at LIMIT $2))', ${s}, ${s})
        USING p_before, p_limit;
      GET DIAGNOSTICS v_removed = ROW_COUNT;
      PERFORM set_config('vitalink.retention', 'off', true);
      RETURN v_removed;
    END $$`.execute(db);

  await sql`
    CREATE FUNCTION vitalink_hold_ingest() RETURNS void ${options} AS $$
    BEGIN
      EXECUTE format('LOCK TABLE ONLY %I.readings, ONLY %I.rejections IN SHARE MODE', ${s}, ${s});
    END $$`.execute(db);

  for (const fn of FUNCTIONS) await sql`REVOKE ALL ON FUNCTION ${sql.raw(fn)} FROM PUBLIC`.execute(db);
}

const FUNCTIONS = [
  'vitalink_ensure_reading_partition(timestamptz)',
  'vitalink_drop_reading_partition(text, integer)',
  'vitalink_delete_audit_before(timestamptz, integer)',
  'vitalink_hold_ingest()',
];

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const fn of FUNCTIONS) await sql`DROP FUNCTION IF EXISTS ${sql.raw(fn)}`.execute(db);
}
