/**
 * The glucose report (src/domain/glucose-report.ts) as a one-page PDF, drawn with
 * PDFKit in the layout of the AGP report v5 of the International Diabetes Center:
 * glucose statistics and targets beside the time-in-ranges bar, the ambulatory
 * glucose profile, then fourteen daily profiles in two rows of seven. Vector
 * drawing and the PDF standard fonts (Helvetica): nothing to embed, the text is
 * extractable (pdftotext). Dates in the patient's time zone; English.
 *
 * Everything is placed at computed positions with the page margins at 0, so PDFKit
 * never flows text onto a second page; the layout fits A4 and US Letter.
 *
 * PDFKit is imported on the first report, not when the service starts (its import,
 * fonts included, took half a second here).
 */
import type { DailyProfile, GlucoseProfile } from '../domain/glucose-profile.ts';
import type { GlucoseReport, RangeKey, ReportIndicatorKey, TimeInRange } from '../domain/glucose-report.ts';

export type PaperSize = 'A4' | 'LETTER';

const SIZES: Record<PaperSize, [number, number]> = { A4: [595.28, 841.89], LETTER: [612, 792] };

/** As the dashboard's time-in-ranges bar (dashboard/src/styles.css). */
const RANGE_COLORS: Record<RangeKey, string> = {
  very_high: '#b45309',
  high: '#f2b233',
  in_range: '#2f8f46',
  low: '#d6323b',
  very_low: '#7a1218',
};

const RANGE_LABELS: Record<RangeKey, string> = {
  very_high: 'Very high',
  high: 'High',
  in_range: 'Target range',
  low: 'Low',
  very_low: 'Very low',
};

const INK = '#1b1f24';
const MUTED = '#4f5761';
const RULE = '#cfd5dc';
const BLUE = '#0b5cab';
const TARGET = '#2f8f46';
const HEAD_BG = '#e3eefa';
/** The AGP report's glucose axis: 0 to 350 mg/dL; higher values are drawn at 350. */
const Y_MAX = 350;

const one = new Intl.NumberFormat('en-GB', { minimumFractionDigits: 1, maximumFractionDigits: 1 });
const integer = new Intl.NumberFormat('en-GB', { maximumFractionDigits: 0 });

/** One decimal, as indicators.md shows them (the dashboard formats the same way). */
export function fmt1(value: number | null): string {
  return value === null || !Number.isFinite(value) ? '–' : one.format(value);
}

const pct = (value: number | null) => (value === null ? '–' : `${fmt1(value)}%`);

/** A share of the day as hours and minutes: 4% is 58min, 70% is 16h 48min. */
function perDay(percent: number): string {
  const minutes = Math.round((percent / 100) * 24 * 60);
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return h === 0 ? `${m}min` : m === 0 ? `${h}h` : `${h}h ${m}min`;
}

function dateTime(iso: string, timeZone: string): string {
  return new Intl.DateTimeFormat('en-GB', {
    timeZone,
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(new Date(iso));
}

/** A local calendar date (YYYY-MM-DD) as "Mon 23 Nov". */
function dayLabel(date: string): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', weekday: 'short', day: 'numeric', month: 'short' }).format(
    new Date(`${date}T12:00:00Z`),
  );
}

type Doc = PDFKit.PDFDocument;

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

function heading(doc: Doc, text: string, x: number, y: number, w: number): number {
  doc.rect(x, y, w, 15).fill(HEAD_BG);
  doc
    .fillColor(INK)
    .font('Helvetica-Bold')
    .fontSize(8.5)
    .text(text.toUpperCase(), x + 5, y + 4, { width: w - 10, lineBreak: false, characterSpacing: 0.4 });
  return y + 15;
}

function label(doc: Doc, text: string, x: number, y: number, options: PDFKit.Mixins.TextOptions = {}): void {
  doc.text(text, x, y, { lineBreak: false, ...options });
}

/** A row of the statistics: the name on the left, the value right-aligned at the column's end. */
function statRow(doc: Doc, name: string, value: string, x: number, y: number, w: number, note?: string): void {
  doc.font('Helvetica').fontSize(8.5).fillColor(INK);
  label(doc, name, x, y);
  doc.font('Helvetica-Bold');
  label(doc, value, x, y, { width: w, align: 'right' });
  if (note) {
    doc.font('Helvetica').fontSize(7).fillColor(MUTED);
    label(doc, note, x, y + 10);
  }
}

function statistics(doc: Doc, report: GlucoseReport, box: Box): void {
  const { x, w } = box;
  let y = heading(doc, 'Glucose statistics and targets', x, box.y, w) + 7;
  const v = (key: ReportIndicatorKey) => report.statistics.find((s) => s.key === key) ?? null;
  const tz = report.patient.timeZone;
  doc.font('Helvetica').fontSize(8.5).fillColor(INK);
  label(doc, `${dateTime(report.from, tz)} – ${dateTime(report.to, tz)}`, x, y);
  doc.text(`${report.days} days`, x, y, { width: w, align: 'right', lineBreak: false });
  y += 13;
  statRow(doc, 'Time CGM active', pct(v('sensor_active')?.value ?? null), x, y, w);
  y += 13;
  statRow(doc, 'CGM readings', integer.format(v('tir_70_180')?.n ?? 0), x, y, w);
  y += 17;

  doc.font('Helvetica-Bold').fontSize(8).fillColor(INK);
  label(doc, 'Ranges and targets for type 1 or type 2 diabetes', x, y);
  y += 11;
  doc.font('Helvetica').fontSize(7.5).fillColor(MUTED);
  label(doc, 'Glucose ranges', x, y);
  label(doc, 'Targets: % of readings (time per day)', x, y, { width: w, align: 'right' });
  y += 10;
  const targets: [string, string][] = [
    ['Target range 70–180 mg/dL', `Greater than 70% (${perDay(70)})`],
    ['Below 70 mg/dL', `Less than 4% (${perDay(4)})`],
    ['Below 54 mg/dL', `Less than 1% (${perDay(1)})`],
    ['Above 180 mg/dL', `Less than 25% (${perDay(25)})`],
    ['Above 250 mg/dL', `Less than 5% (${perDay(5)})`],
  ];
  doc.fillColor(INK).fontSize(8);
  for (const [name, target] of targets) {
    label(doc, name, x, y);
    label(doc, target, x, y, { width: w, align: 'right' });
    y += 10.5;
  }
  doc.font('Helvetica-Oblique').fontSize(7).fillColor(MUTED);
  label(doc, 'Each 5% increase in time in range (70–180 mg/dL) is clinically beneficial.', x, y + 1);
  y += 15;
  doc
    .moveTo(x, y)
    .lineTo(x + w, y)
    .lineWidth(0.5)
    .strokeColor(RULE)
    .stroke();
  y += 6;
  statRow(doc, 'Mean glucose', `${fmt1(v('cgm_mean')?.value ?? null)} mg/dL`, x, y, w);
  y += 13;
  statRow(doc, 'Glucose management indicator (GMI)', pct(v('gmi')?.value ?? null), x, y, w);
  y += 13;
  statRow(
    doc,
    'Glucose variability (CV)',
    pct(v('glucose_cv')?.value ?? null),
    x,
    y,
    w,
    'Defined as the coefficient of variation; target 36% or lower',
  );
  y += 24;
  if (!report.sufficient) {
    doc.rect(x, y, w, 14).fill('#fde4e6');
    doc.font('Helvetica-Bold').fontSize(7.5).fillColor('#9c2129');
    label(doc, 'Insufficient data: the sensor was active less than 70% of the period.', x + 4, y + 4);
  }
}

function rangesBar(doc: Doc, ranges: TimeInRange[], box: Box): void {
  const { x, w } = box;
  const top = heading(doc, 'Time in ranges', x, box.y, w) + 10;
  const barX = x + 6;
  const barW = 26;
  const barH = box.h - 30;
  const total = ranges.reduce((sum, r) => sum + (r.value ?? 0), 0);
  // Segments top to bottom, very high first; each at least 1.5 pt when it holds readings, as the AGP draws them.
  const heights = ranges.map((r) =>
    total > 0 && (r.value ?? 0) > 0 ? Math.max(1.5, ((r.value ?? 0) / total) * barH) : 0,
  );
  const scale = heights.reduce((a, b) => a + b, 0) > 0 ? barH / heights.reduce((a, b) => a + b, 0) : 0;
  let y = top;
  const centres: number[] = [];
  ranges.forEach((r, i) => {
    const h = heights[i] * scale;
    if (h > 0) doc.rect(barX, y, barW, h).fill(RANGE_COLORS[r.key]);
    centres.push(y + h / 2);
    y += h;
  });
  if (total === 0) doc.rect(barX, top, barW, barH).lineWidth(0.5).strokeColor(RULE).stroke();
  // Labels spread evenly down the bar, each joined to its segment's middle.
  const labelX = barX + barW + 18;
  const valueX = labelX + 64;
  const valueW = x + w - valueX;
  const step = barH / ranges.length;
  ranges.forEach((r, i) => {
    const ly = top + step * i + step / 2 - 8;
    doc
      .moveTo(barX + barW + 2, centres[i])
      .lineTo(labelX - 3, ly + 5)
      .lineWidth(0.4)
      .strokeColor(MUTED)
      .stroke();
    doc.rect(labelX, ly + 1, 7, 7).fill(RANGE_COLORS[r.key]);
    doc.font('Helvetica-Bold').fontSize(8.5).fillColor(INK);
    label(doc, RANGE_LABELS[r.key], labelX + 10, ly);
    doc.font('Helvetica').fontSize(7.5).fillColor(MUTED);
    label(doc, `${r.range} mg/dL`, labelX + 10, ly + 10);
    doc.font('Helvetica-Bold').fontSize(10).fillColor(INK);
    label(doc, pct(r.value), valueX, ly - 1, { width: valueW, align: 'right' });
    doc.font('Helvetica').fontSize(7).fillColor(MUTED);
    // The goals of low and high cover the level 1 and 2 ranges together (< 70, > 180).
    const goal = `Goal ${r.target.op}${r.target.percent}%${r.combinedWith ? (r.key === 'low' ? ' (<70)' : ' (>180)') : ''}`;
    label(doc, `${r.value === null ? '' : `${perDay(r.value)} · `}${goal}`, valueX, ly + 10, {
      width: valueW,
      align: 'right',
    });
  });
}

/** The glucose axis of a plot box: mg/dL to y, capped at Y_MAX. */
const yOf = (box: Box, g: number) => box.y + box.h - (Math.min(Math.max(g, 0), Y_MAX) / Y_MAX) * box.h;
const xOf = (box: Box, second: number) => box.x + (second / 86_400) * box.w;

function targetBand(doc: Doc, box: Box): void {
  doc.rect(box.x, yOf(box, 180), box.w, yOf(box, 70) - yOf(box, 180)).fill('#e4f4e8');
  for (const g of [70, 180]) {
    doc
      .moveTo(box.x, yOf(box, g))
      .lineTo(box.x + box.w, yOf(box, g))
      .lineWidth(0.6)
      .strokeColor(TARGET)
      .stroke();
  }
}

/** A band between two percentile curves (or a line along one), over the slots that have both. */
function band(doc: Doc, box: Box, x: number[], lo: (number | null)[], hi: (number | null)[], color: string): void {
  let run: number[] = [];
  const flush = () => {
    if (run.length > 1) {
      const upper = run.map((i) => [xOf(box, x[i]), yOf(box, hi[i]!)] as [number, number]);
      const lower = run.map((i) => [xOf(box, x[i]), yOf(box, lo[i]!)] as [number, number]).reverse();
      doc.polygon(...upper, ...lower).fill(color);
    }
    run = [];
  };
  x.forEach((_, i) => (lo[i] === null || hi[i] === null ? flush() : run.push(i)));
  flush();
}

function line(doc: Doc, points: [number, number][], width: number, color: string, dash?: number): void {
  if (points.length < 2) return;
  doc.moveTo(points[0][0], points[0][1]);
  for (const p of points.slice(1)) doc.lineTo(p[0], p[1]);
  doc.lineWidth(width).strokeColor(color);
  if (dash) doc.dash(dash, { space: dash });
  doc.stroke();
  if (dash) doc.undash();
}

function agp(doc: Doc, profile: GlucoseProfile, area: Box): void {
  let y = heading(doc, 'Ambulatory glucose profile (AGP)', area.x, area.y, area.w) + 4;
  doc.font('Helvetica').fontSize(7).fillColor(MUTED);
  label(
    doc,
    'The readings of the period folded onto one day: median (50%), 25–75% and 5–95% of the readings by time of day.',
    area.x,
    y,
  );
  y += 12;
  const box: Box = { x: area.x + 28, y: y + 4, w: area.w - 62, h: area.y + area.h - y - 20 };
  doc.rect(box.x, box.y, box.w, box.h).fill('#ffffff');
  targetBand(doc, box);
  // The glucose axis: the thresholds of the ranges, as the AGP report marks them.
  doc.font('Helvetica').fontSize(7).fillColor(MUTED);
  for (const g of [54, 70, 180, 250, 350]) {
    // 54 and 70 are close: each moved a little away from the other.
    const nudge = g === 54 ? 1.5 : g === 70 ? -1.5 : 0;
    label(doc, String(g), box.x - 20, yOf(box, g) - 3 + nudge, { width: 16, align: 'right' });
    if (g === 54 || g === 250) {
      doc
        .moveTo(box.x, yOf(box, g))
        .lineTo(box.x + box.w, yOf(box, g))
        .lineWidth(0.3)
        .strokeColor(RULE)
        .stroke();
    }
  }
  label(doc, 'mg/dL', box.x + box.w + 4, yOf(box, 350) - 3);
  for (let h = 0; h <= 24; h += 3) {
    const hx = xOf(box, h * 3600);
    doc
      .moveTo(hx, box.y)
      .lineTo(hx, box.y + box.h)
      .lineWidth(0.3)
      .strokeColor(RULE)
      .stroke();
    doc.fillColor(MUTED);
    label(doc, `${String(h % 24).padStart(2, '0')}:00`, hx - 15, box.y + box.h + 4, { width: 30, align: 'center' });
  }
  if (profile.n > 0) {
    band(doc, box, profile.x, profile.p5, profile.p95, '#c9dcf0');
    band(doc, box, profile.x, profile.p25, profile.p75, '#7fa9d6');
    const curve = (values: (number | null)[]) => {
      const runs: [number, number][][] = [[]];
      values.forEach((v, i) => {
        if (v === null) runs.push([]);
        else runs[runs.length - 1].push([xOf(box, profile.x[i]), yOf(box, v)]);
      });
      return runs;
    };
    for (const run of curve(profile.p5)) line(doc, run, 0.6, '#5b8cc4', 2);
    for (const run of curve(profile.p95)) line(doc, run, 0.6, '#5b8cc4', 2);
    for (const run of curve(profile.p50)) line(doc, run, 1.8, BLUE);
    // Right-hand labels of the curves at the end of the day.
    const last = profile.x.length - 1;
    doc.font('Helvetica').fontSize(6.5).fillColor(MUTED);
    for (const [name, values] of [
      ['95%', profile.p95],
      ['75%', profile.p75],
      ['50%', profile.p50],
      ['25%', profile.p25],
      ['5%', profile.p5],
    ] as const) {
      const v = values[last];
      if (v !== null) label(doc, name, box.x + box.w + 3, yOf(box, v) - 3);
    }
  } else {
    doc.font('Helvetica').fontSize(9).fillColor(MUTED);
    label(doc, 'No CGM reading in this period.', box.x, box.y + box.h / 2 - 5, { width: box.w, align: 'center' });
  }
  doc.rect(box.x, box.y, box.w, box.h).lineWidth(0.6).strokeColor(MUTED).stroke();
}

function daily(doc: Doc, days: DailyProfile[], area: Box): void {
  let y = heading(doc, 'Daily glucose profiles', area.x, area.y, area.w) + 4;
  doc.font('Helvetica').fontSize(7).fillColor(MUTED);
  label(
    doc,
    'Each daily profile runs from midnight to midnight in the patient’s time zone; band 70–180 mg/dL.',
    area.x,
    y,
  );
  y += 12;
  const cols = 7;
  const rows = Math.ceil(days.length / cols);
  const gap = 3;
  const axis = 16;
  const cellW = (area.w - axis - gap * (cols - 1)) / cols;
  const cellH = (area.y + area.h - y - gap * (rows - 1)) / rows;
  days.forEach((day, i) => {
    const cx = area.x + axis + (i % cols) * (cellW + gap);
    const cy = y + Math.floor(i / cols) * (cellH + gap);
    doc.font('Helvetica-Bold').fontSize(7).fillColor(INK);
    label(doc, dayLabel(day.date), cx + 2, cy + 1);
    const box: Box = { x: cx, y: cy + 10, w: cellW, h: cellH - 10 };
    doc.rect(box.x, box.y, box.w, box.h).fill('#ffffff');
    targetBand(doc, box);
    for (const h of [6, 12, 18]) {
      const hx = xOf(box, h * 3600);
      doc
        .moveTo(hx, box.y)
        .lineTo(hx, box.y + box.h)
        .lineWidth(0.25)
        .strokeColor(RULE)
        .stroke();
    }
    for (const run of day.runs) {
      line(
        doc,
        run.map(([s, g]) => [xOf(box, s), yOf(box, g)]),
        0.7,
        INK,
      );
      if (run.length === 1) doc.circle(xOf(box, run[0][0]), yOf(box, run[0][1]), 0.8).fill(INK);
    }
    doc.rect(box.x, box.y, box.w, box.h).lineWidth(0.5).strokeColor(MUTED).stroke();
    if (i % cols === 0) {
      doc.font('Helvetica').fontSize(6).fillColor(MUTED);
      for (const g of [70, 180]) label(doc, String(g), area.x, yOf(box, g) - 2.5, { width: axis - 2, align: 'right' });
    }
    if (day.n === 0) {
      doc.font('Helvetica').fontSize(6.5).fillColor(MUTED);
      label(doc, 'no readings', box.x, box.y + box.h / 2 + 6, { width: box.w, align: 'center' });
    }
  });
}

/** The report as a one-page PDF. `generatedAt` is printed in the footer. */
export async function glucoseReportPdf(
  report: GlucoseReport,
  generatedAt: number,
  paper: PaperSize = 'A4',
): Promise<Buffer> {
  const { default: PDFDocument } = await import('pdfkit');
  const [width, height] = SIZES[paper];
  const doc = new PDFDocument({
    size: [width, height],
    margin: 0,
    autoFirstPage: true,
    info: {
      Title: `Glucose report (AGP) – ${report.patient.displayName ?? report.patient.id}`,
      Author: 'Vitalink',
      Subject: 'Ambulatory glucose profile',
      CreationDate: new Date(generatedAt),
    },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });

  const m = 36;
  const w = width - 2 * m;
  // The sections above the daily profiles fit Letter, the shorter page; the daily profiles take the rest.
  const bottom = height - m;
  const tz = report.patient.timeZone;

  doc.font('Helvetica-Bold').fontSize(15).fillColor(INK);
  label(doc, 'AGP Report: Continuous Glucose Monitoring', m, m);
  doc.font('Helvetica').fontSize(8).fillColor(MUTED);
  label(doc, 'Vitalink', m, m + 3, { width: w, align: 'right' });
  doc.font('Helvetica').fontSize(9).fillColor(INK);
  const name = report.patient.displayName ? `${report.patient.displayName} · ${report.patient.id}` : report.patient.id;
  label(doc, `Patient: ${name}`, m, m + 21);
  label(doc, `Time zone: ${tz}`, m, m + 21, { width: w, align: 'right' });
  doc
    .moveTo(m, m + 35)
    .lineTo(m + w, m + 35)
    .lineWidth(0.8)
    .strokeColor(INK)
    .stroke();

  const top = m + 43;
  const leftW = w * 0.55;
  statistics(doc, report, { x: m, y: top, w: leftW - 8, h: 205 });
  rangesBar(doc, report.ranges, { x: m + leftW + 4, y: top, w: w - leftW - 4, h: 205 });
  agp(doc, report.agp, { x: m, y: top + 215, w, h: 215 });
  daily(doc, report.daily, { x: m, y: top + 440, w, h: bottom - 16 - (top + 440) });

  doc.font('Helvetica').fontSize(6.5).fillColor(MUTED);
  const source =
    report.source === 'indicators' && report.computedAt
      ? `Statistics: the patient's CGM indicators computed ${dateTime(report.computedAt, tz)}.`
      : 'Statistics: computed over the readings of the period.';
  label(
    doc,
    `${source} Targets: Battelino et al., Diabetes Care 2019;42:1593. GMI: Bergenstal et al., Diabetes Care 2018;41:2275. Generated ${dateTime(new Date(generatedAt).toISOString(), tz)}.`,
    m,
    bottom - 8,
    { width: w },
  );
  doc.end();
  return done;
}
