/**
 * A patient's identity as the French national rules define it (README, "Patient
 * identity (INS)"; ../shared/design/french-interop.md, "Patient identity: INS"):
 * the national health identifier (INS, a NIR or a NIA with its key), the identity
 * status of the national identity-vigilance framework (RNIV), and the traits that
 * go with it. Pure: no I/O, so the CLI, the API and FHIR share these rules.
 */

/**
 * The kinds of INS and the OID of each (FR Core `fr-core-patient-ins`, slices
 * INS-NIR, INS-NIA, INS-NIR-TEST, INS-NIR-DEMO). `use` is the FHIR identifier use
 * FR Core fixes for the slice. Test data use `nir-test` only, never `nir`.
 */
export const INS_KINDS = {
  nir: { oid: '1.2.250.1.213.1.4.8', slice: 'INS-NIR', use: 'official', label: 'INS-NIR (production)' },
  nia: { oid: '1.2.250.1.213.1.4.9', slice: 'INS-NIA', use: 'temp', label: 'INS-NIA (temporary, production)' },
  'nir-test': {
    oid: '1.2.250.1.213.1.4.10',
    slice: 'INS-NIR-TEST',
    use: 'official',
    label: 'INS-NIR of a fictitious test patient',
  },
  'nir-demo': {
    oid: '1.2.250.1.213.1.4.11',
    slice: 'INS-NIR-DEMO',
    use: 'official',
    label: 'INS-NIR of a fictitious demonstration patient',
  },
} as const;

export type InsKind = keyof typeof INS_KINDS;
export const INS_KIND_NAMES = Object.keys(INS_KINDS) as InsKind[];

export function isInsKind(value: string): value is InsKind {
  return Object.hasOwn(INS_KINDS, value);
}

/** The identifier system of a kind: `urn:oid:` and its OID. */
export function insSystem(kind: InsKind): string {
  return `urn:oid:${INS_KINDS[kind].oid}`;
}

/**
 * RNIV identity statuses (FR Core CodeSystem `fr-core-cs-identity-status`), exclusive:
 * PROV provisional (not from INSi, not checked against an ID document), RECUP
 * recovered from the INSi teleservice but not checked, VALI checked against a
 * high-trust ID document but not from INSi, QUAL from INSi and checked.
 */
export const IDENTITY_STATUSES = {
  PROV: 'provisional identity',
  RECUP: 'recovered identity (from INSi, not checked against an ID document)',
  VALI: 'validated identity (checked against an ID document, not from INSi)',
  QUAL: 'qualified identity (from INSi and checked against an ID document)',
} as const;

export type IdentityStatus = keyof typeof IDENTITY_STATUSES;
export const IDENTITY_STATUS_NAMES = Object.keys(IDENTITY_STATUSES) as IdentityStatus[];

export function isIdentityStatus(value: string): value is IdentityStatus {
  return Object.hasOwn(IDENTITY_STATUSES, value);
}

/**
 * RNIV: the INS may be used and shared only when the identity is qualified. Every
 * place that sends an identity out (API to clinicians, FHIR) asks this.
 */
export function isInsShareable(status: IdentityStatus): boolean {
  return status === 'QUAL';
}

/**
 * How the identity traits or the INS were obtained (FR Core CodeSystem
 * `fr-core-cs-method-collection`): SM manual entry, CV the Vitale card, INSI the
 * INSi teleservice queried with the traits, CB the INS Datamatrix of a document,
 * RFID a chip (e.g. a wristband), AV the Vitale card app.
 */
export const IDENTITY_METHODS = {
  SM: 'manual entry',
  CV: 'Vitale card',
  INSI: 'INSi teleservice',
  CB: 'INS Datamatrix code',
  RFID: 'RFID chip',
  AV: 'Vitale card app',
} as const;

export type IdentityMethod = keyof typeof IDENTITY_METHODS;
export const IDENTITY_METHOD_NAMES = Object.keys(IDENTITY_METHODS) as IdentityMethod[];

export function isIdentityMethod(value: string): value is IdentityMethod {
  return Object.hasOwn(IDENTITY_METHODS, value);
}

/** The sexes of an INS identity (FR Core `fr-core-vs-patient-gender-INS`): FHIR's gender codes. */
export const SEXES = ['male', 'female', 'unknown'] as const;
export type Sex = (typeof SEXES)[number];

export function isSex(value: string): value is Sex {
  return (SEXES as readonly string[]).includes(value);
}

/** What is wrong with a value, in a sentence that says what to do. */
export type Check = { ok: true } | { ok: false; problem: string };

/**
 * The INS: 13 characters (sex, year, month, department, commune, order) and a
 * 2-digit key. The department (characters 6 and 7) may be Corsica's 2A or 2B;
 * every other character is a digit.
 */
const INS_SHAPE = /^\d{5}(\d{2}|2A|2B)\d{6}\d{2}$/;

/**
 * The key of the 13 characters: 97 − (number mod 97), with Corsica's departments
 * 2A and 2B replaced by 19 and 18 for the computation (INSEE's rule for the NIR,
 * applied to the NIA alike). Returns a number from 1 to 97.
 */
export function insKey(thirteen: string): number {
  if (!/^\d{5}(\d{2}|2A|2B)\d{6}$/.test(thirteen)) {
    throw new Error('insKey takes 13 characters: digits, with 2A or 2B as characters 6 and 7');
  }
  const department = thirteen.slice(5, 7);
  const numeric =
    thirteen.slice(0, 5) + (department === '2A' ? '19' : department === '2B' ? '18' : department) + thirteen.slice(7);
  // 13 digits exceed 2^53 only past 9,007,199,254,740,991: BigInt keeps it exact anyway.
  return 97 - Number(BigInt(numeric) % 97n);
}

/** The INS as stored and sent: spaces removed, 2a/2b upper-cased. */
export function normalizeIns(value: string): string {
  return value.replace(/\s+/g, '').toUpperCase();
}

/** Checks an INS (normalized first): its shape, then its key, naming the key expected. */
export function checkIns(value: string): Check {
  const ins = normalizeIns(value);
  if (ins.length !== 15) {
    return {
      ok: false,
      problem: `an INS has 15 characters (13 and a 2-digit key), "${ins}" has ${ins.length}`,
    };
  }
  if (!INS_SHAPE.test(ins)) {
    return {
      ok: false,
      problem: `an INS is made of digits, with 2A or 2B (Corsica) as characters 6 and 7 only; "${ins}" is not`,
    };
  }
  const expected = insKey(ins.slice(0, 13));
  const given = Number(ins.slice(13));
  if (given !== expected) {
    return {
      ok: false,
      problem: `the key of INS ${ins.slice(0, 13)} is ${String(expected).padStart(2, '0')}, not ${ins.slice(13)}: check the number and its key`,
    };
  }
  return { ok: true };
}

/**
 * A birthplace: the INSEE code of the commune (5 characters: the department,
 * 2A and 2B included, then the commune), or 99 and the country's code for a
 * birth abroad.
 */
const BIRTHPLACE_SHAPE = /^(\d{5}|2A\d{3}|2B\d{3})$/;

export function checkBirthplaceCode(value: string): Check {
  if (!BIRTHPLACE_SHAPE.test(value)) {
    return {
      ok: false,
      problem: `a birthplace is an INSEE code of 5 characters (e.g. 75056, 2A004, or 99 and a country code for a birth abroad), not "${value}"`,
    };
  }
  return { ok: true };
}

/** A calendar date YYYY-MM-DD that exists, not after `today` (YYYY-MM-DD, UTC). */
export function checkBirthDate(value: string, today: string): Check {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  const date = match ? new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]))) : null;
  if (!date || date.toISOString().slice(0, 10) !== value) {
    return { ok: false, problem: `a birth date is a calendar date YYYY-MM-DD, not "${value}"` };
  }
  if (value > today || value < '1850-01-01') {
    return { ok: false, problem: `the birth date ${value} is not plausible (from 1850-01-01 to today)` };
  }
  return { ok: true };
}

/** A patient's identity, as entered: the traits, the INS and the status. */
export interface PatientIdentity {
  /** Birth family name (nom de naissance), as on the birth certificate. */
  readonly birthFamilyName: string;
  /** First names of the birth certificate, in order; the first is the first given name. */
  readonly firstNames: readonly string[];
  /** YYYY-MM-DD. */
  readonly birthDate: string;
  readonly sex: Sex;
  /** INSEE code of the birthplace; null when not known. */
  readonly birthplaceCode: string | null;
  /** The INS (15 characters with the key) and its kind; null when there is none. */
  readonly ins: { readonly value: string; readonly kind: InsKind } | null;
  readonly status: IdentityStatus;
  /** How the status was set (traits or INS obtained); null when not said. */
  readonly statusMethod: IdentityMethod | null;
  /** When the status was set. */
  readonly statusSetAt: Date;
}

/** A problem with one field of an identity. */
export interface IdentityProblem {
  readonly field: string;
  readonly problem: string;
}

/**
 * Every problem of an identity at once, each naming its field. Beyond each value's
 * shape: RECUP and QUAL come from the INSi teleservice, which returns the INS, so
 * they need one; a qualified identity carries the birthplace (FR Core
 * `fr-core-patient-ins`: birthPlace with its INSEE code, 1..1).
 */
export function identityProblems(identity: PatientIdentity, today: string): IdentityProblem[] {
  const problems: IdentityProblem[] = [];
  const add = (field: string, check: Check) => {
    if (!check.ok) problems.push({ field, problem: check.problem });
  };
  if (identity.birthFamilyName.trim().length === 0) {
    problems.push({ field: 'birthFamilyName', problem: 'the birth family name is empty' });
  }
  if (identity.firstNames.length === 0 || identity.firstNames.some((n) => n.trim().length === 0)) {
    problems.push({
      field: 'firstNames',
      problem: 'give the first names of the birth certificate, in order, none empty',
    });
  }
  add('birthDate', checkBirthDate(identity.birthDate, today));
  if (identity.birthplaceCode !== null) add('birthplaceCode', checkBirthplaceCode(identity.birthplaceCode));
  if (identity.ins) add('ins.value', checkIns(identity.ins.value));
  if ((identity.status === 'RECUP' || identity.status === 'QUAL') && !identity.ins) {
    problems.push({
      field: 'ins',
      problem: `a ${identity.status} identity was obtained from the INSi teleservice, which returns the INS: give it`,
    });
  }
  if (identity.status === 'QUAL' && identity.birthplaceCode === null) {
    problems.push({ field: 'birthplaceCode', problem: 'a qualified identity carries its birthplace (INSEE code)' });
  }
  return problems;
}
