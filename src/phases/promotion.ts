import { z } from 'zod';
import type { RateMetric, RunMetrics } from '../metrics/summary.js';
import { interval, pct } from '../format.js';
import type { GateConfig } from '../suite/schema.js';
import type { Phase } from '../trace/schema.js';
import type { ToolCatalog } from '../trace/catalog.js';
import { DEFAULT_SHADOW_PERIOD, minPhase, type ReversibilityMatrix, type RunReversibility, type ShadowPeriod } from './reversibility.js';

/** The suite's `promotion:` key: what a promotion asks beyond the gate's thresholds. */
export const PromotionConfigSchema = z.strictObject({
  minTraces: z.number().int().positive().optional().describe('Traces behind each confidence bound. Default 100.'),
  shadowPeriod: z
    .strictObject({
      runs: z.number().int().min(1).optional().describe("The candidate's shadow runs needed. Default 3."),
      days: z.number().min(0).optional().describe('Days from the first shadow run to the last. Default 7.'),
    })
    .optional()
    .describe('A write-reversible workflow reaches auto only after this much shadow evidence in the store.'),
});
export type PromotionConfig = z.infer<typeof PromotionConfigSchema>;

/** What a promotion asks of the evidence. */
export interface PromotionThresholds {
  /** Traces behind each bound. */
  minTraces: number;
  /** shadow → suggest: the lower 95% bound of agreement must reach this. */
  agreementMin: number;
  /** suggest → auto-with-review: the upper 95% bound of the override rate must not exceed this. */
  overrideRateMax: number;
  /** auto-with-review → auto: the upper 95% bound of the review sample's error rate must not exceed this. */
  sampleErrorRateMax: number;
  /** Shadow evidence a write-reversible workflow needs before auto. */
  shadowPeriod: ShadowPeriod;
}

/** Used where the suite's gate and `promotion:` say nothing. */
export const DEFAULT_PROMOTION: PromotionThresholds = {
  minTraces: 100,
  agreementMin: 0.9,
  overrideRateMax: 0.1,
  sampleErrorRateMax: 0.1,
  shadowPeriod: DEFAULT_SHADOW_PERIOD,
};

/**
 * The thresholds of a suite: the gate's own (`agreement.min`, `overrideRate.max`,
 * `sampleErrorRate.max`) where it sets them, `promotion:` for the rest, else the defaults.
 * @example promotionThresholds({ gate: { agreement: { min: 0.85, bound: 'lower' } } }).agreementMin // 0.85
 */
export function promotionThresholds(suite: { gate: GateConfig; promotion?: PromotionConfig }): PromotionThresholds {
  const d = DEFAULT_PROMOTION;
  return {
    minTraces: suite.promotion?.minTraces ?? d.minTraces,
    agreementMin: suite.gate.agreement?.min ?? d.agreementMin,
    overrideRateMax: suite.gate.overrideRate?.max ?? d.overrideRateMax,
    sampleErrorRateMax: suite.gate.sampleErrorRate?.max ?? d.sampleErrorRateMax,
    shadowPeriod: {
      runs: suite.promotion?.shadowPeriod?.runs ?? d.shadowPeriod.runs,
      days: suite.promotion?.shadowPeriod?.days ?? d.shadowPeriod.days,
    },
  };
}

/** What a run keeps for its reversibility matrix: the catalog's classes and the suite's shadow period. */
export function keptReversibility(suite: { catalog: ToolCatalog; gate: GateConfig; promotion?: PromotionConfig }): RunReversibility {
  return { tools: suite.catalog.tools.map(({ name, effect }) => ({ name, effect })), shadowPeriod: promotionThresholds(suite).shadowPeriod };
}

/** A finished, whole (not a shard's) run of the suite, as the store keeps it. */
export interface PhaseRun {
  runId: string;
  phase: string;
  candidate: string;
  candidateHash: string;
  startedAt: string;
  metrics: Partial<Pick<RunMetrics, 'agreement' | 'overrideRate' | 'phase'>>;
  /**
   * A suggest run's: how many of its reviewed verdicts came from the review queue (given after the
   * run, counted in `metrics` in place of the run's own); absent where the queue was not read.
   */
  fromQueue?: number;
  /** Verdicts in the review queue that could not be counted in the run's figures (see assessSuitePhase): the override rate is then no evidence. */
  uncountedQueue?: { verdicts: number; reason: string };
}

type StepMetric = 'agreement' | 'overrideRate' | 'sampleErrorRate';

export interface PromotionStep {
  from: Phase;
  to: Phase;
  metric: StepMetric;
  /** Which end of the 95% interval is held to the threshold. */
  bound: 'lower' | 'upper';
  threshold: number;
  minTraces: number;
  /**
   * The latest run of the candidate in the `from` phase and its figure; null when there is none.
   * `fromQueue` (the override rate's rung): how many of the `n` reviewed are verdicts given in the
   * review queue after the run, in place of the run's own; null on the other rungs, and where the queue was not read.
   */
  evidence: { runId: string; startedAt: string; rate: number | null; n: number; ci95: [number, number] | null; fromQueue: number | null } | null;
  status: 'met' | 'not-met' | 'no-evidence';
  reason: string;
}

export interface PromotionAssessment {
  candidateHash: string;
  /** The label of the candidate's latest run; null without runs. */
  candidate: string | null;
  /** Runs of the candidate the evidence was drawn from, and runs of other candidates left aside. */
  runs: number;
  otherRuns: number;
  /** Finished runs of the candidate that are no evidence (they could not read their input, or compared nothing), newest first, by id. */
  setAside: string[];
  matrix: ReversibilityMatrix;
  /** The ladder: shadow → suggest → auto-with-review → auto, each step with its verdict. */
  steps: PromotionStep[];
  /** Where the cap is auto only after a shadow period: what the store holds of it. */
  shadowPeriod: { required: ShadowPeriod; runs: number; days: number | null; met: boolean } | null;
  /** The highest phase the evidence alone reaches (each step needs the ones below it). */
  evidencePhase: Phase;
  /** The reversibility cap, auto-with-review while a required shadow period is not met. */
  cap: Phase;
  /** The lesser of the two. */
  allowed: Phase;
  reason: string;
}

interface Rung {
  from: Phase;
  to: Phase;
  metric: StepMetric;
  label: string;
  bound: 'lower' | 'upper';
  threshold: (t: PromotionThresholds) => number;
  pick: (m: PhaseRun['metrics']) => RateMetric | undefined;
}

/** The ladder, in order; a phase is reached only when every rung below it holds. */
const LADDER: readonly Rung[] = [
  { from: 'shadow', to: 'suggest', metric: 'agreement', label: 'agreement', bound: 'lower', threshold: (t) => t.agreementMin, pick: (m) => m.agreement },
  {
    from: 'suggest',
    to: 'auto-with-review',
    metric: 'overrideRate',
    label: 'override rate',
    bound: 'upper',
    threshold: (t) => t.overrideRateMax,
    pick: (m) => (m.phase && 'suggest' in m.phase ? m.phase.suggest.overrideRate : m.overrideRate),
  },
  {
    from: 'auto-with-review',
    to: 'auto',
    metric: 'sampleErrorRate',
    label: 'review sample error rate',
    bound: 'upper',
    threshold: (t) => t.sampleErrorRateMax,
    pick: (m) => (m.phase && 'autoWithReview' in m.phase ? m.phase.autoWithReview.sampleErrorRate : undefined),
  },
];

const DAY_MS = 86_400_000;
const newestFirst = (a: Pick<PhaseRun, 'startedAt'>, b: Pick<PhaseRun, 'startedAt'>) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : 0);

/** The candidate's runs, newest first: the ladder judges each rung on the first of them in the rung's lower phase. */
export function candidateRuns<R extends Pick<PhaseRun, 'candidateHash' | 'startedAt'>>(runs: readonly R[], candidateHash: string): R[] {
  return runs.filter((r) => r.candidateHash === candidateHash).sort(newestFirst);
}

/** A finished run of the suite that is no evidence (it could not read its input, its comparator compared nothing), with why. */
export interface SetAsideRun {
  runId: string;
  phase: string;
  candidateHash: string;
  startedAt: string;
  why: string;
}

function judge(rung: Rung, run: PhaseRun | undefined, t: PromotionThresholds, setAside: readonly SetAsideRun[] = []): PromotionStep {
  const threshold = rung.threshold(t);
  const base = { from: rung.from, to: rung.to, metric: rung.metric, bound: rung.bound, threshold, minTraces: t.minTraces };
  const head = `${rung.from} → ${rung.to}`;
  if (!run) {
    // Runs there are, but none is evidence: say which, and why, rather than that there is none.
    const aside = setAside.filter((r) => r.phase === rung.from);
    const latest = aside[0];
    const reason = latest
      ? `${head}: no ${rung.from} run is evidence: the latest, ${latest.runId}, ${latest.why}${aside.length > 1 ? ` (${aside.length - 1} more set aside)` : ''}`
      : `${head}: no ${rung.from} run yet`;
    return { ...base, evidence: null, status: 'no-evidence', reason };
  }
  const m = rung.pick(run.metrics);
  const queued = rung.metric === 'overrideRate';
  const fromQueue = queued ? (run.fromQueue ?? null) : null;
  const evidence = { runId: run.runId, startedAt: run.startedAt, rate: m?.rate ?? null, n: m?.n ?? 0, ci95: m?.ci95 ?? null, fromQueue };
  if (queued && run.uncountedQueue) {
    return { ...base, evidence, status: 'no-evidence', reason: `${head}: run ${run.runId}: ${run.uncountedQueue.verdicts} verdict(s) in the review queue cannot be counted in its ${rung.label}: ${run.uncountedQueue.reason}` };
  }
  if (!m || m.rate === null || !m.ci95) {
    return { ...base, evidence, status: 'no-evidence', reason: `${head}: run ${run.runId} has no ${rung.label} (n = 0)` };
  }
  const figure = `${rung.label} ${pct(m.rate)} ${interval(m.ci95, pct)} over ${m.n} traces${fromQueue === null ? '' : `, ${fromQueue} from the review queue`} (run ${run.runId})`;
  if (m.n < t.minTraces) return { ...base, evidence, status: 'not-met', reason: `${head}: ${figure}: ${m.n} traces, ${t.minTraces} needed` };
  const value = rung.bound === 'lower' ? m.ci95[0] : m.ci95[1];
  const ok = rung.bound === 'lower' ? value >= threshold : value <= threshold;
  const relation = rung.bound === 'lower' ? (ok ? '≥' : 'below') : ok ? '≤' : 'above';
  return { ...base, evidence, status: ok ? 'met' : 'not-met', reason: `${head}: ${figure}; ${rung.bound} bound ${pct(value)} ${relation} ${pct(threshold)}` };
}

/**
 * The highest phase the stored evidence allows a candidate: each rung of the ladder is judged
 * on the latest run of the candidate in the phase below (a confidence bound against the
 * threshold, over enough traces), and the result is held under the reversibility cap.
 * Missing evidence stops the ladder: no run is no promotion.
 * @example assessPromotion({ candidateHash: 'h', runs: [], matrix, thresholds: DEFAULT_PROMOTION }).allowed // 'shadow'
 */
export function assessPromotion(input: {
  candidateHash: string;
  runs: readonly PhaseRun[];
  matrix: ReversibilityMatrix;
  thresholds: PromotionThresholds;
  /** The candidate's finished runs that are no evidence, with why: named where a rung has no run. */
  setAside?: readonly SetAsideRun[];
}): PromotionAssessment {
  const { matrix, thresholds: t } = input;
  const mine = candidateRuns(input.runs, input.candidateHash);
  const aside = candidateRuns(input.setAside ?? [], input.candidateHash);
  const steps = LADDER.map((rung) => judge(rung, mine.find((r) => r.phase === rung.from), t, aside));
  let evidencePhase: Phase = 'shadow';
  for (const step of steps) {
    if (step.status !== 'met') break;
    evidencePhase = step.to;
  }
  const shadowPeriod = matrix.condition ? shadowPeriodOf(mine, matrix.condition.shadowPeriod) : null;
  const cap = matrix.cap === 'auto' && shadowPeriod && !shadowPeriod.met ? 'auto-with-review' : matrix.cap;
  const allowed = minPhase(evidencePhase, cap);
  return {
    candidateHash: input.candidateHash,
    candidate: mine[0]?.candidate ?? null,
    runs: mine.length,
    otherRuns: input.runs.length - mine.length,
    setAside: aside.map((r) => r.runId),
    matrix,
    steps,
    shadowPeriod,
    evidencePhase,
    cap,
    allowed,
    reason: allowedReason(evidencePhase, cap, allowed, matrix, shadowPeriod),
  };
}

function shadowPeriodOf(runs: readonly PhaseRun[], required: ShadowPeriod): NonNullable<PromotionAssessment['shadowPeriod']> {
  const times = runs.filter((r) => r.phase === 'shadow').map((r) => Date.parse(r.startedAt)).filter(Number.isFinite);
  const days = times.length === 0 ? null : (Math.max(...times) - Math.min(...times)) / DAY_MS;
  return { required, runs: times.length, days, met: times.length >= required.runs && (days ?? 0) >= required.days };
}

function allowedReason(
  evidence: Phase,
  cap: Phase,
  allowed: Phase,
  matrix: ReversibilityMatrix,
  period: PromotionAssessment['shadowPeriod'],
): string {
  const why =
    matrix.riskiest === null
      ? 'no tool with an effect is used'
      : `${matrix.imposedBy.join(', ')} ${matrix.imposedBy.length > 1 ? 'are' : 'is'} ${matrix.riskiest}`;
  const capText =
    period && !period.met
      ? `the cap is auto-with-review until a shadow period of ${period.required.runs} run(s) over ${period.required.days} day(s) (the store has ${period.runs} over ${period.days === null ? 0 : period.days.toFixed(1)} day(s); ${why})`
      : `the cap is ${cap} (${why})`;
  if (allowed === evidence && allowed === cap) return `${allowed}: the evidence reaches it and ${capText}`;
  if (allowed === cap) return `${allowed}: the evidence reaches ${evidence}, but ${capText}`;
  return `${allowed}: ${capText}, but the evidence reaches only ${evidence}`;
}
