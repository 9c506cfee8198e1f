import { type Kysely, sql } from 'kysely';

/**
 * A patient's identity as the French rules define it (README, "Patient identity
 * (INS)"; src/domain/ins.ts holds the rules, checked before every write; the CHECKs
 * here keep the table within them whatever writes it). One row per patient at most:
 * the birth traits, the INS with its kind (its OID follows from the kind), the
 * identity status of the national identity-vigilance framework, and when and how
 * that status was set. An INS belongs to one patient (a second patient with the same
 * INS is a duplicate identity, refused with a 409).
 *
 * Upgrade cost: a new empty table and its unique index.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE patient_identities (
      patient_id text PRIMARY KEY REFERENCES patients (id) ON DELETE CASCADE,
      birth_family_name text NOT NULL CHECK (length(btrim(birth_family_name)) BETWEEN 1 AND 200),
      first_names text[] NOT NULL CHECK (cardinality(first_names) BETWEEN 1 AND 20),
      birth_date date NOT NULL,
      sex text NOT NULL CHECK (sex IN ('male', 'female', 'unknown')),
      birthplace_code text CHECK (birthplace_code ~ '^([0-9]{5}|2[AB][0-9]{3})$'),
      ins_value text CHECK (ins_value ~ '^[0-9]{5}([0-9]{2}|2[AB])[0-9]{8}$'),
      ins_kind text CHECK (ins_kind IN ('nir', 'nia', 'nir-test', 'nir-demo')),
      status text NOT NULL CHECK (status IN ('PROV', 'RECUP', 'VALI', 'QUAL')),
      status_method text CHECK (status_method IN ('SM', 'CV', 'INSI', 'CB', 'RFID', 'AV')),
      status_set_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now(),
      CHECK ((ins_value IS NULL) = (ins_kind IS NULL)),
      CHECK (status IN ('PROV', 'VALI') OR ins_value IS NOT NULL)
    )`.execute(db);
  await sql`
    CREATE UNIQUE INDEX patient_identities_ins ON patient_identities (ins_kind, ins_value)
    WHERE ins_value IS NOT NULL`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS patient_identities`.execute(db);
}
