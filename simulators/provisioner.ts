import type { Thresholds } from '../src/domain/alerts/index.ts';

/**
 * What the simulators need from the product to provision their patients and
 * devices, and nothing more: the CLI builds it from src/actions and passes it in,
 * so simulators/ depends on the pure domain only (conventions.md: tools use the
 * product through narrow interfaces). Whoever opens a provisioner closes it.
 */
export interface Provisioner {
  /** The time zone a patient gets when none is given. */
  readonly defaultTimeZone: string;
  addPatient(patient: { id: string; timeZone?: string; displayName?: string }): Promise<void>;
  /** Provisions a device assigned to the patient from `from`; resolves to its secret, shown once. */
  addDevice(device: { id: string; patientId: string; model?: string }, from: Date): Promise<{ secret: string }>;
  setThresholds(patientId: string, thresholds: Thresholds): Promise<void>;
  /** What the database holds of these devices: stored readings and recorded rejections. */
  countStored(deviceIds: readonly string[]): Promise<{ readings: number; rejections: number }>;
  /** A clinician API token that reads these patients (the role's default lifetime). */
  createClinicianToken(patientIds: readonly string[]): Promise<{ token: string; expiresAt: Date | null }>;
  close(): Promise<void>;
}

/** A PostgreSQL server of the tool's own, e.g. the product's embedded one in a temporary folder. */
export interface DatabaseServer {
  /** A database on it, ready to be migrated. */
  readonly url: string;
  stop(): Promise<void>;
}
