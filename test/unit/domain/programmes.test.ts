import { describe, expect, it } from 'vitest';
import { isProgramme, PROGRAMME_INFO, PROGRAMMES, unknownProgrammeMessage } from '../../../src/domain/programmes.ts';

describe('monitoring programmes', () => {
  it('are the five common-law télésurveillance activities, plus hypertension outside them', () => {
    expect(PROGRAMMES.filter((p) => PROGRAMME_INFO[p].commonLaw)).toEqual([
      'heart_failure',
      'chronic_kidney_failure',
      'chronic_respiratory_failure',
      'diabetes',
      'cardiac_implantable_device',
    ]);
    expect(PROGRAMMES.filter((p) => !PROGRAMME_INFO[p].commonLaw)).toEqual(['hypertension']);
    for (const p of PROGRAMMES) expect(PROGRAMME_INFO[p].key).toBe(p);
  });

  it('refuses any other name with a sentence listing them', () => {
    expect(isProgramme('diabetes')).toBe(true);
    expect(isProgramme('Diabetes')).toBe(false);
    expect(isProgramme('toString')).toBe(false);
    const message = unknownProgrammeMessage('asthma');
    expect(message).toContain('"asthma"');
    for (const p of PROGRAMMES) expect(message).toContain(p);
  });
});
