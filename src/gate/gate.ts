import { judgeRegressions } from '../metrics/paired.js';
import { safetyViolationTotal, type RunMetrics } from '../metrics/summary.js';
import type { GateConfig } from '../suite/schema.js';
import { policyChecks } from './policy.js';

export type Verdict = 'pass' | 'fail' | 'inconclusive';

export interface GateCheck {
  name: string;
  value: number | null;
  threshold: number;
  status: Verdict;
  reason: string;
}

export interface GateResult {
  verdict: Verdict;
  checks: GateCheck[];
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/**
 * The verdict of a run: every configured check with its value, threshold and
 * reason. Any failing check fails the gate; otherwise any check that lacks the
 * evidence to decide makes it inconclusive. No checks configured is a pass, as
 * long as at least one trace could be compared.
 */
export function evaluateGate(config: GateConfig, metrics: RunMetrics): GateResult {
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

  for (const [name, rule, metric] of [
    ['agreement', config.agreement, metrics.agreement],
    ['effectsAgreement', config.effectsAgreement, metrics.effectsAgreement],
  ] as const) {
    if (!rule) continue;
    const lower = rule.bound === 'lower';
    const value = lower ? (metric.ci95?.[0] ?? null) : metric.rate;
    const what = lower
      ? `lower 95% bound of ${name} (${metric.successes}/${metric.n})`
      : `${name} (${metric.successes}/${metric.n})`;
    atLeast(name, value, rule.min, what, `no trace could be compared (n = 0)`);
  }
  if (config.errorRate) {
    atMost('errorRate', metrics.errorRate, config.errorRate.max, 'error rate', 'no trace was run');
  }
  if (config.toolCallDrift) {
    atMost('toolCallDrift', metrics.toolCallDrift.jsd, config.toolCallDrift.maxJsd, 'tool-call JSD', 'no tool calls on one side', (x) => x.toFixed(3));
  }
  if (config.costPerRunUsd) {
    atMost('costPerRunUsd', metrics.cost.perRunUsd, config.costPerRunUsd.max, 'cost per run', 'no priced model usage', (x) => `$${x.toFixed(4)}`);
  }
  if (config.overrideRate) {
    atMost('overrideRate', metrics.overrideRate.rate, config.overrideRate.max, 'override rate', 'no reviewed items: the override rate needs review verdicts');
  }
  const phase = metrics.phase;
  const sampled = phase && 'autoWithReview' in phase ? phase.autoWithReview : undefined;
  const auto = phase && 'auto' in phase ? phase.auto : undefined;
  if (config.sampleErrorRate) {
    const upper = config.sampleErrorRate.bound === 'upper';
    const m = sampled?.sampleErrorRate;
    const value = m ? (upper ? (m.ci95?.[1] ?? null) : m.rate) : null;
    atMost('sampleErrorRate', value, config.sampleErrorRate.max, upper ? 'upper 95% bound of the review sample\'s error rate' : 'review sample error rate', sampled ? 'no trace in the review sample' : 'the suite is not in the auto-with-review phase');
  }
  if (config.rollbackFrequency) {
    atMost('rollbackFrequency', sampled?.rollbackFrequency.rate ?? null, config.rollbackFrequency.max, 'rollback frequency', sampled ? 'no trace with an outcome' : 'the suite is not in the auto-with-review phase');
  }
  if (config.slaAdherence) {
    atLeast('slaAdherence', auto?.slaAdherence.rate ?? null, config.slaAdherence.min, 'share within the SLA', auto ? 'no SLA set (sla.latencyMs), or no timed trace' : 'the suite is not in the auto phase');
  }
  if (config.completionRate) {
    atLeast('completionRate', auto?.completionRate.rate ?? null, config.completionRate.min, 'completion rate', auto ? 'no trace was run' : 'the suite is not in the auto phase');
  }
  if (config.costTrend) {
    atMost('costTrend', auto?.costTrend?.ratio ?? null, config.costTrend.maxRatio, 'cost per run against the baseline', 'needs --baseline with priced model calls on both sides (auto phase)', (x) => `${x.toFixed(2)}×`);
  }
  if (config.safetyViolations) {
    const v = metrics.safetyViolations;
    atMost('safetyViolations', safetyViolationTotal(v), config.safetyViolations.max, 'safety violations', 'no trace was run', String);
  }
  if (config.policyViolations) checks.push(...policyChecks(config.policyViolations, metrics.policyViolations));
  if (config.injectionFailures) {
    atMost('injectionFailures', metrics.injectionFailures.rate, config.injectionFailures.max, 'injection failures', 'no injection-tagged trace with an outcome');
  }
  if (config.regressions) {
    const { max, beyondNoise } = config.regressions;
    const { paired, noiseFloor } = metrics;
    // Noise alone flips traces both ways; about half of an A/A run's flips would show as regressions.
    const noise = beyondNoise && noiseFloor ? Math.ceil(noiseFloor.flips / 2) : 0;
    if (!paired) {
      checks.push({ name: 'regressions', value: null, threshold: max, status: 'inconclusive', reason: 'no baseline: pass --baseline <runId | results.json> to count regressions' });
    } else if (paired.pairs === 0) {
      checks.push({ name: 'regressions', value: null, threshold: max, status: 'inconclusive', reason: `no trace was decided in both this run and the baseline ${paired.baselineRunId}` });
    } else if (beyondNoise && !noiseFloor && paired.regressions.length > max) {
      checks.push({ name: 'regressions', value: paired.regressions.length, threshold: max, status: 'inconclusive', reason: 'beyondNoise needs the noise floor: pass --noise-floor' });
    } else {
      const judged = judgeRegressions({ regressions: paired.regressions.length, fixes: paired.fixes.length, max: max + noise });
      const reason = noiseFloor && noise > 0 ? `${judged.reason}; the maximum includes ${noise} for noise (${noiseFloor.flips} flips in an A/A run)` : judged.reason;
      checks.push({ name: 'regressions', value: paired.regressions.length, threshold: max + noise, status: judged.status, reason });
    }
  }

  if (metrics.agreement.n === 0 && metrics.effectsAgreement.n === 0 && !checks.some((c) => c.name === 'agreement' || c.name === 'effectsAgreement')) {
    // Whatever else is configured, a run in which no trace could be compared is no evidence for a release.
    // A workflow judged by its effects alone (no decisions, as in tau-bench) is compared through them.
    checks.push({ name: 'evidence', value: 0, threshold: 1, status: 'inconclusive', reason: 'no trace produced an outcome that could be compared with the reference' });
  }

  const verdict: Verdict = checks.some((c) => c.status === 'fail')
    ? 'fail'
    : checks.some((c) => c.status === 'inconclusive')
      ? 'inconclusive'
      : 'pass';
  return { verdict, checks };
}

function fmt(x: number): string {
  return x >= 0 && x <= 1 ? pct(x) : String(x);
}
