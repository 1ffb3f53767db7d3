import { createArgumentDrift } from './arg-drift.js';
import { chiSquareTest, psiBand } from './chi-square.js';
import { createMeanEstimator } from './bootstrap.js';
import { jensenShannon, populationStabilityIndex } from './stats.js';

export interface ToolCallDrift {
  /** Jensen–Shannon divergence (base 2) of the candidate's tool-name distribution from the reference's. */
  jsd: number | null;
  /** Population stability index, and its usual reading: < 0.1 stable, 0.1–0.25 moderate, > 0.25 major. */
  psi: number | null;
  psiBand: 'stable' | 'moderate' | 'major' | null;
  /** Chi-square test of homogeneity of the two distributions, sparse tools merged; p-value, null when untestable. */
  chi2P: number | null;
  chi2: { statistic: number; df: number; merged: string[] } | null;
  meanSequenceSimilarity: number | null;
  /** Bootstrap 95% interval of the mean per-trace sequence similarity (whole traces resampled). */
  meanSequenceSimilarityCi95: [number, number] | null;
  /** How the per-trace similarities spread: traces per tenth ([0, 0.1), …, [0.9, 1)), and exactly 1 last. */
  sequenceSimilarityHistogram: number[];
  perTool: Record<string, { reference: number; candidate: number; ratio: number | null }>;
  /** Tools the candidate called that the recordings never did, and the other way round. */
  newTools: string[];
  missingTools: string[];
  /** Categorical argument values whose distribution moved, per tool and argument, most moved first (at most 20). */
  argumentDrift: { tool: string; arg: string; jsd: number; reference: Record<string, number>; candidate: Record<string, number> }[];
}

/**
 * Folds the tool calls of each trace (the candidate's and the recorded ones) into
 * the run's tool-call drift, in memory bounded by the number of tools and argument
 * values, not of traces. Pure.
 */
/**
 * Values that are mostly unique (ids, free text) are not categories, however few a run
 * has seen: more than five values, and more than half as many values as calls.
 */
function categorical(reference: Record<string, number>, candidate: Record<string, number>): boolean {
  const values = new Set([...Object.keys(reference), ...Object.keys(candidate)]).size;
  const calls = [...Object.values(reference), ...Object.values(candidate)].reduce((a, b) => a + b, 0);
  return values <= 5 || values <= calls / 2;
}

/** `ignoreArgs`: argument names that carry no meaning of their own (notes, reasons, idempotency keys). */
export function createDriftAccumulator(ignoreArgs: readonly string[] = []) {
  const candidateTools: Record<string, number> = {};
  const referenceTools: Record<string, number> = {};
  const args = createArgumentDrift();
  const similarity = createMeanEstimator();
  const histogram = new Array<number>(11).fill(0);

  return {
    addReference(name: string, callArgs: unknown): void {
      referenceTools[name] = (referenceTools[name] ?? 0) + 1;
      args.addReference(name, callArgs);
    },
    addCandidate(name: string, callArgs: unknown): void {
      candidateTools[name] = (candidateTools[name] ?? 0) + 1;
      args.addCandidate(name, callArgs);
    },
    addSimilarity(value: number): void {
      similarity.add(value);
      // The small epsilon keeps 1 − 4/5 = 0.19999… in the bin of 0.2, where it belongs.
      histogram[value >= 1 ? 10 : Math.min(9, Math.floor(value * 10 + 1e-9))]!++;
    },
    /**
     * `candidateScale` (1/k with k trials) turns the candidate's counts into calls per
     * run of each trace, comparable with the recording's once-per-trace counts.
     */
    finish(candidateScale = 1): ToolCallDrift {
      const scaled = Object.fromEntries(Object.entries(candidateTools).map(([name, n]) => [name, n * candidateScale]));
      const tools = [...new Set([...Object.keys(referenceTools), ...Object.keys(scaled)])].sort();
      const perTool = Object.fromEntries(
        tools.map((name) => {
          const reference = referenceTools[name] ?? 0;
          const candidate = scaled[name] ?? 0;
          return [name, { reference, candidate, ratio: reference === 0 ? null : candidate / reference }];
        }),
      );
      const psi = populationStabilityIndex(referenceTools, scaled);
      const chi = chiSquareTest(referenceTools, scaled);
      const sim = similarity.finish();
      return {
        jsd: jensenShannon(referenceTools, scaled),
        psi,
        psiBand: psi === null ? null : psiBand(psi),
        chi2P: chi?.p ?? null,
        chi2: chi ? { statistic: chi.statistic, df: chi.df, merged: chi.merged } : null,
        meanSequenceSimilarity: sim.mean,
        meanSequenceSimilarityCi95: sim.ci95,
        sequenceSimilarityHistogram: histogram,
        perTool,
        newTools: tools.filter((t) => !referenceTools[t]),
        missingTools: tools.filter((t) => !candidateTools[t]),
        argumentDrift: args
          .finish()
          .filter((a) => a.jsd > 0 && !ignoreArgs.includes(a.arg) && categorical(a.reference, a.candidate))
          .slice(0, 20),
      };
    },
  };
}
