/** The five patient personas of the simulators. */
import { COPD } from './copd.ts';
import { HEALTHY } from './healthy.ts';
import { HEART_FAILURE } from './heart-failure.ts';
import { HYPERTENSION } from './hypertension.ts';
import type { Persona } from './persona.ts';
import { TYPE1_DIABETES } from './type1-diabetes.ts';

export { COPD, HEALTHY, HEART_FAILURE, HYPERTENSION, TYPE1_DIABETES };
export { personaReadings } from './persona.ts';
export type { DeviceReadings, DeviceSpec, ModelSpec, Persona, PersonaKey, PersonaOptions } from './persona.ts';

export const PERSONAS: readonly Persona[] = [TYPE1_DIABETES, HEART_FAILURE, COPD, HYPERTENSION, HEALTHY];
