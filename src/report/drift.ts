import type { WindowFigures } from '../drift/accumulator.js';
import type { WindowReport } from '../drift/analysis.js';
import type { DriftReport } from '../drift/report.js';
import { formatIssue } from '../errors.js';
import { ms, num, pct, pValue, usd } from './format.js';

/** One figure across the windows: its label, each window's value (null: absent) and how to print one. */
export interface DriftRow {
  label: string;
  values: (number | null)[];
  text: string[];
}

const times = (x: number | null) => (x === null ? 'n/a' : `${x.toFixed(2)}×`);
const perRun = (x: number | null) => (x === null ? 'n/a' : x.toFixed(2));

const ROWS: { label: string; value: (f: WindowFigures, w: WindowReport) => number | null; show: (x: number | null) => string }[] = [
  { label: 'runs', value: (f) => f.traces, show: (x) => String(x ?? 'n/a') },
  { label: 'agreement', value: (f) => f.agreement.rate, show: pct },
  { label: 'override rate', value: (f) => f.overrideRate.rate, show: pct },
  { label: 'escalation rate', value: (f) => f.escalationRate.rate, show: pct },
  { label: 'error rate', value: (f) => f.errorRate.rate, show: pct },
  { label: 'cost per completed', value: (f) => f.costPerCompletedUsd, show: usd },
  { label: 'p95 latency', value: (f) => f.p95LatencyMs, show: ms },
  { label: 'tool calls per run', value: (f) => (f.traces === 0 ? null : f.toolCalls / f.traces), show: perRun },
  { label: 'tool-call JSD', value: (_, w) => w.comparison?.jsd ?? null, show: (x) => num(x) },
  { label: 'tool-call PSI', value: (_, w) => w.comparison?.psi ?? null, show: (x) => num(x) },
];

/** Every figure of the report, one row per figure, one value per window (oldest first). Pure. */
export function driftRows(report: DriftReport): DriftRow[] {
  return ROWS.map((row) => {
    const values = report.windows.map((w) => row.value(w.figures, w));
    return { label: row.label, values, text: values.map(row.show) };
  });
}

/** Tools of the latest window with their calls per run in every window, most moved first. Pure. */
export function toolRows(report: DriftReport): { tool: string; values: (number | null)[]; text: string[]; ratio: number | null; note: string }[] {
  const latest = report.windows.at(-1);
  const shifts = latest?.comparison?.perTool ?? Object.fromEntries(Object.entries(latest?.figures.tools ?? {}).map(([t]) => [t, null]));
  const moved = (r: number | null) => (r === null ? Infinity : r === 0 ? Infinity : Math.abs(Math.log(r)));
  return Object.entries(shifts)
    .map(([tool, shift]) => {
      const values = report.windows.map((w) => (w.figures.traces === 0 ? null : (w.figures.tools[tool] ?? 0) / w.figures.traces));
      const ratio = shift?.ratio ?? null;
      const note = !shift ? '' : shift.reference === 0 ? 'appeared' : shift.current === 0 ? 'vanished' : `${times(ratio)} as often`;
      return { tool, values, text: values.map(perRun), ratio, note };
    })
    .sort((a, b) => moved(b.ratio) - moved(a.ratio) || a.tool.localeCompare(b.tool));
}

const BLOCKS = '▁▂▃▄▅▆▇█';

/** A unicode sparkline of the values (scaled from their min to their max); an absent value is a space. Pure. */
export function sparkline(values: readonly (number | null)[]): string {
  const present = values.filter((v): v is number => v !== null);
  const lo = Math.min(...present);
  const hi = Math.max(...present);
  return values.map((v) => (v === null ? ' ' : hi === lo ? BLOCKS[3] : BLOCKS[Math.round(((v - lo) / (hi - lo)) * (BLOCKS.length - 1))])).join('');
}

/** `2026-11-15 23:14` (UTC), or the date alone at midnight. */
export function windowLabel(isoTime: string): string {
  const [date, time] = isoTime.split('T');
  const hm = time!.slice(0, 5);
  return hm === '00:00' ? date! : `${date} ${hm}`;
}

export function againstText(report: DriftReport): string {
  return report.reference ? `the reference window ${windowLabel(report.reference.start)} → ${windowLabel(report.reference.end)}` : 'the window before it';
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

const MARK = { pass: 'ok  ', fail: 'FAIL', 'no-data': 'n/a ' } as const;

/** The report in the terminal. Pure. */
export function renderDriftTerminal(report: DriftReport): string {
  const head = ['window ending', ...report.windows.map((w) => windowLabel(w.end)), 'trend'];
  const rows = driftRows(report).map((r) => [r.label, ...r.text, sparkline(r.values)]);
  const out = [headline(report), '', ...table(head, rows), '', `latest window against ${againstText(report)}:`, ...latestShiftLines(report).map((l) => `  ${l}`)];
  out.push('', `thresholds: ${report.verdict.toUpperCase()} (${report.reason})`);
  for (const c of report.checks) out.push(`  ${MARK[c.status]} ${c.name}: ${c.reason}`);
  const skipped = skippedText(report);
  if (skipped) out.push('', skipped);
  for (const issue of report.issues) out.push(`  ${formatIssue(issue)}`);
  return `${out.join('\n')}\n`;
}

/** The report as Markdown (a job summary, an artifact). Pure. */
export function renderDriftMarkdown(report: DriftReport): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const md = (head: string[], rows: string[][]) => [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)];
  const icon = { pass: '✅', fail: '❌', inconclusive: '⚠️' }[report.verdict];
  const out = [
    `## ${icon} Drift${report.workflow ? ` of ${report.workflow}` : ''}: ${report.verdict}`,
    '',
    `${headline(report)}. ${report.reason}.`,
    '',
    ...md(['figure', ...report.windows.map((w) => windowLabel(w.end)), 'trend'], driftRows(report).map((r) => [r.label, ...r.text, `\`${sparkline(r.values)}\``])),
    '',
    `### The latest window against ${againstText(report)}`,
    '',
    ...latestShiftLines(report).map((l) => `- ${l}`),
    '',
    '#### Tool calls per run',
    '',
    ...md(['tool', ...report.windows.map((w) => windowLabel(w.end)), 'trend', 'latest'], toolRows(report).map((t) => [`\`${t.tool}\``, ...t.text, `\`${sparkline(t.values)}\``, t.note])),
  ];
  if (report.checks.length) {
    out.push('', '### Thresholds', '', ...md(['threshold', 'status', 'why'], report.checks.map((c) => [`\`${c.name}\``, c.status, c.reason])));
  }
  const skipped = skippedText(report);
  if (skipped) out.push('', `_${skipped}._`);
  return `${out.join('\n')}\n`;
}
