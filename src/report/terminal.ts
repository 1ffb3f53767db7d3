import { formatIssue } from '../errors.js';
import type { RunMetrics, RateMetric } from '../metrics/summary.js';
import type { RunOutcome } from '../run/run-suite.js';
import { DRY_RUN_MARK, inconclusiveReasons, type GateResult } from '../gate/gate.js';
import { unreadableLocations } from '../gate/coverage.js';
import { DECIDED_STATUSES, inFileOrder, type TraceResult } from '../replay/types.js';

import { forTerminal } from './escape.js';
import { counts, countsApart, interval, ms, noOutcomeApart, num, pct, pp, pValue, tracesRun, usd } from './format.js';
import { phaseLines } from './phase-lines.js';
import { reversibilityOf, reversibilityTable, workflowCapText } from './reversibility-lines.js';
import { baselineName } from './baseline-name.js';
import { policyLines, safetyLines } from './policy-lines.js';
import { shardLine } from './shard-line.js';

function rate(m: RateMetric): string {
  if (m.rate === null) return 'n/a (no trace could be compared)';
  const ci = m.ci95 ? `  95% CI ${interval(m.ci95, pct)}` : '';
  // Over cases: a case run (or recorded) several times counts the share of its trials that agreed; its whole counts are shown.
  return `${pct(m.rate)}${ci}  (${counts(m)})`;
}

/** The gated figure and, beside it, the same over completed traces only (where they differ). */
function rates(gated: RateMetric, completed: RateMetric | undefined): string {
  if (!completed || (completed.n === gated.n && completed.successes === gated.successes)) return rate(gated);
  return `${rate(gated)} · completed only ${completed.rate === null ? 'n/a' : `${pct(completed.rate)} (${counts(completed)})`}`;
}

function table(rows: [string, string][]): string[] {
  const width = Math.max(...rows.map(([k]) => k.length));
  // Values embed tool names, trace ids and messages from traces: each is escaped to stay on its line.
  return rows.map(([k, v]) => `  ${k.padEnd(width)}  ${forTerminal(v)}`);
}

/** The run summary printed at the end of `shadowgate run`. Pure. */
export function renderRunSummary(outcome: RunOutcome, notable: readonly TraceResult[] = []): string {
  const { meta, counts: c, metrics: m, gate } = outcome;
  const lines: string[] = [];
  lines.push(forTerminal(`${meta.suite} · ${meta.phase} · ${meta.candidate} vs ${meta.reference} · run ${meta.runId}`));
  const shard = shardLine(outcome);
  if (shard) lines.push(`  ${shard}`);
  // Why a verdict is inconclusive comes first: it is what the reader must act on.
  const why = inconclusiveReasons(gate);
  if (why.length > 0) lines.push(`  INCONCLUSIVE because`, ...why.map((reason) => `    ${forTerminal(reason)}`), '');
  const apart = countsApart(c);
  lines.push(
    ...table([
      // A suggest, auto-with-review or auto run is judged on its phase's figures: they lead.
      ...phaseLines(m),
      [
        'traces',
        `${outcome.trials > 1 ? `${tracesRun(c.total, outcome.trials)} (${c.total} runs)` : c.total}${outcome.resumed ? ` (${outcome.resumed} resumed)` : ''}: ${c.completed} completed${apart.length ? `, ${apart.join(', ')}` : ''}`,
      ],
      ...noOutcomeApart(c).map((text, i) => [i === 0 ? 'no outcome' : '', text] as [string, string]),
      ['agreement', rates(m.agreement, m.agreementCompleted)],
      ['effects agreement', rates(m.effectsAgreement, m.effectsAgreementCompleted)],
      ['tool-call drift', drift(m)],
      ...toolRatios(m).map((line) => ['', line] as [string, string]),
      ...(m.passK ? [['pass^k', `pass^${m.passK.k} ${pct(m.passK.value)} over ${m.passK.traces} cases${m.passK.over === 'effects' ? ' (effects)' : ''}; mean consistency ${pct(m.consistency?.mean ?? null)}`] as [string, string]] : []),
      ['cost', `${usd(m.cost.perRunUsd)} per run${m.cost.perRunCi95 ? ` ${interval(m.cost.perRunCi95, usd)}` : ''} · ${usd(m.cost.perCompletedUsd)} per completed · ${usd(m.cost.totalUsd)} total${m.cost.unpriced ? ` (${m.cost.unpriced} unpriced)` : ''}`],
      ...(m.cost.modelCalls > 0 || outcome.modelCalls.requests > 0 ? [['model calls', modelCalls(outcome)] as [string, string]] : []),
      ['latency', `p50 ${ms(m.latency.p50Ms)} · p95 ${ms(m.latency.p95Ms)} · mean ${ms(m.latency.meanMs)} ${interval(m.latency.meanCi95, ms)}`],
      ['error rate', pct(m.errorRate)],
      ...safetyLines(m),
      ...policyLines(m),
      ...(m.paired ? [['vs baseline', paired(m.paired)] as [string, string]] : []),
      ...(m.noiseFloor ? [['noise floor', noise(m.noiseFloor)] as [string, string]] : []),
    ]),
  );
  if (notable.length > 0) {
    lines.push('', '  first traces that disagree or did not finish:');
    // In file order, and with trials each trace once, with how many of its trials are worth a look.
    for (const group of byTrace([...notable].sort(inFileOrder))) {
      const trials = outcome.trials > 1 ? ` ×${group.length} of ${outcome.trials} trials` : '';
      lines.push(`    ${forTerminal(describeResult(group[0]!, trials))}`);
    }
  }
  if (outcome.issues.length > 0) {
    const bad = unreadableLocations(outcome.issues).length;
    // Lines, not problems: one bad line may have several.
    lines.push('', `  ${bad} bad trace line(s) skipped${outcome.issues.length > bad ? ` (${outcome.issues.length} problems)` : ''}:`);
    for (const issue of outcome.issues.slice(0, 10)) lines.push(`    ${forTerminal(formatIssue(issue))}`);
    if (outcome.issues.length > 10) lines.push(`    … and ${outcome.issues.length - 10} more (shadowgate validate lists all)`);
  }
  for (const w of outcome.warnings) lines.push('', `  warning: ${forTerminal(w)}`);
  const reversibility = reversibilityOf(outcome);
  if (reversibility) lines.push('', `  reversibility: workflow cap ${forTerminal(workflowCapText(reversibility))}`, ...reversibilityTable(reversibility));
  lines.push('', `  gate: ${verdictWords(gate)}`);
  for (const check of gate.checks) {
    const mark = check.status === 'pass' ? '✓' : check.status === 'fail' ? '✗' : '?';
    lines.push(`    ${mark} ${check.name}: ${forTerminal(check.reason)}${check.dryRun ? ` ${DRY_RUN_MARK}` : ''}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The verdict in words: no checks that decide it is said as such, never as PASS. */
export function verdictWords(gate: GateResult): string {
  if (gate.noChecks && gate.verdict === 'pass') return 'no gate checks configured';
  return `${gate.verdict.toUpperCase()}${gate.noChecks ? ' (no gate checks configured)' : ''}`;
}

function modelCalls({ metrics: m, modelCalls: c }: RunOutcome): string {
  const sources = [
    c.cacheHits ? `${c.cacheHits} cache hit(s)` : '',
    c.cassetteHits ? `${c.cassetteHits} from the cassette` : '',
    `${c.network} to the provider`,
    c.retries ? `${c.retries} retried` : '',
  ].filter(Boolean);
  const replayed = m.cost.servedModelCalls - c.cacheHits - c.cassetteHits;
  return `${m.cost.modelCalls}${replayed > 0 ? ` (${replayed} replayed from recordings)` : ''}; this run: ${sources.join(', ')}; spent ${usd(m.cost.spentUsd)}`;
}

function paired(p: NonNullable<RunMetrics['paired']>): string {
  const list = (ids: string[]) => (ids.length === 0 ? '' : ` (${ids.slice(0, 5).join(', ')}${ids.length > 5 ? ', …' : ''})`);
  const apart = [
    p.lost.length ? `${p.lost.length} agreed before and reached no outcome now by the infrastructure, not counted${list(p.lost)}` : '',
    p.unpaired.baseline + p.unpaired.candidate ? `${p.unpaired.candidate} without a partner in the baseline, ${p.unpaired.baseline} in the baseline without one here` : '',
  ].filter(Boolean);
  return `${baselineName(p)}, ${p.pairs} traces paired: ${p.regressions.length} regression(s)${list(p.regressions)}, ${p.fixes.length} fix(es)${list(p.fixes)}; McNemar mid-p ${pValue(p.mcnemarMidP)}${apart.length ? `; ${apart.join('; ')}` : ''}`;
}

function noise(n: NonNullable<RunMetrics['noiseFloor']>): string {
  return (
    `A/A run of ${n.subject === 'baseline' ? "the baseline's" : 'this'} candidate ${n.runId}: ${n.flips} of ${n.pairs} traces flip (${pct(n.selfDisagreement)}); agreement moves ${pp(n.agreementDelta)}, ` +
    `effects ${pp(n.effectsAgreementDelta)}, cost per run ${usd(n.costPerRunDelta)}, p95 latency ${ms(n.p95LatencyDeltaMs)}, ` +
    `sequence similarity ${num(n.sequenceSimilarityDelta)}; tool JSD ${num(n.toolJsd)}`
  );
}

function drift(m: RunMetrics): string {
  const d = m.toolCallDrift;
  const chi = d.chi2 ? ` · χ²(${d.chi2.df}) ${num(d.chi2.statistic, 1)}, p ${pValue(d.chi2P)}` : '';
  return `JSD ${num(d.jsd)} · PSI ${num(d.psi)}${d.psiBand ? ` (${d.psiBand})` : ''}${chi} · mean sequence similarity ${num(d.meanSequenceSimilarity)} ${interval(d.meanSequenceSimilarityCi95, (x) => num(x))}`;
}

/** The tools whose call counts moved most, in words: "issue_refund called 1.31× as often". */
function toolRatios(m: RunMetrics): string[] {
  const d = m.toolCallDrift;
  // Tools on one side only are listed as new or missing below, not as a ratio.
  const moved = Object.entries(d.perTool)
    .filter(([, t]) => t.ratio !== null && t.ratio > 0 && Math.abs(Math.log(t.ratio)) >= Math.log(1.1))
    .sort(([, a], [, b]) => Math.abs(Math.log(b.ratio!)) - Math.abs(Math.log(a.ratio!)))
    .slice(0, 3)
    .map(([name, t]) => `${name} called ${t.ratio!.toFixed(2)}× as often`);
  const args = d.argumentDrift.filter((a) => a.jsd >= 0.01).slice(0, 2).map((a) => `${a.tool}.${a.arg} values moved (JSD ${num(a.jsd)})`);
  return [
    ...moved,
    ...(d.newTools.length ? [`new in the candidate: ${d.newTools.join(', ')}`] : []),
    ...(d.missingTools.length ? [`never called by the candidate: ${d.missingTools.join(', ')}`] : []),
    ...args,
  ];
}

/** Results grouped by trace id, in the order their traces first appear. */
function byTrace(results: readonly TraceResult[]): TraceResult[][] {
  const groups = new Map<string, TraceResult[]>();
  for (const r of results) {
    const group = groups.get(r.traceId);
    if (group) group.push(r);
    else groups.set(r.traceId, [r]);
  }
  return [...groups.values()];
}

/**
 * Keeps a result worth a first look when its trace is among the first `traces` such traces in
 * file order (not the order results finish in, which the concurrency decides), every trial of
 * them, so that the summary can say how many of a trace's trials disagree. An earlier trace
 * arriving late takes the place of the latest one kept; the latest kept only moves earlier,
 * so a trace once left out never comes back with some of its trials missing.
 */
export function keepNotable(notable: TraceResult[], r: TraceResult, traces = 5): void {
  if (!isNotable(r)) return;
  const kept = new Set(notable.map((n) => n.traceId));
  if (kept.has(r.traceId) || kept.size < traces) {
    notable.push(r);
    return;
  }
  const latest = notable.reduce((a, b) => (inFileOrder(a, b) >= 0 ? a : b));
  if (inFileOrder(r, latest) >= 0) return;
  for (let i = notable.length - 1; i >= 0; i--) if (notable[i]!.traceId === latest.traceId) notable.splice(i, 1);
  notable.push(r);
}

function describeResult(r: TraceResult, trials = ''): string {
  const where = `${r.traceId}${trials} (${r.source.file}:${r.source.line})`;
  if (!DECIDED_STATUSES.includes(r.status)) {
    return `${where}: ${r.status}${r.error ? `: ${r.error.message}` : ''}`;
  }
  const d = r.divergence;
  const div = !d
    ? ''
    : d.candidate && d.recorded && d.candidate.name === d.recorded.name
      ? `; left the recorded path at step ${d.stepIndex}: ${d.candidate.name} with other arguments`
      : `; left the recorded path at step ${d.stepIndex}: ${d.candidate?.name ?? '(no more calls)'} where the recording has ${d.recorded?.name ?? '(no more calls)'}`;
  return `${where}: decided ${JSON.stringify(r.decision)}, reference ${JSON.stringify(r.reference.decision)}${div}`;
}

/** The results worth a first look: disagreements and traces that did not finish. */
export function isNotable(r: TraceResult): boolean {
  return r.agree === false || (r.status !== 'unpaired' && !DECIDED_STATUSES.includes(r.status));
}
