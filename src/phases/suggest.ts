import { rateMetric, type RateMetric } from '../metrics/rate.js';
import { levenshtein } from '../metrics/stats.js';
import { canonicalize } from '../trace/canonical.js';

/** What a reviewer did with a suggestion. */
export type ReviewVerdict = 'accepted' | 'edited' | 'rejected';

/** Numbers this close (relative to the larger magnitude) count as equal. */
const RELATIVE_TOLERANCE = 1e-9;

function numbersEqual(a: number, b: number): boolean {
  if (a === b) return true;
  return Math.abs(a - b) <= RELATIVE_TOLERANCE * Math.max(Math.abs(a), Math.abs(b));
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Deep equality of two canonical values, numbers compared with the relative tolerance. */
function canonicalEqual(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return numbersEqual(a, b);
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => canonicalEqual(x, b[i]));
  if (isRecord(a) && isRecord(b)) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => k in b && canonicalEqual(a[k], b[k]));
  }
  return a === b;
}

/**
 * How far a suggestion is from what the human finally decided, in [0, 1].
 * - Two objects: the share of fields, over the union of both key sets, whose canonical values
 *   differ (a field missing on one side differs; numbers within a relative 1e-9 are equal).
 * - Two strings: normalised Levenshtein distance on characters (distance / longer length).
 * - Anything else: 0 when canonically equal, 1 when not.
 * When to use: how much a reviewer had to change (suggest phase). When not to use: to
 * compare decisions for agreement; that is the suite's comparator, not a distance.
 * @example editDistance({ action: 'refund', amount: 10 }, { action: 'refund', amount: 12 }) // 0.5
 */
export function editDistance(a: unknown, b: unknown): number {
  const ca = canonicalize(a);
  const cb = canonicalize(b);
  if (isRecord(ca) && isRecord(cb)) {
    const keys = new Set([...Object.keys(ca), ...Object.keys(cb)]);
    if (keys.size === 0) return 0;
    let differing = 0;
    for (const k of keys) if (!(k in ca) || !(k in cb) || !canonicalEqual(ca[k], cb[k])) differing++;
    return differing / keys.size;
  }
  if (typeof ca === 'string' && typeof cb === 'string') {
    // Code points, not UTF-16 units: an emoji is one character.
    const xs = Array.from(ca);
    const ys = Array.from(cb);
    const longest = Math.max(xs.length, ys.length);
    return longest === 0 ? 0 : levenshtein(xs, ys) / longest;
  }
  return canonicalEqual(ca, cb) ? 0 : 1;
}

export interface SimulateReviewOptions {
  /**
   * Largest edit distance that still counts as an edit rather than a rejection.
   * @default 0.5
   */
  editThreshold?: number;
}

/**
 * The verdict a reviewer would probably have given, when none was recorded: `accepted` when the
 * suggestion equals the human decision, `edited` when within `editThreshold`, else `rejected`.
 * @example simulateReview({ action: 'refund' }, { action: 'deny' }) // 'rejected'
 */
export function simulateReview(suggestion: unknown, humanDecision: unknown, { editThreshold = 0.5 }: SimulateReviewOptions = {}): ReviewVerdict {
  const d = editDistance(suggestion, humanDecision);
  if (d === 0) return 'accepted';
  return d <= editThreshold ? 'edited' : 'rejected';
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
 * const acc = createSuggestAccumulator({ editThreshold: 0.5 });
 * acc.add({ suggestion: 'a', human: { verdict: 'accepted', reviewMs: 1000 } });
 * acc.finish().acceptanceRate.rate // 1
 */
export function createSuggestAccumulator({ editThreshold = 0.5 }: SimulateReviewOptions = {}) {
  const counts: Record<ReviewVerdict, number> = { accepted: 0, edited: 0, rejected: 0 };
  let simulated = 0;
  let distanceSum = 0;
  let distances = 0;
  let savedMs = 0;
  let timed = 0;
  return {
    add({ suggestion, human }: SuggestItem): void {
      const hasDecision = human?.decision !== undefined;
      let verdict = human?.verdict;
      if (verdict === undefined) {
        if (!hasDecision) return;
        verdict = simulateReview(suggestion, human!.decision, { editThreshold });
        simulated++;
      }
      counts[verdict]++;
      const target = human?.final !== undefined ? human.final : human?.decision;
      if (target !== undefined) {
        distanceSum += editDistance(suggestion, target);
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
