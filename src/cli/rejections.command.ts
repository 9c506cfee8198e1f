import { REJECTION_REASONS } from '../domain/rejection-reasons.ts';
import { defineCommand, JSON_OPTION } from './command.ts';
import { createOutput, UsageError } from './output.ts';
import { withDatabase } from './with-database.ts';

export const rejectionsReprocess = defineCommand({
  name: 'rejections reprocess',
  summary: 're-runs rejected readings through validation',
  options: {
    reason: { type: 'string', value: 'REASON', description: `only this reason: ${REJECTION_REASONS.join(', ')}` },
    device: { type: 'string', value: 'ID', description: "only this device's rejections" },
    json: JSON_OPTION,
  },
  async run(values) {
    const out = createOutput(values.json === true);
    const reason = values.reason;
    if (reason !== undefined && !(REJECTION_REASONS as readonly string[]).includes(reason)) {
      throw new UsageError(`--reason must be one of ${REJECTION_REASONS.join(', ')}`);
    }
    const [{ reprocessRejections }, { Partitions }] = await Promise.all([
      import('../actions/reprocess.ts'),
      import('../store/partitions.ts'),
    ]);
    await withDatabase(async ({ db, config }) => {
      const report = await reprocessRejections(
        db,
        new Partitions(db),
        { reason, deviceId: values.device },
        config.readingMaxAgeMs,
        () => new Date(),
      );
      const lines = report.items.map(
        (i) =>
          `rejection ${i.rejectionId} (device ${i.deviceId}, reading ${i.readingId ?? '-'}, was ${i.previousReason}): ${i.outcome}` +
          (i.outcome === 'rejected' || i.outcome === 'still_rejected' ? ` (${i.reasons.join(', ')})` : '') +
          (i.outcome === 'not_replayable'
            ? ' (its raw bytes were not kept: the device was over its daily quota, VITALINK_REJECTIONS_RAW_BYTES_PER_DEVICE_DAY; ask the device to send the reading again)'
            : ''),
      );
      const c = report.counts;
      lines.push(
        `${report.items.length} rejection(s) reprocessed: ${c.stored} stored, ${c.duplicate} already stored, ${c.still_rejected} still rejected, ${c.rejected} rejected for another reason, ${c.not_replayable} not replayable (raw bytes not kept)`,
      );
      out.result(report, lines.join('\n'));
    });
  },
});
