import { defineCommand, JSON_OPTION } from './command.ts';
import { createOutput, UsageError } from './output.ts';
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
    await withDatabase(async ({ db, keys }) => {
      const { device, secret, assignment } = await addDevice(
        db,
        await keys(),
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
  notes:
    `${TIMES}\nAn interval that overlaps or touches an assignment of the device to the same patient extends it ` +
    '(`--from` earlier than its start extends it backwards, keeping its end); one that overlaps an assignment to ' +
    'another patient is refused, except an open-ended one that began earlier, which then ends at --from.',
  async run(values) {
    const out = createOutput(values.json === true);
    const { assignDevice, parseTimeArgument } = await import('../actions/provisioning.ts');
    const deviceId = values.id;
    const patientId = values.patient;
    const from = values.from ? parseTimeArgument('--from', values.from) : new Date();
    const to = values.to ? parseTimeArgument('--to', values.to) : null;
    await withDatabase(async ({ db }) => {
      const { assignment, ended, merged } = await assignDevice(db, { deviceId, patientId, from, to });
      const iso = (d: Date | null) => d?.toISOString() ?? null;
      const json = {
        id: assignment.id,
        deviceId,
        patientId,
        from: assignment.validFrom.toISOString(),
        to: iso(assignment.validTo),
        ended: ended ? { id: ended.id, patientId: ended.patientId, to: iso(ended.validTo) } : null,
        merged: merged.map((m) => ({ id: m.id, from: m.validFrom.toISOString(), to: iso(m.validTo) })),
      };
      const interval = `from ${json.from}${json.to ? ` to ${json.to}` : ' with no end'}`;
      const lines = [
        merged.length === 0
          ? `device ${deviceId} assigned to patient ${patientId} ${interval}`
          : `device ${deviceId} assigned to patient ${patientId} ${interval} (its ${
              merged.length === 1 ? 'assignment' : `${merged.length} assignments`
            } to that patient ${merged
              .map((m) => `from ${m.validFrom.toISOString()}${m.validTo ? ` to ${m.validTo.toISOString()}` : ''}`)
              .join(', ')} extended into this one)`,
      ];
      if (ended) lines.push(`its assignment to patient ${ended.patientId} now ends at ${json.from}`);
      lines.push('readings it sent for that interval and kept as unassigned: run `vitalink rejections reprocess`');
      out.result(json, lines.join('\n'));
    });
  },
});

const ID_OPTION = { type: 'string', value: 'ID', required: true, description: "the device's id" } as const;
const CONNECTED_NOTE =
  'Whether a device is connected now is known to the service instance that holds its session: ' +
  'GET /api/v1/devices/ID answers it for that instance; the command line shows the stored state only.';

function describeDevice(d: import('../actions/device-lifecycle.ts').DeviceView): string {
  const lines = [
    `device ${d.id}${d.model ? ` (${d.model})` : ''}: ${d.enabled ? 'enabled' : `disabled since ${d.disabledAt}`}`,
    `  patient now:     ${d.patientId ?? '(not assigned)'}`,
    `  last seen:       ${d.lastSeenAt ? `${d.lastSeenAt}${d.lastTransport ? ` over ${d.lastTransport}` : ''}` : 'never'}`,
    `  last reading:    ${d.lastReadingAt ?? 'never'}`,
    `  last rejection:  ${d.lastRejection ? `${d.lastRejection.at} (${d.lastRejection.reason})` : 'never'}`,
    `  secret rotated:  ${d.secretRotatedAt ?? 'never'}${
      d.previousSecretValidUntil ? `; the previous secret works until ${d.previousSecretValidUntil}` : ''
    }`,
    `  created:         ${d.createdAt}`,
  ];
  return lines.join('\n');
}

export const devicesList = defineCommand({
  name: 'devices list',
  summary: 'lists devices with their state',
  options: {
    enabled: { type: 'string', value: 'true|false', description: 'only enabled (true) or disabled (false) devices' },
    patient: { type: 'string', value: 'ID', description: 'only the devices assigned to this patient now' },
    after: { type: 'string', value: 'ID', description: 'the page after this device id (the `next` of a page)' },
    limit: { type: 'string', value: 'N', description: `devices per page, 1 to 1000 (default 100)` },
    json: { type: 'boolean', description: 'print {"items": [...], "next": ID | null}' },
  },
  notes: `Each device: enabled, patient now, last seen (and via mqtt, https or nightscout), last reading, last rejection (time and reason). ${CONNECTED_NOTE}`,
  async run(values) {
    const out = createOutput(values.json === true);
    const enabled =
      values.enabled === undefined
        ? undefined
        : values.enabled === 'true'
          ? true
          : values.enabled === 'false'
            ? false
            : (() => {
                throw new UsageError(`--enabled takes true or false, not "${values.enabled}"`);
              })();
    const limit = values.limit === undefined ? undefined : Number(values.limit);
    if (limit !== undefined && !Number.isInteger(limit)) {
      throw new UsageError(`--limit takes a whole number from 1 to 1000, not "${values.limit}"`);
    }
    const { listDevices, deviceView } = await import('../actions/device-lifecycle.ts');
    await withDatabase(async ({ db }) => {
      const page = await listDevices(db, { enabled, patientId: values.patient, afterId: values.after, limit });
      const items = page.items.map((d) => deviceView(d, null));
      const rows = items.map((d) =>
        [
          d.id,
          d.enabled ? 'enabled' : 'disabled',
          d.patientId ?? '-',
          d.lastSeenAt ?? '-',
          d.lastTransport ?? '-',
          d.lastReadingAt ?? '-',
          d.lastRejection ? `${d.lastRejection.at} ${d.lastRejection.reason}` : '-',
        ].join('  '),
      );
      const text = [
        items.length === 0 ? 'no devices' : 'id  state  patient  last-seen  via  last-reading  last-rejection',
        ...rows,
        ...(page.next ? [`more: vitalink devices list --after ${page.next}`] : []),
      ].join('\n');
      out.result({ items, next: page.next }, text);
    });
  },
});

export const devicesShow = defineCommand({
  name: 'devices show',
  summary: 'shows one device and its state',
  options: { id: ID_OPTION, json: JSON_OPTION },
  notes: CONNECTED_NOTE,
  async run(values) {
    const out = createOutput(values.json === true);
    const { showDevice, deviceView } = await import('../actions/device-lifecycle.ts');
    await withDatabase(async ({ db }) => {
      const view = deviceView(await showDevice(db, values.id), null);
      out.result(view, describeDevice(view));
    });
  },
});

export const devicesDisable = defineCommand({
  name: 'devices disable',
  summary: 'disables a device and closes its live session',
  options: { id: ID_OPTION, json: JSON_OPTION },
  notes:
    'No reading of the device is stored once this has returned, on any instance; every running instance closes ' +
    "the device's live session within a second. `devices enable` undoes it.",
  async run(values) {
    const out = createOutput(values.json === true);
    const { disableDevice, deviceView } = await import('../actions/device-lifecycle.ts');
    await withDatabase(async ({ db }) => {
      const view = deviceView(await disableDevice(db, values.id), null);
      out.result(
        view,
        `device ${view.id} disabled: it can no longer connect, its live session is being closed and nothing it sends is stored.`,
      );
    });
  },
});

export const devicesEnable = defineCommand({
  name: 'devices enable',
  summary: 'enables a disabled device again',
  options: { id: ID_OPTION, json: JSON_OPTION },
  async run(values) {
    const out = createOutput(values.json === true);
    const { enableDevice, deviceView } = await import('../actions/device-lifecycle.ts');
    await withDatabase(async ({ db }) => {
      const view = deviceView(await enableDevice(db, values.id), null);
      out.result(view, `device ${view.id} enabled: it may connect with its secret again.`);
    });
  },
});

export const devicesRotateSecret = defineCommand({
  name: 'devices rotate-secret',
  summary: 'gives a device a new secret; prints it once',
  options: {
    id: ID_OPTION,
    grace: {
      type: 'string',
      value: 'SECONDS',
      description: 'keep the old secret valid this long (at most 604800, 7 days); default 0: it stops at once',
    },
    json: { type: 'boolean', description: 'print {"id", "secret", "previousSecretValidUntil"}' },
  },
  notes:
    'Without --grace, the live session of the device is closed on every instance: it must reconnect with the new ' +
    'secret. With --grace, the old secret keeps working, for CONNECT and for the live session, until the grace ends.',
  async run(values) {
    const out = createOutput(values.json === true);
    const grace = values.grace === undefined ? 0 : Number(values.grace);
    if (!Number.isInteger(grace) || grace < 0) {
      throw new UsageError(`--grace takes a whole number of seconds, not "${values.grace}"`);
    }
    const { rotateDeviceSecret } = await import('../actions/device-lifecycle.ts');
    await withDatabase(async ({ db, keys }) => {
      const { device, secret, graceUntil } = await rotateDeviceSecret(db, await keys(), values.id, grace);
      const until = graceUntil?.toISOString() ?? null;
      out.result(
        { id: device.id, secret, previousSecretValidUntil: until },
        [
          `device ${device.id} has a new secret.`,
          `secret: ${secret}`,
          'This secret is shown only once: configure the device with it now.',
          until
            ? `The previous secret keeps working until ${until}.`
            : 'The previous secret no longer works; the live session of the device is being closed.',
        ].join('\n'),
      );
    });
  },
});
