import { defineCommand, JSON_OPTION } from './command.ts';
import { createOutput, UsageError } from './output.ts';
import { withDatabase } from './with-database.ts';

const EXPIRES_NOTE =
  "Without --expires, a token lives for its role's default (VITALINK_TOKEN_TTL_ADMIN_DAYS, ..._OPERATOR_DAYS, " +
  '..._CLINICIAN_DAYS: 30, 90 and 90 days unless configured). --expires takes a duration (90d, 12h, 30m, 3600s), ' +
  'a date (2027-03-01, midnight UTC), a time with an offset, or never.';

export const tokensCreate = defineCommand({
  name: 'tokens create',
  summary: 'prints an API token once',
  options: {
    role: { type: 'string', value: 'admin|operator|clinician', required: true, description: "the token's role" },
    patients: { type: 'string', value: 'ID,...', description: "a clinician token's patients (a fixed list)" },
    practitioner: {
      type: 'string',
      value: 'ID',
      description: 'a clinician token acting as this practitioner: the patients of their teams',
    },
    name: { type: 'string', value: 'LABEL', description: 'a label to recognise the token by' },
    expires: { type: 'string', value: 'DURATION|TIME|never', description: 'when it stops working (see below)' },
    json: {
      type: 'boolean',
      description: 'print {"token", "role"} (interfaces.md); `tokens list` has its id and expiry',
    },
  },
  notes: EXPIRES_NOTE,
  async run(values) {
    const out = createOutput(values.json === true);
    const { createApiToken } = await import('../actions/tokens.ts');
    await withDatabase(async ({ db, config, keys }) => {
      const created = await createApiToken(db, await keys(), {
        role: values.role,
        patientIds: values.patients
          ? values.patients
              .split(',')
              .map((p) => p.trim())
              .filter(Boolean)
          : undefined,
        practitionerId: values.practitioner,
        label: values.name,
        expires: values.expires,
        ttlDays: config.tokenTtlDays,
      });
      const expiresAt = created.expiresAt?.toISOString() ?? null;
      out.result(
        { token: created.token, role: created.role },
        [
          `${created.role} token ${created.id} created; ${expiresAt ? `it expires at ${expiresAt}` : 'it never expires'}.`,
          `token: ${created.token}`,
          'This token is shown only once: send it as "Authorization: Bearer <token>".',
          `\`vitalink tokens revoke --id ${created.id}\` revokes it.`,
        ].join('\n'),
      );
    });
  },
});

export const tokensList = defineCommand({
  name: 'tokens list',
  summary: 'lists API tokens with their state',
  options: {
    after: { type: 'string', value: 'ID', description: 'the page after this token id (the `next` of a page)' },
    limit: { type: 'string', value: 'N', description: 'tokens per page, 1 to 1000 (default 100)' },
    json: { type: 'boolean', description: 'print {"items": [...], "next": ID | null}' },
  },
  notes:
    'Each token: id, role, label, state (active, expired, revoked), the practitioner a clinician token acts as, ' +
    'expires, last used (to the minute).',
  async run(values) {
    const out = createOutput(values.json === true);
    const { listTokens } = await import('../actions/tokens.ts');
    const limit = values.limit === undefined ? undefined : Number(values.limit);
    if (limit !== undefined && !Number.isInteger(limit)) {
      throw new UsageError(`--limit takes a whole number from 1 to 1000, not "${values.limit}"`);
    }
    await withDatabase(async ({ db }) => {
      const { items, next } = await listTokens(db, new Date(), { afterId: values.after, limit });
      const rows = items.map((t) =>
        [
          t.id,
          t.role,
          t.state,
          t.label ?? '-',
          ...(t.practitionerId ? [`practitioner ${t.practitionerId}`] : []),
          `expires ${t.expiresAt ?? 'never'}`,
          `last used ${t.lastUsedAt ?? 'never'}`,
        ].join('  '),
      );
      const text = items.length === 0 ? 'no tokens' : rows.join('\n');
      out.result({ items, next }, next ? `${text}\nmore: vitalink tokens list --after ${next}` : text);
    });
  },
});

export const tokensRevoke = defineCommand({
  name: 'tokens revoke',
  summary: 'revokes an API token',
  options: {
    id: { type: 'string', value: 'ID', required: true, description: 'the id `tokens list` shows' },
    json: JSON_OPTION,
  },
  async run(values) {
    const out = createOutput(values.json === true);
    const { revokeToken } = await import('../actions/tokens.ts');
    await withDatabase(async ({ db }) => {
      const view = await revokeToken(db, values.id, new Date());
      out.result(
        view,
        `token ${view.id} (${view.role}) revoked at ${view.revokedAt}: it is refused from its next request.`,
      );
    });
  },
});
