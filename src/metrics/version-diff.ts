import { DECIDED_STATUSES, type Divergence, type TraceResult } from '../replay/types.js';
import { bootstrapMeanInterval } from './bootstrap.js';
import { decisionsAgree, findDivergence, toolSequenceSimilarity, type DecisionComparator } from './compare.js';
import { createDriftAccumulator, type ToolCallDrift } from './drift.js';
import { mcnemarMidP, pairResults, toPairable, traceOutcomes } from './paired.js';
import type { RunMetrics } from './summary.js';

/** A trace whose agreement with the reference changed from version a to version b. */
export interface VersionFlip {
  traceId: string;
  /** `fix`: b agrees and a did not; `regression`: a agreed and b does not. */
  kind: 'fix' | 'regression';
  decisionA: unknown;
  decisionB: unknown;
  reference: unknown;
  /** Where b's tool calls first leave a's (stepIndex in b's steps, recordedStepIndex in a's); null when they are the same. */
  divergence: Divergence | null;
}

/** How one figure moved from a to b. */
export interface MetricDelta {
  name: 'agreement' | 'effectsAgreement' | 'costPerRunUsd' | 'meanLatencyMs' | 'toolCallsPerTrace' | 'errorRate';
  /** The figure of each run, with its 95% interval where it has one. */
  a: number | null;
  b: number | null;
  aCi95: [number, number] | null;
  bCi95: [number, number] | null;
  /** Mean of the per-trace differences b − a over the traces both runs have a value for. */
  delta: number | null;
  /** Percentile bootstrap 95% interval of that mean (whole traces resampled). */
  deltaCi95: [number, number] | null;
  /** Traces in the paired difference. */
  pairs: number;
  /** Two-sided exact McNemar mid-p for the rates; null for the other figures and without discordant pairs. */
  p: number | null;
  /** The rates: p < 0.05; the other figures: the interval of the difference leaves out 0. Null without evidence. */
  significant: boolean | null;
}

export interface BehaviourDiff {
  /** Traces decided by both versions, trials collapsed to their majority. */
  pairs: number;
  flips: VersionFlip[];
  fixes: number;
  regressions: number;
  /** Paired traces whose decision differs between the versions (under the suite's comparator), flipped or not. */
  decisionChanges: number;
  /** Traces decided in one run and not the other (errored, diverged, stopped). */
  undecided: number;
  deltas: MetricDelta[];
  /** b's tool calls against a's, on the traces both decided: distribution, per-tool ratios, sequence similarity per trace. */
  toolCallDrift: ToolCallDrift;
}

const ALPHA = 0.05;

/** Two-sided exact McNemar mid-p: twice the smaller one-sided mid-p, at most 1. */
function twoSidedMidP(b: number, c: number): number | null {
  const one = mcnemarMidP(b, c);
  const other = mcnemarMidP(c, b);
  return one === null || other === null ? null : Math.min(1, 2 * Math.min(one, other));
}

/** Results by `traceId#trial`. */
const byKey = (results: readonly TraceResult[]) => new Map(results.map((r) => [`${r.traceId}#${r.trial}`, r]));

/** Per trace, the mean over its trials of a per-result figure; traces where the figure is null are left out. */
function perTrace(results: readonly TraceResult[], value: (r: TraceResult) => number | null): Map<string, number> {
  const sums = new Map<string, { sum: number; n: number }>();
  for (const r of results) {
    const v = value(r);
    if (v === null) continue;
    const s = sums.get(r.traceId) ?? { sum: 0, n: 0 };
    s.sum += v;
    s.n++;
    sums.set(r.traceId, s);
  }
  return new Map([...sums].map(([id, s]) => [id, s.sum / s.n]));
}

/** The mean of the paired differences b − a and its bootstrap interval. */
function pairedMean(a: Map<string, number>, b: Map<string, number>): { delta: number | null; ci: [number, number] | null; pairs: number } {
  const diffs: number[] = [];
  for (const [id, va] of a) {
    const vb = b.get(id);
    if (vb !== undefined) diffs.push(vb - va);
  }
  // Sorted, so that the interval does not depend on the order results were stored in.
  diffs.sort((x, y) => x - y);
  return { delta: diffs.length ? diffs.reduce((s, x) => s + x, 0) / diffs.length : null, ci: bootstrapMeanInterval(diffs), pairs: diffs.length };
}

function rateDelta(
  name: 'agreement' | 'effectsAgreement',
  a: readonly TraceResult[],
  b: readonly TraceResult[],
  field: (r: TraceResult) => boolean | null,
  ma: RunMetrics,
  mb: RunMetrics,
): MetricDelta {
  const rows = (rs: readonly TraceResult[]) => traceOutcomes(rs.map((r) => ({ ...toPairable(r), agree: field(r) })));
  const paired = pairResults(rows(a), rows(b));
  const n = paired.pairs.length;
  const values = paired.pairs.map((p) => Number(p.candidate) - Number(p.baseline)).sort((x, y) => x - y);
  const p = twoSidedMidP(paired.regressions.length, paired.fixes.length);
  return {
    name,
    a: ma[name].rate,
    b: mb[name].rate,
    aCi95: ma[name].ci95,
    bCi95: mb[name].ci95,
    delta: n === 0 ? null : (paired.fixes.length - paired.regressions.length) / n,
    deltaCi95: bootstrapMeanInterval(values),
    pairs: n,
    p,
    // Without a discordant pair there is no evidence of a change, which is not "no change".
    significant: n === 0 ? null : p === null ? false : p < ALPHA,
  };
}

function meanDelta(
  name: 'costPerRunUsd' | 'meanLatencyMs' | 'toolCallsPerTrace',
  a: readonly TraceResult[],
  b: readonly TraceResult[],
  value: (r: TraceResult) => number | null,
  figures: { a: number | null; b: number | null; aCi95: [number, number] | null; bCi95: [number, number] | null },
): MetricDelta {
  const { delta, ci, pairs } = pairedMean(perTrace(a, value), perTrace(b, value));
  return { name, ...figures, delta, deltaCi95: ci, pairs, p: null, significant: ci === null || pairs < 2 ? null : ci[0] > 0 || ci[1] < 0 };
}

const decided = (r: TraceResult) => DECIDED_STATUSES.includes(r.status);
// As the run's meanToolCalls: every trace run counts, whatever its outcome.
const toolCount = (r: TraceResult) => (r.status === 'unpaired' ? null : r.steps.filter((s) => s.type === 'tool').length);

/**
 * What changed in behaviour between two runs of the same traces, version a and
 * version b of a candidate (a prompt): the traces whose agreement flipped, each with
 * the point where b's tool calls leave a's; paired changes of agreement, effects
 * agreement (McNemar), cost, latency and tool calls per trace (bootstrap of per-trace
 * differences); and the drift of b's tool calls from a's. Pure.
 *
 * When to use: two runs of one suite that differ in one thing. When not to use: runs
 * over different traces (nothing pairs; compare their intervals instead).
 */
export function diffBehaviour(
  a: readonly TraceResult[],
  b: readonly TraceResult[],
  metrics: { a: RunMetrics; b: RunMetrics },
  /** The suite's `compare.decision` (a changed decision is one it calls different), and the arguments left out of tool-call matching. */
  { decision, ignoreArgs = [] }: { decision: DecisionComparator; ignoreArgs?: readonly string[] },
): BehaviourDiff {
  const { a: ma, b: mb } = metrics;
  const paired = pairResults(traceOutcomes(a), traceOutcomes(b));
  const firstA = new Map<string, TraceResult>();
  for (const r of a) if (!firstA.has(r.traceId)) firstA.set(r.traceId, r);
  const firstB = new Map<string, TraceResult>();
  for (const r of b) if (!firstB.has(r.traceId)) firstB.set(r.traceId, r);

  const flip = (traceId: string, kind: VersionFlip['kind']): VersionFlip => {
    const ra = firstA.get(traceId);
    const rb = firstB.get(traceId);
    return {
      traceId,
      kind,
      decisionA: ra?.decision ?? null,
      decisionB: rb?.decision ?? null,
      reference: rb?.reference.decision ?? ra?.reference.decision ?? null,
      divergence: ra && rb ? findDivergence(rb.steps, ra.steps, ignoreArgs) : null,
    };
  };
  const flips = [...paired.regressions.map((id) => flip(id, 'regression')), ...paired.fixes.map((id) => flip(id, 'fix'))];

  let decisionChanges = 0;
  for (const p of paired.pairs) {
    const ra = firstA.get(p.traceId);
    const rb = firstB.get(p.traceId);
    if (ra && rb && !decisionsAgree(ra.decision ?? null, rb.decision ?? null, decision)) decisionChanges++;
  }

  // Tool calls of b against a's, trace by trace (and trial by trial) where both reached an outcome.
  const drift = createDriftAccumulator(ignoreArgs);
  const bByKey = byKey(b);
  for (const ra of a) {
    const rb = bByKey.get(`${ra.traceId}#${ra.trial}`);
    if (!rb || !decided(ra) || !decided(rb)) continue;
    for (const s of ra.steps) if (s.type === 'tool') drift.addReference(s.name, s.args);
    for (const s of rb.steps) if (s.type === 'tool') drift.addCandidate(s.name, s.args);
    drift.addSimilarity(toolSequenceSimilarity(rb.steps, ra.steps));
  }

  return {
    pairs: paired.pairs.length,
    flips,
    fixes: paired.fixes.length,
    regressions: paired.regressions.length,
    decisionChanges,
    undecided: paired.undecided,
    deltas: [
      rateDelta('agreement', a, b, (r) => r.agree, ma, mb),
      rateDelta('effectsAgreement', a, b, (r) => r.effectsAgree, ma, mb),
      meanDelta('costPerRunUsd', a, b, (r) => r.costUsd, { a: ma.cost.perRunUsd, b: mb.cost.perRunUsd, aCi95: ma.cost.perRunCi95, bCi95: mb.cost.perRunCi95 }),
      meanDelta('meanLatencyMs', a, b, (r) => (decided(r) ? r.latencyMs : null), { a: ma.latency.meanMs, b: mb.latency.meanMs, aCi95: ma.latency.meanCi95, bCi95: mb.latency.meanCi95 }),
      meanDelta('toolCallsPerTrace', a, b, toolCount, { a: ma.meanToolCalls, b: mb.meanToolCalls, aCi95: null, bCi95: null }),
      {
        name: 'errorRate',
        a: ma.errorRate,
        b: mb.errorRate,
        aCi95: null,
        bCi95: null,
        delta: ma.errorRate === null || mb.errorRate === null ? null : mb.errorRate - ma.errorRate,
        deltaCi95: null,
        pairs: 0,
        p: null,
        significant: null,
      },
    ],
    toolCallDrift: drift.finish(),
  };
}
