/**
 * A patient's identity from the command line (README, "Patient identity (INS)"):
 * `vitalink patients set-identity` and `vitalink patients identity`, as an
 * administrator types them, against a real database. A value that is not
 * acceptable exits 2 with what is wrong (the key expected for a wrong key).
 * Test INS: OID .10 (nir-test) only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addPatient } from '../../src/actions/provisioning.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { runCli } from '../helpers/service.ts';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
  for (const id of ['pi-1', 'pi-2']) await addPatient(database.db, { id });
});

afterAll(async () => {
  await database?.drop();
});

function vitalink(args: string[]) {
  return runCli(args, { DATABASE_URL: database.url, LOG_LEVEL: 'warn' });
}

// 290122B033456 → 2901218033456 = 97 × 29909464262 + 42 → key 97 − 42 = 55
const INS = '290122B03345655';
/** The last of a repeated option counts (node:util parseArgs): `more` may replace a value. */
const setArgs = (id: string, more: string[] = []) => [
  'patients',
  'set-identity',
  '--id',
  id,
  '--birth-name',
  'MARTIN',
  '--first-names',
  'MARIE,CLAIRE',
  '--birth-date',
  '1990-12-24',
  '--sex',
  'female',
  '--birthplace',
  '2B033',
  ...more,
];

describe('vitalink patients set-identity, patients identity', () => {
  it('sets a qualified identity and shows it, as JSON and as text', async () => {
    const set = await vitalink([
      ...setArgs('pi-1', ['--ins', INS, '--ins-kind', 'nir-test', '--status', 'QUAL', '--method', 'INSI']),
      '--json',
    ]);
    expect(set.stderr).toBe('');
    expect(set.code).toBe(0);
    expect(set.stdout.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(set.stdout)).toEqual({
      patientId: 'pi-1',
      identity: {
        birthFamilyName: 'MARTIN',
        firstNames: ['MARIE', 'CLAIRE'],
        birthDate: '1990-12-24',
        sex: 'female',
        birthplaceCode: '2B033',
        ins: { value: INS, kind: 'nir-test', system: 'urn:oid:1.2.250.1.213.1.4.10' },
        insShared: true,
        status: 'QUAL',
        statusMethod: 'INSI',
        statusSetAt: expect.stringMatching(/Z$/),
        updatedAt: expect.stringMatching(/Z$/),
      },
    });
    const { rows } = await database.query(`SELECT ins_value, status FROM patient_identities WHERE patient_id = 'pi-1'`);
    expect(rows).toEqual([{ ins_value: INS, status: 'QUAL' }]);

    const shown = await vitalink(['patients', 'identity', '--id', 'pi-1', '--json']);
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout)).toEqual(JSON.parse(set.stdout));
    const text = await vitalink(['patients', 'identity', '--id', 'pi-1']);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('patient pi-1: identity QUAL (INSI)');
    expect(text.stdout).toContain(`INS:               ${INS} (nir-test, urn:oid:1.2.250.1.213.1.4.10)`);
    expect(text.stdout).toContain('INS shared:        yes');
  });

  it('says when there is no identity yet, and that a provisional one does not share its INS', async () => {
    const none = await vitalink(['patients', 'identity', '--id', 'pi-2', '--json']);
    expect(none.code).toBe(0);
    expect(JSON.parse(none.stdout)).toEqual({ patientId: 'pi-2', identity: null });
    const prov = await vitalink([
      ...setArgs('pi-2', ['--status', 'PROV', '--status-set-at', '2026-11-02T09:00:00+01:00']),
    ]);
    expect(prov.stderr).toBe('');
    expect(prov.code).toBe(0);
    expect(prov.stdout).toContain('identity PROV since 2026-11-02T08:00:00.000Z');
    expect(prov.stdout).toContain('INS shared:        no: only a qualified (QUAL) identity shares its INS');
  });

  it('refuses a wrong key with exit 2, naming the key expected; nothing is written', async () => {
    const wrong = await vitalink(
      setArgs('pi-2', ['--ins', '290122B03345656', '--ins-kind', 'nir-test', '--status', 'QUAL']),
    );
    expect(wrong.code).toBe(2);
    expect(wrong.stdout).toBe('');
    expect(wrong.stderr).toContain('the key of INS 290122B033456 is 55, not 56');
    // Corsica's 2B read as 20 gives key 01: refused the same way.
    const as20 = await vitalink(
      setArgs('pi-2', ['--ins', '290122B03345601', '--ins-kind', 'nir-test', '--status', 'QUAL']),
    );
    expect(as20.code).toBe(2);
    expect(as20.stderr).toContain('is 55, not 01');
    const { rows } = await database.query(`SELECT status, ins_value FROM patient_identities WHERE patient_id = 'pi-2'`);
    expect(rows).toEqual([{ status: 'PROV', ins_value: null }]);
  });

  it('exits 2 for other bad values and missing companions, 1 for an unknown patient', async () => {
    const cases: [string[], string][] = [
      [setArgs('pi-2', ['--status', 'QUALIFIED']), 'status: is one of PROV, RECUP, VALI, QUAL, not "QUALIFIED"'],
      [setArgs('pi-2', ['--status', 'QUAL']), 'ins: a QUAL identity was obtained from the INSi teleservice'],
      [setArgs('pi-2', ['--ins', INS, '--status', 'QUAL']), '--ins and --ins-kind go together'],
      [
        setArgs('pi-2', ['--ins', INS, '--ins-kind', 'nir-prod', '--status', 'QUAL']),
        'ins.kind: is one of nir, nia, nir-test, nir-demo',
      ],
      [setArgs('pi-2', ['--status', 'PROV', '--birthplace', '7505']), 'INSEE code of 5 characters'],
      [setArgs('pi-2', ['--status', 'PROV', '--sex', 'F']), 'sex: is one of male, female, unknown, not "F"'],
    ];
    for (const [args, sentence] of cases) {
      const result = await vitalink(args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr, args.join(' ')).toContain(sentence);
    }
    const unknown = await vitalink(setArgs('pi-nobody', ['--status', 'PROV']));
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('patient pi-nobody does not exist');
  });
});
