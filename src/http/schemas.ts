import { DEVICE_TRANSPORTS } from '../domain/device-transports.ts';
import { z } from 'zod';
import { ACKNOWLEDGE_ACTIONS, ALERT_SEVERITIES, ALERT_STATUSES } from '../domain/alerts/index.ts';
import { isReservedId, RESERVED_ID_MESSAGE } from '../domain/ids.ts';
import { PRACTITIONER_ROLES } from '../domain/practitioners.ts';
import { PROGRAMMES } from '../domain/programmes.ts';
import { IDENTITY_METHOD_NAMES, IDENTITY_STATUS_NAMES, INS_KIND_NAMES, SEXES } from '../domain/ins.ts';
import { DEVICE_ID_PATTERN } from '../domain/protocol.ts';
import { REJECTION_REASONS } from '../domain/rejection-reasons.ts';

/** Shapes of interfaces.md, "Shapes that clients rely on". Times are RFC 3339 in UTC. */

/** Free text from a user: printable (PostgreSQL text refuses NUL), bounded. */
// eslint-disable-next-line no-control-regex -- refusing control characters is the point
const PRINTABLE = /^[^\u0000-\u001f\u007f]*$/;

export function text(max: number) {
  return z.string().max(max).regex(PRINTABLE, 'must not contain control characters');
}

/** A patient or device id: the pattern of device-protocol.md, never a reserved id (src/domain/ids.ts). */
export const idParam = z
  .string()
  .regex(DEVICE_ID_PATTERN, 'must be 1 to 64 characters of A-Z a-z 0-9 . _ -')
  .refine((id) => !isReservedId(id), RESERVED_ID_MESSAGE);
const time = z.string().describe('RFC 3339, UTC');

export const errorBody = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  }),
});

export const patientSummary = z
  .object({
    openAlerts: z.number().int().describe('alerts not yet acknowledged'),
    worstAlert: z
      .object({ rule: z.string(), severity: z.enum(ALERT_SEVERITIES) })
      .nullable()
      .describe('the most urgent of the open alerts'),
    lastReadingAt: time.nullable(),
    adherenceDays: z.number().nullable().describe('days with at least one reading in the last 30'),
    lastReview: z
      .object({ day: z.string(), reviewedAt: time, reviewedBy: z.string() })
      .nullable()
      .describe('the latest "reviewed" mark on the patient\'s data (its patient-local day)'),
  })
  .describe("what a worklist shows next to the patient's name");

/** A patient's identity as the French rules define it (README, "Patient identity (INS)"). */
export const patientIdentity = z
  .object({
    birthFamilyName: z.string(),
    firstNames: z.array(z.string()).describe('the first names of the birth certificate, in order'),
    birthDate: z.string().describe('YYYY-MM-DD'),
    sex: z.enum(SEXES),
    birthplaceCode: z.string().nullable().describe('INSEE code of the birthplace (5 characters)'),
    ins: z
      .object({ value: z.string(), kind: z.enum(INS_KIND_NAMES), system: z.string() })
      .nullable()
      .describe('the INS: for a clinician only when the identity is qualified (QUAL); always for an admin'),
    insShared: z.boolean().describe('whether the INS goes to clinicians and over FHIR: only for a QUAL identity'),
    status: z.enum(IDENTITY_STATUS_NAMES),
    statusMethod: z.enum(IDENTITY_METHOD_NAMES).nullable().describe('how the traits or the INS were obtained'),
    statusSetAt: time,
    updatedAt: time,
  })
  .describe('identity status PROV | RECUP | VALI | QUAL (RNIV)');

export const patient = z.object({
  id: z.string(),
  displayName: z.string().nullable(),
  timeZone: z.string(),
  createdAt: time,
  summary: patientSummary
    .nullable()
    .describe('clinical: for clinician tokens only (null for an admin, who provisions but does not care for patients)'),
  identity: patientIdentity
    .nullable()
    .optional()
    .describe('GET /patients/{id} only: the identity, null when none was set'),
});

export const assignment = z.object({
  id: z.string(),
  deviceId: z.string(),
  patientId: z.string(),
  from: time,
  to: time.nullable(),
});

/** A device's state (README, "Security"): `vitalink devices list|show` prints the same with --json. */
export const deviceState = z.object({
  id: z.string(),
  model: z.string().nullable(),
  enabled: z.boolean(),
  disabledAt: time.nullable(),
  patientId: z.string().nullable().describe('the patient of the assignment that holds now'),
  connected: z
    .boolean()
    .nullable()
    .describe('connected to the instance that answers this request now (another instance may hold the session)'),
  lastSeenAt: time
    .nullable()
    .describe(
      'last CONNECT, publish or disconnect, HTTPS request or Nightscout upload; written every 10 s, so up to 10 s behind',
    ),
  lastTransport: z
    .enum(DEVICE_TRANSPORTS)
    .nullable()
    .describe('how the device reached the service at lastSeenAt: mqtt, https or nightscout (null: not recorded)'),
  lastReadingAt: time.nullable().describe('when a reading of it was last stored; up to 10 s behind'),
  lastRejection: z.object({ at: time, reason: z.string() }).nullable(),
  secretRotatedAt: time.nullable(),
  previousSecretValidUntil: time.nullable().describe("end of the previous secret's grace period, while it lasts"),
  createdAt: time,
});

export const device = deviceState.extend({ assignments: z.array(assignment) });

export const token = z.object({
  id: z.string(),
  role: z.enum(['admin', 'operator', 'clinician']),
  label: z.string().nullable(),
  patientIds: z.array(z.string()).nullable(),
  practitionerId: z.string().nullable().describe('the practitioner a clinician token acts as (README, "Care teams")'),
  state: z.enum(['active', 'revoked', 'expired']),
  createdAt: time,
  expiresAt: time.nullable().describe('null: never expires'),
  lastUsedAt: time.nullable().describe('to the minute: written at most once a minute'),
  revokedAt: time.nullable(),
});

export const indicator = z.object({
  key: z.string(),
  value: z.number().nullable(),
  unit: z.string(),
  from: time,
  to: time,
  n: z.number().int(),
  sufficient: z.boolean(),
  computedAt: time,
});

export const threshold = z.union([z.number(), z.strictObject({ systolic: z.number(), diastolic: z.number() })]);

/** One reading of an alert's event, in the stored unit (interfaces.md, Reading). */
export const alertEventReading = z.object({
  deviceId: z.string(),
  readingId: z.string(),
  type: z.string(),
  at: time.describe('measured time'),
  unit: z.string().describe('UCUM, the stored unit'),
  value: z.number().optional(),
  systolic: z.number().optional(),
  diastolic: z.number().optional(),
});

const alertEvent = z
  .object({
    at: time.nullable().describe("the most recent occurrence's time (no_data: when the gap began; null if unknown)"),
    readings: z
      .array(alertEventReading)
      .nullable()
      .describe('its reading(s) with their values ([] for no_data; null: alerts recorded before values were kept)'),
  })
  .describe('what raised the alert: the latest occurrence, updated when a later reading keeps it open');

const acknowledgement = z
  .object({
    at: time,
    by: z.string().describe('practitioner:ID when the caller acts as a practitioner, else token:ID'),
    action: z.enum(ACKNOWLEDGE_ACTIONS).nullable().describe('null: the client did not say'),
    note: z.string().nullable(),
  })
  .describe('who acknowledged the alert, when, what they did');

export const alertHistoryEntry = z.object({
  at: time,
  event: z
    .string()
    .describe('opened, updated, condition_cleared, acknowledged, resolved; notified, notification_failed'),
  by: z.string().nullable().describe('who, for what a person did (acknowledged); null for what the service did'),
  readingIds: z.array(z.string()).nullable(),
  readings: z.array(alertEventReading).nullable().describe('opened, updated: the event readings with their values'),
  action: z.enum(ACKNOWLEDGE_ACTIONS).nullable(),
  note: z.string().nullable(),
  notification: z
    .object({ channel: z.string(), teamId: z.string(), purpose: z.enum(['alert', 'escalation']) })
    .nullable()
    .describe(
      'notified, notification_failed: the channel (webhook, email), the team, first notification or escalation',
    ),
});

export const alert = z.object({
  id: z.string(),
  patientId: z.string(),
  rule: z.string(),
  severity: z.enum(ALERT_SEVERITIES).describe("the rule's urgency, for ordering a worklist"),
  status: z.enum(ALERT_STATUSES),
  openedAt: time,
  acknowledgedAt: time.nullable(),
  resolvedAt: time.nullable(),
  threshold,
  readingIds: z.array(z.string()).describe('"deviceId/readingId" of the reading(s) that raised it'),
  event: alertEvent,
  acknowledgement: acknowledgement.nullable(),
});

export const rejection = z.object({
  deviceId: z.string(),
  readingId: z.string().nullable(),
  reason: z.enum(REJECTION_REASONS),
  detail: z.string(),
  receivedAt: time,
  raw: z
    .object({
      kept: z.boolean().describe('false: only the size and hash were stored, and the rejection cannot be reprocessed'),
      size: z.number().int().nullable().describe('bytes received (null: recorded before sizes were)'),
      sha256: z
        .string()
        .nullable()
        .describe('SHA-256 of the bytes received, base64 (null: recorded before hashes were)'),
      notKeptBecause: z
        .enum(['quota'])
        .nullable()
        .describe(
          'quota: the device was over its daily quota of raw rejection bytes (VITALINK_REJECTIONS_RAW_BYTES_PER_DEVICE_DAY)',
        ),
    })
    .describe('What was kept of the payload'),
});

export function page<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() });
}

export const iso = (d: Date | number): string => new Date(d).toISOString();

/** A patient's data marked reviewed for a day (README, "Indicators and alerts", Reviewed). */
export const review = z.object({
  patientId: z.string(),
  day: z.string().describe('the patient-local day reviewed, YYYY-MM-DD'),
  reviewedAt: time,
  reviewedBy: z.string().describe('practitioner:ID when the caller acts as a practitioner, else token:ID'),
  practitionerId: z.string().nullable(),
});

/** The counts of a row of the monthly activity report (src/domain/activity-report.ts has the definitions). */
const activityCounts = {
  enrolledDays: z.number().int().describe('patient-local days of the month with an enrolment with the team'),
  daysWithData: z.number().int().describe('enrolled days with at least one reading'),
  alertsOpened: z.number().int().describe('alerts opened while enrolled'),
  alertsAcknowledged: z.number().int().describe('of those, acknowledged by the time of the report'),
  medianSecondsToAcknowledge: z.number().nullable(),
  p90SecondsToAcknowledge: z.number().nullable(),
  alertsOpenedOutOfHours: z.number().int().describe("opened outside the team's service hours"),
  notificationsSent: z.number().int().describe("the team's notifications about these alerts that were delivered"),
  notificationsFailed: z.number().int().describe('given up after the last attempt (dead letters)'),
};

export const activityReport = z.object({
  teamId: z.string(),
  month: z.string(),
  timeZone: z.string().describe("the team's: the month is its calendar month"),
  serviceHours: z.string().nullable(),
  from: time,
  to: time.describe('the end of the month, or the time of the report while the month is not over'),
  generatedAt: time,
  team: z.object({ patients: z.number().int(), ...activityCounts }),
  patients: z.array(z.object({ patientId: z.string(), enrolledFrom: time, enrolledTo: time, ...activityCounts })),
});

// Care teams (README, "Care teams"): src/actions/care-teams.ts and worklist.ts build these.

export const practitioner = z.object({
  id: z.string(),
  name: z.string(),
  rpps: z.string().nullable().describe('RPPS number, 11 digits'),
  role: z.enum(PRACTITIONER_ROLES),
  createdAt: time,
});

export const team = z.object({
  id: z.string(),
  name: z.string().nullable(),
  timeZone: z.string().describe('IANA zone of its service hours'),
  serviceHours: z.string().nullable().describe('e.g. "mon-fri 08:00-18:00; sat 09:00-12:00"; null: always on duty'),
  onDuty: z.boolean().describe('on duty at the time of the request'),
  nextOpening: time.nullable().describe('when it is next on duty; null while on duty'),
  createdAt: time,
});

export const member = practitioner.extend({ addedAt: time });

export const enrolment = z.object({
  id: z.string(),
  patientId: z.string(),
  teamId: z.string(),
  programme: z.enum(PROGRAMMES),
  from: time,
  to: time.nullable().describe('exclusive; null: open-ended'),
  state: z.enum(['upcoming', 'running', 'ended']).describe('at the time of the request'),
  createdAt: time,
});

export const worklistItem = z.object({
  patientId: z.string(),
  displayName: z.string().nullable(),
  timeZone: z.string(),
  enrolments: z
    .array(
      z.object({
        id: z.string(),
        teamId: z.string(),
        teamName: z.string().nullable(),
        programme: z.enum(PROGRAMMES),
        from: time,
        to: time.nullable(),
      }),
    )
    .describe('the running enrolments that put the patient in care'),
  openAlerts: z.number().int(),
  worstAlert: z.object({ rule: z.string(), severity: z.enum(ALERT_SEVERITIES) }).nullable(),
  oldestOpenAlertAt: time.nullable().describe('when the oldest open alert opened'),
  lastReadingAt: time.nullable(),
  adherenceDays: z.number().nullable().describe('days with at least one reading in the last 30'),
});
