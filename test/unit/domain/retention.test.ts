import { describe, expect, it } from 'vitest';
import {
  DAY_MS,
  KEY_MARGIN_DAYS,
  keysBefore,
  minimumReadingsDays,
  monthsEndingBy,
  retentionCutoffs,
  rollupsBefore,
  type RetentionSettings,
  utcMonthStart,
} from '../../../src/domain/retention.ts';

const t = (iso: string) => Date.parse(iso);
const settings = (s: Partial<RetentionSettings> = {}): RetentionSettings => ({
  readingsDays: null,
  rejectionsDays: 180,
  auditDays: 3650,
  readingMaxAgeMs: 90 * DAY_MS,
  ...s,
});

describe('retentionCutoffs', () => {
  const now = t('2026-12-07T02:00:00Z');

  it('keeps readings forever when no readings retention is set, and still bounds the keys', () => {
    const c = retentionCutoffs(settings(), now);
    expect(c.readingsBefore).toBeNull();
    expect(c.keysBefore).toBe(now - (90 + KEY_MARGIN_DAYS) * DAY_MS);
    expect(c.rejectionsBefore).toBe(now - 180 * DAY_MS);
    expect(c.auditBefore).toBe(now - 3650 * DAY_MS);
  });

  it('turns null days into no cutoff for rejections and the audit log', () => {
    const c = retentionCutoffs(settings({ rejectionsDays: null, auditDays: null }), now);
    expect(c.rejectionsBefore).toBeNull();
    expect(c.auditBefore).toBeNull();
  });

  it('drops readings by whole UTC months: the cutoff is the start of the month that holds now − days', () => {
    // now − 180 days = 2026-06-10T02:00Z: June is kept until all of it is older than 180 days.
    expect(retentionCutoffs(settings({ readingsDays: 180 }), now).readingsBefore).toBe(t('2026-06-01T00:00:00Z'));
  });

  it('at a month edge: a month becomes droppable at the instant its last millisecond is older than the retention', () => {
    const days = 100;
    const julyStart = t('2026-07-01T00:00:00Z');
    const atEdge = retentionCutoffs(settings({ readingsDays: days }), julyStart + days * DAY_MS).readingsBefore!;
    const justBefore = retentionCutoffs(
      settings({ readingsDays: days }),
      julyStart + days * DAY_MS - 1,
    ).readingsBefore!;
    const june = t('2026-06-01T00:00:00Z');
    expect(monthsEndingBy([june, julyStart], atEdge)).toEqual([june]);
    expect(monthsEndingBy([june, julyStart], justBefore)).toEqual([]);
  });

  it('uses UTC months, not local ones: 01:30 on 1 July in Paris is still June for the partitions', () => {
    const paris = t('2026-07-01T01:30:00+02:00'); // 2026-06-30T23:30Z
    expect(utcMonthStart(paris)).toBe(t('2026-06-01T00:00:00Z'));
    const c = retentionCutoffs(settings({ readingsDays: 97 }), paris + 97 * DAY_MS);
    expect(c.readingsBefore).toBe(t('2026-06-01T00:00:00Z'));
    // 23:30 on 30 June in New York is already July in UTC.
    const newYork = t('2026-06-30T23:30:00-04:00'); // 2026-07-01T03:30Z
    expect(retentionCutoffs(settings({ readingsDays: 97 }), newYork + 97 * DAY_MS).readingsBefore).toBe(
      t('2026-07-01T00:00:00Z'),
    );
  });
});

describe('monthsEndingBy', () => {
  it('lists the months wholly before the cutoff, oldest first, across a year boundary', () => {
    const months = ['2026-02-01', '2025-12-01', '2026-01-01', '2026-03-01'].map((d) => t(`${d}T00:00:00Z`));
    expect(monthsEndingBy(months, t('2026-02-01T00:00:00Z'))).toEqual([
      t('2025-12-01T00:00:00Z'),
      t('2026-01-01T00:00:00Z'),
    ]);
    // A cutoff inside February keeps February.
    expect(monthsEndingBy(months, t('2026-02-28T23:59:59.999Z'))).toHaveLength(2);
    expect(monthsEndingBy(months, t('2026-03-01T00:00:00Z'))).toHaveLength(3);
  });
});

describe('the keys horizon', () => {
  it('is the acceptance window plus the margin, and bounds the shortest readings retention', () => {
    const now = t('2026-12-07T00:00:00Z');
    expect(keysBefore(now, 30 * DAY_MS)).toBe(now - (30 + KEY_MARGIN_DAYS) * DAY_MS);
    expect(minimumReadingsDays(90)).toBe(90 + KEY_MARGIN_DAYS);
  });

  it('keeps every key a reading accepted now could meet, whatever the months', () => {
    // The oldest acceptable reading, measured just after the window's start, is in
    // a month that cannot be wholly before the keys' horizon.
    for (const iso of ['2026-03-01T00:00:00Z', '2026-03-31T23:59:59Z', '2026-12-31T12:00:00Z']) {
      const now = t(iso);
      const oldestAccepted = now - 90 * DAY_MS;
      const month = utcMonthStart(oldestAccepted);
      expect(monthsEndingBy([month], keysBefore(now, 90 * DAY_MS))).toEqual([]);
    }
  });
});

describe('rollupsBefore', () => {
  it('is the readings cutoff, or an older month whose partition is still there', () => {
    const cutoff = t('2026-06-01T00:00:00Z');
    expect(rollupsBefore(cutoff, [t('2026-06-01T00:00:00Z'), t('2026-07-01T00:00:00Z')])).toBe(cutoff);
    expect(rollupsBefore(cutoff, [t('2026-04-01T00:00:00Z'), t('2026-07-01T00:00:00Z')])).toBe(
      t('2026-04-01T00:00:00Z'),
    );
    expect(rollupsBefore(cutoff, [])).toBe(cutoff);
  });
});
