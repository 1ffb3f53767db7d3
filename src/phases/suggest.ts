import { rateMetric, type RateMetric } from '../metrics/rate.js';
import { decisionDistance, decisionsAgree, type DecisionComparator } from '../metrics/compare.js';

/** What a reviewer did with a suggestion. */
export type ReviewVerdict = 'accepted' | 'edited' | 'rejected';

export interface SimulateReviewOptions {
  /** The suite's `compare.decision`: what counts as the same decision, and how far apart two are. */
  comparator: DecisionComparator;
  /**
   * Largest distance (`decisionDistance`) that still counts as an edit rather than a rejection: the suite's `review.editThreshold`.
   * @default 0.5
   */
  editThreshold?: number;
}

/**
 * The verdict a reviewer would probably have given, when none was recorded: `accepted` when the
 * suggestion agrees with the human decision under the suite's comparator (as agreement decides),
 * `edited` when its distance is within `editThreshold`, else `rejected`.
 * @example simulateReview({ action: 'refund' }, { action: 'deny' }, { comparator: WHOLE_DECISION }) // 'rejected'
 */
export function simulateReview(suggestion: unknown, humanDecision: unknown, { comparator, editThreshold = 0.5 }: SimulateReviewOptions): ReviewVerdict {
  if (decisionsAgree(suggestion, humanDecision, comparator)) return 'accepted';
  return decisionDistance(suggestion, humanDecision, comparator) <= editThreshold ? 'edited' : 'rejected';
}

/** A human's review of one suggestion, as recorded in the trace (every part optional). */
export interface HumanReview {
  verdict?: ReviewVerdict;
  /** The decision after the reviewer's edit. */
  final?: unknown;
  /** How long the review took. */
  reviewMs?: number;
  /** What the human decided in the trace (used when no verdict was recorded). */
  decision?: unknown;
}

export interface SuggestItem {
  /** The candidate's decision. */
  suggestion: unknown;
  human?: HumanReview;
}

export interface SuggestMetrics {
  reviewed: number;
  accepted: number;
  edited: number;
  rejected: number;
  /** accepted / reviewed, with its Wilson interval. */
  acceptanceRate: RateMetric;
  /** (edited + rejected) / reviewed, with its Wilson interval. */
  overrideRate: RateMetric;
  /** Mean edit distance between suggestion and the human's final (or decision); null without any. */
  meanEditDistance: number | null;
  /** Sum of `reviewMs` of accepted items; null when no reviewed item recorded `reviewMs`. */
  reviewerTimeSavedMs: number | null;
  /** Verdicts simulated against the human decision because none was recorded. */
  simulated: number;
}

/**
 * Suggest-phase metrics over traces, one `add` per trace.
 * A recorded verdict wins; without one the verdict is simulated against the human decision;
 * with neither the item is skipped (no evidence). An accepted item with no final and no decision
 * has edit distance 0 (the suggestion was taken as is); other items without one add no distance.
 * Reviewer time saved: what an accepted suggestion spared the reviewer deciding alone, taken as
 * the recorded review time of that item.
 * When to use: `phase: suggest`. When not to use: shadow runs, where nobody reviews (use agreement).
 * @example
 * const acc = createSuggestAccumulator({ comparator: { numericTolerance: 0.01 }, editThreshold: 0.5 });
 * acc.add({ suggestion: 'a', human: { verdict: 'accepted', reviewMs: 1000 } });
 * acc.finish().acceptanceRate.rate // 1
 */
/**
 * The verdict one item counts for in the suggest figures: the recorded one, else one simulated
 * against the human decision (`simulated`); null with neither (no evidence, the item is skipped).
 * What the accumulator counts, and what `drift` over stored runs takes per result.
 */
export function reviewVerdictOf({ suggestion, human }: SuggestItem, options: SimulateReviewOptions): { verdict: ReviewVerdict; simulated: boolean } | null {
  if (human?.verdict !== undefined) return { verdict: human.verdict, simulated: false };
  if (human?.decision === undefined) return null;
  return { verdict: simulateReview(suggestion, human.decision, options), simulated: true };
}

export function createSuggestAccumulator({ comparator, editThreshold = 0.5 }: SimulateReviewOptions) {
  const counts: Record<ReviewVerdict, number> = { accepted: 0, edited: 0, rejected: 0 };
  let simulated = 0;
  let distanceSum = 0;
  let distances = 0;
  let savedMs = 0;
  let timed = 0;
  return {
    add({ suggestion, human }: SuggestItem): void {
      const counted = reviewVerdictOf({ suggestion, human }, { comparator, editThreshold });
      if (!counted) return;
      const { verdict } = counted;
      if (counted.simulated) simulated++;
      counts[verdict]++;
      const target = human?.final !== undefined ? human.final : human?.decision;
      if (target !== undefined) {
        distanceSum += decisionDistance(suggestion, target, comparator);
        distances++;
      } else if (verdict === 'accepted') {
        distances++;
      }
      if (human?.reviewMs !== undefined) {
        timed++;
        if (verdict === 'accepted') savedMs += human.reviewMs;
      }
    },
    finish(): SuggestMetrics {
      const reviewed = counts.accepted + counts.edited + counts.rejected;
      return {
        reviewed,
        ...counts,
        acceptanceRate: rateMetric(counts.accepted, reviewed),
        overrideRate: rateMetric(counts.edited + counts.rejected, reviewed),
        meanEditDistance: distances === 0 ? null : distanceSum / distances,
        reviewerTimeSavedMs: timed === 0 ? null : savedMs,
        simulated,
      };
    },
  };
}
