import { type Migration, type MigrationProvider, Migrator } from 'kysely';
import * as initialSchema from '../../migrations/2026-11-22T0900-initial-schema.ts';
import * as aggregation from '../../migrations/2026-11-22T1200-aggregation.ts';
import * as alerts from '../../migrations/2026-11-22T1300-alerts.ts';
import * as dirtyMarkVersion from '../../migrations/2026-11-22T1400-dirty-mark-version.ts';
import * as apiTokens from '../../migrations/2026-11-22T1500-api-tokens.ts';
import * as leanIngestIndexes from '../../migrations/2026-11-22T1600-lean-ingest-indexes.ts';
import * as retention from '../../migrations/2026-12-07T1000-retention.ts';
import * as cgmPartials from '../../migrations/2026-12-07T1100-cgm-partials.ts';
import * as hourlyDirtyMarks from '../../migrations/2026-12-07T1200-hourly-dirty-marks.ts';
import * as leanReadingKeys from '../../migrations/2026-12-07T1240-lean-reading-keys.ts';
import * as credentials from '../../migrations/2026-12-07T1300-credentials.ts';
import * as rejectionRawQuota from '../../migrations/2026-12-07T1320-rejection-raw-quota.ts';
import * as auditOutcomes from '../../migrations/2026-12-07T1340-audit-outcomes.ts';
import * as secretKeyIds from '../../migrations/2026-12-07T1400-secret-key-ids.ts';
import * as serviceRoleFunctions from '../../migrations/2026-12-07T1400-service-role-functions.ts';
import * as serviceInstances from '../../migrations/2026-12-07T1600-service-instances.ts';
import * as careTeams from '../../migrations/2026-12-07T1700-care-teams.ts';
import * as signInSessions from '../../migrations/2026-12-07T1720-sign-in-sessions.ts';
import * as notifications from '../../migrations/2026-12-07T1740-notifications.ts';
import * as alertAcknowledgements from '../../migrations/2026-12-07T1760-alert-acknowledgements.ts';
import * as coveringRollupKeys from '../../migrations/2026-12-07T1800-covering-rollup-keys.ts';
import * as careScopeVersion from '../../migrations/2026-12-07T1810-care-scope-version.ts';
import * as httpsIngest from '../../migrations/2026-12-07T1820-https-ingest.ts';
import * as nightscout from '../../migrations/2026-12-07T1830-nightscout.ts';
import * as patientIdentity from '../../migrations/2026-12-07T1900-patient-identity.ts';
import * as deviceTokens from '../../migrations/2026-12-07T1920-device-tokens.ts';
import * as fhirExport from '../../migrations/2026-12-07T1950-fhir-export.ts';
import * as mesPushes from '../../migrations/2026-12-07T1960-mes-pushes.ts';
import type { Logger } from '../logger.ts';
import type { Db } from './database.ts';

/**
 * Migrations are listed here, in order, rather than read from a folder at run
 * time, so that they work the same from source, from a bundle and in tests.
 */
const migrations: Record<string, Migration> = {
  '2026-11-22T0900-initial-schema': initialSchema,
  '2026-11-22T1200-aggregation': aggregation,
  '2026-11-22T1300-alerts': alerts,
  '2026-11-22T1400-dirty-mark-version': dirtyMarkVersion,
  '2026-11-22T1500-api-tokens': apiTokens,
  '2026-11-22T1600-lean-ingest-indexes': leanIngestIndexes,
  '2026-12-07T1000-retention': retention,
  '2026-12-07T1100-cgm-partials': cgmPartials,
  '2026-12-07T1200-hourly-dirty-marks': hourlyDirtyMarks,
  '2026-12-07T1240-lean-reading-keys': leanReadingKeys,
  '2026-12-07T1300-credentials': credentials,
  '2026-12-07T1320-rejection-raw-quota': rejectionRawQuota,
  '2026-12-07T1340-audit-outcomes': auditOutcomes,
  '2026-12-07T1400-secret-key-ids': secretKeyIds,
  '2026-12-07T1400-service-role-functions': serviceRoleFunctions,
  '2026-12-07T1600-service-instances': serviceInstances,
  '2026-12-07T1700-care-teams': careTeams,
  '2026-12-07T1720-sign-in-sessions': signInSessions,
  '2026-12-07T1740-notifications': notifications,
  '2026-12-07T1760-alert-acknowledgements': alertAcknowledgements,
  '2026-12-07T1800-covering-rollup-keys': coveringRollupKeys,
  '2026-12-07T1810-care-scope-version': careScopeVersion,
  '2026-12-07T1820-https-ingest': httpsIngest,
  '2026-12-07T1830-nightscout': nightscout,
  '2026-12-07T1900-patient-identity': patientIdentity,
  '2026-12-07T1920-device-tokens': deviceTokens,
  '2026-12-07T1950-fhir-export': fhirExport,
  '2026-12-07T1960-mes-pushes': mesPushes,
};

/** The registered migrations' names (file names without `.ts`), in order. */
export const MIGRATION_NAMES: readonly string[] = Object.keys(migrations);

const provider: MigrationProvider = { getMigrations: async () => migrations };

export interface MigrationReport {
  applied: string[];
}

export async function migrateToLatest(db: Db, log: Logger): Promise<MigrationReport> {
  const migrator = new Migrator({
    db,
    provider,
    migrationTableName: 'vitalink_migrations',
    migrationLockTableName: 'vitalink_migrations_lock',
  });
  const { error, results } = await migrator.migrateToLatest();
  const applied = (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  for (const name of applied) log.info({ migration: name }, 'migration applied');
  const failed = (results ?? []).find((r) => r.status === 'Error');
  if (error) {
    const which = failed ? ` ${failed.migrationName}` : '';
    throw new Error(`database migration${which} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  return { applied };
}
