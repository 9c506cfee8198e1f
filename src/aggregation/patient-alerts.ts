import {
  ALERT_RULES,
  type AlertAction,
  type AlertReading,
  type AlertState,
  type Evaluation,
  effectiveThreshold,
  evaluateRule,
  nextAlertAction,
  type RuleKey,
  type ThresholdValue,
  type RuleInput,
  type Thresholds,
  WEIGHT_WINDOW_MS,
} from '../domain/alerts/index.ts';
import { addDays, HOUR_MS, startOfLocalDay } from '../domain/indicators/index.ts';
import type { PatientReading } from '../store/aggregation.repository.ts';

export interface AlertPlan {
  rule: RuleKey;
  threshold: ThresholdValue;
  evaluation: Evaluation;
  action: AlertAction;
}

/** Readings are unique per device: an alert names them as "deviceId/readingId". */
export function alertReadingId(deviceId: string, readingId: string): string {
  return `${deviceId}/${readingId}`;
}

/** A range of time, `from` ≤ at < `to`, epoch ms. */
export interface TimeRange {
  from: number;
  to: number;
}

/** What the job reads for one patient's alert rules, and where each rule is evaluated. */
export interface AlertSlices {
  /** Per rule: the ranges where occurrences are looked for (RuleInput.occurrenceRanges); absent: no reading. */
  evaluated: Map<RuleKey, TimeRange[]>;
  /** Readings to load, per type, measured in [since, until] (ms, inclusive; `until` is capped by the caller). */
  ranges: { type: string; since: number; until: number }[];
  /** Per type: its latest reading before this time (the reading before a range, for "in a row"). */
  previousBefore: { type: string; at: number }[];
  /** Per type: its first reading at or after this time (the reading after a range, for "in a row"). */
  nextFrom: { type: string; at: number }[];
}

const TWO_IN_A_ROW: ReadonlySet<RuleKey> = new Set(['hyperglycemia', 'tachycardia', 'bradycardia']);

/**
 * The bounded slices of the series each alert rule is evaluated on (indicators.md,
 * "Alerts"), so that a run costs the new data, not the patient's history nor how late
 * a reading is:
 *   - evaluated: every dirty day of the rule's types (what arrived since the last run
 *     lies in those days; a late reading makes its old day dirty), or where the mark
 *     records them the hours of the day its commits touched, for weight_gain
 *     with the 72 h after it (a late weight changes the 72 h change of the readings
 *     that follow), and from the latest reading on (the condition "holds now" is
 *     judged on it; a changed threshold and the passing of time are seen there);
 *   - context: the 72 h before each range for weight_gain; for the two-in-a-row rules
 *     the reading before each range and the one after it (a pair across the range's
 *     end is an occurrence at that next reading: planPatientAlerts extends the range
 *     to it).
 * Readings outside the ranges are not judged again: they were when they arrived. So a
 * clinician who changes a threshold gets it applied to the latest reading at once
 * (the change marks the patient for a run) and to every new or late reading, without
 * alerts being raised on past readings that the old threshold let pass.
 */
export function planAlertSlices(input: {
  /** With the pieces of the day its commits touched (DirtyMark.hours), when the mark knows them. */
  dirtyDays: readonly { type: string; day: string; hours?: readonly number[] | null }[];
  timeZone: string;
  /** Latest reading time of each type (up to the end of what the run reads). */
  latestAt: ReadonlyMap<string, number>;
  /** The end of what the run reads (the clock plus the accepted 5 minutes ahead). */
  until: number;
}): AlertSlices {
  const dirty = new Map<string, TimeRange[]>();
  for (const { type, day, hours } of input.dirtyDays) {
    // Each piece starts an hour that holds every reading it was recorded for (it is the later of the
    // starts of the reading's UTC and local hours, so the reading is within the hour after it).
    const ranges =
      hours && hours.length > 0
        ? hours.map((at) => ({ from: at, to: at + HOUR_MS }))
        : [{ from: startOfLocalDay(day, input.timeZone), to: startOfLocalDay(addDays(day, 1), input.timeZone) }];
    dirty.set(type, [...(dirty.get(type) ?? []), ...ranges]);
  }
  const slices: AlertSlices = { evaluated: new Map(), ranges: [], previousBefore: [], nextFrom: [] };
  for (const rule of ALERT_RULES) {
    if (rule.types.length === 0) continue;
    let latest = -Infinity;
    for (const type of rule.types) latest = Math.max(latest, input.latestAt.get(type) ?? -Infinity);
    if (latest === -Infinity) continue; // no reading of the rule's types at all
    const after = rule.key === 'weight_gain' ? WEIGHT_WINDOW_MS : 0;
    const before = rule.key === 'weight_gain' ? WEIGHT_WINDOW_MS : 0;
    const ranges: TimeRange[] = [{ from: latest, to: Infinity }];
    for (const type of rule.types)
      for (const d of dirty.get(type) ?? []) ranges.push({ from: d.from, to: d.to + after });
    const evaluated = mergeTimeRanges(ranges);
    slices.evaluated.set(rule.key, evaluated);
    for (const range of evaluated) {
      for (const type of rule.types) {
        slices.ranges.push({ type, since: range.from - before, until: Math.min(range.to - 1, input.until) });
        if (TWO_IN_A_ROW.has(rule.key)) {
          slices.previousBefore.push({ type, at: range.from });
          if (range.to !== Infinity) slices.nextFrom.push({ type, at: range.to });
        }
      }
    }
  }
  return slices;
}

/** The union of some ranges, as disjoint ranges in time order. */
function mergeTimeRanges(ranges: readonly TimeRange[]): TimeRange[] {
  const out: TimeRange[] = [];
  for (const r of [...ranges].sort((a, b) => a.from - b.from)) {
    const last = out[out.length - 1];
    if (last && r.from <= last.to) last.to = Math.max(last.to, r.to);
    else out.push({ ...r });
  }
  return out;
}

/**
 * What to do with each alert rule of one patient (indicators.md, "Alerts"), from
 * the slices of their readings (planAlertSlices: readings outside a rule's evaluated
 * ranges are context only), the no_data inputs, their threshold
 * overrides and the latest alert of each rule. Pure: the rules and the lifecycle are
 * in src/domain/alerts; this only feeds them.
 */
export function planPatientAlerts(input: {
  readings: readonly PatientReading[];
  evaluated: ReadonlyMap<RuleKey, readonly TimeRange[]>;
  expectedTypes: readonly string[];
  lastReadingAt: Readonly<Record<string, number>>;
  thresholds: Record<string, unknown>;
  latest: ReadonlyMap<string, { state: AlertState }>;
  now: number;
}): AlertPlan[] {
  const byType = new Map<string, AlertReading[]>();
  const seen = new Set<string>();
  for (const r of input.readings) {
    const id = alertReadingId(r.deviceId, r.id);
    if (seen.has(id)) continue; // a reading loaded both as context and in a range
    seen.add(id);
    const list = byType.get(r.type) ?? [];
    list.push({
      id,
      type: r.type,
      at: r.at,
      ...(r.value !== null ? { value: r.value } : {}),
      ...(r.systolic !== null ? { systolic: r.systolic } : {}),
      ...(r.diastolic !== null ? { diastolic: r.diastolic } : {}),
    });
    byType.set(r.type, list);
  }
  return ALERT_RULES.map((rule) => {
    const threshold = effectiveThreshold(rule, input.thresholds as Thresholds);
    const evaluation = evaluateRule(
      rule,
      rule.key === 'no_data'
        ? { expectedTypes: input.expectedTypes, lastReadingAt: input.lastReadingAt }
        : ruleInput(
            rule.key,
            rule.types.flatMap((t) => byType.get(t) ?? []),
            input.evaluated.get(rule.key) ?? [],
          ),
      threshold,
      input.now,
    );
    const latest = input.latest.get(rule.key)?.state ?? null;
    return { rule: rule.key, threshold, evaluation, action: nextAlertAction(latest, evaluation, input.now) };
  });
}

/**
 * A rule's input: its readings and evaluated ranges. For the two-in-a-row rules a
 * range ending before the latest reading is extended to the first reading after it,
 * so that the pair (last reading of the range, next reading) is judged.
 */
function ruleInput(rule: RuleKey, readings: AlertReading[], ranges: readonly TimeRange[]): RuleInput {
  if (!TWO_IN_A_ROW.has(rule)) return { readings, occurrenceRanges: ranges };
  const times = readings.map((r) => r.at).sort((a, b) => a - b);
  const extended = ranges.map((range) => {
    if (range.to === Infinity) return range;
    const next = times.find((at) => at >= range.to);
    return next === undefined ? range : { from: range.from, to: next + 1 };
  });
  return { readings, occurrenceRanges: extended };
}
