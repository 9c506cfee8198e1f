/**
 * Who a person signed in with OpenID Connect is, from the issuer's claims
 * (README, "Sign-in", "Mapping"). Pure: the store finds the practitioner.
 *
 * Pro Santé Connect (../shared/design/french-interop.md): `SubjectNameID` is the
 * national identifier of the professional, "8" followed by the 11-digit RPPS
 * number (FR Core `idNatPs`, system urn:oid:1.2.250.1.71.4.2.1); it equals
 * `preferred_username`. Its profession codes are under
 * `SubjectRefPro.exercices[].codeProfession`.
 */

/** How the claim that names the practitioner is matched (VITALINK_OIDC_PRACTITIONER_MATCH). */
export const PRACTITIONER_MATCHES = ['idnat-rpps', 'rpps', 'id'] as const;
export type PractitionerMatch = (typeof PRACTITIONER_MATCHES)[number];

/** How to find the practitioner: by RPPS number, or by their id in Vitalink. */
export type PractitionerKey =
  { readonly by: 'rpps'; readonly rpps: string } | { readonly by: 'id'; readonly id: string };

/** Why the claims name no practitioner (for the log and the page; never the value itself in the log). */
export type IdentityProblem = 'claim_missing' | 'claim_malformed';

export type Claims = Readonly<Record<string, unknown>>;

/** The first of `names` present in `claims` as a non-empty string. */
export function firstClaim(claims: Claims, names: readonly string[]): string | undefined {
  for (const name of names) {
    const value = claims[name];
    if (typeof value === 'string' && value.trim() !== '') return value.trim();
  }
  return undefined;
}

/** The practitioner the claims name under the rule `match`, or why none. */
export function practitionerKeyOf(
  claims: Claims,
  names: readonly string[],
  match: PractitionerMatch,
): { key: PractitionerKey } | { problem: IdentityProblem } {
  const value = firstClaim(claims, names);
  if (value === undefined) return { problem: 'claim_missing' };
  switch (match) {
    case 'idnat-rpps': {
      // FR Core idNatPs: "8" + RPPS (11 digits), 12 characters.
      const m = /^8(\d{11})$/.exec(value);
      return m ? { key: { by: 'rpps', rpps: m[1]! } } : { problem: 'claim_malformed' };
    }
    case 'rpps':
      return /^\d{11}$/.test(value) ? { key: { by: 'rpps', rpps: value } } : { problem: 'claim_malformed' };
    case 'id':
      return value.length <= 200 ? { key: { by: 'id', id: value } } : { problem: 'claim_malformed' };
  }
}

/**
 * Profession codes of the national nomenclature (TRE_G15 ProfessionSante) that
 * Pro Santé Connect returns in `SubjectRefPro.exercices[].codeProfession`; the
 * labels for the dashboard, other codes shown as they are.
 */
export const PROFESSION_LABELS: Readonly<Record<string, string>> = {
  '10': 'Médecin',
  '21': 'Pharmacien',
  '40': 'Chirurgien-dentiste',
  '50': 'Sage-femme',
  '60': 'Infirmier',
  '70': 'Masseur-kinésithérapeute',
};

/** The profession codes of `SubjectRefPro.exercices[]` (Pro Santé Connect), in order, without duplicates. */
export function professionCodes(claims: Claims): string[] {
  const ref = claims.SubjectRefPro as { exercices?: unknown } | undefined;
  const exercices = Array.isArray(ref?.exercices) ? (ref.exercices as unknown[]) : [];
  const codes = exercices
    .map((e) => (e && typeof e === 'object' ? (e as { codeProfession?: unknown }).codeProfession : undefined))
    .filter((c): c is string => typeof c === 'string' && /^[0-9A-Za-z]{1,10}$/.test(c));
  return [...new Set(codes)];
}
