import { type AlertSeverity, alertRule, isRuleKey, SEVERITY_RANK, worstRule } from '../domain/alerts/index.ts';
import type { Programme } from '../domain/programmes.ts';
import { AppError } from '../errors.ts';
import { careEnrolments, openAlertsOf, patientLabels, teamsOf } from '../store/care-teams.repository.ts';
import type { Db } from '../store/database.ts';
import { patientSummaries } from '../store/patient-summaries.repository.ts';
import { type TeamView, teamView } from './care-teams.ts';

/**
 * A practitioner's worklist (README, "Care teams"): the patients of their teams
 * now, those with open alerts first, by their worst open alert's severity, then
 * by their oldest open alert (waiting longest first), then by name.
 *
 * Cost, whatever the history: the running enrolments of the practitioner's teams
 * (index), the patients' names (primary key), their open alerts (alerts index) —
 * for every patient in care, to order them — then, for the page shown only, the
 * last reading per reading type by the (patient_id, type, measured_at) index and
 * the adherence indicator (patient-summaries.repository.ts). No query reads
 * readings beyond one index probe per patient and type.
 */

export interface WorklistEnrolment {
  id: string;
  teamId: string;
  teamName: string | null;
  programme: Programme;
  from: string;
  to: string | null;
}

export interface WorklistItem {
  patientId: string;
  displayName: string | null;
  timeZone: string;
  enrolments: WorklistEnrolment[];
  openAlerts: number;
  worstAlert: { rule: string; severity: AlertSeverity } | null;
  /** When the oldest open alert opened: how long the patient has waited. */
  oldestOpenAlertAt: string | null;
  lastReadingAt: string | null;
  adherenceDays: number | null;
}

export interface Worklist {
  at: string;
  /** The caller's teams with their duty now (empty for a token holding a list of patients). */
  teams: TeamView[];
  items: WorklistItem[];
  /** Patients in care, of which `items` holds the first `limit`. */
  total: number;
}

export const MAX_WORKLIST = 2000;

/** Who the worklist is for: a practitioner, or a clinician token's list of patients. */
export type WorklistOf = { practitionerId: string } | { patientIds: readonly string[] };

export async function worklist(db: Db, of: WorklistOf, now: Date, limit = 500): Promise<Worklist> {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_WORKLIST) {
    throw new AppError('invalid_input', `limit must be a whole number from 1 to ${MAX_WORKLIST}`, { field: 'limit' });
  }
  const [enrolments, teams] = await Promise.all([
    careEnrolments(db, of, now),
    'practitionerId' in of ? teamsOf(db, of.practitionerId) : Promise.resolve([]),
  ]);
  // A token's listed patients are in its worklist with or without an enrolment.
  const ids = 'patientIds' in of ? [...new Set(of.patientIds)] : [...new Set(enrolments.map((e) => e.patientId))];
  const [labels, alerts] = await Promise.all([patientLabels(db, ids), openAlertsOf(db, ids)]);

  const byPatient = new Map<string, { rules: string[]; oldest: Date | null }>();
  for (const id of ids) byPatient.set(id, { rules: [], oldest: null });
  for (const a of alerts) {
    const entry = byPatient.get(a.patientId)!;
    entry.rules.push(a.rule);
    if (entry.oldest === null || a.openedAt < entry.oldest) entry.oldest = a.openedAt;
  }
  const rows = ids
    .filter((id) => labels.has(id))
    .map((id) => {
      const entry = byPatient.get(id)!;
      const worst = worstRule(entry.rules.filter(isRuleKey));
      return { id, label: labels.get(id)!, rules: entry.rules, oldest: entry.oldest, worst };
    });
  const nameOf = (r: (typeof rows)[number]) => r.label.displayName ?? r.id;
  rows.sort((a, b) => {
    const sa = a.worst ? SEVERITY_RANK[a.worst.severity] : -1;
    const sb = b.worst ? SEVERITY_RANK[b.worst.severity] : -1;
    if (sa !== sb) return sb - sa;
    const oa = a.oldest?.getTime() ?? Infinity;
    const ob = b.oldest?.getTime() ?? Infinity;
    if (oa !== ob) return oa - ob;
    return nameOf(a).localeCompare(nameOf(b)) || a.id.localeCompare(b.id);
  });
  const shown = rows.slice(0, limit);
  const summaries = await patientSummaries(
    db,
    shown.map((r) => r.id),
    now,
  );
  const enrolmentsOf = new Map<string, WorklistEnrolment[]>();
  for (const e of enrolments) {
    const list = enrolmentsOf.get(e.patientId) ?? [];
    list.push({
      id: e.id,
      teamId: e.teamId,
      teamName: e.teamName,
      programme: e.programme as Programme,
      from: e.startsAt.toISOString(),
      to: e.endsAt?.toISOString() ?? null,
    });
    enrolmentsOf.set(e.patientId, list);
  }
  return {
    at: now.toISOString(),
    teams: teams.map((t) => teamView(t, now)),
    total: rows.length,
    items: shown.map((r) => {
      const summary = summaries.get(r.id);
      return {
        patientId: r.id,
        displayName: r.label.displayName,
        timeZone: r.label.timeZone,
        enrolments: enrolmentsOf.get(r.id) ?? [],
        openAlerts: r.rules.length,
        worstAlert: r.worst ? { rule: r.worst.rule, severity: alertRule(r.worst.rule).severity } : null,
        oldestOpenAlertAt: r.oldest?.toISOString() ?? null,
        lastReadingAt: summary?.lastReadingAt?.toISOString() ?? null,
        adherenceDays: summary?.adherenceDays ?? null,
      };
    }),
  };
}
