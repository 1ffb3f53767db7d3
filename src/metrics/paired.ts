import { InternalError } from '../errors.js';

/** One trace's outcome in a run, as far as pairing needs it. */
export interface PairableResult {
  traceId: string;
  caseId: string;
  trial: number;
  /**
   * null when there is nothing to judge: no reference, or no outcome because of the
   * infrastructure. A trace without an outcome by the candidate's doing is false (see TraceResult.agree).
   */
  agree: boolean | null;
}

/** A trace (and trial) decided in both runs. */
export interface OutcomePair {
  /** `trace:<traceId>#<trial>` when paired by trace id, `case:<caseId>#<trial>` when paired by case id. */
  key: string;
  /** The candidate's trace id. */
  traceId: string;
  baseline: boolean;
  candidate: boolean;
}

export interface PairedResults {
  pairs: OutcomePair[];
  /** Candidate trace ids that agreed in the baseline and disagree now (or reached no outcome by the candidate's doing), one entry per pair. */
  regressions: string[];
  /** Candidate trace ids that disagreed in the baseline and agree now, one entry per pair. */
  fixes: string[];
  /** Results with no partner on the other side. */
  unpaired: { baseline: number; candidate: number };
  /** Partners found, but one side or both have no comparable outcome (agree is null): in no pair. */
  undecided: number;
  /** Candidate trace ids that agreed in the baseline and cannot be judged now (no outcome because of the infrastructure): missing evidence, not regressions. */
  lost: string[];
}

/**
 * Pairs a baseline run's results with a candidate's, so that flips can be counted
 * on the same traces. A candidate result is paired with the baseline result of the
 * same trace id and trial; those left over are paired by case id and trial (a
 * baseline recorded on another trace set), in order of appearance when a case has
 * several traces. A repeated key on one side pairs once; the rest are unpaired.
 *
 * @example
 * pairResults(
 *   [{ traceId: 't1', caseId: 'c1', trial: 0, agree: true }],
 *   [{ traceId: 't1', caseId: 'c1', trial: 0, agree: false }],
 * ).regressions // ['t1']
 */
export function pairResults(baseline: readonly PairableResult[], candidate: readonly PairableResult[]): PairedResults {
  const byTrace = groupBy(baseline, (r) => `${r.traceId}#${r.trial}`);
  const matched: { key: string; base: PairableResult; cand: PairableResult }[] = [];
  const leftCandidates: PairableResult[] = [];
  for (const cand of candidate) {
    const id = `${cand.traceId}#${cand.trial}`;
    const base = byTrace.get(id)?.shift();
    if (base) matched.push({ key: `trace:${id}`, base, cand });
    else leftCandidates.push(cand);
  }

  const leftBaseline = [...byTrace.values()].flat();
  const byCase = groupBy(leftBaseline, (r) => `${r.caseId}#${r.trial}`);
  let unpairedCandidates = 0;
  for (const cand of leftCandidates) {
    const id = `${cand.caseId}#${cand.trial}`;
    const base = byCase.get(id)?.shift();
    if (base) matched.push({ key: `case:${id}`, base, cand });
    else unpairedCandidates++;
  }
  const unpairedBaseline = [...byCase.values()].reduce((sum, rs) => sum + rs.length, 0);

  const pairs: OutcomePair[] = [];
  const regressions: string[] = [];
  const fixes: string[] = [];
  let undecided = 0;
  const lost: string[] = [];
  for (const { key, base, cand } of matched) {
    if (base.agree === null || cand.agree === null) {
      undecided++;
      if (base.agree === true && cand.agree === null) lost.push(cand.traceId);
      continue;
    }
    pairs.push({ key, traceId: cand.traceId, baseline: base.agree, candidate: cand.agree });
    if (base.agree && !cand.agree) regressions.push(cand.traceId);
    if (!base.agree && cand.agree) fixes.push(cand.traceId);
  }
  return { pairs, regressions, fixes, unpaired: { baseline: unpairedBaseline, candidate: unpairedCandidates }, undecided, lost };
}

/** The pairing fields of a result. */
export function toPairable({ traceId, caseId, trial, agree }: PairableResult): PairableResult {
  return { traceId, caseId, trial, agree };
}

/**
 * One row per case from rows with several trials each (run with --trials, or recorded
 * several times under one case id with trace ids of their own): the case agrees when
 * more than half of its decided trials agree, disagrees when fewer do, and is undecided
 * (null) on a tie or with no decided trial. Its row carries its first trace id. Paired
 * tests then count cases, which are independent, rather than trials, which are not.
 */
export function collapseTrials(rows: Iterable<PairableResult>): PairableResult[] {
  const byTrace = new Map<string, { row: PairableResult; agree: number; decided: number }>();
  for (const r of rows) {
    const key = r.caseId;
    const t = byTrace.get(key) ?? { row: { ...r, trial: 0 }, agree: 0, decided: 0 };
    if (r.agree !== null) {
      t.decided++;
      if (r.agree) t.agree++;
    }
    byTrace.set(key, t);
  }
  return [...byTrace.values()].map(({ row, agree, decided }) => ({
    ...row,
    agree: decided === 0 || agree * 2 === decided ? null : agree * 2 > decided,
  }));
}

/** Groups in order of appearance; each group is a queue that pairing consumes. */
function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

/**
 * One-sided exact mid-p McNemar test that the candidate is worse than the baseline.
 * Only discordant pairs carry evidence: with n = regressions + fixes, under H0 (no
 * change) the regressions are X ~ Binomial(n, ½), and
 * mid-p = P(X > regressions) + ½·P(X = regressions). Small means "more regressions
 * than chance explains". The mid-p is less conservative than the exact p (which adds
 * all of P(X = b)) while staying close to nominal size.
 *
 * When to use: two runs of the same traces (a baseline and a candidate), one outcome
 * per trace, asking whether the candidate lost agreement. Exact for any n, so it is
 * right for the handful of flips a release usually has.
 * When not to use: unpaired runs on different traces (compare two Wilson intervals or
 * use a two-proportion test); several trials per trace counted as separate pairs
 * (they are not independent, so the p-value is too small: use one trial per trace);
 * to show that the candidate is better (swap the arguments).
 *
 * Returns null when there are no discordant pairs: no evidence either way.
 * Stable for n in the tens of thousands (terms are summed relative to the largest).
 *
 * @example
 * mcnemarMidP(3, 0) // 1/16 = 0.0625: P(X > 3) = 0, ½·P(X = 3) = ½·⅛
 */
export function mcnemarMidP(regressions: number, fixes: number): number | null {
  for (const [name, v] of [['regressions', regressions], ['fixes', fixes]] as const) {
    if (!Number.isInteger(v) || v < 0) throw new InternalError(`mcnemarMidP: ${name} must be a non-negative integer, got ${v}`);
  }
  const n = regressions + fixes;
  if (n === 0) return null;
  // The binomial(n, ½) is symmetric, so midP(b) + midP(n − b) = 1. Summing the tail that lies
  // beyond the mode keeps every term no larger than the first, and the complement is taken
  // only when the result is at least ½, where it loses no precision.
  if (2 * regressions === n) return 0.5;
  return 2 * regressions > n ? upperMidP(regressions, n) : 1 - upperMidP(fixes, n);
}

/** P(X > b) + ½·P(X = b) for X ~ Binomial(n, ½) and b > n/2. */
function upperMidP(b: number, n: number): number {
  // Terms relative to P(X = b): P(X = k + 1) / P(X = k) = (n − k) / (k + 1) ≤ 1 past the mode.
  let sum = 0.5;
  let term = 1;
  for (let k = b; k < n; k++) {
    term *= (n - k) / (k + 1);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return Math.min(1, Math.exp(logChoose(n, b) - n * Math.LN2) * sum);
}

/**
 * ln C(n, k) from the product of (n − m + i) / i, m = min(k, n − k). Every factor is at
 * least 1, so the product is taken in chunks below 1e280 and only each chunk's log is
 * added: the relative error stays near m·ε instead of growing with the sum of m logs.
 */
function logChoose(n: number, k: number): number {
  const m = Math.min(k, n - k);
  let log = 0;
  let chunk = 1;
  for (let i = 1; i <= m; i++) {
    chunk *= (n - m + i) / i;
    if (chunk > 1e280) {
      log += Math.log(chunk);
      chunk = 1;
    }
  }
  return log + Math.log(chunk);
}

export type RegressionStatus = 'pass' | 'fail' | 'inconclusive';

export interface RegressionJudgement {
  status: RegressionStatus;
  /** A sentence with the numbers, for the report. */
  reason: string;
}

export interface JudgeRegressionsInput {
  /** Pairs that agreed in the baseline and disagree now. */
  regressions: number;
  /** Pairs that disagreed in the baseline and agree now. */
  fixes: number;
  /** Most regressions tolerated without asking whether they are significant. */
  max: number;
  /** @default 0.05 */
  alpha?: number;
}

/**
 * Gate on regressions against a baseline: within `max` passes; more than `max` fails
 * only when the McNemar mid-p shows a significant worsening (p < alpha), and is
 * inconclusive otherwise: when so few pairs are discordant that even all of them
 * being regressions could not reach alpha, or when the excess is not significant (as
 * many fixes offset it).
 *
 * When to use: a baseline run exists on the same traces. When not to use: without a
 * baseline (gate on the agreement interval instead).
 *
 * @example
 * judgeRegressions({ regressions: 6, fixes: 0, max: 2 })
 * // { status: 'fail', reason: '6 regressions against 0 fixes exceed the maximum of 2 and are a significant worsening (McNemar mid-p = 0.0078, below alpha 0.05)' }
 */
export function judgeRegressions(input: JudgeRegressionsInput): RegressionJudgement {
  const { regressions, fixes, max, alpha = 0.05 } = input;
  const counted = `${plural(regressions, 'regression')} against ${plural(fixes, 'fix', 'fixes')}`;
  const exceed = regressions === 1 ? 'exceeds' : 'exceed';
  if (regressions <= max) {
    return { status: 'pass', reason: `${plural(regressions, 'regression')}, within the maximum of ${max} (${plural(fixes, 'fix', 'fixes')})` };
  }
  const discordant = regressions + fixes;
  const p = mcnemarMidP(regressions, fixes)!; // discordant ≥ regressions > max ≥ 0 here
  if (p < alpha) {
    return {
      status: 'fail',
      reason: `${counted} ${exceed} the maximum of ${max} and ${regressions === 1 ? 'is' : 'are'} a significant worsening (McNemar mid-p ${formatP(p)}, below alpha ${alpha})`,
    };
  }
  // With every discordant pair a regression, the mid-p is ½·½ⁿ: the smallest p these pairs can give.
  const smallest = 0.5 ** (discordant + 1);
  return {
    status: 'inconclusive',
    reason:
      smallest >= alpha
        ? `${counted} ${exceed} the maximum of ${max}, but ${discordant} discordant pair(s) are too few to decide (the smallest possible mid-p is ${formatP(smallest).replace(/^= /, '')}, alpha ${alpha})`
        : `${counted} ${exceed} the maximum of ${max}, but the worsening is not significant (McNemar mid-p ${formatP(p)}, alpha ${alpha})`,
  };
}

function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** "= 0.0078" to two significant digits, or "< 0.0001" below that, where more digits mean nothing to a reader. */
function formatP(p: number): string {
  return p < 1e-4 ? '< 0.0001' : `= ${Number(p.toPrecision(2))}`;
}

/** One pairing row per case of a run's results, trials collapsed to their majority (see collapseTrials). */
export function traceOutcomes(results: Iterable<PairableResult>): PairableResult[] {
  return collapseTrials(Array.from(results, toPairable));
}
