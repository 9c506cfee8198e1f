import { defineCommand } from './command.ts';
import { createOutput } from './output.ts';
import { withDatabase } from './with-database.ts';

export const nightscoutEnable = defineCommand({
  name: 'nightscout enable',
  summary: "prints once the upload secret of a patient's Nightscout-style CGM app",
  options: {
    patient: { type: 'string', value: 'ID', required: true, description: 'the patient whose app uploads' },
    device: {
      type: 'string',
      value: 'ID',
      description:
        'the device the uploads are readings of, assigned to the patient now (default nightscout-<patient>, made if need be)',
    },
    json: { type: 'boolean', description: 'print {"secret"}' },
  },
  notes:
    'In the app (xDrip+, AndroidAPS, Loop through Nightscout), enter https://SECRET@HOST/api/v1/ as the Nightscout URL: ' +
    'it sends the api-secret header (SHA-1 of the secret) to POST /api/v1/entries. Running it again replaces the secret.',
  async run(values) {
    const out = createOutput(values.json === true);
    const { enableNightscout } = await import('../actions/nightscout.ts');
    await withDatabase(async ({ db, keys }) => {
      const enabled = await enableNightscout(
        db,
        await keys(),
        { patientId: values.patient, deviceId: values.device },
        new Date(),
      );
      out.result(
        { secret: enabled.secret },
        [
          `Nightscout uploads enabled for patient ${enabled.patientId} as device ${enabled.deviceId}${
            enabled.deviceCreated ? ' (made now, assigned from now)' : ''
          }.`,
          `secret: ${enabled.secret}`,
          'This secret is shown only once: enter it in the app now (API secret; apps send its SHA-1 as api-secret).',
        ].join('\n'),
      );
    });
  },
});
