import { defineCommand } from './command.ts';
import { createOutput } from './output.ts';
import { withDatabase } from './with-database.ts';

const SETTINGS_NOTE =
  'The keys come from the same settings as the service (VITALINK_SECRET_KEY or VITALINK_SECRET_KEY_FILE, ' +
  'VITALINK_SECRET_KEY_PREVIOUS): run this with the environment of the service. README, "Rotating the key".';

export const keysStatus = defineCommand({
  name: 'keys status',
  summary: 'how many device secrets and API tokens are under each secret key',
  options: { json: { type: 'boolean', description: 'print the status as one JSON object' } },
  notes:
    'Per key id: device secrets (and how many of those devices were never seen), previous secrets in their grace ' +
    'period, active API tokens (and how many were never used). A credential under a previous key moves to the ' +
    'current key when it is next used; one under a key that is not configured no longer works. ' +
    SETTINGS_NOTE,
  async run(values) {
    const out = createOutput(values.json === true);
    const { keysStatus: status, LISTED_IDS } = await import('../actions/secret-keys.ts');
    await withDatabase(async ({ db, config }) => {
      const s = await status(db, config.secretKeys);
      const lines = [`current key: ${s.currentKeyId}`];
      for (const k of s.keys) {
        lines.push(
          `key ${k.keyId} (${k.state}${k.source ? `, from ${k.source}` : ''}): ` +
            `${k.devices} device secrets (${k.devicesNeverSeen} never seen), ${k.graceSecrets} in a grace period, ` +
            `${k.tokens} API tokens (${k.tokensNeverUsed} never used), ${k.deviceTokens} device tokens`,
        );
      }
      const list = (what: string, ids: string[]) =>
        ids.length === 0 ? [] : [`  ${what}: ${ids.join(', ')}${ids.length === LISTED_IDS ? ', ...' : ''}`];
      const others = s.keys.filter((k) => k.state !== 'current');
      const pending = others.reduce((n, k) => n + k.devices + k.graceSecrets + k.tokens + k.deviceTokens, 0);
      if (s.waiting.deviceIds.length + s.waiting.tokenIds.length > 0) {
        lines.push(
          'Under a previous key (they move to the current key when next used):',
          ...list('devices', s.waiting.deviceIds),
          ...list('tokens', s.waiting.tokenIds),
        );
      }
      if (s.lost.deviceIds.length + s.lost.tokenIds.length > 0) {
        lines.push(
          'Under a key that is not configured: these NO LONGER WORK (`vitalink devices rotate-secret` the devices, create new tokens and revoke these):',
          ...list('devices', s.lost.deviceIds),
          ...list('tokens', s.lost.tokenIds),
        );
      }
      if (pending === 0) {
        if (s.databaseKeyStored && s.currentKeyId !== 'database') {
          lines.push(
            'Everything is under the current key: `vitalink keys forget-database-key` removes the key kept in the database.',
          );
        } else if (others.some((k) => k.state === 'previous')) {
          lines.push('Everything is under the current key: the previous keys can be removed from the configuration.');
        } else {
          lines.push('Everything is under the current key.');
        }
      }
      if (s.currentKeyId === 'database') {
        lines.push(
          'The current key is the one kept in the database: set VITALINK_SECRET_KEY or VITALINK_SECRET_KEY_FILE (README, "Rotating the key").',
        );
      }
      out.result(s, lines.join('\n'));
    });
  },
});

export const keysForgetDatabaseKey = defineCommand({
  name: 'keys forget-database-key',
  summary: 'removes the secret key kept in the database, once nothing is under it',
  options: {
    force: {
      type: 'boolean',
      description: 'even when credentials are still under it (they stop working)',
    },
    json: { type: 'boolean', description: 'print {"forgotten", "stranded"}' },
  },
  notes:
    'Installations from before VITALINK_SECRET_KEY keep a key in the database. Once VITALINK_SECRET_KEY (or _FILE) ' +
    'is set and `keys status` shows nothing under the key `database`, this removes it, so that a copy of ' +
    'the database can no longer check guesses of secrets or tokens. Restart every instance of the service after. ' +
    SETTINGS_NOTE,
  async run(values) {
    const out = createOutput(values.json === true);
    const { forgetTheDatabaseKey } = await import('../actions/secret-keys.ts');
    await withDatabase(async ({ db, config }) => {
      const result = await forgetTheDatabaseKey(db, config.secretKeys, values.force === true);
      const stranded = result.stranded.devices + result.stranded.tokens;
      out.result(
        result,
        result.forgotten
          ? `the database key was removed${stranded > 0 ? `; ${result.stranded.devices} device secrets and ${result.stranded.tokens} API tokens under it no longer work` : ''}. Restart every \`vitalink serve\`.`
          : 'the database holds no key any more: nothing to do.',
      );
    });
  },
});
