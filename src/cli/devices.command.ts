import { defineCommand, JSON_OPTION } from './command.ts';
import { createOutput } from './output.ts';
import { withDatabase } from './with-database.ts';

const TIMES = 'Times are RFC 3339 with an offset (2026-11-22T08:00:00+01:00) or epoch milliseconds.';

export const devicesAdd = defineCommand({
  name: 'devices add',
  summary: 'provisions a device; prints its secret once',
  options: {
    id: { type: 'string', value: 'ID', required: true, description: "the device's id, also its MQTT username" },
    patient: { type: 'string', value: 'ID', description: 'assign it to this patient from now' },
    model: { type: 'string', value: 'TEXT', description: 'free text, e.g. the make and model' },
    json: { type: 'boolean', description: 'print {"id", "secret"}' },
  },
  async run(values) {
    const out = createOutput(values.json === true);
    const { addDevice } = await import('../actions/provisioning.ts');
    await withDatabase(async ({ db }) => {
      const { device, secret, assignment } = await addDevice(
        db,
        { id: values.id, model: values.model, patientId: values.patient },
        new Date(),
      );
      out.result(
        { id: device.id, secret },
        [
          `device ${device.id} added${assignment ? `, assigned to patient ${assignment.patientId} from now` : ''}.`,
          `secret: ${secret}`,
          'This secret is shown only once: configure the device with username and client id',
          `"${device.id}" and this secret as password now.`,
        ].join('\n'),
      );
    });
  },
});

export const devicesAssign = defineCommand({
  name: 'devices assign',
  summary: 'records an assignment of a device to a patient',
  options: {
    id: { type: 'string', value: 'ID', required: true, description: "the device's id" },
    patient: { type: 'string', value: 'ID', required: true, description: "the patient's id" },
    from: { type: 'string', value: 'TIME', description: 'start of the assignment (default now)' },
    to: { type: 'string', value: 'TIME', description: 'end of the assignment (default open)' },
    json: JSON_OPTION,
  },
  notes: TIMES,
  async run(values) {
    const out = createOutput(values.json === true);
    const { assignDevice, parseTimeArgument } = await import('../actions/provisioning.ts');
    const deviceId = values.id;
    const patientId = values.patient;
    const from = values.from ? parseTimeArgument('--from', values.from) : new Date();
    const to = values.to ? parseTimeArgument('--to', values.to) : null;
    await withDatabase(async ({ db }) => {
      const { assignment, ended } = await assignDevice(db, { deviceId, patientId, from, to });
      const json = {
        id: assignment.id,
        deviceId,
        patientId,
        from: assignment.validFrom.toISOString(),
        to: assignment.validTo?.toISOString() ?? null,
        ended: ended ? { id: ended.id, patientId: ended.patientId, to: ended.validTo?.toISOString() ?? null } : null,
      };
      const lines = [
        `device ${deviceId} assigned to patient ${patientId} from ${json.from}${json.to ? ` to ${json.to}` : ''}`,
      ];
      if (ended) lines.push(`its assignment to patient ${ended.patientId} now ends at ${json.from}`);
      lines.push('readings it sent for that interval and kept as unassigned: run `vitalink rejections reprocess`');
      out.result(json, lines.join('\n'));
    });
  },
});
