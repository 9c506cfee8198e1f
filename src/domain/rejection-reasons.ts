/** Rejection reasons of device-protocol.md, "Rejections". */
export const REJECTION_REASONS = [
  'invalid_json',
  'invalid_shape',
  'invalid_reading',
  'unknown_type',
  'unit',
  'out_of_range',
  'future',
  'too_old',
  'unassigned',
  'conflict',
] as const;

export type RejectionReason = (typeof REJECTION_REASONS)[number];
