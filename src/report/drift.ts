import type { WindowFigures } from '../drift/accumulator.js';
import type { WindowReport } from '../drift/analysis.js';
import type { DriftReport } from '../drift/report.js';
import { formatIssue } from '../errors.js';
import { forTerminal, mdCode, mdText } from './escape.js';
import { ms, num, pct, pValue, usd } from './format.js';

/** One figure across the windows: its label, each window's value (null: absent), how to print one, and its sparkline's scale floor. */
export interface DriftRow {
  label: string;
  values: (number | null)[];
  text: string[];
  /** The smallest spread its sparkline spans: a change much smaller than this draws flat. */
  floor: number;
}

const times = (x: number | null) => (x === null ? 'n/a' : `${x.toFixed(2)}×`);
const perRun = (x: number | null) => (x === null ? 'n/a' : x.toFixed(2));

/** Sparkline scale floors: a fixed spread (rates, divergences), or a share of the largest value (counts, money, time). */
const fixed = (spread: number) => () => spread;
const share = (part: number) => (values: readonly (number | null)[]) => part * Math.max(0, ...values.map((v) => Math.abs(v ?? 0)));
/** Rates move on a 0–1 scale: 5 pp spans a whole sparkline. */
const RATE_FLOOR = fixed(0.05);
/** Counts, cost, latency, calls per run: 5% of the largest value spans a whole sparkline. */
const SHARE_FLOOR = share(0.05);

type RowSpec = { label: string | ((r: DriftReport) => string); value: (f: WindowFigures, w: WindowReport) => number | null; show: (x: number | null) => string; floor: (values: readonly (number | null)[]) => number };

const ROWS: RowSpec[] = [
  // A trace is one workflow run; a stored run holds one result per trace (and trial): count what was counted.
  { label: (r) => (r.source.kind === 'runs' ? 'results' : 'traces'), value: (f) => f.traces, show: (x) => String(x ?? 'n/a'), floor: SHARE_FLOOR },
  { label: 'agreement', value: (f) => f.agreement.rate, show: pct, floor: RATE_FLOOR },
  { label: 'override rate', value: (f) => f.overrideRate.rate, show: pct, floor: RATE_FLOOR },
  { label: 'escalation rate', value: (f) => f.escalationRate.rate, show: pct, floor: RATE_FLOOR },
  { label: 'error rate', value: (f) => f.errorRate.rate, show: pct, floor: RATE_FLOOR },
  { label: 'cost per completed', value: (f) => f.costPerCompletedUsd, show: usd, floor: SHARE_FLOOR },
  { label: 'p95 latency', value: (f) => f.p95LatencyMs, show: ms, floor: SHARE_FLOOR },
  { label: 'tool calls per run', value: (f) => (f.traces === 0 ? null : f.toolCalls / f.traces), show: perRun, floor: SHARE_FLOOR },
  // JSD is in [0, 1] and below 0.05 means little; PSI below 0.1 reads as stable.
  { label: 'tool-call JSD', value: (_, w) => w.comparison?.jsd ?? null, show: (x) => num(x), floor: fixed(0.05) },
  { label: 'tool-call PSI', value: (_, w) => w.comparison?.psi ?? null, show: (x) => num(x), floor: fixed(0.1) },
];

/** Every figure of the report, one row per figure, one value per window (oldest first). Pure. */
export function driftRows(report: DriftReport): DriftRow[] {
  return ROWS.map((row) => {
    const values = report.windows.map((w) => row.value(w.figures, w));
    return { label: typeof row.label === 'string' ? row.label : row.label(report), values, text: values.map(row.show), floor: row.floor(values) };
  });
}

/** Tools of the latest window with their calls per run in every window, most moved first. Pure. */
export function toolRows(report: DriftReport): { tool: string; values: (number | null)[]; text: string[]; floor: number; ratio: number | null; note: string }[] {
  const latest = report.windows.at(-1);
  const shifts = latest?.comparison?.perTool ?? Object.fromEntries(Object.entries(latest?.figures.tools ?? {}).map(([t]) => [t, null]));
  const moved = (r: number | null) => (r === null ? Infinity : r === 0 ? Infinity : Math.abs(Math.log(r)));
  return Object.entries(shifts)
    .map(([tool, shift]) => {
      const values = report.windows.map((w) => (w.figures.traces === 0 ? null : (w.figures.tools[tool] ?? 0) / w.figures.traces));
      const ratio = shift?.ratio ?? null;
      const note = !shift ? '' : shift.reference === 0 ? 'appeared' : shift.current === 0 ? 'vanished' : `${times(ratio)} as often`;
      return { tool, values, text: values.map(perRun), floor: SHARE_FLOOR(values), ratio, note };
    })
    .sort((a, b) => moved(b.ratio) - moved(a.ratio) || a.tool.localeCompare(b.tool));
}

const BLOCKS = '▁▂▃▄▅▆▇█';

/**
 * Where each value sits on a sparkline, from 0 (bottom) to 1 (top); null where absent.
 * The scale is centred on the values and spans their spread, or `floor` when that is
 * wider: a change much smaller than `floor` draws (nearly) flat instead of being
 * stretched to the full height; equal values sit in the middle. Pure.
 */
export function sparkPositions(values: readonly (number | null)[], floor = 0): (number | null)[] {
  const present = values.filter((v): v is number => v !== null);
  const lo = Math.min(...present);
  const hi = Math.max(...present);
  const span = Math.max(hi - lo, floor);
  return values.map((v) => (v === null ? null : span === 0 ? 0.5 : 0.5 + (v - (lo + hi) / 2) / span));
}

/** A unicode sparkline of the values (scaled as sparkPositions); an absent value is a space. Pure. */
export function sparkline(values: readonly (number | null)[], floor = 0): string {
  const top = BLOCKS.length - 1;
  // Centred on the fourth block, so that equal values (and changes far below the floor) draw one flat line.
  const block = (p: number) => BLOCKS[Math.min(top, Math.max(0, Math.round(3 + (p - 0.5) * top)))];
  return sparkPositions(values, floor).map((p) => (p === null ? ' ' : block(p))).join('');
}

/** `2026-11-15 23:14` (UTC), or the date alone at midnight. */
export function windowLabel(isoTime: string): string {
  const [date, time] = isoTime.split('T');
  const hm = time!.slice(0, 5);
  return hm === '00:00' ? date! : `${date} ${hm}`;
}

export function againstText(report: DriftReport): string {
  const span = report.reference ? `${windowLabel(report.reference.start)} → ${windowLabel(report.reference.end)}` : null;
  if (report.against === 'range') return `the reference window ${span}`;
  return span ? `the window before it (${span}, ${report.reference!.figures.traces} ${report.source.kind === 'runs' ? 'result' : 'trace'}(s), not shown)` : 'the window before it';
}

/** The comparison of the latest window, in sentences ("issue_refund called 3.10× as often per run"). Pure. */
export function latestShiftLines(report: DriftReport): string[] {
  const c = report.windows.at(-1)?.comparison;
  if (!c) return ['no reference window to compare the latest window with'];
  const lines = [`tool-call mix: JSD ${num(c.jsd)}, PSI ${num(c.psi)}${c.psiBand ? ` (${c.psiBand})` : ''}, chi-square p ${pValue(c.chi2P)}`];
  for (const t of toolRows(report)) {
    if (t.ratio === null || t.ratio === 0 || Math.abs(Math.log(t.ratio)) < Math.log(1.25)) continue;
    const shift = c.perTool[t.tool]!;
    lines.push(`${t.tool} called ${times(t.ratio)} as often per run (${perRun(shift.referencePerTrace)} → ${perRun(shift.currentPerTrace)} calls per run)`);
  }
  if (c.newTools.length) lines.push(`appeared: ${c.newTools.join(', ')}`);
  if (c.missingTools.length) lines.push(`vanished: ${c.missingTools.join(', ')}`);
  return lines;
}

function table(head: string[], rows: string[][]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(head), ...rows.map(line)];
}

function headline(report: DriftReport): string {
  const what = report.source.kind === 'traces' ? `${report.source.files.length} trace file(s)` : `${report.source.runs} stored run(s)`;
  return `drift${report.workflow ? ` of ${report.workflow}` : ''}: ${what}, ${report.windows.length} window(s) of ${report.window}, each against ${againstText(report)}`;
}

/** A note where some stored suggest runs' override rate counts the review queue alone (runs stored before they kept their settings). */
export function queueOnlyText(report: DriftReport): string | null {
  const n = report.source.kind === 'runs' ? report.source.queueOnly : undefined;
  const later = report.source.kind === 'runs' ? report.source.laterTrials : undefined;
  const notes = [
    n ? `override rate: ${n} suggest run(s) stored before runs kept their review settings count the review queue's verdicts alone; run the suite again` : '',
    later ? `${later} more result(s) of cases already counted left out: each case counts once, by its first result (lowest trial, then trace id)` : '',
  ].filter(Boolean);
  return notes.length > 0 ? notes.join('; ') : null;
}

export function skippedText(report: DriftReport): string | null {
  const s = report.skipped;
  const parts = [
    s.outside && `${s.outside} outside the windows`,
    s.undated && `${s.undated} without recordedAt`,
    s.otherWorkflow && `${s.otherWorkflow} of other workflows`,
    s.invalid && `${s.invalid} invalid line(s)`,
  ].filter(Boolean);
  return parts.length ? `left out: ${parts.join(', ')}` : null;
}

const MARK = { pass: 'ok  ', fail: 'FAIL', inconclusive: 'n/a ' } as const;

/** The report in the terminal. Pure. */
export function renderDriftTerminal(report: DriftReport): string {
  const head = ['window ending', ...report.windows.map((w) => windowLabel(w.end)), 'trend'];
  const rows = driftRows(report).map((r) => [r.label, ...r.text, sparkline(r.values, r.floor)]);
  const out = [headline(report), '', ...table(head, rows), '', `latest window against ${againstText(report)}:`, ...latestShiftLines(report).map((l) => `  ${l}`)];
  out.push('', `thresholds: ${report.verdict.toUpperCase()} (${report.reason})`);
  for (const c of report.checks) out.push(`  ${MARK[c.status]} ${c.name}: ${c.reason}`);
  const skipped = skippedText(report);
  if (skipped) out.push('', skipped);
  const queueOnly = queueOnlyText(report);
  if (queueOnly) out.push('', queueOnly);
  for (const issue of report.issues) out.push(`  ${forTerminal(formatIssue(issue))}`);
  // Workflow and tool names and file names come from traces: each line stays one line.
  return `${out.map(forTerminal).join('\n')}\n`;
}

/** The report as Markdown (a job summary, an artifact). Pure. */
export function renderDriftMarkdown(report: DriftReport): string {
  const md = (head: string[], rows: string[][]) => [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
  const icon = { pass: '✅', fail: '❌', inconclusive: '⚠️' }[report.verdict];
  const out = [
    `## ${icon} Drift${report.workflow ? ` of ${mdText(report.workflow)}` : ''}: ${report.verdict}`,
    '',
    `${mdText(headline(report))}. ${mdText(report.reason)}.`,
    '',
    ...md(['figure', ...report.windows.map((w) => windowLabel(w.end)), 'trend'], driftRows(report).map((r) => [mdText(r.label), ...r.text.map(mdText), mdCode(sparkline(r.values, r.floor), { cell: true })])),
    '',
    `### The latest window against ${mdText(againstText(report))}`,
    '',
    ...latestShiftLines(report).map((l) => `- ${mdText(l)}`),
    '',
    '#### Tool calls per run',
    '',
    ...md(['tool', ...report.windows.map((w) => windowLabel(w.end)), 'trend', 'latest'], toolRows(report).map((t) => [mdCode(t.tool, { cell: true }), ...t.text.map(mdText), mdCode(sparkline(t.values, t.floor), { cell: true }), mdText(t.note)])),
  ];
  if (report.checks.length) {
    out.push('', '### Thresholds', '', ...md(['threshold', 'status', 'why'], report.checks.map((c) => [mdCode(c.name, { cell: true }), c.status, mdText(c.reason)])));
  }
  const skipped = skippedText(report);
  if (skipped) out.push('', `_${mdText(skipped)}._`);
  const queueOnly = queueOnlyText(report);
  if (queueOnly) out.push('', `_${mdText(queueOnly)}._`);
  return `${out.join('\n')}\n`;
}
