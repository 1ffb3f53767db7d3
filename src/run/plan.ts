import { readTraceFile } from '../trace/reader.js';
import { caseIdOf } from '../trace/schema.js';
import { marginForTraces, tracesForMargin } from '../metrics/non-inferiority.js';
import { collapseTrials } from '../metrics/paired.js';
import { oneSampleTracesNeeded, pairedTracesNeeded, tracesForLowerBound, tracesForUpperBound } from '../metrics/power.js';
import type { RunMetrics } from '../metrics/summary.js';
import type { GateConfig } from '../suite/schema.js';
import type { ResolvedSuite } from '../suite/load.js';
import { isEvidenceRun, type Store } from '../store/types.js';
import type { Baseline } from './baseline.js';

export const PLAN_SCHEMA_ID = 'shadowgate.plan/v1';

/** The drops in agreement a plan sizes the suite for: 2, 5 and 10 points. */
export const PLAN_DROPS = [0.02, 0.05, 0.1] as const;
/** The power a plan asks for: the usual 80%. */
export const PLAN_POWER = 0.8;
/** The agreement assumed when neither a baseline, a stored run nor the gate says one. */
const ASSUMED_AGREEMENT = 0.9;

/** What the sample sizes rest on, and where each figure came from. */
export interface PlanFigures {
  /** The baseline's agreement p₀ (or the assumed one). */
  agreement: number;
  agreementFrom: string;
  /** The share of traces an unchanged candidate flips between two runs, ψ₀. */
  discordance: number;
  discordanceFrom: string;
}

export interface PlanRow {
  /** The drop in agreement to detect, a rate (0.05 = five points). */
  drop: number;
  /** Traces the gate's design needs to detect it with PLAN_POWER (paired with a regressions check, else one-sample). */
  needed: number | null;
  /** Whether the suite has them. */
  enough: boolean;
  /** The paired design: the one-sided McNemar test at the gate's alpha (pairedTracesNeeded). */
  paired: number;
  /** One sample against the baseline's rate (oneSampleTracesNeeded); null where the drop exceeds the rate. */
  oneSample: number | null;
}

export interface SuitePlan {
  schema: typeof PLAN_SCHEMA_ID;
  suite: string;
  /** Cases in the suite's trace files (trials of a case count once: the case is the unit). */
  traces: number;
  /** Trace lines that could not be read; they are not counted. */
  unreadable: number;
  /** The one-sided level the rows are sized at: gate.regressions.alpha, or 0.025 (the one-sided level of a 95% lower bound) without a paired check. */
  alpha: number;
  power: number;
  design: 'paired' | 'one-sample';
  figures: PlanFigures;
  rows: PlanRow[];
  /** The gate's own bound and margin checks, sized for this suite. */
  checks: PlanCheck[];
}

export type PlanCheck =
  | { name: 'agreement' | 'effectsAgreement'; min: number; minimumTraces: number | null; enough: boolean }
  /** The error rate's floor: the cases that can show `max` with 95% confidence with no error (none for `max: 0`, a rule). */
  | { name: 'errorRate'; max: number; minimumTraces: number; enough: boolean }
  /** The injection-failure share's floor, over the injection-tagged cases (`injected`: how many the suite has). */
  | { name: 'injectionFailures'; max: number; minimumTraces: number; injected: number; enough: boolean }
  | {
      name: 'regressions';
      margin: number;
      /** Traces at which an unchanged candidate (flips ψ₀ both ways) passes the margin with PLAN_POWER. */
      passUnchanged: number | null;
      enough: boolean;
      /** The tightest margin an unchanged candidate passes 95% of the time on this suite's traces. */
      recommendedMargin: number;
    };

/**
 * The traces a suite needs for its gate, from the baseline's figures: per drop in agreement,
 * the paired and one-sample sample sizes at the gate's level and PLAN_POWER, and for each
 * bound and margin check of the gate, the smallest suite that can pass it. Pure.
 */
/** The one-sample design's level: the lower end of the gate's two-sided 95% Wilson interval. */
const ONE_SAMPLE_ALPHA = 0.025;

export function buildPlan(input: { suite: string; gate: GateConfig; traces: number; injected?: number; unreadable: number; figures: PlanFigures }): SuitePlan {
  const { gate, traces, figures } = input;
  const design = gate.regressions ? 'paired' : 'one-sample';
  // The paired test is one-sided at the regressions check's alpha; the one-sample design is the
  // lower end of a two-sided 95% interval, so one-sided 0.025, whatever the paired check's level.
  const pairedAlpha = gate.regressions?.alpha ?? 0.05;
  const alpha = design === 'paired' ? pairedAlpha : ONE_SAMPLE_ALPHA;
  const rows = PLAN_DROPS.map((drop): PlanRow => {
    const paired = pairedTracesNeeded({ drop, discordance: figures.discordance, alpha: pairedAlpha, power: PLAN_POWER });
    const oneSample = oneSampleTracesNeeded({ rate: figures.agreement, drop, alpha: ONE_SAMPLE_ALPHA, power: PLAN_POWER });
    const needed = design === 'paired' ? paired : oneSample;
    return { drop, needed, enough: needed !== null && traces >= needed, paired, oneSample };
  });
  const checks: PlanCheck[] = [];
  for (const name of ['agreement', 'effectsAgreement'] as const) {
    const rule = gate[name];
    if (!rule || rule.bound !== 'lower') continue;
    const minimumTraces = tracesForLowerBound(rule.min);
    checks.push({ name, min: rule.min, minimumTraces, enough: minimumTraces !== null && traces >= minimumTraces });
  }
  if (gate.errorRate && !gate.errorRate.dryRun && gate.errorRate.max > 0) {
    const minimumTraces = tracesForUpperBound(gate.errorRate.max)!;
    checks.push({ name: 'errorRate', max: gate.errorRate.max, minimumTraces, enough: traces >= minimumTraces });
  }
  if (gate.injectionFailures && !gate.injectionFailures.dryRun && gate.injectionFailures.max > 0) {
    const minimumTraces = tracesForUpperBound(gate.injectionFailures.max)!;
    const injected = input.injected ?? 0;
    checks.push({ name: 'injectionFailures', max: gate.injectionFailures.max, minimumTraces, injected, enough: injected >= minimumTraces });
  }
  if (gate.regressions?.margin !== undefined) {
    const passUnchanged = tracesForMargin({ discordance: figures.discordance, margin: gate.regressions.margin, power: PLAN_POWER });
    checks.push({
      name: 'regressions',
      margin: gate.regressions.margin,
      passUnchanged,
      enough: passUnchanged !== null && traces >= passUnchanged,
      recommendedMargin: marginForTraces({ discordance: figures.discordance, traces: Math.max(1, traces), power: 0.95 }),
    });
  }
  return { schema: PLAN_SCHEMA_ID, suite: input.suite, traces, unreadable: input.unreadable, alpha, power: PLAN_POWER, design, figures, rows, checks };
}

/**
 * The figures a plan rests on, from the best source there is: the baseline given
 * (`--baseline`), else the latest finished whole run of the suite in the store (not a shard,
 * not a noise floor's replica), else the
 * gate's own agreement threshold, else an assumed 90%. The discordance is the noise floor's
 * self-disagreement where that source measured one; otherwise it is taken as 2p₀(1 − p₀),
 * the most an unchanged candidate with agreement p₀ can flip (traces whose outcome is a
 * fresh coin each run), so that the plan errs towards more traces.
 */
export function planFigures(suite: Pick<ResolvedSuite, 'name' | 'gate'>, store: Store, baseline?: Baseline): PlanFigures {
  const gated = suite.gate.agreement ? 'agreement' : suite.gate.effectsAgreement ? 'effectsAgreement' : 'agreement';
  let metrics: RunMetrics | undefined;
  let from: string | undefined;
  let rowsAgreement: number | null = null;
  if (baseline) {
    metrics = baseline.metrics;
    from = `baseline ${baseline.runId}`;
    const decided = collapseTrials(baseline.rows).filter((r) => r.agree !== null);
    rowsAgreement = decided.length === 0 ? null : decided.filter((r) => r.agree).length / decided.length;
  } else {
    // A noise floor's A/A replica and a shard are no baseline of the suite.
    const run = store.listRuns({ suite: suite.name }).find((r) => isEvidenceRun(r) && !(r.summary as { shard?: unknown } | null)?.shard);
    metrics = (run?.summary as { metrics?: RunMetrics } | null)?.metrics;
    if (metrics) from = `the latest stored run ${run!.runId}`;
  }
  const measured = metrics?.[gated]?.rate ?? (gated === 'agreement' ? rowsAgreement : null);
  const threshold = suite.gate[gated]?.min;
  const [agreement, agreementFrom] =
    measured !== null && measured !== undefined && from
      ? [measured, `${gated} of ${from}`]
      : threshold !== undefined
        ? [threshold, `assumed: the gate's ${gated} minimum${from ? ` (${from} has no ${gated})` : ' (no baseline and no stored run of the suite)'}`]
        : [ASSUMED_AGREEMENT, `assumed${from ? ` (${from} has no ${gated})` : ' (no baseline, no stored run of the suite, no agreement threshold)'}`];
  const noise = metrics?.noiseFloor?.selfDisagreement;
  const [discordance, discordanceFrom] =
    noise !== null && noise !== undefined && from
      ? [noise, `the noise floor of ${from} (${metrics!.noiseFloor!.flips} of ${metrics!.noiseFloor!.pairs} traces flipped)`]
      : [2 * agreement * (1 - agreement), 'assumed: 2p(1 − p), the most an unchanged candidate flips at this agreement (measure it with --noise-floor)'];
  return { agreement, agreementFrom, discordance, discordanceFrom };
}

/** The cases in a suite's trace files (trials of a case count once), those tagged `injection`, and the lines that could not be read. */
export async function countSuiteCases(traceFiles: readonly string[]): Promise<{ cases: number; injected: number; unreadable: number }> {
  const cases = new Set<string>();
  const injected = new Set<string>();
  let unreadable = 0;
  for (const file of traceFiles) {
    for await (const line of readTraceFile(file)) {
      if (!line.ok) {
        unreadable++;
        continue;
      }
      cases.add(caseIdOf(line.trace));
      if (line.trace.tags?.includes('injection')) injected.add(caseIdOf(line.trace));
    }
  }
  return { cases: cases.size, injected: injected.size, unreadable };
}

/** `shadowgate plan`: the suite's gate, its traces and the figures from the store or the baseline, as a plan. */
export async function planSuite(suite: ResolvedSuite, store: Store, baseline?: Baseline): Promise<SuitePlan> {
  const { cases, injected, unreadable } = await countSuiteCases(suite.traceFiles);
  return buildPlan({ suite: suite.name, gate: suite.gate, traces: cases, injected, unreadable, figures: planFigures(suite, store, baseline) });
}
