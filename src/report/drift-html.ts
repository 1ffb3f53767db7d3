import type { DriftReport } from '../drift/report.js';
import { formatIssue } from '../errors.js';
import { againstText, driftRows, latestShiftLines, skippedText, sparkPositions, toolRows, windowLabel } from './drift.js';
import { compilePage } from './page.js';
import { DRIFT_TEMPLATE, SPARK_PARTIAL } from './templates/drift-template.js';

const page = compilePage(DRIFT_TEMPLATE, { spark: SPARK_PARTIAL });

const WIDTH = 120;
const HEIGHT = 26;
const PAD = 4;
const round = (x: number) => Math.round(x * 10) / 10;

/** The coordinates of a sparkline: present values scaled to the box (as sparkPositions, with its floor); an absent one a grey dot on the baseline. Pure. */
export function sparkView(values: readonly (number | null)[], floor = 0) {
  const present = values.filter((v): v is number => v !== null);
  const positions = sparkPositions(values, floor);
  const step = values.length > 1 ? (WIDTH - 2 * PAD) / (values.length - 1) : 0;
  const x = (i: number) => round(values.length > 1 ? PAD + i * step : WIDTH / 2);
  const y = (p: number) => round(HEIGHT - PAD - p * (HEIGHT - 2 * PAD));
  const points = positions.map((p, i) => ({ x: x(i), y: p === null ? HEIGHT - PAD : y(p), cls: p === null ? 'gap' : i === values.length - 1 ? 'last' : 'point' }));
  const line = positions.flatMap((p, i) => (p === null ? [] : [`${x(i)},${y(p)}`])).join(' ');
  return { width: WIDTH, height: HEIGHT, points, line: present.length > 1 ? line : null };
}

const VERDICT_CLASS = { pass: 'pass', fail: 'fail', inconclusive: 'inconclusive' } as const;
const STATUS_CLASS = { pass: 'pass', fail: 'fail', inconclusive: 'inconclusive' } as const;

/**
 * A self-contained HTML page of a drift report: the verdict, every figure per window
 * with an inline SVG sparkline, the latest window's tool shifts and the thresholds.
 * No script, no external request, every value escaped. Pure.
 */
export function renderDriftHtml(report: DriftReport): string {
  const what = report.source.kind === 'traces' ? `${report.source.files.length} trace file(s)` : `${report.source.runs} stored run(s)`;
  const title = report.workflow ?? (report.source.kind === 'traces' ? 'production traces' : 'stored runs');
  return page({
    pageTitle: `shadowgate drift · ${title} · ${report.verdict.toUpperCase()}`,
    title,
    subtitle: `${what} · ${report.windows.length} window(s) of ${report.window}, each against ${againstText(report)}`,
    generatedAt: report.generatedAt,
    verdict: { label: report.verdict.toUpperCase(), cls: VERDICT_CLASS[report.verdict], reason: report.reason },
    windows: report.windows.map((w) => ({ label: windowLabel(w.end), start: w.start, end: w.end })),
    rows: driftRows(report).map((r) => ({ label: r.label, text: r.text, spark: sparkView(r.values, r.floor) })),
    against: againstText(report),
    shifts: latestShiftLines(report),
    tools: toolRows(report).map((t) => ({ tool: t.tool, text: t.text, note: t.note, spark: sparkView(t.values, t.floor) })),
    checks: report.checks.map((c) => ({ name: c.name, status: c.status, cls: STATUS_CLASS[c.status], reason: c.reason })),
    skipped: skippedText(report),
    issues: report.issues.map(formatIssue),
  });
}
