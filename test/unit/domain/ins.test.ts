import { describe, expect, it } from 'vitest';
import {
  checkBirthDate,
  checkBirthplaceCode,
  checkIns,
  identityProblems,
  insKey,
  insSystem,
  isInsKind,
  isInsShareable,
  type PatientIdentity,
} from '../../../src/domain/ins.ts';

/*
 * Keys computed by hand: key = 97 − (the 13 characters as a number mod 97), with
 * 2A → 19 and 2B → 18. Each case writes the division out: n = 97 × q + r, key 97 − r.
 * (The first two are the worked examples of public pages on the NIR key; the others
 * were divided out with `bc`, then checked by multiplying back.)
 */
describe('INS key', () => {
  it('is 97 minus the number mod 97', () => {
    // 1631278477042 = 97 × 16817303887 + 3 (97 × 16817303887 = 1631278477039) → 97 − 3 = 94
    expect(insKey('1631278477042')).toBe(94);
    // 2620875032039 = 97 × 27019330227 + 20 (97 × 27019330227 = 2620875032019) → 97 − 20 = 77
    expect(insKey('2620875032039')).toBe(77);
    // 1000175101001 = 97 × 10311083515 + 46 (97 × 10311083515 = 1000175100955) → 97 − 46 = 51
    expect(insKey('1000175101001')).toBe(51);
  });

  it('is 97 for a multiple of 97 and keeps its leading zero when below 10', () => {
    // 1197530853397 = 97 × 12345678901 + 0 → 97 − 0 = 97
    expect(insKey('1197530853397')).toBe(97);
    expect(checkIns('119753085339797')).toEqual({ ok: true });
    // 2901220033456 = 97 × 29909484880 + 96 (97 × 29909484880 = 2901220033360) → 97 − 96 = 01
    expect(insKey('2901220033456')).toBe(1);
    expect(checkIns('290122003345601')).toEqual({ ok: true });
    expect(checkIns('29012200334561')).toMatchObject({ ok: false });
  });

  it('replaces Corsica 2A by 19 and 2B by 18', () => {
    // 185052A004123 → 1850519004123 = 97 × 19077515506 + 41 (97 × 19077515506 = 1850519004082) → 97 − 41 = 56
    expect(insKey('185052A004123')).toBe(56);
    // 290122B033456 → 2901218033456 = 97 × 29909464262 + 42 (97 × 29909464262 = 2901218033414) → 97 − 42 = 55
    expect(insKey('290122B033456')).toBe(55);
    expect(checkIns('185052A00412356')).toEqual({ ok: true });
    expect(checkIns('290122b033456 55')).toEqual({ ok: true });
    // Reading 2A as 20 would give 1850520004123 = 97 × 19077525815 + 68 → 29: refused, naming 56.
    expect(checkIns('185052A00412329')).toEqual({
      ok: false,
      problem: 'the key of INS 185052A004123 is 56, not 29: check the number and its key',
    });
    // 2B read as 20: 2901220033456 → key 01 above, not 2B's 55.
    expect(checkIns('290122B03345601')).toMatchObject({ ok: false, problem: expect.stringContaining('is 55, not 01') });
  });

  it('refuses a wrong key, naming the key expected', () => {
    // 1740101234567 = 97 × 17939187985 + 22 (97 × 17939187985 = 1740101234545) → 97 − 22 = 75
    expect(checkIns('174010123456775')).toEqual({ ok: true });
    expect(checkIns('174010123456776')).toEqual({
      ok: false,
      problem: 'the key of INS 1740101234567 is 75, not 76: check the number and its key',
    });
    // One digit mistyped (…4576 for …4567): the key no longer matches.
    expect(checkIns('174010123457675')).toMatchObject({ ok: false, problem: expect.stringContaining('not 75') });
  });

  it('refuses what is not 13 characters and a 2-digit key', () => {
    expect(checkIns('17401012345677')).toEqual({
      ok: false,
      problem: 'an INS has 15 characters (13 and a 2-digit key), "17401012345677" has 14',
    });
    expect(checkIns('1740101234567756')).toMatchObject({ ok: false, problem: expect.stringContaining('has 16') });
    // Letters only as Corsica's department, at characters 6 and 7.
    expect(checkIns('1740A0123456775')).toMatchObject({ ok: false, problem: expect.stringContaining('2A or 2B') });
    expect(checkIns('174012C23456775')).toMatchObject({ ok: false, problem: expect.stringContaining('2A or 2B') });
    expect(checkIns('2A4010123456775')).toMatchObject({ ok: false, problem: expect.stringContaining('2A or 2B') });
    expect(() => insKey('12345')).toThrow(/13 characters/);
  });
});

describe('INS kinds', () => {
  it('have the OIDs of FR Core: production NIR .8, NIA .9, test .10, demonstration .11', () => {
    expect(insSystem('nir')).toBe('urn:oid:1.2.250.1.213.1.4.8');
    expect(insSystem('nia')).toBe('urn:oid:1.2.250.1.213.1.4.9');
    expect(insSystem('nir-test')).toBe('urn:oid:1.2.250.1.213.1.4.10');
    expect(insSystem('nir-demo')).toBe('urn:oid:1.2.250.1.213.1.4.11');
    expect(isInsKind('nir-test')).toBe(true);
    expect(isInsKind('toString')).toBe(false);
  });

  it('is shared only for a qualified identity', () => {
    expect(isInsShareable('QUAL')).toBe(true);
    for (const s of ['PROV', 'RECUP', 'VALI'] as const) expect(isInsShareable(s)).toBe(false);
  });
});

describe('birthplace and birth date', () => {
  it('takes a 5-character INSEE code, Corsica included', () => {
    for (const code of ['75056', '2A004', '2B033', '99134']) expect(checkBirthplaceCode(code)).toEqual({ ok: true });
    for (const code of ['7505', '750560', '2C004', '2a004', 'ABCDE']) {
      expect(checkBirthplaceCode(code)).toMatchObject({ ok: false, problem: expect.stringContaining('INSEE code') });
    }
  });

  it('takes a calendar date that exists, not in the future', () => {
    expect(checkBirthDate('1974-12-25', '2026-12-07')).toEqual({ ok: true });
    expect(checkBirthDate('1974-02-30', '2026-12-07')).toMatchObject({ ok: false });
    expect(checkBirthDate('25/12/1974', '2026-12-07')).toMatchObject({ ok: false });
    expect(checkBirthDate('2026-12-08', '2026-12-07')).toMatchObject({ ok: false });
  });
});

describe('identity problems', () => {
  const qualified: PatientIdentity = {
    birthFamilyName: 'DURAND',
    firstNames: ['PIERRE', 'YVES'],
    birthDate: '1974-01-01',
    sex: 'male',
    birthplaceCode: '2A004',
    ins: { value: '174010123456775', kind: 'nir-test' },
    status: 'QUAL',
    statusMethod: 'INSI',
    statusSetAt: new Date('2026-12-07T10:00:00Z'),
  };

  it('none for a complete qualified identity', () => {
    expect(identityProblems(qualified, '2026-12-07')).toEqual([]);
  });

  it('RECUP and QUAL need the INS that INSi returned; QUAL its birthplace', () => {
    expect(identityProblems({ ...qualified, ins: null, status: 'RECUP' }, '2026-12-07')).toEqual([
      { field: 'ins', problem: expect.stringContaining('RECUP') },
    ]);
    expect(identityProblems({ ...qualified, birthplaceCode: null }, '2026-12-07')).toEqual([
      { field: 'birthplaceCode', problem: expect.stringContaining('qualified') },
    ]);
    // A provisional identity needs neither.
    expect(identityProblems({ ...qualified, ins: null, birthplaceCode: null, status: 'PROV' }, '2026-12-07')).toEqual(
      [],
    );
  });

  it('lists every problem at once, each with its field', () => {
    const problems = identityProblems(
      {
        ...qualified,
        birthFamilyName: ' ',
        firstNames: [],
        birthDate: '1974-13-01',
        ins: { value: '174010123456776', kind: 'nir-test' },
      },
      '2026-12-07',
    );
    expect(problems.map((p) => p.field)).toEqual(['birthFamilyName', 'firstNames', 'birthDate', 'ins.value']);
    expect(problems[3].problem).toContain('is 75, not 76');
  });
});
