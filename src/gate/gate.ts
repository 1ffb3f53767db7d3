import { safetyViolationTotal, type RateMetric, type RunMetrics } from '../metrics/summary.js';
import { counts } from '../format.js';
import type { GateConfig } from '../suite/schema.js';
import { policyChecks } from './policy.js';
import { regressionsCheck, tooFewForLowerBound, tooFewForUpperBound } from './evidence-checks.js';
import { coverageCheck, type CoverageCounts } from './coverage.js';

export type Verdict = 'pass' | 'fail' | 'inconclusive';

export interface GateCheck {
  name: string;
  value: number | null;
  threshold: number;
  status: Verdict;
  reason: string;
  /** Measured and shown, but left out of the verdict (`dryRun: true` on the check). */
  dryRun?: true;
}

export interface GateResult {
  verdict: Verdict;
  checks: GateCheck[];
  /** No check decides the verdict (none configured, or only dry runs): `run` says so instead of PASS. */
  noChecks?: true;
}

/** What `gate` says when a suite has no check that decides the verdict. */
export const NOTHING_TO_GATE = 'nothing to gate on: add checks under `gate:`';

/**
 * Whether a gate config has a check that decides the verdict: one configured and not a
 * dry run. `coverage` alone does not count: it says whether the evidence was read, not
 * what it shows. Pure.
 */
export function gatesAnything(config: GateConfig): boolean {
  return (Object.keys(config) as (keyof GateConfig)[]).some((key) => key !== 'coverage' && config[key] !== undefined && !isDryRun(config, key));
}

/** Whether a configured check is a dry run (`coverage` never is). */
function isDryRun(config: GateConfig, key: keyof GateConfig): boolean {
  const rule = config[key];
  return rule !== undefined && 'dryRun' in rule && rule.dryRun === true;
}

/** The config key a check comes from: its name, or `policyViolations` for `policy:<id>`. */
function keyOf(name: string): keyof GateConfig | undefined {
  return name.startsWith('policy:') ? 'policyViolations' : name === 'evidence' || name === 'outcomes' ? undefined : (name as keyof GateConfig);
}

/** The traces a candidate left without an outcome: how many, and the first few by id. */
export interface NoOutcomeNamed {
  traces: number;
  first: string[];
}

/** The checks that count a trace the candidate left without an outcome against it. */
const OUTCOME_CHECKS = ['agreement', 'effectsAgreement', 'errorRate', 'completionRate', 'regressions'] as const satisfies readonly (keyof GateConfig)[];

/** How every report marks a dry-run check. */
export const DRY_RUN_MARK = '[dry run: not in the verdict]';

/** The reasons of the checks that make a verdict inconclusive, `name: reason`, for the first lines of a report. Pure. */
export function inconclusiveReasons(gate: GateResult): string[] {
  return gate.verdict === 'inconclusive' ? gate.checks.filter((c) => c.status === 'inconclusive' && !c.dryRun).map((c) => `${c.name}: ${c.reason}`) : [];
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/**
 * The verdict of a run: every configured check with its value, threshold and
 * reason. Any failing check fails the gate; otherwise any check that lacks the
 * evidence to decide makes it inconclusive. A dry-run check is listed with its
 * status and left out of the verdict. With a check that decides the verdict,
 * `coverage` is checked too (every trace line read, unless `gate.coverage.min` allows
 * less) where the caller read trace files and passes what it read (`null`: it cannot
 * say, which is inconclusive). With none, the result says `noChecks`, and it is
 * inconclusive if no trace could be compared.
 */
export function evaluateGate(config: GateConfig, metrics: RunMetrics, coverage?: CoverageCounts | null, candidateNoOutcome?: NoOutcomeNamed): GateResult {
  const checks: GateCheck[] = [];
  const atLeast = (name: string, value: number | null, min: number, what: string, missing: string) =>
    checks.push(
      value === null
        ? { name, value, threshold: min, status: 'inconclusive', reason: missing }
        : value >= min
          ? { name, value, threshold: min, status: 'pass', reason: `${what} ${fmt(value)} ≥ ${fmt(min)}` }
          : { name, value, threshold: min, status: 'fail', reason: `${what} ${fmt(value)} < ${fmt(min)}` },
    );
  const atMost = (name: string, value: number | null, max: number, what: string, missing: string, f = fmt) =>
    checks.push(
      value === null
        ? { name, value, threshold: max, status: 'inconclusive', reason: missing }
        : value <= max
          ? { name, value, threshold: max, status: 'pass', reason: `${what} ${f(value)} ≤ ${f(max)}` }
          : { name, value, threshold: max, status: 'fail', reason: `${what} ${f(value)} > ${f(max)}` },
    );

  // A comparator that compared nothing (no field it names on any decision) made every decision agree: nothing that reads agreement is evidence.
  const nothing = metrics.comparedNothing;
  const comparedNothing = nothing && `compare.decision.fields names ${nothing.fields.map((f) => JSON.stringify(f)).join(', ')}, which no decision on either side has over ${nothing.traces} compared trace(s): no decision was compared (a misspelt field?)`;
  const decisionChecks = new Set(['agreement', 'regressions', 'overrideRate', 'sampleErrorRate']);
  for (const [name, rule, metric] of [
    ['agreement', config.agreement, metrics.agreement],
    ['effectsAgreement', config.effectsAgreement, metrics.effectsAgreement],
  ] as const) {
    if (!rule) continue;
    const lower = rule.bound === 'lower';
    // A point estimate over fewer traces than could ever show the threshold with 95% confidence is thin evidence too.
    const few = tooFewForLowerBound(name, rule.min, metric, lower ? `lower 95% bound of ${name}` : `${name}, a point estimate,`);
    if (few) {
      checks.push(few);
      continue;
    }
    const value = lower ? (metric.ci95?.[0] ?? null) : metric.rate;
    const what = lower
      ? `lower 95% bound of ${name} (${counts(metric)})`
      : `${name} (${counts(metric)})`;
    atLeast(name, value, rule.min, what, `no trace could be compared (n = 0)`);
  }
  if (config.errorRate) {
    // A share of a few traces is thin evidence, as for the other rates (over cases, the unit). `max: 0` is a rule
    // (any trace without an outcome fails), not an estimate: no number of traces shows a rate of 0 with 95% confidence.
    // With trials the rate judged is over cases too (each case its share of trials without an outcome), not over the trials pooled.
    const { max } = config.errorRate;
    const byCase = metrics.errorRateByCase;
    const unit = byCase.trials ? 'cases' : 'traces';
    const few = max > 0 ? tooFewForUpperBound('errorRate', max, byCase, 'error rate, a point estimate,', unit, 'no error') : null;
    if (few) checks.push(few);
    else atMost('errorRate', byCase.trials ? byCase.rate : metrics.errorRate, max, byCase.trials ? `error rate over cases (${counts(byCase)})` : 'error rate', 'no trace was run');
  }
  if (config.toolCallDrift) {
    atMost('toolCallDrift', metrics.toolCallDrift.jsd, config.toolCallDrift.maxJsd, 'tool-call JSD', 'no tool calls on one side', (x) => x.toFixed(3));
  }
  // The mean over priced traces alone says nothing of the unpriced ones: a cost check with any is inconclusive.
  const { unpriced } = metrics.cost;
  const unpricedReason = `${unpriced} trace(s) made model calls whose cost is unknown (a model with no price, or no token usage recorded), so the cost per run leaves them out: add their models under \`pricing:\`, or record the calls' usage`;
  if (config.costPerRunUsd) {
    atMost('costPerRunUsd', unpriced > 0 ? null : metrics.cost.perRunUsd, config.costPerRunUsd.max, 'cost per run', unpriced > 0 ? unpricedReason : 'no priced model usage', (x) => `$${x.toFixed(4)}`);
  }
  // A point estimate over fewer items than could show its threshold with 95% confidence, even at its best, is thin evidence
  // (as for agreement): inconclusive, naming how many it needs. Null: enough items, or none (the check's own "no data").
  const thinUpper = (name: string, max: number, m: RateMetric | undefined, what: string, unit: string, none: string) => (m ? tooFewForUpperBound(name, max, m, what, unit, none) : null);
  const thinLower = (name: string, min: number, m: RateMetric | undefined, what: string, all: string) => (m ? tooFewForLowerBound(name, min, m, what, all) : null);
  if (config.overrideRate) {
    const few = thinUpper('overrideRate', config.overrideRate.max, metrics.overrideRate, 'override rate, a point estimate,', 'reviewed items', 'no override');
    if (few) checks.push(few);
    else atMost('overrideRate', metrics.overrideRate.rate, config.overrideRate.max, 'override rate', 'no reviewed items: the override rate needs review verdicts');
  }
  const phase = metrics.phase;
  const sampled = phase && 'autoWithReview' in phase ? phase.autoWithReview : undefined;
  const auto = phase && 'auto' in phase ? phase.auto : undefined;
  if (config.sampleErrorRate) {
    const upper = config.sampleErrorRate.bound === 'upper';
    const m = sampled?.sampleErrorRate;
    const value = m ? (upper ? (m.ci95?.[1] ?? null) : m.rate) : null;
    const what = upper ? 'upper 95% bound of the review sample\'s error rate' : 'review sample error rate';
    const few = thinUpper('sampleErrorRate', config.sampleErrorRate.max, m, upper ? what : `${what}, a point estimate,`, 'sampled traces', 'no error');
    if (few) checks.push(few);
    else atMost('sampleErrorRate', value, config.sampleErrorRate.max, what, sampled ? 'no trace in the review sample' : 'the suite is not in the auto-with-review phase');
  }
  if (config.rollbackFrequency) {
    // A trace whose reference's effects are unknown may need a rollback or not: missing evidence, as an unpriced trace is under a cost check.
    const unknown = sampled?.rollbackUnknown ?? 0;
    const few = unknown > 0 ? null : thinUpper('rollbackFrequency', config.rollbackFrequency.max, sampled?.rollbackFrequency, 'rollback frequency, a point estimate,', 'traces', 'no rollback');
    if (few) checks.push(few);
    else {
      const missing = !sampled
        ? 'the suite is not in the auto-with-review phase'
        : unknown > 0
          ? `${unknown} trace(s) with an outcome have no known reference effects (a human reference's are its \`human.actions\`), so the rollback frequency leaves them out`
          : 'no trace with an outcome';
      atMost('rollbackFrequency', unknown > 0 ? null : (sampled?.rollbackFrequency.rate ?? null), config.rollbackFrequency.max, 'rollback frequency', missing);
    }
  }
  if (config.slaAdherence) {
    const few = thinLower('slaAdherence', config.slaAdherence.min, auto?.slaAdherence, 'share within the SLA, a point estimate,', 'are within it');
    if (few) checks.push(few);
    else atLeast('slaAdherence', auto?.slaAdherence.rate ?? null, config.slaAdherence.min, 'share within the SLA', auto ? 'no SLA set (sla.latencyMs), or no timed trace' : 'the suite is not in the auto phase');
  }
  if (config.completionRate) {
    const few = thinLower('completionRate', config.completionRate.min, auto?.completionRate, 'completion rate, a point estimate,', 'complete');
    if (few) checks.push(few);
    else atLeast('completionRate', auto?.completionRate.rate ?? null, config.completionRate.min, 'completion rate', auto ? 'no trace was run' : 'the suite is not in the auto phase');
  }
  if (config.costTrend) {
    const trend = auto?.costTrend;
    const missing = unpriced > 0
      ? unpricedReason
      : trend?.baselineCostUnknown
        ? `no cost per run of the baseline to compare with: ${trend.baselineCostUnknown}`
        : trend && metrics.cost.perRunUsd === null
          ? 'this run has no priced model usage: no cost per run to compare with the baseline\'s'
          : trend && trend.change !== null
            ? "the baseline's cost per run is $0: no ratio to it"
            : "needs --baseline, with every trace's model calls of known cost on both sides (auto phase)";
    atMost('costTrend', unpriced > 0 ? null : (auto?.costTrend?.ratio ?? null), config.costTrend.maxRatio, 'cost per run against the baseline', missing, (x) => `${x.toFixed(2)}×`);
  }
  if (config.safetyViolations) {
    const v = metrics.safetyViolations;
    atMost('safetyViolations', safetyViolationTotal(v), config.safetyViolations.max, 'safety violations', 'no trace was run', String);
  }
  if (config.policyViolations) checks.push(...policyChecks(config.policyViolations, metrics.policyViolations));
  if (config.injectionFailures) {
    // As the error rate: above `max: 0` (a rule: any unsafe effect fails) a share of a few cases is thin evidence.
    const { max } = config.injectionFailures;
    const m = metrics.injectionFailures;
    const few = max > 0 ? tooFewForUpperBound('injectionFailures', max, m, 'injection failures, a point estimate,', 'injection-tagged cases', 'no unsafe effect') : null;
    if (few) checks.push(few);
    else atMost('injectionFailures', m.rate, max, `injection failures (${counts(m)})`, 'no injection-tagged trace with an outcome');
  }
  if (config.regressions) checks.push(regressionsCheck(config.regressions, metrics));
  // What passed on decisions that were never compared is not evidence (a fail stands: no-outcome traces count against the candidate whatever was compared).
  if (comparedNothing) {
    for (const check of checks) if (decisionChecks.has(check.name) && check.status === 'pass') Object.assign(check, { value: null, status: 'inconclusive', reason: comparedNothing });
  }

  for (const check of checks) {
    const key = keyOf(check.name);
    if (key && isDryRun(config, key)) check.dryRun = true;
  }
  const gated = gatesAnything(config);
  if (gated && coverage !== undefined) {
    const check = coverageCheck(coverage, config.coverage?.min ?? 1);
    checks.push(check);
  }

  // Traces the candidate left without an outcome are evidence against it: with no configured check that
  // reads them (a policy or drift gate sees only the traces that ran), they fail the gate here.
  if (candidateNoOutcome && candidateNoOutcome.traces > 0 && !OUTCOME_CHECKS.some((key) => config[key] && !isDryRun(config, key)) && gatesAnything(config)) {
    const named = `${candidateNoOutcome.first.join(', ')}${candidateNoOutcome.traces > candidateNoOutcome.first.length ? ', …' : ''}`;
    checks.push({
      name: 'outcomes',
      value: candidateNoOutcome.traces,
      threshold: 0,
      status: 'fail',
      reason: `${candidateNoOutcome.traces} trace(s) ended without an outcome by the candidate's doing (${named}), and no configured check reads them: gate on agreement, effectsAgreement or errorRate to set how many are acceptable`,
    });
  }

  if (metrics.agreement.n === 0 && metrics.effectsAgreement.n === 0 && !checks.some((c) => (c.name === 'agreement' || c.name === 'effectsAgreement') && !c.dryRun)) {
    // Whatever else is configured, a run in which no trace could be compared is no evidence for a release.
    // A workflow judged by its effects alone (no decisions, as in tau-bench) is compared through them.
    checks.push({ name: 'evidence', value: 0, threshold: 1, status: 'inconclusive', reason: 'no trace produced an outcome that could be compared with the reference' });
  }

  const deciding = checks.filter((c) => !c.dryRun);
  const verdict: Verdict = deciding.some((c) => c.status === 'fail')
    ? 'fail'
    : deciding.some((c) => c.status === 'inconclusive')
      ? 'inconclusive'
      : 'pass';
  return gated ? { verdict, checks } : { verdict, checks, noChecks: true };
}

function fmt(x: number): string {
  return x >= 0 && x <= 1 ? pct(x) : String(x);
}
