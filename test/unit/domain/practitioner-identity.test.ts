import { describe, expect, it } from 'vitest';
import { practitionerKeyOf, professionCodes } from '../../../src/domain/practitioner-identity.ts';

/** README, "Sign-in", "Mapping": who a signed-in person is, from the issuer's claims. */

const PSC = ['SubjectNameID', 'preferred_username'];

describe('the practitioner named by the claims', () => {
  it('Pro Santé Connect: SubjectNameID is "8" + the RPPS number', () => {
    expect(practitionerKeyOf({ SubjectNameID: '810003456789' }, PSC, 'idnat-rpps')).toEqual({
      key: { by: 'rpps', rpps: '10003456789' },
    });
  });

  it('falls back to the next claim of the list (preferred_username carries the same value at PSC)', () => {
    expect(practitionerKeyOf({ preferred_username: '810003456789' }, PSC, 'idnat-rpps')).toEqual({
      key: { by: 'rpps', rpps: '10003456789' },
    });
  });

  it('refuses a missing or malformed identifier', () => {
    expect(practitionerKeyOf({ sub: 'x' }, PSC, 'idnat-rpps')).toEqual({ problem: 'claim_missing' });
    expect(practitionerKeyOf({ SubjectNameID: '' }, PSC, 'idnat-rpps')).toEqual({ problem: 'claim_missing' });
    // An ADELI-based identifier ("0" + ADELI) or a bare RPPS is not "8" + RPPS.
    for (const value of ['010003456789', '10003456789', '8100034567890', '8abcdefghijk']) {
      expect(practitionerKeyOf({ SubjectNameID: value }, PSC, 'idnat-rpps'), value).toEqual({
        problem: 'claim_malformed',
      });
    }
  });

  it('other issuers: the RPPS as it is, or sub as the practitioner id', () => {
    expect(practitionerKeyOf({ rpps: '10003456789' }, ['rpps'], 'rpps')).toEqual({
      key: { by: 'rpps', rpps: '10003456789' },
    });
    expect(practitionerKeyOf({ rpps: '810003456789' }, ['rpps'], 'rpps')).toEqual({ problem: 'claim_malformed' });
    expect(practitionerKeyOf({ sub: 'dr-martin' }, ['sub'], 'id')).toEqual({ key: { by: 'id', id: 'dr-martin' } });
  });

  it('reads the profession codes of SubjectRefPro.exercices', () => {
    const claims = {
      SubjectRefPro: { exercices: [{ codeProfession: '10' }, { codeProfession: '60' }, { codeProfession: '10' }, {}] },
    };
    expect(professionCodes(claims)).toEqual(['10', '60']);
    expect(professionCodes({})).toEqual([]);
    expect(professionCodes({ SubjectRefPro: 'x' })).toEqual([]);
  });
});
