import { mcnemarMidP, pairResults, traceOutcomes, type PairableResult } from '../metrics/paired.js';
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
  const rows = new Map<string, PairableResult[]>();
  for (const { name, suite: s } of suites) {
    const outcome = await runSuite(s, options);
    runs.push({ name, outcome });
    rows.set(name, traceOutcomes(options.store.results(outcome.meta.runId)));
  }

  const pairwise: PairwiseComparison[] = [];
  for (let i = 0; i < runs.length; i++) {
    for (let j = i + 1; j < runs.length; j++) {
      const a = runs[i]!.name;
      const b = runs[j]!.name;
      // b's regressions against a are the traces a got right and b did not.
      const paired = pairResults(rows.get(a)!, rows.get(b)!);
      const aOnly = paired.regressions.length;
      const bOnly = paired.fixes.length;
      const one = mcnemarMidP(aOnly, bOnly);
      const other = mcnemarMidP(bOnly, aOnly);
      pairwise.push({ a, b, pairs: paired.pairs.length, aOnly, bOnly, midP: one === null || other === null ? null : Math.min(1, 2 * Math.min(one, other)) });
    }
  }
  return { suite: suite.name, runs, pairwise };
}
