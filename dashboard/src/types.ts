/** Shapes of the public API (interfaces.md, "Shapes that clients rely on"), as the dashboard reads them. */
import type { ACKNOWLEDGE_ACTIONS } from '../../src/domain/alerts/acknowledgement.ts';
import type { AlertStatus as DomainAlertStatus } from '../../src/domain/alerts/lifecycle.ts';
import type { AlertSeverity } from '../../src/domain/alerts/rules.ts';

export type Role = 'admin' | 'operator' | 'clinician';

export interface Me {
  role: Role;
  patientIds: string[] | null;
  /** The practitioner a clinician token acts as (README, "Care teams"); absent from an older service. */
  practitioner?: Practitioner | null;
  teams?: Team[];
}

export interface Practitioner {
  id: string;
  name: string;
  rpps: string | null;
  role: 'physician' | 'nurse' | 'coordinator';
}

export interface Team {
  id: string;
  name: string | null;
  timeZone: string;
  serviceHours: string | null;
  onDuty: boolean;
  /** null while on duty. */
  nextOpening: string | null;
}

export interface WorklistItem {
  patientId: string;
  displayName: string | null;
  timeZone: string;
  enrolments: {
    id: string;
    teamId: string;
    teamName: string | null;
    programme: string;
    from: string;
    to: string | null;
  }[];
  openAlerts: number;
  worstAlert: { rule: string; severity: AlertSeverity } | null;
  oldestOpenAlertAt: string | null;
  lastReadingAt: string | null;
  adherenceDays: number | null;
}

export interface Worklist {
  at: string;
  teams: Team[];
  items: WorklistItem[];
  total: number;
}

/** src/domain/alerts/rules.ts */
export type Severity = AlertSeverity;

export interface PatientSummary {
  openAlerts: number;
  worstAlert: { rule: string; severity: Severity } | null;
  lastReadingAt: string | null;
  adherenceDays: number | null;
  /** The latest "reviewed" mark (issue #14); absent from an older service. */
  lastReview?: { day: string; reviewedAt: string; reviewedBy: string } | null;
  /** The programmes the patient is enrolled in now (Care teams); absent from an older service. */
  programmes?: string[];
}

/** GET /api/v1/enrolments (admin). */
export interface Enrolment {
  id: string;
  patientId: string;
  teamId: string;
  programme: string;
  from: string;
  to: string | null;
  state: 'upcoming' | 'running' | 'ended';
  createdAt: string;
}

export interface Patient {
  id: string;
  displayName: string | null;
  timeZone: string;
  createdAt: string;
  /** Present on every patient of the API; optional so an older service still renders. */
  /** Null for an admin token: clinical data is for clinicians. */
  summary: PatientSummary | null;
}

/** A device's state as GET /api/v1/devices gives it (the fields this dashboard shows). */
export interface DeviceState {
  id: string;
  model: string | null;
  enabled: boolean;
  patientId: string | null;
  lastSeenAt: string | null;
  /** mqtt, https or nightscout; null: not recorded yet. */
  lastTransport: string | null;
  lastReadingAt: string | null;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface Reading {
  id: string;
  deviceId: string;
  patientId: string;
  type: string;
  at: string;
  receivedAt: string;
  unit: string;
  value?: number;
  systolic?: number;
  diastolic?: number;
  pulse?: number;
}

export interface Stats {
  count: number;
  min: number;
  max: number;
  mean: number;
}

export interface Bucket {
  start: string;
  end: string;
  count?: number;
  min?: number;
  max?: number;
  mean?: number;
  sum?: number;
  systolic?: Stats;
  diastolic?: Stats;
}

export interface Series {
  patientId: string;
  type: string;
  bucket: string;
  timeZone: string;
  items: Bucket[];
}

export interface Indicator {
  key: string;
  value: number | null;
  unit: string;
  from: string;
  to: string;
  n: number;
  sufficient: boolean;
  computedAt: string;
}

export type ThresholdValue = number | { systolic: number; diastolic: number };

export interface ThresholdEntry {
  rule: string;
  threshold: ThresholdValue;
  default: ThresholdValue;
  overridden: boolean;
  unit: string;
}

/** src/domain/alerts/lifecycle.ts */
export type AlertStatus = DomainAlertStatus;

export interface Alert {
  id: string;
  patientId: string;
  rule: string;
  severity: Severity;
  status: AlertStatus;
  openedAt: string;
  acknowledgedAt: string | null;
  resolvedAt: string | null;
  threshold: ThresholdValue;
  readingIds: string[];
  /** What raised it (issue #14); absent from an older service. */
  event?: AlertEvent;
  acknowledgement?: Acknowledgement | null;
}

/** One reading of an alert's event, in the stored unit. */
export interface AlertEventReading {
  deviceId: string;
  readingId: string;
  type: string;
  at: string;
  unit: string;
  value?: number;
  systolic?: number;
  diastolic?: number;
}

export interface AlertEvent {
  at: string | null;
  /** Null: recorded before values were kept. */
  readings: AlertEventReading[] | null;
}

export type AcknowledgeAction = (typeof ACKNOWLEDGE_ACTIONS)[number];

export interface Acknowledgement {
  at: string;
  by: string;
  action: AcknowledgeAction | null;
  note: string | null;
}

export interface AlertHistoryEntry {
  at: string;
  event: string;
  by: string | null;
  readings: AlertEventReading[] | null;
  action: AcknowledgeAction | null;
  note: string | null;
  /** notified, notification_failed: the channel, the team, first notification or escalation. */
  notification?: { channel: string; teamId: string; purpose: 'alert' | 'escalation' } | null;
}

export interface Review {
  patientId: string;
  day: string;
  reviewedAt: string;
  reviewedBy: string;
  practitionerId: string | null;
}

export interface ActivityCounts {
  enrolledDays: number;
  daysWithData: number;
  alertsOpened: number;
  alertsAcknowledged: number;
  medianSecondsToAcknowledge: number | null;
  p90SecondsToAcknowledge: number | null;
  alertsOpenedOutOfHours: number;
  notificationsSent: number;
  notificationsFailed: number;
}

export interface ActivityReport {
  teamId: string;
  month: string;
  timeZone: string;
  serviceHours: string | null;
  from: string;
  to: string;
  generatedAt: string;
  team: ActivityCounts & { patients: number };
  patients: (ActivityCounts & { patientId: string; enrolledFrom: string; enrolledTo: string })[];
}

export interface Rejection {
  deviceId: string;
  readingId: string | null;
  reason: string;
  detail: string;
  receivedAt: string;
}

export interface Latency {
  samples: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
}

export interface IngestionReport {
  readingsPerSecond: { last1s: number; last1m: number; last15m: number };
  /** Readings stored in each of the last 120 complete seconds, oldest first, the first starting at `from`. */
  recent: { from: string; perSecond: number[] };
  ackLatencyMs: Latency;
  batchRows: Latency;
  commitMs: Latency;
  queue: { rows: number; bytes: number; waitingMessages: number };
  connectedDevices: number;
  rejectionsByReason: Record<string, number>;
  aggregation: { lagSeconds: number; lastRunAt: string | null };
  listeners: { mqtt?: number; mqtts?: number; mqttWs?: number; http?: number; https?: number };
  /** The instance that answered; the figures above are its own. */
  instance: string;
  /** Every instance on the database that reported within the hour, by id. */
  instances: InstanceSummary[];
  /** The sum over the live instances. */
  total: {
    live: number;
    readingsPerSecond: { last1s: number; last1m: number; last15m: number };
    connectedDevices: number;
    queue: { rows: number; bytes: number; waitingMessages: number };
    rejectionsByReason: Record<string, number>;
    ackLatencyP99Ms: number | null;
    aggregation: { lagSeconds: number; lastRunAt: string | null };
  };
  /** The notification outbox, all instances (README, "Notifications"). */
  notifications?: { pending: number; dead: number };
  instancesUnavailable: boolean;
}

export interface InstanceSummary {
  instanceId: string;
  startedAt: string;
  reportedAt: string;
  live: boolean;
  self: boolean;
  readingsPerSecond: { last1s: number; last1m: number; last15m: number };
  ackLatencyMs: Latency;
  commitMs: Latency;
  queue: { rows: number; bytes: number; waitingMessages: number };
  connectedDevices: number;
  rejections: number;
  aggregation: { lagSeconds: number; lastRunAt: string | null };
}

export interface Readiness {
  status: 'ready' | 'not_ready';
  checks: { database: boolean; broker: boolean };
}
