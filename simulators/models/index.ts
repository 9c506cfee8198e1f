/** The reading models of the simulators: one per reading type of the device protocol. */
export * from './common.ts';
export * from './random.ts';
export * from './time.ts';
export * from './activity.ts';
export * from './glucose.ts';
export * from './heart-rate.ts';
export * from './blood-pressure.ts';
export * from './cgm.ts';
export * from './meter-glucose.ts';
export * from './weight.ts';
export * from './spo2.ts';
export * from './temperature.ts';
export * from './steps.ts';
export * from './respiratory-rate.ts';
