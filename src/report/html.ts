import { DRY_RUN_MARK, type GateCheck, type Verdict } from '../gate/gate.js';
import { unreadableLocations } from '../gate/coverage.js';
import type { RateMetric, RunMetrics } from '../metrics/summary.js';
import { DECIDED_STATUSES, inFileOrder, type ResultStatus, type TraceResult } from '../replay/types.js';
import type { RunOutcome } from '../run/run-suite.js';
import { counts, countsApart, interval, ms, noOutcomeApart, num, pct, pValue, tracesRun, usd } from './format.js';
import { forTerminal } from './escape.js';
import { compilePage } from './page.js';
import { REPORT_TEMPLATE } from './templates/report-template.js';
import { phaseLines } from './phase-lines.js';
import { CALLS_HEADER, reversibilityOf, reversibilityRows, workflowCapText } from './reversibility-lines.js';
import { baselineName } from './baseline-name.js';
import { writeWhole } from '../write-whole.js';
import { policyLines, safetyLines, violationText } from './policy-lines.js';
import { shardLine } from './shard-line.js';

export interface HtmlReportOptions {
  /** The baseline run's metrics, drawn next to this run's where there is something to compare. */
  baseline?: RunOutcome['metrics'];
}

/** Traces shown one by one at most; the rest are counted. */
export const MAX_TRACES = 300;
/** Of the traces worth a look, this many are shown open. */
const OPEN_TRACES = 20;
/** Text longer than this (a decision, a call's arguments) is cut, with a note of how much was left out. */
const MAX_TEXT = 2000;
const MAX_FLIP_IDS = 200;
const MAX_TOOLS = 20;

const page = compilePage(REPORT_TEMPLATE);

/**
 * A self-contained HTML page of one run: the verdict, every gate check, charts
 * (inline SVG), the flips against a baseline and the traces worth a look, each
 * with the recorded tool calls and the candidate's steps side by side. No
 * script, no external request, and every piece of trace content HTML-escaped.
 * Pure.
 */
export function renderHtmlReport(outcome: RunOutcome, results: readonly TraceResult[], options: HtmlReportOptions = {}): string {
  return page(reportView(outcome, results, options));
}

/** Writes the HTML report of a run to `file` whole or not at all, creating its folder. */
export function writeHtmlReport(file: string, outcome: RunOutcome, results: readonly TraceResult[], options: HtmlReportOptions = {}): void {
  writeWhole(file, renderHtmlReport(outcome, results, options));
}

// ---------------------------------------------------------------------------
// The view: every string formatted and every coordinate computed here.

const VERDICT_CLASS: Record<Verdict, string> = { pass: 'pass', fail: 'fail', inconclusive: 'inconclusive' };
const verdictClass = (v: string): string => VERDICT_CLASS[v as Verdict] ?? 'neutral';

function statusClass(status: ResultStatus): string {
  if (status === 'completed') return 'ok';
  if ((DECIDED_STATUSES as readonly string[]).includes(status)) return 'warn';
  if (status === 'unpaired') return 'neutral';
  return 'bad';
}

function reportView(outcome: RunOutcome, results: readonly TraceResult[], options: HtmlReportOptions) {
  const { meta, metrics: m, gate } = outcome;
  const failing = gate.checks.filter((c) => c.status === gate.verdict && !c.dryRun);
  const label = gate.noChecks && gate.verdict === 'pass' ? 'NO CHECKS' : gate.verdict.toUpperCase();
  return {
    pageTitle: `shadowgate · ${meta.suite} · ${label}`,
    head: {
      suite: meta.suite,
      candidate: meta.candidate,
      reference: meta.reference,
      phase: meta.phase,
      runId: meta.runId,
      when: `started ${meta.startedAt} · finished ${outcome.finishedAt}`,
      finishedAt: outcome.finishedAt,
      shard: shardLine(outcome),
      git: meta.gitCommit ? `git ${meta.gitCommit.slice(0, 12)}${meta.gitRef ? ` (${meta.gitRef})` : ''}` : null,
    },
    verdict: {
      label,
      cls: label === 'NO CHECKS' ? 'neutral' : verdictClass(gate.verdict),
      summary:
        label === 'NO CHECKS'
          ? 'no gate checks configured'
          : gate.verdict === 'pass'
            ? `all ${gate.checks.filter((c) => !c.dryRun).length} check(s) pass`
            : failing.map((c) => `${c.name}: ${c.reason}`).join('; ') || gate.verdict,
    },
    checks: gate.checks.map((c) => ({ ...c, name: c.dryRun ? `${c.name} ${DRY_RUN_MARK}` : c.name, value: checkValue(c, c.value), threshold: checkValue(c, c.threshold), cls: verdictClass(c.status) })),
    // A suggest, auto-with-review or auto run is judged on its phase's figures: they lead, above the gate checks.
    phase: phaseLines(m).map(([label, value]) => ({ label, value })),
    summary: summaryRows(outcome),
    warnings: outcome.warnings,
    // Lines, not problems: one bad line may have several.
    issues: { count: unreadableLocations(outcome.issues).length, first: outcome.issues[0] ? `${outcome.issues[0].file}:${outcome.issues[0].line} ${outcome.issues[0].message}` : null },
    agreementChart: agreementChart(m, options.baseline, gate.checks.find((c) => c.name === 'agreement')?.threshold ?? null),
    ...costView(m, options.baseline),
    ...toolView(m),
    flips: flipsView(m),
    reversibility: reversibilityView(outcome),
    traces: tracesView(results),
  };
}

function checkValue(check: GateCheck, x: number | null): string {
  if (x === null) return 'n/a';
  switch (check.name) {
    case 'agreement':
    case 'effectsAgreement':
    case 'errorRate':
    case 'overrideRate':
      return pct(x);
    case 'toolCallDrift':
      return `JSD ${num(x)}`;
    case 'costPerRunUsd':
      return usd(x);
    case 'regressions':
      // A count under `max`; under `margin` (never a whole number) the drop's upper bound and the margin, as rates.
      return Number.isInteger(check.threshold) ? String(x) : pct(x);
    default:
      return String(x);
  }
}

function rateText(r: RateMetric): string {
  return r.rate === null ? 'n/a (no trace could be compared)' : `${pct(r.rate)} ${interval(r.ci95, pct)} (${counts(r)})`;
}

function summaryRows(outcome: RunOutcome): { label: string; value: string }[] {
  const { counts: c, metrics: m } = outcome;
  const apart = countsApart(c);
  const d = m.toolCallDrift;
  const rows = [
    { label: 'traces', value: `${outcome.trials > 1 ? `${tracesRun(c.total, outcome.trials)} (${c.total} runs)` : c.total}: ${c.completed} completed${apart.length ? `, ${apart.join(', ')}` : ''}` },
    ...noOutcomeApart(c).map((text, i) => ({ label: i === 0 ? 'no outcome' : '', value: text })),
    { label: 'agreement', value: `${rateText(m.agreement)}${m.agreementCompleted ? ` · completed only ${rateText(m.agreementCompleted)}` : ''}` },
    { label: 'effects agreement', value: `${rateText(m.effectsAgreement)}${m.effectsAgreementCompleted ? ` · completed only ${rateText(m.effectsAgreementCompleted)}` : ''}` },
    {
      label: 'tool-call drift',
      value: `JSD ${num(d.jsd)} · PSI ${num(d.psi)}${d.psiBand ? ` (${d.psiBand})` : ''} · χ² p ${pValue(d.chi2P)} · sequence similarity ${num(d.meanSequenceSimilarity)} ${interval(d.meanSequenceSimilarityCi95, (x) => num(x))}`,
    },
    { label: 'cost', value: `${usd(m.cost.perRunUsd)} per run ${interval(m.cost.perRunCi95, usd)} · ${usd(m.cost.totalUsd)} total${m.cost.unpriced ? ` (${m.cost.unpriced} unpriced)` : ''}` },
    { label: 'latency', value: `p50 ${ms(m.latency.p50Ms)} · p95 ${ms(m.latency.p95Ms)} · mean ${ms(m.latency.meanMs)} ${interval(m.latency.meanCi95, ms)}` },
    { label: 'error rate', value: pct(m.errorRate) },
  ];
  for (const [label, text] of [...safetyLines(m), ...policyLines(m)]) rows.push({ label, value: text });
  if (m.passK) rows.push({ label: 'pass^k', value: `pass^${m.passK.k} ${pct(m.passK.value)} over ${m.passK.traces} cases${m.passK.over === 'effects' ? ' (effects)' : ''}` });
  if (m.noiseFloor) {
    const n = m.noiseFloor;
    rows.push({ label: 'noise floor', value: `${n.flips} flips in ${n.pairs} pairs (${pct(n.selfDisagreement)}) in A/A run ${n.runId}, of the ${n.subject}` });
  }
  return rows;
}

function reversibilityView(outcome: RunOutcome) {
  const m = reversibilityOf(outcome);
  return m && { cap: workflowCapText(m), rows: reversibilityRows(m), callsHeader: CALLS_HEADER };
}

// --- charts: numbers only; the only strings are labels, escaped by the template.

const round = (x: number) => Math.round(x * 10) / 10;
const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

interface IntervalRowInput {
  label: string;
  value: number | null;
  ci: [number, number] | null;
  text: string;
  baseline: boolean;
}

/** A horizontal chart of values with intervals on one scale [0, max]. */
function intervalChart(rows: IntervalRowInput[], max: number, tick: (x: number) => string, threshold: number | null) {
  const width = 520;
  const left = 150;
  const right = width - 80;
  const rowH = 34;
  const top = 8;
  const bottom = top + rows.length * rowH;
  const scale = (x: number) => round(left + (clamp(x, 0, max) / max) * (right - left));
  return {
    width,
    height: bottom + 22,
    top,
    bottom,
    tickY: bottom + 15,
    ticks: [0, 0.25, 0.5, 0.75, 1].map((f) => ({ x: scale(f * max), label: tick(f * max) })),
    threshold: threshold === null ? null : { x: scale(threshold), label: tick(threshold) },
    rows: rows.map((r, i) => {
      const y = top + i * rowH;
      const midY = round(y + rowH / 2);
      return {
        label: r.label,
        has: r.value !== null,
        hasCi: r.ci !== null,
        x0: left,
        x: scale(r.value ?? 0),
        barW: round(scale(r.value ?? 0) - left),
        barY: round(midY - 8),
        barH: 16,
        barCls: r.baseline ? 'bar-base' : 'bar-cand',
        ptCls: r.baseline ? 'pt-base' : 'pt-cand',
        ciX1: scale(r.ci?.[0] ?? 0),
        ciX2: scale(r.ci?.[1] ?? 0),
        midY,
        capY1: midY - 6,
        capY2: midY + 6,
        textY: midY + 4,
        valueX: width - 4,
        value: r.text,
      };
    }),
  };
}

function agreementChart(m: RunMetrics, baseline: RunMetrics | undefined, threshold: number | null) {
  const row = (label: string, r: RateMetric, isBase: boolean): IntervalRowInput => ({ label, value: r.rate, ci: r.ci95, text: pct(r.rate), baseline: isBase });
  const rows = [row('agreement', m.agreement, false)];
  if (baseline) rows.push(row('baseline', baseline.agreement, true));
  rows.push(row('effects agreement', m.effectsAgreement, false));
  if (baseline) rows.push(row('baseline effects', baseline.effectsAgreement, true));
  return intervalChart(rows, 1, (x) => `${Math.round(x * 100)}%`, threshold);
}

function costView(m: RunMetrics, baseline: RunMetrics | undefined) {
  const notes: string[] = [];
  if (m.cost.perRunUsd === null) notes.push('no priced model calls: no cost to show');
  else notes.push(`${usd(m.cost.totalUsd)} in all over ${m.cost.modelCalls} model call(s)${m.cost.servedModelCalls ? `, ${m.cost.servedModelCalls} of them replayed (nothing spent)` : ''}`);
  if (m.cost.unpriced) notes.push(`${m.cost.unpriced} trace(s) made model calls whose cost is unknown (no price, or no token usage)`);
  const rows: IntervalRowInput[] = [];
  if (m.cost.perRunUsd !== null) rows.push({ label: 'this run', value: m.cost.perRunUsd, ci: m.cost.perRunCi95, text: usd(m.cost.perRunUsd), baseline: false });
  if (m.cost.perRunUsd !== null && baseline && baseline.cost.perRunUsd !== null) {
    rows.push({ label: 'baseline', value: baseline.cost.perRunUsd, ci: baseline.cost.perRunCi95, text: usd(baseline.cost.perRunUsd), baseline: true });
  }
  const max = Math.max(...rows.flatMap((r) => [r.value ?? 0, r.ci?.[1] ?? 0])) * 1.1;
  return { costChart: rows.length > 0 && max > 0 ? intervalChart(rows, max, usd, null) : null, costNotes: notes };
}

function toolView(m: RunMetrics) {
  const d = m.toolCallDrift;
  const all = Object.entries(d.perTool).sort(([a, x], [b, y]) => Math.max(y.reference, y.candidate) - Math.max(x.reference, x.candidate) || a.localeCompare(b));
  const shown = all.slice(0, MAX_TOOLS);
  const notes: string[] = [];
  if (all.length === 0) notes.push('no tool calls on either side');
  if (all.length > shown.length) notes.push(`${all.length - shown.length} less-called tool(s) not drawn`);
  if (d.newTools.length) notes.push(`called by the candidate only: ${d.newTools.join(', ')}`);
  if (d.missingTools.length) notes.push(`never called by the candidate: ${d.missingTools.join(', ')}`);
  if (shown.length === 0) return { toolChart: null, toolNotes: notes };
  const width = 520;
  const left = 170;
  const right = width - 60;
  const rowH = 36;
  const barH = 12;
  const max = Math.max(1, ...shown.map(([, t]) => Math.max(t.reference, t.candidate)));
  const w = (n: number) => round((n / max) * (right - left));
  return {
    toolNotes: notes,
    toolChart: {
      width,
      height: shown.length * rowH + 8,
      rows: shown.map(([name, t], i) => {
        const y = 4 + i * rowH;
        return {
          label: name.length > 26 ? `${name.slice(0, 25)}…` : name,
          textY: y + 19,
          x0: left,
          refY: y + 4,
          candY: y + 4 + barH + 2,
          barH,
          refW: w(t.reference),
          candW: w(t.candidate),
          refLabel: String(t.reference),
          candLabel: String(t.candidate),
          refTextX: round(left + w(t.reference) + 4),
          candTextX: round(left + w(t.candidate) + 4),
          refTextY: y + 4 + barH - 2,
          candTextY: y + 4 + 2 * barH,
        };
      }),
    },
  };
}

function flipsView(m: RunMetrics) {
  const p = m.paired;
  if (!p) return null;
  return {
    baselineRunId: p.baselineRunId,
    baselineName: baselineName(p),
    summary:
      `${p.regressions.length} regression(s) and ${p.fixes.length} fix(es) over ${p.pairs} paired trace(s); McNemar mid-p ${pValue(p.mcnemarMidP)}` +
      (p.lost.length ? `; ${p.lost.length} agreed in the baseline and reached no outcome now by the infrastructure (missing evidence, not regressions)` : '') +
      (p.undecided ? `; ${p.undecided} undecided on one side` : ''),
    regressionCount: p.regressions.length,
    fixCount: p.fixes.length,
    regressions: p.regressions.slice(0, MAX_FLIP_IDS),
    fixes: p.fixes.slice(0, MAX_FLIP_IDS),
    regressionsMore: Math.max(0, p.regressions.length - MAX_FLIP_IDS),
    fixesMore: Math.max(0, p.fixes.length - MAX_FLIP_IDS),
  };
}

// --- traces

/** 0: disagrees; 1: no comparable outcome; 2: another status than completed; 3: the rest. */
function rank(r: TraceResult): number {
  if (r.agree === false) return 0;
  if (!(DECIDED_STATUSES as readonly string[]).includes(r.status) && r.status !== 'unpaired') return 1;
  if (r.status !== 'completed' || r.violations?.length) return 2;
  return 3;
}

/**
 * The traces, each once: its trials (with --trials, or recorded several times) are one entry
 * that says how many of them are worth a look and holds each trial's steps. Worth a look first,
 * then in file order (source file, line), whatever order the results finished in.
 */
function tracesView(results: readonly TraceResult[]) {
  const groups = new Map<string, TraceResult[]>();
  for (const r of results) {
    const group = groups.get(r.traceId);
    if (group) group.push(r);
    else groups.set(r.traceId, [r]);
  }
  const ordered = [...groups.values()]
    .map((trials) => {
      const sorted = [...trials].sort(inFileOrder);
      return { trials: sorted, rank: Math.min(...sorted.map(rank)) };
    })
    .sort((a, b) => a.rank - b.rank || inFileOrder(a.trials[0]!, b.trials[0]!));
  const shown = ordered.slice(0, MAX_TRACES);
  const flagged = ordered.filter((o) => o.rank < 3).length;
  const left = ordered.length - shown.length;
  const runs = ordered.length === results.length ? '' : ` (${results.length} results: their trials are shown within each trace)`;
  return {
    intro:
      results.length === 0
        ? 'No trace results.'
        : `${ordered.length} trace(s)${runs}; ${flagged} worth a look (disagreements, other statuses than completed, broken rules), shown first.`,
    omitted: left > 0 ? `${left} more trace(s) left out: this page shows ${MAX_TRACES} at most (the JSON report has every one).` : null,
    items: shown.map(({ trials, rank: k }, n) => traceView(trials, k < 3, k < 3 && n < OPEN_TRACES)),
  };
}

/** One trace's entry: the summary of its first trial worth a look (or its first), and each trial's panel. */
function traceView(trials: readonly TraceResult[], flagged: boolean, open: boolean) {
  const worth = trials.filter((t) => rank(t) < 3);
  const r = worth[0] ?? trials[0]!;
  const several = trials.length > 1;
  return {
    id: !several ? r.traceId : flagged ? `${r.traceId} ×${worth.length} of ${trials.length} trials` : `${r.traceId} (${trials.length} trials)`,
    status: r.status,
    statusCls: statusClass(r.status),
    agreeLabel: agreeLabel(r),
    agreeCls: r.agree === true ? 'ok' : r.agree === false ? 'bad' : 'neutral',
    decision: show(r.decision),
    referenceDecision: show(r.reference.decision),
    flagged,
    open,
    panels: trials.map((t) => trialView(t, several)),
  };
}

function agreeLabel(r: TraceResult): string {
  return r.agree === true ? 'agrees' : r.agree === false ? 'disagrees' : 'not compared';
}

/** One result's steps: the recorded tool calls and the candidate's side by side, headed by its trial where there are several. */
function trialView(r: TraceResult, several: boolean) {
  const div = r.divergence;
  // The divergence is at the same tool-call position on both sides: the candidate's tool calls before it.
  const divergedAtCall = div ? r.steps.slice(0, div.stepIndex).filter((s) => s.type === 'tool').length : -1;
  const recordedArgs = r.reference.args ?? [];
  const recorded = r.reference.tools.map((name, i) => ({
    ix: `${i + 1}.`,
    text: call(name, recordedArgs[i]),
    cls: i === divergedAtCall ? 'divergence' : 'tool',
  }));
  if (div && !div.recorded) recorded.push({ ix: '—', text: 'the recording has no more tool calls', cls: 'divergence end' });
  if (recorded.length === 0) recorded.push({ ix: '', text: 'no tool calls recorded', cls: 'end' });
  const candidate = r.steps.map((s, i) => ({
    ix: `${i + 1}.`,
    text: s.type === 'tool' ? `${call(s.name, s.args)}${s.mock && s.mock !== 'recording' ? `  [${s.mock}]` : ''}` : `model ${s.model}${s.costUsd !== undefined ? ` · ${usd(s.costUsd)}` : ''}`,
    cls: div && i === div.stepIndex ? 'divergence' : s.type === 'tool' ? 'tool' : 'llm',
  }));
  if (div && !div.candidate) candidate.push({ ix: '—', text: 'the candidate made no more tool calls', cls: 'divergence end' });
  if (candidate.length === 0) candidate.push({ ix: '', text: 'no steps', cls: 'end' });
  return {
    heading: several ? `trial ${r.trial}: ${r.status}, ${agreeLabel(r)}; decision ${show(r.decision)}` : null,
    recorded,
    candidate,
    divergence: div
      ? `diverged at candidate step ${div.stepIndex + 1} / recorded step ${div.recordedStepIndex + 1}: ${div.candidate ? call(div.candidate.name, div.candidate.args) : 'no call'} instead of ${div.recorded ? call(div.recorded.name, div.recorded.args) : 'the end of the recording'}`
      : null,
    error: r.error ? `${r.error.code}: ${cut(r.error.message)}` : null,
    violations: (r.violations ?? []).map((v) => cut(violationText(v))),
    source: `${r.source.file}:${r.source.line}${r.sequenceSimilarity !== null ? ` · sequence similarity ${num(r.sequenceSimilarity)}` : ''}${r.latencyMs !== null ? ` · ${ms(r.latencyMs)}` : ''}${r.costUsd !== null ? ` · ${usd(r.costUsd)}` : ''}`,
  };
}

function cut(s: string): string {
  return s.length > MAX_TEXT ? `${s.slice(0, MAX_TEXT)}… (${s.length - MAX_TEXT} more characters)` : s;
}

/** A value as a reader wants it: strings as they are, anything else as JSON; absent as "none". */
function show(v: unknown): string {
  if (v === undefined || v === null) return 'none';
  if (typeof v === 'string') return cut(v);
  return cut(json(v));
}

/** `name(key: value, …)` with string values as they are, so the text reads as it was written. */
function call(name: string, args: Record<string, unknown> | undefined): string {
  if (!args) return `${name}()`;
  // A string argument as it reads, on this step's line: a newline in it would draw a step of its own (the list keeps line breaks).
  const parts = Object.entries(args).map(([k, v]) => `${k}: ${typeof v === 'string' ? forTerminal(v) : json(v)}`);
  return cut(`${name}(${parts.join(', ')})`);
}

function json(v: unknown): string {
  try {
    return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? String(x) : x)) ?? String(v);
  } catch {
    return String(v);
  }
}
