import type { PatientIdentityView } from '../actions/patient-identity.ts';
import { defineCommand, JSON_OPTION } from './command.ts';
import { createOutput, UsageError } from './output.ts';
import { withDatabase } from './with-database.ts';

export const patientsAdd = defineCommand({
  name: 'patients add',
  summary: 'creates a patient',
  options: {
    id: { type: 'string', value: 'ID', required: true, description: "the patient's id (1 to 64 of A-Z a-z 0-9 . _ -)" },
    tz: { type: 'string', value: 'ZONE', description: 'IANA time zone of their days (default Europe/Paris)' },
    name: { type: 'string', value: 'NAME', description: 'display name' },
    json: JSON_OPTION,
  },
  async run(values) {
    const out = createOutput(values.json === true);
    const { addPatient } = await import('../actions/provisioning.ts');
    await withDatabase(async ({ db }) => {
      const p = await addPatient(db, { id: values.id, timeZone: values.tz, displayName: values.name });
      out.result(
        { id: p.id, timeZone: p.timeZone, displayName: p.displayName, createdAt: p.createdAt.toISOString() },
        `patient ${p.id} added (time zone ${p.timeZone})`,
      );
    });
  },
});

/** The identity in lines, for people; `--json` prints the view as is. */
function identityText(patientId: string, v: PatientIdentityView): string {
  return [
    `patient ${patientId}: identity ${v.status}${v.statusMethod ? ` (${v.statusMethod})` : ''} since ${v.statusSetAt}`,
    `  birth family name: ${v.birthFamilyName}`,
    `  first names:       ${v.firstNames.join(', ')}`,
    `  birth date:        ${v.birthDate}`,
    `  sex:               ${v.sex}`,
    `  birthplace:        ${v.birthplaceCode ?? '-'}`,
    `  INS:               ${v.ins ? `${v.ins.value} (${v.ins.kind}, ${v.ins.system})` : '-'}`,
    `  INS shared:        ${v.insShared ? 'yes (qualified identity)' : 'no: only a qualified (QUAL) identity shares its INS'}`,
  ].join('\n');
}

export const patientsSetIdentity = defineCommand({
  name: 'patients set-identity',
  summary: "sets a patient's identity: birth traits, INS and identity status",
  options: {
    id: { type: 'string', value: 'ID', required: true, description: "the patient's id" },
    'birth-name': { type: 'string', value: 'NAME', required: true, description: 'birth family name' },
    'first-names': {
      type: 'string',
      value: 'A,B,...',
      required: true,
      description: 'first names of the birth certificate, in order, comma-separated',
    },
    'birth-date': { type: 'string', value: 'YYYY-MM-DD', required: true, description: 'birth date' },
    sex: { type: 'string', value: 'male|female|unknown', required: true, description: 'sex' },
    birthplace: { type: 'string', value: 'CODE', description: 'INSEE code of the birthplace (e.g. 75056, 2A004)' },
    ins: { type: 'string', value: 'INS', description: 'the INS: 13 characters and the 2-digit key' },
    'ins-kind': {
      type: 'string',
      value: 'nir|nia|nir-test|nir-demo',
      description: 'the INS kind (its OID); needed with --ins',
    },
    status: { type: 'string', value: 'PROV|RECUP|VALI|QUAL', required: true, description: 'identity status (RNIV)' },
    method: {
      type: 'string',
      value: 'SM|CV|INSI|CB|RFID|AV',
      description: 'how the traits or the INS were obtained',
    },
    'status-set-at': {
      type: 'string',
      value: 'TIME',
      description: 'when the status was set (default now, or kept when the status does not change)',
    },
    json: JSON_OPTION,
  },
  notes:
    'The INS is checked (length, digits with 2A/2B for Corsica, key = 97 - number mod 97). RECUP and QUAL need\n' +
    '--ins and --ins-kind; QUAL needs --birthplace. Only a QUAL identity shares its INS with clinicians and FHIR.\n' +
    'A value that is not acceptable exits 2 with what is wrong.',
  async run(values) {
    const out = createOutput(values.json === true);
    if ((values.ins === undefined) !== (values['ins-kind'] === undefined)) {
      throw new UsageError('--ins and --ins-kind go together: give both, or neither');
    }
    let statusSetAt: Date | undefined;
    if (values['status-set-at'] !== undefined) {
      const { parseMeasuredAt } = await import('../domain/timestamp.ts');
      const ms = parseMeasuredAt(values['status-set-at']);
      if (ms === undefined) {
        throw new UsageError('--status-set-at must be an RFC 3339 time with an offset, e.g. 2026-12-07T10:00:00+01:00');
      }
      statusSetAt = new Date(ms);
    }
    const [{ setPatientIdentity, patientIdentityView }, { AppError }] = await Promise.all([
      import('../actions/patient-identity.ts'),
      import('../errors.ts'),
    ]);
    await withDatabase(async ({ db }) => {
      let row;
      try {
        row = await setPatientIdentity(db, values.id, {
          birthFamilyName: values['birth-name'],
          firstNames: values['first-names'].split(','),
          birthDate: values['birth-date'],
          sex: values.sex,
          birthplaceCode: values.birthplace ?? null,
          ins: values.ins !== undefined ? { value: values.ins, kind: values['ins-kind']! } : null,
          status: values.status,
          statusMethod: values.method ?? null,
          statusSetAt,
        });
      } catch (error) {
        // A value that is not acceptable is the caller's mistake: exit 2 (README, "Commands").
        if (error instanceof AppError && error.code === 'invalid_input') throw new UsageError(error.message);
        throw error;
      }
      const view = patientIdentityView(row, 'admin');
      out.result({ patientId: values.id, identity: view }, identityText(values.id, view));
    });
  },
});

export const patientsIdentity = defineCommand({
  name: 'patients identity',
  summary: "shows a patient's identity (INS, status, traits)",
  options: {
    id: { type: 'string', value: 'ID', required: true, description: "the patient's id" },
    json: JSON_OPTION,
  },
  async run(values) {
    const out = createOutput(values.json === true);
    const [{ patientIdentityView }, { findPatientIdentity }, { findPatient }, { AppError }] = await Promise.all([
      import('../actions/patient-identity.ts'),
      import('../store/patient-identities.repository.ts'),
      import('../store/patients.repository.ts'),
      import('../errors.ts'),
    ]);
    await withDatabase(async ({ db }) => {
      if (!(await findPatient(db, values.id))) {
        throw new AppError('not_found', `patient ${values.id} does not exist; see vitalink patients add`);
      }
      const row = await findPatientIdentity(db, values.id);
      if (!row) {
        out.result(
          { patientId: values.id, identity: null },
          `patient ${values.id} has no identity yet; set it with vitalink patients set-identity`,
        );
        return;
      }
      const view = patientIdentityView(row, 'admin');
      out.result({ patientId: values.id, identity: view }, identityText(values.id, view));
    });
  },
});
