import { expect } from 'vitest';
import type { ApiResponse, DatabaseContext, ServiceContext } from '../fixture.ts';

/** What the API tests check of every response (interfaces.md, "HTTP"): shapes, errors, pages, the audit log. */

export const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

export function describeRes(res: ApiResponse): string {
  return `HTTP ${res.status} ${JSON.stringify(res.body)}`;
}

export function expectKeys(value: unknown, keys: string[]): void {
  expect(value).toBeTypeOf('object');
  expect(Object.keys(value as object).sort()).toEqual([...keys].sort());
}

export function expectTime(value: unknown): void {
  expect(value).toMatch(RFC3339_UTC);
  expect(Number.isNaN(Date.parse(value as string))).toBe(false);
}

/** `{"error": {"code", "message"}}` (and `issues` on a 422), JSON, with the status. */
export function expectError(res: ApiResponse, status: number, code: string): void {
  expect(res.status, describeRes(res)).toBe(status);
  expect(res.contentType).toMatch(/^application\/json/);
  expectKeys(res.body, ['error']);
  const keys = Object.keys(res.body.error).filter((k) => k !== 'issues');
  expect(keys.sort()).toEqual(['code', 'message']);
  expect(res.body.error.code).toBe(code);
  expect(res.body.error.message).toBeTypeOf('string');
  expect(res.body.error.message.length).toBeGreaterThan(0);
}

/** A 422 whose `issues` name each of `paths`. */
export function expectInvalid(res: ApiResponse, paths: string[]): void {
  expectError(res, 422, 'invalid_input');
  expect(res.body.error.issues, `issues in ${describeRes(res)}`).toBeInstanceOf(Array);
  for (const issue of res.body.error.issues) {
    expectKeys(issue, ['path', 'message']);
    expect(issue.message).toBeTypeOf('string');
  }
  const got = res.body.error.issues.map((i: { path: string }) => i.path);
  for (const p of paths) expect(got, describeRes(res)).toContain(p);
}

/**
 * The clinician rule: a 404 for another clinician's patient that is
 * indistinguishable from the 404 for a patient (or alert) that does not exist.
 */
export function expectSameNotFound(
  forOther: ApiResponse,
  otherId: string,
  forMissing: ApiResponse,
  missingId: string,
): void {
  expectError(forOther, 404, 'not_found');
  expectError(forMissing, 404, 'not_found');
  const scrub = (r: ApiResponse, id: string) => ({
    ...r.body,
    error: { ...r.body.error, message: r.body.error.message.split(id).join('<id>') },
  });
  expect(scrub(forOther, otherId)).toEqual(scrub(forMissing, missingId));
}

export function expectPatient(p: any): void {
  // `identity` on GET /patients/{id} only (README, "Patient identity (INS)").
  const keys = ['id', 'displayName', 'timeZone', 'createdAt', 'summary'];
  expectKeys(p, 'identity' in p ? [...keys, 'identity'] : keys);
  expect(p.id).toBeTypeOf('string');
  expect(p.timeZone).toBeTypeOf('string');
  expectTime(p.createdAt);
  if (p.summary === null) return; // admin tokens: no clinical data
  expectKeys(p.summary, ['openAlerts', 'worstAlert', 'lastReadingAt', 'adherenceDays', 'lastReview']);
  expect(p.summary.openAlerts).toBeTypeOf('number');
  if (p.summary.lastReadingAt !== null) expectTime(p.summary.lastReadingAt);
}

export function expectAlert(a: any): void {
  expectKeys(a, [
    'id',
    'patientId',
    'rule',
    'severity',
    'status',
    'openedAt',
    'acknowledgedAt',
    'resolvedAt',
    'threshold',
    'readingIds',
    'event',
    'acknowledgement',
  ]);
  expect(a.id).toMatch(/^\d+$/);
  expectKeys(a.event, ['at', 'readings']);
  if (a.acknowledgement !== null) expectKeys(a.acknowledgement, ['at', 'by', 'action', 'note']);
  expect(['open', 'acknowledged', 'resolved']).toContain(a.status);
  expectTime(a.openedAt);
  if (a.acknowledgedAt !== null) expectTime(a.acknowledgedAt);
  if (a.resolvedAt !== null) expectTime(a.resolvedAt);
  expect(a.readingIds).toBeInstanceOf(Array);
}

export function expectAssignment(a: any): void {
  expectKeys(a, ['id', 'deviceId', 'patientId', 'from', 'to']);
  expect(a.id).toBeTypeOf('string');
  expectTime(a.from);
  if (a.to !== null) expectTime(a.to);
}

/**
 * Follows nextCursor from `path` (which has a limit) to the end; `between(i)`
 * runs after page i, before the next request. Returns the pages.
 */
export async function walkPages(
  t: ServiceContext,
  path: string,
  token: string,
  limit: number,
  between?: (page: number) => Promise<void>,
): Promise<any[][]> {
  const pages: any[][] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 100; i++) {
    const sep = path.includes('?') ? '&' : '?';
    const res = await t.api.get(cursor === null ? path : `${path}${sep}cursor=${encodeURIComponent(cursor)}`, {
      token,
    });
    expect(res.status, describeRes(res)).toBe(200);
    expectKeys(res.body, ['items', 'nextCursor']);
    expect(res.body.items.length).toBeLessThanOrEqual(limit);
    pages.push(res.body.items);
    cursor = res.body.nextCursor;
    if (cursor === null) return pages;
    expect(cursor).toBeTypeOf('string');
    expect(res.body.items).toHaveLength(limit);
    if (between) await between(i);
  }
  throw new Error(`pagination of ${path} did not end`);
}

export async function auditMark(t: DatabaseContext): Promise<number> {
  const { rows } = await t.query(`SELECT coalesce(max(id), 0)::int AS id FROM audit_log`);
  return rows[0].id;
}

export async function auditSince(t: DatabaseContext, mark: number) {
  const { rows } = await t.query(
    `SELECT token_id::text AS "tokenId", role, patient_id AS "patientId", action
     FROM audit_log WHERE id > $1 ORDER BY id`,
    [mark],
  );
  return rows;
}
