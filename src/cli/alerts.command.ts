import { defineCommand } from './command.ts';
import { UsageError } from './output.ts';
import { withDatabase } from './with-database.ts';

/** `vitalink alerts history`: everything that happened to an alert, as GET /api/v1/alerts/{id}/history. */
export const alertsHistory = defineCommand({
  name: 'alerts history',
  summary: 'everything that happened to an alert: who, when, what',
  options: {
    id: { type: 'string', value: 'ID', description: 'the alert', required: true },
    json: { type: 'boolean', description: 'print {"alertId", "patientId", "items": [...]} as the API does' },
  },
  notes: 'The acknowledgement notes are clinical data: this prints them; keep the output where patient data may be.',
  async run(values) {
    if (!/^\d{1,18}$/.test(values.id)) throw new UsageError('--id must be an alert id (digits)');
    const [{ findAlert }, { alertHistoryView }, { AppError }] = await Promise.all([
      import('../store/alerts.repository.ts'),
      import('../actions/alerts.ts'),
      import('../errors.ts'),
    ]);
    await withDatabase(async ({ db }) => {
      const alert = await findAlert(db, values.id);
      if (!alert) throw new AppError('not_found', `alert ${values.id} does not exist`);
      const items = await alertHistoryView(db, alert.id);
      if (values.json) {
        process.stdout.write(`${JSON.stringify({ alertId: alert.id, patientId: alert.patientId, items })}\n`);
        return;
      }
      const value = (r: NonNullable<(typeof items)[number]['readings']>[number]) =>
        r.value !== undefined ? `${r.value} ${r.unit}` : `${r.systolic ?? '-'}/${r.diastolic ?? '-'} ${r.unit}`;
      const lines = items.map((h) =>
        [
          h.at,
          h.event.padEnd(19),
          h.by ??
            (h.notification ? `${h.notification.teamId} ${h.notification.channel} ${h.notification.purpose}` : '-'),
          h.readings ? h.readings.map((r) => `${r.readingId}@${r.at}=${value(r)}`).join(' ') : '',
          h.action ?? '',
          h.note ? JSON.stringify(h.note) : '',
        ]
          .filter((f) => f !== '')
          .join('  '),
      );
      process.stdout.write(`alert ${alert.id} (${alert.rule}, patient ${alert.patientId})\n${lines.join('\n')}\n`);
    });
  },
});
