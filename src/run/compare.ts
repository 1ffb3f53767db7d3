import { collapseTrials, mcnemarMidP, pairResults, toPairable, type PairableResult } from '../metrics/paired.js';
import { UsageError } from '../errors.js';
import { withCandidate, type ResolvedSuite } from '../suite/load.js';
import { runSuite, type RunOptions, type RunOutcome } from './run-suite.js';

export interface CandidateSpec {
  name: string;
  spec: string;
}

export interface PairwiseComparison {
  a: string;
  b: string;
  /** Pairs decided by both. */
  pairs: number;
  /** Traces where a agreed and b did not. */
  aOnly: number;
  /** Traces where b agreed and a did not. */
  bOnly: number;
  /** Two-sided exact mid-p of McNemar's test on the discordant pairs; null without any. */
  midP: number | null;
  /**
   * What a pair agrees on: the reference decision, or, where neither run decided any trace
   * against a decision and some against reference actions (traces that record actions and no
   * decision, as tau-bench's and tau2's), its effects. The rule of pass^k's `over`.
   */
  over: 'agreement' | 'effects';
}

export interface Comparison {
  suite: string;
  runs: { name: string; outcome: RunOutcome }[];
  pairwise: PairwiseComparison[];
}

/**
 * Runs the suite's own candidate (named `current`) and every given one on the
 * same traces, one stored run each, and compares every pair trace by trace.
 */
export async function compareCandidates(suite: ResolvedSuite, specs: readonly CandidateSpec[], options: RunOptions & { cwd: string }): Promise<Comparison> {
  if (specs.length === 0) throw new UsageError('compare needs at least one --candidate name=spec', 'for example --candidate big=openai:gpt-4.1');
  const names = new Set(['current']);
  for (const { name } of specs) {
    if (names.has(name)) throw new UsageError(`--candidate ${name}: the name is ${name === 'current' ? 'the suite\'s own candidate' : 'used twice'}`, 'give each candidate a name of its own');
    names.add(name);
  }
  const suites = [{ name: 'current', suite }];
  for (const { name, spec } of specs) suites.push({ name, suite: await withCandidate(suite, name, spec, options.cwd) });

  const runs: Comparison['runs'] = [];
  const rows = new Map<string, { agreement: PairableResult[]; effects: PairableResult[] }>();
  for (const { name, suite: s } of suites) {
    const outcome = await runSuite(s, options);
    runs.push({ name, outcome });
    const results = [...options.store.results(outcome.meta.runId)];
    rows.set(name, { agreement: results.map(toPairable), effects: results.map((r) => toPairable({ ...r, agree: r.effectsAgree })) });
  }
  const decided = (list: readonly PairableResult[]) => list.some((r) => r.agree !== null);

  const pairwise: PairwiseComparison[] = [];
  for (let i = 0; i < runs.length; i++) {
    for (let j = i + 1; j < runs.length; j++) {
      const a = runs[i]!.name;
      const b = runs[j]!.name;
      const [ra, rb] = [rows.get(a)!, rows.get(b)!];
      const over = decided(ra.agreement) || decided(rb.agreement) || !(decided(ra.effects) || decided(rb.effects)) ? 'agreement' : 'effects';
      // b's regressions against a are the traces a got right and b did not.
      const paired = pairResults(...decidedInBoth(ra[over], rb[over]));
      const aOnly = paired.regressions.length;
      const bOnly = paired.fixes.length;
      const one = mcnemarMidP(aOnly, bOnly);
      const other = mcnemarMidP(bOnly, aOnly);
      pairwise.push({ a, b, pairs: paired.pairs.length, aOnly, bOnly, midP: one === null || other === null ? null : Math.min(1, 2 * Math.min(one, other)), over });
    }
  }
  return { suite: suite.name, runs, pairwise };
}

/**
 * The rows of two runs on the same traces, each kept only where the other decided the same
 * trace and trial too, then collapsed to one row per case (the case is the unit). A recorded
 * candidate with fewer trials of a case than the suite's traces (another model's runs: the
 * task and trial pairs in common are few) thus weighs each case by the trials both ran, never
 * by trials only one of them has.
 */
export function decidedInBoth(a: readonly PairableResult[], b: readonly PairableResult[]): [PairableResult[], PairableResult[]] {
  const key = (r: PairableResult) => `${r.traceId}#${r.trial}`;
  const decided = (rows: readonly PairableResult[]) => new Set(rows.filter((r) => r.agree !== null).map(key));
  const [inA, inB] = [decided(a), decided(b)];
  const both = (r: PairableResult) => inA.has(key(r)) && inB.has(key(r));
  return [collapseTrials(a.filter(both)), collapseTrials(b.filter(both))];
}
