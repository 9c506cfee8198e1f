import { defineCommand, JSON_OPTION } from './command.ts';
import { createOutput } from './output.ts';
import { withDatabase } from './with-database.ts';

const ID_OPTION = { type: 'string', value: 'ID', required: true, description: "the device's id" } as const;

export const deviceTokensCreate = defineCommand({
  name: 'devices token create',
  summary: 'prints once a device token (HTTPS readings of that device only)',
  options: {
    id: ID_OPTION,
    name: { type: 'string', value: 'LABEL', description: 'a label to recognise the token by (the app, the gateway)' },
    expires: {
      type: 'string',
      value: 'DURATION|TIME|never',
      description: 'when it stops working: 90d, 12h, 2027-03-01, a time with an offset, or never (default 365d)',
    },
    json: { type: 'boolean', description: 'print {"token", "id", "deviceId", "expiresAt"}' },
  },
  notes:
    'The app or gateway sends it as "Authorization: Bearer <token>" to POST /api/v1/devices/ID/readings, and ' +
    "nowhere else: it is refused for another device's path (403), for the API, and as an MQTT password. " +
    '`devices token revoke` revokes it; disabling the device refuses its tokens too.',
  async run(values) {
    const out = createOutput(values.json === true);
    const { createDeviceToken } = await import('../actions/device-tokens.ts');
    await withDatabase(async ({ db, keys }) => {
      const created = await createDeviceToken(db, await keys(), {
        deviceId: values.id,
        expires: values.expires,
        label: values.name,
      });
      const expiresAt = created.expiresAt?.toISOString() ?? null;
      out.result(
        { token: created.token, id: created.id, deviceId: created.deviceId, expiresAt },
        [
          `device token ${created.id} of device ${created.deviceId} created; ${expiresAt ? `it expires at ${expiresAt}` : 'it never expires'}.`,
          `token: ${created.token}`,
          `This token is shown only once: send it as "Authorization: Bearer <token>" to /api/v1/devices/${created.deviceId}/readings.`,
          `\`vitalink devices token revoke --id ${created.deviceId} --token ${created.id}\` revokes it.`,
        ].join('\n'),
      );
    });
  },
});

export const deviceTokensList = defineCommand({
  name: 'devices token list',
  summary: "lists a device's tokens with their state",
  options: { id: ID_OPTION, json: { type: 'boolean', description: 'print {"items": [...]}' } },
  notes: 'Each token: id, state (active, expired, revoked), label, expires, last used (to the minute); never its text.',
  async run(values) {
    const out = createOutput(values.json === true);
    const { listTokensOfDevice } = await import('../actions/device-tokens.ts');
    await withDatabase(async ({ db }) => {
      const items = await listTokensOfDevice(db, values.id, new Date());
      const rows = items.map((t) =>
        [
          t.id,
          t.state,
          t.label ?? '-',
          `expires ${t.expiresAt ?? 'never'}`,
          `last used ${t.lastUsedAt ?? 'never'}`,
        ].join('  '),
      );
      out.result({ items }, items.length === 0 ? `device ${values.id} has no tokens` : rows.join('\n'));
    });
  },
});

export const deviceTokensRevoke = defineCommand({
  name: 'devices token revoke',
  summary: 'revokes a device token',
  options: {
    id: ID_OPTION,
    token: { type: 'string', value: 'TOKEN_ID', required: true, description: 'the id `devices token list` shows' },
    json: JSON_OPTION,
  },
  async run(values) {
    const out = createOutput(values.json === true);
    const { revokeTokenOfDevice } = await import('../actions/device-tokens.ts');
    await withDatabase(async ({ db }) => {
      const view = await revokeTokenOfDevice(db, values.id, values.token, new Date());
      out.result(
        view,
        `device token ${view.id} of device ${view.deviceId} revoked at ${view.revokedAt}: it is refused from its next request.`,
      );
    });
  },
});
