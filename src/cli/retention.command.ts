import type { RetentionReport } from '../actions/retention.ts';
import { AppError } from '../errors.ts';
import { defineCommand, JSON_OPTION } from './command.ts';
import { createOutput } from './output.ts';

export const retention = defineCommand({
  name: 'retention',
  summary: 'applies the retention policy and says what it removed',
  options: {
    'dry-run': { type: 'boolean', description: 'say what would be removed now, and remove nothing' },
    json: JSON_OPTION,
  },
  notes: [
    'The policy comes from the environment (README, "Retention"): VITALINK_RETENTION_READINGS_DAYS',
    '(unset or 0: readings are kept forever), VITALINK_RETENTION_REJECTIONS_DAYS (180),',
    'VITALINK_RETENTION_AUDIT_DAYS (3650); duplicate keys follow VITALINK_READING_MAX_AGE_DAYS.',
    'The service (`serve`) also applies it on a schedule (VITALINK_RETENTION_INTERVAL_MS).',
  ].join('\n'),
  async run(values) {
    const out = createOutput(values.json === true);
    const [{ applyRetention }, { withDatabase }] = await Promise.all([
      import('../actions/retention.ts'),
      import('./with-database.ts'),
    ]);
    const report = await withDatabase(({ db, config }) =>
      applyRetention(db, config.retention, { dryRun: values['dry-run'] === true, now: Date.now() }),
    );
    if (report.skipped) {
      throw new AppError(
        'conflict',
        'another retention run is under way on this database (a `vitalink serve` or another `vitalink retention`); nothing was removed: try again once it is done',
      );
    }
    out.result(report, describe(report));
  },
});

function describe(r: RetentionReport): string {
  const verb = r.dryRun ? 'would be removed' : 'removed';
  const lines = [r.dryRun ? `retention, dry run at ${r.at}: nothing was removed` : `retention applied at ${r.at}`];
  const rd = r.readings;
  if (rd.before === null) {
    lines.push('  readings: kept forever (VITALINK_RETENTION_READINGS_DAYS is unset or 0)');
  } else {
    const which = rd.partitions.length > 0 ? ` (${rd.partitions.join(', ')})` : '';
    lines.push(
      `  readings: kept ${rd.keepDays} days, months ending by ${rd.before}: ${rd.partitions.length} partition(s)${which}, ` +
        `${rd.rows} reading(s), ${rd.rollupsDaily} daily and ${rd.rollupsHourly} hourly rollup(s) ${verb}`,
    );
  }
  const k = r.readingKeys;
  lines.push(
    `  duplicate keys: of readings measured in months ending by ${k.before}: ${k.rows} key(s) ${verb}` +
      (k.months.length > 0 ? ` (months ${k.months.join(', ')})` : ''),
  );
  for (const [label, part] of [
    ['rejections', r.rejections],
    ['audit log', r.auditLog],
  ] as const) {
    lines.push(
      part.before === null
        ? `  ${label}: kept forever`
        : `  ${label}: kept ${part.keepDays} days, before ${part.before}: ${part.rows} row(s) ${verb}`,
    );
  }
  const c = r.cgmPartials;
  lines.push(
    `  CGM partial aggregates: kept for the indicators' window, before ${c.before}: ` +
      `${c.daily} daily and ${c.hourly} hourly row(s) ${verb}`,
  );
  if (r.interrupted) lines.push('  (interrupted: the next run goes on)');
  return lines.join('\n');
}
