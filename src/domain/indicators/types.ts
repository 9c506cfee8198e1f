/**
 * Plain data of the indicator maths (indicators.md). Times are epoch
 * milliseconds; values are in the stored units of device-protocol.md (glucose
 * mg/dL, weight kg, temperature Cel, blood pressure mm[Hg], SpO2 %, heart rate /min).
 */

/** One reading of a single-valued type. */
export interface Point {
  at: number;
  value: number;
}

/** One blood pressure reading. */
export interface BpPoint {
  at: number;
  systolic: number;
  diastolic: number;
}

/**
 * One indicator as clients read it (interfaces.md, "Indicators"): the window it
 * covers (`from` < at ≤ `to`), the number of readings behind it and whether
 * they are enough. `value` is null when it is undefined for lack of data, and is
 * kept at full precision (indicators.md: "store full precision, show one decimal").
 */
export interface Indicator {
  key: string;
  value: number | null;
  unit: string;
  from: number;
  to: number;
  n: number;
  sufficient: boolean;
}
